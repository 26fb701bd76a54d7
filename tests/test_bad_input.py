"""Bad input stops the run before any job, with one line naming the culprit, and writes nothing."""
import pytest
from posebench.measure.environment import cuda_visible

GOOD_ID = "res50_coco_256x192"


def edit_models(workflow, old, new):
    path = workflow.root / "config" / "models.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


CASES = {
    "malformed yaml": (
        lambda w: w.write("config/models.yaml", "models: [\n  - id: x\n"),
        [],
        "posebench: config/models.yaml: line 2: malformed YAML: expected the node content, but found '-'",
    ),
    "unknown backend": (
        lambda w: edit_models(w, "backend: mmpose1", "backend: mmpose9"),
        [],
        "posebench: config/models.yaml: model 'alexnet_coco_256x192': field backend: "
        "'mmpose9' is not one of ['mmpose0', 'mmpose1', 'ultralytics']",
    ),
    "unknown config": (
        lambda w: edit_models(w, "td-hm_res50_8xb64-210e_coco-256x192.py", "td-hm_res50_nope.py"),
        [],
        "posebench: config/models.yaml: model 'res50_coco_256x192': field config: "
        "body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_nope.py is not a config file of backend mmpose1",
    ),
    "duplicate id": (
        lambda w: edit_models(w, "id: cpm_coco_256x192", "id: alexnet_coco_256x192"),
        [],
        "posebench: config/models.yaml: model 'alexnet_coco_256x192': field id: duplicate id",
    ),
    "unsafe id": (
        lambda w: edit_models(w, "id: cpm_coco_256x192", "id: cpm$(reboot)"),
        [],
        "posebench: config/models.yaml: model 'cpm$(reboot)': field id: 'cpm$(reboot)' has characters "
        "that are not allowed",
    ),
    "select names no model": (
        lambda w: None,
        ["--config", "select=[res50_coco_256x192,res51_coco]"],
        "posebench: config: field select: no model with id 'res51_coco' in config/models.yaml",
    ),
    "unknown run setting": (
        lambda w: None,
        ["--config", "batchsize=10"],
        "posebench: config: field (top level): unknown field: batchsize",
    ),
    "unknown runtime": (
        lambda w: None,
        ["--config", "runtimes=[eager,tensorrt]"],
        "posebench: config: field runtimes.1: 'tensorrt' is not one of "
        "['eager', 'channels_last', 'compile', 'onnxruntime', 'openvino', 'opencv_dnn', 'openvino_int8']",
    ),
    "nothing to compare with": (
        lambda w: None,
        ["--config", "compare_with=../elsewhere/results"],
        "posebench: config: field compare_with: ../elsewhere/results has no table.csv "
        "(give a results/ folder or a table.csv)",
    ),
    "unknown override backend": (
        lambda w: None,
        ["--config", "backend=mmpose3"],
        "posebench: config: field backend: 'mmpose3' is not one of ['mmpose0', 'mmpose1', None]",
    ),
    "batch size zero": (
        lambda w: None,
        ["--config", "batch_sizes=[1,0]"],
        "posebench: config: field batch_sizes.1: 0 is less than the minimum of 1",
    ),
    "batch size negative": (
        lambda w: None,
        ["--config", "batch_sizes=[-1]"],
        "posebench: config: field batch_sizes.0: -1 is less than the minimum of 1",
    ),
    "missing field": (
        lambda w: edit_models(w, "    input_size: 256x192\n", ""),
        [],
        "posebench: config/models.yaml: model 'alexnet_coco_256x192': field entry: missing required field: input_size",
    ),
    "batch size not an integer": (
        lambda w: None,
        ["--config", "batch_sizes=[2.5]"],
        "posebench: config: field batch_sizes.0: 2.5 is not of type 'integer'",
    ),
    "unknown device": (
        lambda w: None,
        ["--config", "devices=[cpu,tpu]"],
        "posebench: config: field devices.1: 'tpu' is not one of ['cpu', 'cuda']",
    ),
    "max rounds below min rounds": (
        lambda w: None,
        ["--config", "timing={min_rounds: 3, max_rounds: 2}"],
        "posebench: config: field timing.max_rounds: 2 is fewer than timing.min_rounds (3)",
    ),
    "target not positive": (
        lambda w: None,
        ["--config", "timing={target: 0}"],
        "posebench: config: field timing.target: 0 is less than or equal to the minimum of 0",
    ),
    "missing device": (
        lambda w: None,
        ["--config", "devices=[cpu,cuda]"],
        "posebench: config: field devices: cuda asked for, but this machine has no CUDA device (nvidia-smi finds none)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_leaves_no_results(workflow, case):
    if case == "missing device" and cuda_visible():
        pytest.skip("this machine has a CUDA device")
    break_it, args, message = CASES[case]
    break_it(workflow)
    run = workflow.snakemake("results/table.md", *args, timeout=60)  # bad input never gets to a job
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert lines[-1].startswith(message)
    # besides ours, only Snakemake's notes on the profile and on --config; no traceback
    notes = ("Config file config/config.yaml is extended", "Using workflow specific profile profiles/default")
    assert [line for line in lines if not line.startswith(notes)] == [lines[-1]]
    assert workflow.results() == []
