"""A model that fails, and a job that is killed: the table still comes out, nothing half-written."""
import json
import signal
import time

import psutil
import pytest
from conftest import tiny_timing
from posebench.failures import ERROR, OOM, failure_kind, failure_record
from posebench.report.table import fps_cell

TINY_TIMING = tiny_timing(1)
# a user's config whose backbone raises when built (ResNet has no depth 51)
BROKEN_CONFIG = """_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py']
model = dict(backbone=dict(depth=51))
"""
BROKEN_ROW = """
  - id: broken_res51
    algorithm: topdown_heatmap
    model: ResNet-51
    backend: mmpose1
    config: ./configs/broken_res51.py
    input_size: 256x192
"""


def test_out_of_memory_is_told_apart_from_other_errors():
    assert failure_kind(MemoryError()) == OOM
    assert failure_kind(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")) == OOM
    assert failure_kind(KeyError("invalid depth 51 for resnet")) == ERROR
    record = failure_record("build", ValueError("first line\nsecond line"))
    assert record == {"status": "failed", "stage": "build", "kind": ERROR, "message": "ValueError: first line"}
    # OpenVINO's C++ source locations before its message are not the message
    openvino = RuntimeError("Exception from src/inference/src/cpp/core.cpp:84:\n"
                            "Exception from src/inference/src/model_reader.cpp:148:\nUnable to read the model")
    assert failure_record("openvino session", openvino)["message"] == "RuntimeError: Unable to read the model"


def test_an_extensions_own_error_raised_where_our_code_calls_it_is_the_librarys():
    from posebench.failures import OUR_CODE, raised_in_our_code

    def raised_in(filename, error):
        try:
            exec(compile("raise error", str(filename), "exec"), {"error": error})
        except Exception as raised:
            return raised_in_our_code(raised)

    extension_error = type("error", (Exception,), {"__module__": "cv2"})("Failed to parse ONNX model")
    assert raised_in(OUR_CODE / "runtimes" / "runners.py", extension_error) is False
    assert raised_in(OUR_CODE / "runtimes" / "runners.py", KeyError("batches")) is True
    assert raised_in(OUR_CODE.parent / "elsewhere.py", KeyError("batches")) is False


def test_capped_wide_and_probe_shifted_measurements_are_marked_with_the_width():
    row = {"k": "10.00 ± 2.00", "k_mean": 10.0, "k_std": 2.0, "k_capped": True, "k_ci_half_width": 0.072,
           "k_probe_shift": -0.25}
    assert fps_cell(row, "k", None, 0.03, 0.2) == "10.00 ± 2.00<sup>c</sup><sup>±7.2%</sup><sup>p</sup>"
    assert fps_cell(dict(row, k_ci_half_width=0.125), "k", None, 0.03, 0.2).endswith("<sup>±12%</sup><sup>p</sup>")
    steady = dict(row, k_capped=False, k_ci_half_width=0.029, k_probe_shift=0.19)
    assert fps_cell(steady, "k", None, 0.03, 0.2) == "10.00 ± 2.00"


@pytest.mark.prepared
def test_a_model_that_fails_is_recorded_and_the_table_still_comes_out(workflow):
    (workflow.root / "configs").mkdir()
    workflow.write("configs/broken_res51.py", BROKEN_CONFIG)
    models = workflow.root / "config" / "models.yaml"
    models.write_text(models.read_text() + BROKEN_ROW)

    run = workflow.snakemake(
        "results/table.md", "--config", "select=[broken_res51,shufflenetv2_coco_256x192]", TINY_TIMING
    )
    assert run.returncode == 0, run.stderr[-3000:]

    complexity = json.loads((workflow.root / "results" / "complexity" / "broken_res51.json").read_text())
    assert complexity["status"] == "failed"
    assert complexity["failure"] == {
        "status": "failed", "stage": "build", "kind": "error", "message": "KeyError: 'invalid depth 51 for resnet'"
    }
    timing = json.loads((workflow.root / "results" / "timing" / "broken_res51" / "cpu" / "eager" / "round1.json").read_text())
    assert timing["batches"]["1"]["kind"] == "error" and timing["batches"]["10"]["stage"] == "build"
    assert "Traceback" in (workflow.root / "logs" / "complexity" / "broken_res51.log").read_text()

    table = (workflow.root / "results" / "table.md").read_text()
    rows = [line for line in table.splitlines() if "[config]" in line]
    assert len(rows) == 2
    assert rows[0].endswith("| error | error | n/a | n/a | error | error |")
    assert "| 1.37 | 7.55 | n/a | n/a | " in rows[1]
    csv_text = (workflow.root / "results" / "table.csv").read_text()
    assert "complexity: error in build: KeyError: 'invalid depth 51 for resnet'" in csv_text


def child_running(process: psutil.Process, script: str):
    for child in process.children(recursive=True):
        try:
            if script in " ".join(child.cmdline()) and child.name().startswith("python"):
                return child
        except psutil.NoSuchProcess:
            pass
    return None


def rounds_forked_for(root):
    """The children warm processes forked for rounds of the workflow at root, still running."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if "from posebench.warm import serve" in " ".join(process.info["cmdline"] or []):
                found += [child for child in process.children() if child.cwd() == str(root)]
        except psutil.Error:
            pass
    return found


@pytest.mark.prepared
def test_a_killed_timing_job_leaves_no_output_and_the_next_run_finishes(workflow):
    model = "shufflenetv2_coco_256x192"
    log = workflow.root / "logs" / "timing" / model / "cpu" / "eager" / "round1.log"
    slow = "timing={min_rounds: 1, max_rounds: 1, iterations: 1000, warmup: 1, min_iterations: 1000, budget_s: 1000}"
    run = workflow.start_snakemake("results/table.md", "--config", "select=[%s]" % model, slow)
    try:
        deadline = time.time() + 300
        while not (log.exists() and "iteration 3/1000" in log.read_text()):
            assert time.time() < deadline and run.poll() is None, "the timing job never got going"
            time.sleep(0.5)
        assert rounds_forked_for(workflow.root), "the round does not run in a warm process's child"
        job = child_running(psutil.Process(run.pid), "time_model.py")
        job.send_signal(signal.SIGKILL)  # as the OOM killer or a preempted node would
        assert run.wait(timeout=120) == 1
        # the round's child goes with the job: nothing keeps timing beside the next run
        deadline = time.time() + 30
        while rounds_forked_for(workflow.root):
            assert time.time() < deadline, "the killed job's round still runs"
            time.sleep(0.5)
    finally:
        if run.poll() is None:
            run.kill()
    timing_dir = workflow.root / "results" / "timing" / model
    assert [path for path in timing_dir.rglob("*") if path.is_file()] == []
    assert not (workflow.root / "results" / "table.md").exists()

    again = workflow.snakemake("results/table.md", "--config", "select=[%s]" % model, TINY_TIMING)
    assert again.returncode == 0, again.stderr[-3000:]
    rows = [line for line in (workflow.root / "results" / "table.md").read_text().splitlines() if "[config]" in line]
    assert len(rows) == 1 and " ± " in rows[0]


def test_a_cpu_out_of_memory_reads_oom():
    message = ("[enforce fail at alloc_cpu.cpp:118] data. DefaultCPUAllocator: can't allocate memory: "
               "you tried to allocate 40000000000 bytes. Error code 12 (Cannot allocate memory)")
    assert failure_kind(RuntimeError(message)) == OOM


def test_an_error_in_our_own_code_is_not_a_model_failure(tmp_path):
    import json as library

    from posebench.failures import ModelFailure, model_stage
    from posebench.records import read_json

    with pytest.raises(ModelFailure) as failure:  # raised inside a library: the model's
        with model_stage("build"):
            library.loads("{not json")
    assert failure.value.record["kind"] == ERROR and failure.value.record["stage"] == "build"
    with pytest.raises(FileNotFoundError):  # raised in posebench's own code: a bug, it fails the job
        with model_stage("build"):
            read_json(tmp_path / "missing.json")


@pytest.mark.prepared
def test_a_bug_in_our_own_timing_code_fails_the_job_instead_of_reading_error(workflow):
    timing = workflow.root / "workflow" / "scripts" / "posebench" / "measure" / "timing.py"
    step = "            step = backend.test_step(model, resolved, batch_size, device)\n"
    assert step in timing.read_text()
    timing.write_text(timing.read_text().replace(step, step + '            {}["an injected bug"]\n'))
    model = "shufflenetv2_coco_256x192"
    run = workflow.snakemake("results/table.md", "--config", "select=[%s]" % model, TINY_TIMING)
    assert run.returncode == 1
    log = (workflow.root / "logs" / "timing" / model / "cpu" / "eager" / "round1.log").read_text()
    assert "Traceback" in log and "KeyError: 'an injected bug'" in log
    assert not (workflow.root / "results" / "timing" / model / "cpu" / "eager" / "round1.json").exists()
    assert not (workflow.root / "results" / "table.md").exists()
