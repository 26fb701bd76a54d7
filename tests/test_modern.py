"""The modern table (config/modern.yaml) through the real pipeline: its own folder, the seed's
table left alone, the operator-level FLOPs, ONNX Runtime beside eager, a bottom-up row at batch 10,
and both lists on one picture."""
import csv

import pytest
from conftest import REPO, tiny_timing
from posebench.records import read_table_csv

MODERN = ["--configfile", "config/modern.yaml"]
# RTMPose-t: the fastest modern row; DEKR: bottom-up, its head decodes one image at a time
SELECTED = "select=[rtmpose-t_coco_256x192,dekr_hrnet-w32_coco_512x512]"
ONE_ROUND = tiny_timing(1)
# the modern list's scenes, its top-down pipeline at one person only: test_scenes times a
# one-pass model and several N (DEKR's 6 s frames would double this test)
ONE_PERSON = "scenes={people: [1], one_stage: []}"
PUBLISHED = REPO / "published" / "amd-epyc-2core-vm"


@pytest.mark.prepared
def test_the_modern_command_writes_its_own_table_and_leaves_the_seeds_alone(workflow):
    seed_table = workflow.root / "results" / "table.md"
    seed_table.write_text("the seed's table, from an earlier `make table`")
    run = workflow.snakemake(*MODERN, "--config", SELECTED, ONE_ROUND, ONE_PERSON)  # rule all, as `make modern`
    assert run.returncode == 0, run.stderr[-3000:]
    assert seed_table.read_text() == "the seed's table, from an earlier `make table`"
    # no seed table here yet: the combined plots are left out, and the run says so
    assert "no table at results/table.csv yet: the combined plots are left out" in run.stderr

    modern = workflow.root / "results" / "modern"
    rows = read_table_csv(modern / "table.csv")
    assert list(rows) == ["rtmpose-t_coco_256x192", "dekr_hrnet-w32_coco_512x512"]
    rtmpose = rows["rtmpose-t_coco_256x192"]
    # RTMPose's README: 3.34 M params, 0.36 GFLOPs; the column follows the operator-level counter
    assert round(float(rtmpose["params_m"]), 2) == 3.34 and rtmpose["gflops_counter"].startswith("torch")
    assert abs(float(rtmpose["gflops"]) - 0.36) <= 0.02 * 0.36
    assert rtmpose["map_source"] == "metafile" and float(rtmpose["map"]) > 0.6
    assert float(rtmpose["cpu_fps_bs1_mean"]) > 0 and float(rtmpose["cpu_fps_bs10_mean"]) > 0
    dekr = rows["dekr_hrnet-w32_coco_512x512"]
    assert float(dekr["cpu_fps_bs1_mean"]) > 0 and dekr["cpu_fps_bs10"] == "/"
    assert "DEKRHead only supports prediction with batch_size 1" in dekr["not_applicable"]
    text = (modern / "table.md").read_text()
    assert "PyTorch's operator-level `FlopCounterMode`" in text
    assert "`/` at cpu bs=10: the test step runs one image but fails on a batch of 10" in text

    # ONNX Runtime beside eager, by default, each checked against eager first
    with open(modern / "runtimes.csv") as handle:
        cells = {(r["id"], r["batch_size"], r["runtime"]): r for r in csv.DictReader(handle)}
    onnx = cells[("rtmpose-t_coco_256x192", "1", "onnxruntime")]
    assert onnx["status"] == "measured" and float(onnx["max_relative_difference"]) <= float(onnx["tolerance"])
    # DEKR's deformable convolution exports as an mmcv operator ONNX Runtime does not have: a finding, not a crash
    dekr_onnx = cells[("dekr_hrnet-w32_coco_512x512", "1", "onnxruntime")]
    assert dekr_onnx["status"] == "error" and "MMCVDeformConv2d" in dekr_onnx["message"]
    assert cells[("dekr_hrnet-w32_coco_512x512", "10", "eager")]["status"] == "/"
    assert sorted(p.name for p in (modern / "plots").glob("*.png")) == [
        "map_vs_fps_cpu_bs1.png", "map_vs_fps_cpu_bs10.png", "map_vs_gflops.png", "scenes_fps_vs_people_cpu.png"]
    # the modern list's default pipelines of its selected models: RTMDet-nano + RTMPose-t
    scenes = {(r["scene"], r["people"]): r for r in csv.DictReader(open(modern / "scenes.csv"))}
    assert list(scenes) == [("rtmdet-nano+rtmpose-t_coco_256x192", "1")]
    assert scenes[("rtmdet-nano+rtmpose-t_coco_256x192", "1")]["status"] == "measured"
    # the page shows the scenes below the table (test_page opens such a page in a browser)
    page = (modern / "index.html").read_text()
    assert "Scenes: frames per second with N people" in page and "rtmdet-nano + RTMPose-t" in page

    # with a seed table to stand beside (here the published one), the combined pictures; nothing re-measured
    results = workflow.root / "results"
    rounds = {path: path.stat().st_mtime_ns for folder in ("timing", "scenes") for path in (results / folder).rglob("*.json")}
    combined = workflow.snakemake(*MODERN, "--config", SELECTED, ONE_ROUND, ONE_PERSON, "combine_with=%s" % PUBLISHED)
    assert combined.returncode == 0, combined.stderr[-3000:]
    assert {path: path.stat().st_mtime_ns for path in rounds} == rounds
    svg = (modern / "plots" / "combined_map_vs_fps_cpu_bs1.svg").read_text()
    assert "results/modern/table.csv (2 models)" in svg and "(78 models" in svg
    assert seed_table.read_text() == "the seed's table, from an earlier `make table`"
