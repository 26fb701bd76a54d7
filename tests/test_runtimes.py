"""Runtimes beyond eager: the agreement check on real exports, routing, and the runtimes.md arithmetic."""
import json
import subprocess

import pytest
from conftest import REPO
from posebench.report.runtime_table import (
    achieved_gflops_per_s, render_runtimes_markdown, runtime_records, speedup,
)

CHECKS = REPO / "tests" / "backend" / "runtime_checks.py"


# the runtimes people deploy with are checked once, on the backend and model they are used with
@pytest.mark.parametrize(
    "backend, model_id, deployment",
    [("mmpose1", "shufflenetv2_coco_256x192", True), ("mmpose0", "ae_mobilenetv2_coco_512x512", False)],
)
def test_a_runtime_is_timed_only_when_it_computes_what_eager_computes(tmp_path, backend, model_id, deployment):
    python = REPO / ".venvs" / backend / "bin" / "python"
    run = subprocess.run([str(python), str(CHECKS), model_id, str(tmp_path)] + (["--deployment"] if deployment else []),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    findings = json.loads(run.stdout.strip().splitlines()[-1])
    assert findings["routed_step_matches"] is True
    assert findings["export"]["status"] == "exported" and findings["export"]["opset"] == 17
    faithful = findings["faithful"]
    assert faithful["status"] == "measured" and faithful["fps_mean"] > 0
    assert faithful["agreement"]["max_relative_difference"] <= faithful["agreement"]["tolerance"] == 1e-3
    for cell in (faithful, findings["eager"]):
        assert 0 < cell["model_memory_mib"] <= cell["peak_memory_mib"], cell
    perturbed = findings["perturbed"]
    assert perturbed["status"] == "failed" and perturbed["kind"] == "mismatch" and "fps_mean" not in perturbed
    assert perturbed["message"].startswith("outputs differ from eager by")
    assert findings["failed_export"] == {
        "status": "failed", "stage": "runtime", "kind": "export failed", "message": "RuntimeError: unsupported op",
    }
    if deployment:
        check_deployment_runtimes(findings)


def check_deployment_runtimes(findings):
    # OpenVINO and OpenCV's DNN module on the same export: checked against eager as ONNX Runtime is
    assert findings["openvino"]["status"] == "measured" and findings["openvino"]["runtime_version"].startswith("openvino ")
    assert findings["openvino"]["agreement"]["max_relative_difference"] <= 1e-3
    opencv = findings["opencv_dnn"]
    assert opencv["runtime_version"].endswith("(DNN_BACKEND_OPENCV, DNN_TARGET_CPU)")
    assert opencv["status"] == "measured" and opencv["agreement"]["max_relative_difference"] <= 1e-3, opencv
    # INT8: quantized on random inputs, timed, its difference recorded and never checked
    assert findings["quantization"]["status"] == "quantized" and findings["quantization"]["calibration"].startswith("32 ")
    int8 = findings["openvino_int8"]
    assert int8["status"] == "measured" and int8["agreement"]["tolerance"] is None
    assert int8["agreement"]["max_relative_difference"] > 0 and "accuracy not measured" in int8["agreement"]["accuracy"]
    # memory: the timed iterations' peak and the built model's footprint, in MiB
    assert 0 < int8["model_memory_mib"] <= int8["peak_memory_mib"], int8
    # a network a runtime cannot read is that cell's error, with the library's reason
    assert findings["unreadable_openvino"]["kind"] == findings["unreadable_opencv_dnn"]["kind"] == "error"
    assert findings["unreadable_openvino"]["message"].startswith("RuntimeError: Unable to read the model")
    assert "Failed to parse ONNX model" in findings["unreadable_opencv_dnn"]["message"]


def entry(model_id):
    return {"id": model_id, "input_size": [256, 192], "model_cfg": {"test_cfg": {"flip_test": True}}}


LABELS = {"m": {"id": "m", "algorithm": "topdown_heatmap", "model": "m"}}


def measured(fps, peak=400.0):
    """A row of cells.csv: the cell's statistics over its rounds."""
    return {"status": "measured", "fps_mean": fps, "fps_std": 0.1, "max_relative_difference": 1e-6,
            "tolerance": 1e-3, "peak_gflops_per_s": peak, "peak_memory_mib": 100 * fps, "model_memory_mib": 90.0}


MISMATCH = {"status": "failed", "stage": "runtime", "kind": "mismatch", "message": "outputs differ"}
CELLS = {
    ("m", "cpu", "eager", 1): measured(4.0), ("m", "cpu", "eager", 10): measured(0.5),
    ("m", "cpu", "onnxruntime", 1): measured(6.0), ("m", "cpu", "onnxruntime", 10): MISMATCH,
    ("m", "cpu", "channels_last", 1): measured(5.0), ("m", "cpu", "channels_last", 10): measured(0.8),
}
RUNTIMES = ["eager", "onnxruntime", "channels_last"]


def test_speedup_and_achieved_throughput_arithmetic():
    assert speedup(6.0, 4.0) == 1.5
    assert speedup(6.0, None) is None and speedup(None, 4.0) is None
    # 5 GMACs = 10 GFLOP per pass, 2 passes (flip test), batch 10, 3 iterations per second
    assert achieved_gflops_per_s(5.0, 10, 2, 3.0) == 600.0


def test_runtime_records_carry_speedups_throughput_and_failures():
    records = runtime_records([entry("m")], LABELS, {"m": {"status": "counted", "gflops": 5.0}}, CELLS, ["cpu"], [1, 10],
                              RUNTIMES)
    cell = {(r["batch_size"], r["runtime"]): r for r in records}
    assert cell[(1, "onnxruntime")]["speedup"] == pytest.approx(1.5)
    assert cell[(1, "onnxruntime")]["gflops_per_s"] == pytest.approx(2 * 5.0 * 1 * 2 * 6.0)
    assert cell[(1, "onnxruntime")]["fraction_of_peak"] == pytest.approx(120.0 / 400.0)
    assert cell[(10, "channels_last")]["speedup"] == pytest.approx(1.6)
    assert cell[(10, "onnxruntime")]["status"] == "mismatch" and cell[(10, "onnxruntime")]["speedup"] is None
    assert cell[(1, "channels_last")]["peak_memory_mib"] == 500.0 and cell[(1, "eager")]["model_memory_mib"] == 90.0


def test_a_speed_only_runtime_is_labelled_so_and_never_the_fastest():
    cells = {**CELLS, ("m", "cpu", "openvino_int8", 1): measured(9.0), ("m", "cpu", "openvino_int8", 10): measured(2.0)}
    runtimes = RUNTIMES + ["openvino_int8"]
    records = runtime_records([entry("m")], LABELS, {"m": {"status": "counted", "gflops": 5.0}}, cells, ["cpu"], [1, 10],
                              runtimes)
    text = render_runtimes_markdown(records, ["cpu"], [1, 10], runtimes)
    assert "| openvino_int8 (INT8, speed only: accuracy not measured (random weights, no data set)) |" in text
    # the fastest checked runtime stays in bold; INT8's speed-up is there to read, not to win
    assert "| 4.00 | **6.00 (1.50×)** | 5.00 (1.25×) | 9.00 (2.25×) | 120.0 (30%) | 600 |" in text


def test_runtimes_markdown_marks_the_best_runtime_and_never_numbers_a_mismatch():
    records = runtime_records([entry("m")], LABELS, {"m": {"status": "counted", "gflops": 5.0}}, CELLS, ["cpu"], [1, 10],
                              RUNTIMES)
    text = render_runtimes_markdown(records, ["cpu"], [1, 10], RUNTIMES)
    # the fastest runtime's throughput and peak memory
    assert "| topdown_heatmap | m | 256x192 | 4.00 | **6.00 (1.50×)** | 5.00 (1.25×) | 120.0 (30%) | 600 |" in text
    assert "| topdown_heatmap | m | 256x192 | 0.50 | mismatch | **0.80 (1.60×)** | 160.0 (40%) | 80 |" in text
    assert "### CPU, batch size 10 (peak: 400 GFLOP/s" in text


def test_each_section_counts_the_wins_and_gives_geometric_mean_speed_ups():
    runtimes = ["eager", "onnxruntime", "openvino"]
    fps = {"m": (4.0, 6.0, 8.0), "n": (2.0, 3.0, 1.0)}
    cells = {(model, "cpu", runtime, 1): measured(value) for model, values in fps.items()
             for runtime, value in zip(runtimes, values)}
    labels = {model: dict(LABELS["m"], id=model, model=model) for model in fps}
    counted = {model: {"status": "counted", "gflops": 5.0} for model in fps}
    records = runtime_records([entry("m"), entry("n")], labels, counted, cells, ["cpu"], [1], runtimes)
    text = render_runtimes_markdown(records, ["cpu"], [1], runtimes)
    assert "Fastest checked runtime: eager 0, onnxruntime 1, openvino 1 rows." in text
    # onnxruntime: sqrt(1.5 × 1.5); openvino: sqrt(2 × 0.5) over eager, sqrt(8/6 × 1/3) over onnxruntime
    assert "Geometric-mean speed-up of onnxruntime: 1.50× over eager (2 rows)." in text
    assert "Geometric-mean speed-up of openvino: 1.00× over eager (2 rows), 0.67× over onnxruntime (2 rows)." in text
    assert "Geometric-mean speed-up of eager" not in text
