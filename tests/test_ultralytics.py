"""Ultralytics YOLO pose as models of posebench: counted against Ultralytics' published figures,
timed as the table times MMPose's test step, and in the scenes with exactly N people, offline."""
import json
import subprocess

import pandas as pd
import pytest
from conftest import TINY_POLICY

YOLO = "yolo11n-pose_coco_640x640"
# two threads where Ultralytics' import leaves OpenCV at one: the record shows posebench's setting
THREADS = 2
YOLO_RUN = """runtimes: [eager, onnxruntime]
scenes:
  people: [1, 5]
  pipelines: []
  one_stage: [%s]
""" % YOLO


def no_network() -> list:
    """A command that runs another in a network namespace of its own (no interface but a down
    loopback), where this machine lets it; else nothing (the test still runs, with the network)."""
    try:
        works = subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0
    except OSError:
        works = False
    return ["unshare", "--net"] if works else []


def test_yolo_pose_is_counted_timed_and_decodes_n_people_with_no_network(workflow):
    workflow.write("yolo.yaml", YOLO_RUN)
    timing = "timing={min_rounds: 1, max_rounds: 1, %s, threads: %d}" % (TINY_POLICY, THREADS)
    run = workflow.snakemake(
        "results/modern/table.md", "results/modern/scenes.md", "results/modern/runtimes.md",
        "--configfile", "config/modern.yaml", "yolo.yaml", "--config", "select=[%s]" % YOLO, timing,
        inside=no_network(),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    modern = workflow.root / "results" / "modern"

    row = pd.read_csv(modern / "table.csv").set_index("id").loc[YOLO]
    # unfused, one class: 2.87 M and 3.73 GMACs (Ultralytics prints the fused model: 2.9 M, 7.6 GFLOPs)
    assert round(row["params_m"], 2) == 2.87 and row["gflops"] == pytest.approx(3.733, rel=0.01)
    assert row["backend"] == "ultralytics" and row["map"] == 0.5 and row["map_source"] == "published"
    assert not pd.isna(row["cpu_fps_bs1_mean"]) and not pd.isna(row["cpu_fps_bs10_mean"])
    markdown = (modern / "table.md").read_text()
    assert "| 0.5<sup>a</sup> |" in markdown
    assert "[config](https://github.com/ultralytics/ultralytics/blob/main/ultralytics/cfg/models/11/yolo11-pose.yaml)" in markdown
    assert "- backend `ultralytics`: python " in markdown and ", ultralytics 8.4.190, opencv " in markdown

    timed = json.loads((workflow.root / "results" / "timing" / YOLO / "cpu" / "eager" / "round1.json").read_text())
    assert timed["threads"] == THREADS and timed["environment"]["opencv_threads"] == str(THREADS)
    assert timed["environment"]["ultralytics"] == "8.4.190" and "mmcv" not in timed["environment"]
    on_onnx = json.loads((workflow.root / "results" / "timing" / YOLO / "cpu" / "onnxruntime" / "round1.json").read_text())
    assert on_onnx["batches"]["10"]["agreement"]["max_relative_difference"] < 1e-3

    scenes = pd.read_csv(modern / "scenes.csv").set_index("people")
    assert list(scenes["instances"]) == [1, 5] and set(scenes["kind"]) == {"one pass"}
    # the frame once, letterboxed as predict letterboxes a 480×640 frame: to 480×640, not 640×640
    assert list(scenes["network_batch"]) == [1, 1] and set(scenes["network_input"]) == {"480x640"}
    assert (scenes[["preprocessing_share", "network_share", "decoding_share"]] > 0).all().all()
    scene_round = json.loads((workflow.root / "results" / "scenes" / YOLO / "cpu" / "round1.json").read_text())
    assert scene_round["threads"] == THREADS and scene_round["environment"]["opencv_threads"] == str(THREADS)
    assert [scene_round["batches"][n]["instances"] for n in ("1", "5")] == [1, 5]
    # Ultralytics' settings inside the working folder, its sync off
    settings = json.loads((workflow.root / ".ultralytics" / "Ultralytics" / "settings.json").read_text())
    assert settings["sync"] is False


MODELS = """models:
  - id: %s
    algorithm: YOLO11-pose
    model: YOLO11n-pose
    backend: ultralytics
    config: %s
    input_size: 640x640
"""


def test_a_yaml_ultralytics_lacks_is_a_one_line_error_before_any_job(workflow):
    workflow.write("yolo-models.yaml", MODELS % ("yolo99", "11/yolo99n-pose.yaml"))
    run = workflow.snakemake("-n", "--config", "models=yolo-models.yaml")
    assert run.returncode != 0
    line = run.stderr.strip().splitlines()[-1]
    assert line.startswith("posebench: yolo-models.yaml: model 'yolo99': field config: 11/yolo99n-pose.yaml "
                           "is not a config file of backend ultralytics (looked in ")
    assert line.endswith("/ultralytics/cfg/models)")
    assert workflow.results() == []


def test_a_yaml_named_without_its_scale_is_a_one_line_error_of_its_resolve_job(workflow):
    workflow.write("yolo-models.yaml", MODELS % ("yolo11", "11/yolo11-pose.yaml"))
    run = workflow.snakemake("results/resolved/yolo11.json", "--config", "models=yolo-models.yaml")
    assert run.returncode != 0
    log = (workflow.root / "logs" / "resolve" / "yolo11.log").read_text().strip().splitlines()
    assert log[-1] == ("posebench: model 'yolo11': field config: yolo11-pose.yaml names no scale of its yaml "
                       "(one of n, s, m, l, x, as in yolo11n-pose.yaml)")
    assert not (workflow.root / "results" / "resolved" / "yolo11.json").exists()


def test_a_missing_ultralytics_environment_names_the_target_that_builds_it(workflow):
    workflow.write("yolo-models.yaml", MODELS % ("yolo11n", "11/yolo11n-pose.yaml"))
    run = workflow.snakemake("-n", "--config", "models=yolo-models.yaml", "backends={mmpose1: {python: "
                             ".venvs/mmpose1/bin/python}, mmpose0: {python: .venvs/mmpose0/bin/python}, "
                             "ultralytics: {python: .venvs/nowhere/bin/python}}")
    assert run.returncode != 0
    assert run.stderr.strip().splitlines()[-1] == (
        "posebench: config: field backends.ultralytics.python: .venvs/nowhere/bin/python does not exist "
        "(run `make setup-ultralytics`)")
