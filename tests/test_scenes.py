"""Scenes: whole frames with N people, a detector plus a top-down model against one-pass models."""
import json
import math
import time

import pandas as pd
import pytest
from conftest import tiny_timing
from posebench.report.scene_table import crossing
from posebench.scenes.frames import StageClock, measure_frames, person_boxes
from posebench.scenes.plan import scene_plan

SCENES = {
    "people": [1, 5], "frame_size": [480, 640],
    "detectors": {"rtmdet-nano": "demo/mmdetection_cfg/rtmdet_nano_320-8xb32_coco-person.py"},
    "pipelines": [["rtmdet-nano", "rtmpose-t"], ["rtmdet-nano", "rtmpose-t", "rtmlib-openvino"]],
    "one_stage": ["rtmo-s"],
}
BACKENDS = {"rtmpose-t": "mmpose1", "rtmo-s": "mmpose1", "res50": "mmpose0", "yolo": "ultralytics"}


def test_the_plan_names_each_scene_and_keeps_those_of_the_selected_models():
    plan = scene_plan(SCENES, BACKENDS, ["rtmpose-t", "rtmo-s"], "config")
    assert plan == {
        "rtmdet-nano+rtmpose-t": {"model": "rtmpose-t", "detector": "rtmdet-nano", "stack": "mmpose"},
        "rtmdet-nano+rtmpose-t+rtmlib-openvino": {"model": "rtmpose-t", "detector": "rtmdet-nano",
                                                  "stack": "rtmlib-openvino"},
        "rtmo-s": {"model": "rtmo-s", "detector": None, "stack": "mmpose"}}
    assert list(scene_plan(SCENES, BACKENDS, ["rtmo-s"], "config")) == ["rtmo-s"]
    assert scene_plan(dict(SCENES, people=[]), BACKENDS, ["rtmo-s"], "config") == {}


@pytest.mark.parametrize("change, message", [
    ({"pipelines": [["yolo", "rtmpose-t"]]},
     "config: field scenes.pipelines.0: unknown detector 'yolo' (scenes.detectors has rtmdet-nano)"),
    ({"one_stage": ["rtmo-x"]}, "config: field scenes.one_stage.0: 'rtmo-x' is not a model of the list"),
    ({"one_stage": ["res50"]}, "config: field scenes.one_stage.0: 'res50' runs on mmpose0; scenes need mmpose1 or ultralytics"),
    ({"pipelines": [["rtmdet-nano", "rtmpose-t", "rtmlib-tensorrt"]]},
     "config: field scenes.pipelines.0: unknown stack 'rtmlib-tensorrt' (one of mmpose, rtmlib-onnxruntime, "
     "rtmlib-openvino)"),
    ({"pipelines": [["rtmdet-nano", "yolo", "rtmlib-onnxruntime"]]},
     "config: field scenes.pipelines.0: 'yolo' runs on ultralytics; rtmlib runs exports of mmpose1 models"),
])
def test_a_scene_the_list_cannot_time_is_a_one_line_error(change, message):
    with pytest.raises(ValueError) as error:
        scene_plan(dict(SCENES, **change), BACKENDS, list(BACKENDS), "config")
    assert str(error.value) == message


def test_person_boxes_tile_the_frame_without_overlapping():
    boxes = person_boxes(5, [480, 640])
    assert len(boxes) == 5
    for x1, y1, x2, y2 in boxes:
        assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 480
    for index, a in enumerate(boxes):
        for b in boxes[index + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_the_stage_clock_splits_the_pose_step_into_network_and_decoding():
    ticks = iter([0.0, 1.0, 1.0, 1.5, 2.0, 2.25, 2.0, 4.0])
    clock = StageClock(lambda: None)
    import posebench.scenes.frames as scenes

    real = scenes.time.perf_counter
    scenes.time.perf_counter = lambda: next(ticks)
    try:
        with clock.stage(clock.PREPROCESSING):  # 1 s
            pass
        with clock.stage(clock.NETWORK):  # 0.5 s
            pass
        with clock.stage(clock.NETWORK):  # 0.25 s
            pass
        with clock.stage(clock.PREDICT):  # 2 s, the network's 0.75 s inside it
            pass
    finally:
        scenes.time.perf_counter = real
    assert clock.per_frame() == {"detector": 0.0, "preprocessing": 1.0, "network": 0.75, "decoding": 1.25}


def test_a_long_first_iteration_keeps_its_stages():
    # each frame: 30 ms of network, and a policy whose long iterations end the warm-ups at once,
    # so the one timed frame runs before the warm-ups' end (the probe's moment)
    clock = StageClock(lambda: None)

    def step():
        with clock.stage(clock.NETWORK):
            time.sleep(0.03)

    policy = {"warmup": 5, "iterations": 50, "min_iterations": 1, "budget_s": 0.01, "long_iteration_s": 0.01}
    measured = measure_frames(step, clock, "cpu", policy, lambda _: None, lambda: 100.0)
    assert measured["iterations"] == 1 and measured["warmup"] == 1 and measured["network_batch"] == 0
    assert measured["stage_seconds"]["network"] == pytest.approx(measured["seconds"][0], rel=0.2)
    assert measured["stage_seconds"]["network"] >= 0.03


def test_the_crossing_is_the_first_n_that_wins_and_the_log_log_intersection():
    found = crossing([1, 5, 10, 20], one_pass=[2.0, 2.0, 2.0, 2.0], top_down=[4.0, 2.5, 1.0, 0.5])
    assert found["first_measured"] == 10
    # log(2/2.5) at N=5 and log(2/1) at N=10: zero at log N = log 5 + 0.2435 log 2
    assert found["interpolated"] == pytest.approx(math.exp(math.log(5) + math.log(1.25) / math.log(2.5) * math.log(2)))
    assert crossing([1, 5], [1.0, 1.0], [2.0, 1.5]) == {"first_measured": None, "interpolated": None}
    assert crossing([1, 5], [3.0, 3.0], [2.0, 1.0]) == {"first_measured": 1, "interpolated": 1.0}


SCENE_CONFIG = """scenes:
  people: [1, 5]
  pipelines: [[rtmdet-nano, rtmpose-t_coco_256x192], [rtmdet-nano, rtmpose-t_coco_256x192, rtmlib-openvino]]
  one_stage: [yoloxpose-tiny_coco_416x416]
"""
RTMLIB = "rtmdet-nano+rtmpose-t_coco_256x192+rtmlib-openvino"


@pytest.mark.prepared
def test_scenes_time_whole_frames_and_the_one_pass_model_decodes_n_people(workflow):
    workflow.write("scenes.yaml", SCENE_CONFIG)
    run = workflow.snakemake(
        "results/modern/scenes.md", "--configfile", "config/modern.yaml", "scenes.yaml",
        "--config", "select=[rtmpose-t_coco_256x192,yoloxpose-tiny_coco_416x416]", tiny_timing(1),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    table = pd.read_csv(workflow.root / "results" / "modern" / "scenes.csv").set_index(["scene", "people"])
    assert len(table) == 6 and set(table["status"]) == {"measured"}
    top_down, one_pass = table.loc["rtmdet-nano+rtmpose-t_coco_256x192"], table.loc["yoloxpose-tiny_coco_416x416"]
    rtmlib = table.loc[RTMLIB]
    # N boxes make N crops, one batch of N for the pose network; the one-pass model sees the frame once;
    # rtmlib runs its network once per crop
    assert list(top_down["instances"]) == [1, 5] and list(one_pass["instances"]) == [1, 5]
    assert list(rtmlib["instances"]) == [1, 5] and list(rtmlib["network_batch"]) == [1, 1]
    assert list(top_down["network_batch"]) == [1, 5] and list(one_pass["network_batch"]) == [1, 1]
    assert set(rtmlib["network_input"]) == {"256x192"} and set(top_down["network_input"]) == {"256x192"}
    assert (top_down["detector_share"] > 0).all() and (one_pass["detector_share"] == 0).all()
    assert (rtmlib["detector_share"] > 0).all() and set(rtmlib["stack"]) == {"rtmlib-openvino"}
    assert set(rtmlib["name"]) == {"rtmdet-nano + RTMPose-t (rtmlib-openvino)"}
    # rtmlib's sessions on the round's threads, not OpenVINO's default of every core
    record = json.loads((workflow.root / "results" / "scenes" / RTMLIB / "cpu" / "round1.json").read_text())
    assert record["stack_settings"]["runtime_threads"] == {"pose": record["threads"], "detector": record["threads"]}
    assert record["stack_settings"]["rtmlib"] == "0.0.16"
    detector = json.loads((workflow.root / "results" / "detectors" / "rtmdet-nano" / "export.json").read_text())
    assert detector["status"] == "exported" and detector["input_size"] == [320, 320]
    shares = table[["detector_share", "preprocessing_share", "network_share", "decoding_share"]].sum(axis=1)
    assert shares.round(6).eq(1).all()
    assert set(top_down["kind"]) == {"top-down"} and set(one_pass["kind"]) == {"one pass"}
    # every scene round's frames, probe and load, as measurements.csv keeps the models' (publish reads its load)
    rounds = pd.read_csv(workflow.root / "results" / "modern" / "scene_measurements.csv")
    assert len(rounds) == 6 and set(rounds["round"]) == {1} and set(rounds["batch_size"]) == {1, 5}
    assert rounds["load1_before"].notna().all() and (rounds["probe_before"] > 0).all()
    assert [len(seconds.split()) for seconds in rounds["seconds"]] == list(rounds["iterations"])
    markdown = (workflow.root / "results" / "modern" / "scenes.md").read_text()
    assert "| Scene | Kind | N = 1 | N = 5 |" in markdown
    assert "| One-pass model, faster than → | rtmdet-nano + RTMPose-t |" in markdown
    assert (workflow.root / "results" / "modern" / "plots" / "scenes_fps_vs_people_cpu.png").stat().st_size > 0
    log = (workflow.root / "logs" / "scenes" / "yoloxpose-tiny_coco_416x416" / "cpu" / "round1.log").read_text()
    assert "N = 5: " in log and "5 people decoded" in log
