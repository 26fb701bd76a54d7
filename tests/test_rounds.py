"""Rounds until the interval is tight, through real Snakemake runs: a cell wider than the target
gets more rounds, round-major across the cells, up to max_rounds, and is marked with its width;
the rounds on disk count when the run goes on."""
import csv
import json
import re

import pytest

MODELS = ["shufflenetv2_coco_256x192", "mobilenetv2_coco_256x192"]
# batch 1 alone, a tiny policy: the rounds are what is tested, not this machine's speed
POLICY = "iterations: 3, warmup: 1, min_iterations: 2, budget_s: 0.3"


def run(workflow, rounds, *extra, dry=False):
    args = ["-n"] if dry else []
    return workflow.snakemake(*args, "results/table.md", "--config", "select=[%s]" % ",".join(MODELS),
                              "batch_sizes=[1]", "timing={%s, %s}" % (rounds, POLICY), *extra)


def round_record(workflow, model_id, number):
    path = workflow.root / "results" / "timing" / model_id / "cpu" / "eager" / ("round%d.json" % number)
    return json.loads(path.read_text()) if path.exists() else None


@pytest.mark.prepared
def test_a_cell_wider_than_the_target_gets_rounds_up_to_the_maximum_interleaved_and_marked(workflow):
    # no interval is as tight as 1e-9: every cell gets every round up to max_rounds, and no more
    done = run(workflow, "min_rounds: 2, max_rounds: 3, target: 1.0e-9")
    assert done.returncode == 0, done.stderr[-3000:]
    for model_id in MODELS:
        assert [round_record(workflow, model_id, n) is not None for n in (1, 2, 3, 4)] == [True, True, True, False]
    # round-major: every cell's round k ended before any cell's round k + 1 started
    for number in (1, 2):
        ended = max(round_record(workflow, m, number)["ended_at"] for m in MODELS)
        started = min(round_record(workflow, m, number + 1)["process_started_at"] for m in MODELS)
        assert ended < started, (number, ended, started)

    with open(workflow.root / "results" / "cells.csv") as handle:
        cells = {row["id"]: row for row in csv.DictReader(handle)}
    for cell in cells.values():
        assert cell["rounds"] == "3"
        width = 100 * float(cell["ci_half_width"])
        assert cell["unsteady"].startswith("interval ±%s%% after 3 rounds" % ("%.1f" % width if width < 10 else "%.0f" % width))
        for percentile in ("p50", "p90", "p99"):
            assert float(cell["latency_%s_s" % percentile]) > 0
        assert float(cell["latency_p50_s"]) <= float(cell["latency_p90_s"]) <= float(cell["latency_p99_s"])
    table = (workflow.root / "results" / "table.md").read_text()
    assert "- each FPS cell: 3 round(s)" in table
    assert len(re.findall(r"\d\.\d\d ± \d+\.\d\d(<sup>c</sup>)?<sup>±[\d.]+%</sup>", table)) == len(MODELS)

    # where its time went, by phase
    phases = round_record(workflow, MODELS[0], 2)["phases"]
    assert set(phases) >= {"start", "imports", "build", "probe", "batches", "peak", "environment"}
    assert phases["peak"] < phases["batches"]  # the peak runs in round 1 only
    assert round_record(workflow, MODELS[0], 2)["batches"]["1"]["warmup_seconds"] > 0

    # a higher maximum: the rounds on disk count, the run goes on with one more round per cell
    before = {path: path.stat().st_mtime_ns for path in (workflow.root / "results" / "timing").rglob("*.json")}
    more = run(workflow, "min_rounds: 2, max_rounds: 4, target: 1.0e-9")
    assert more.returncode == 0, more.stderr[-3000:]
    assert all(path.stat().st_mtime_ns == stamp for path, stamp in before.items())
    assert all(round_record(workflow, m, 4) and not round_record(workflow, m, 5) for m in MODELS)

    # a target every cell meets: nothing more is timed, only the marks change
    planned = run(workflow, "min_rounds: 2, max_rounds: 6, target: 10", dry=True)
    assert planned.returncode == 0, planned.stderr[-3000:]
    output = planned.stdout + planned.stderr
    assert not re.search(r"(rule|checkpoint) timing:", output) and "rule measurements:" in output

