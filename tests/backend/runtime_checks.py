"""Run inside a backend's venv (by tests/test_runtimes.py): the runtime machinery on real models.

usage: runtime_checks.py MODEL_ID WORKDIR [--deployment] -> prints one JSON object of findings
(--deployment: OpenVINO, OpenCV DNN and INT8 too).
"""
import functools
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

import numpy  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from onnx import numpy_helper  # noqa: E402
from posebench.backends import get_backend  # noqa: E402
from posebench.catalog.resolve import resolve_model  # noqa: E402
from posebench.measure.timing import time_model  # noqa: E402
from posebench.records import write_json  # noqa: E402
from posebench.runtimes import export, quantize  # noqa: E402

POLICY = {"iterations": 2, "warmup": 1, "min_iterations": 1, "budget_s": 0.1, "long_iteration_s": 2}


def resolved_model(model_id):
    models = yaml.safe_load((REPO / "config" / "models.yaml").read_text())["models"]
    entry = next(entry for entry in models if entry["id"] == model_id)
    return resolve_model(entry, REPO)


def predictions(result):
    """What a test step's result holds, flat: the keypoints, and for MMPose 0.x the heatmaps too
    (random weights may leave a bottom-up model with no person found)."""
    if isinstance(result, dict):  # MMPose 0.x
        arrays = [numpy.asarray(preds).reshape(-1) for preds in result["preds"]]
        return numpy.concatenate(arrays + [numpy.asarray(result["output_heatmap"]).reshape(-1)])
    return numpy.concatenate([sample.pred_instances.keypoints.reshape(-1) for sample in result])


def with_heatmaps(backend, model):
    if backend.name == "mmpose0":
        model.forward = functools.partial(model.forward, return_heatmap=True)


def routed_step_matches_the_plain_one(resolved):
    """The network routed through a runner (here eager itself) leaves the test step's answer as it was."""
    backend = get_backend(resolved["backend"])
    model = backend.build_seeded(resolved["model_cfg"])
    with_heatmaps(backend, model)
    with torch.no_grad():
        torch.manual_seed(1)
        plain = predictions(backend.test_step(model, resolved, 1, "cpu")())
        backend.route_network(model, backend.network(backend.build_seeded(resolved["model_cfg"])))
        torch.manual_seed(1)
        routed = predictions(backend.test_step(model, resolved, 1, "cpu")())
    return bool(plain.size) and numpy.array_equal(plain, routed)


def perturb(onnx_file):
    """Shift the largest weight of the exported network: the same graph, a different function."""
    graph = onnx.load(str(onnx_file))
    largest = max(graph.graph.initializer, key=lambda tensor: numpy_helper.to_array(tensor).size)
    shifted = numpy_helper.to_array(largest) + 1.0
    largest.CopyFrom(numpy_helper.from_array(shifted.astype(numpy.float32), largest.name))
    onnx.save(graph, str(onnx_file))


def first_batch(resolved, export_dir, runtime):
    return time_model(resolved, "cpu", [1], POLICY, 1, lambda line: None, runtime, export_dir)["batches"]["1"]


def onnxruntime_cells(resolved, export_dir, runtime="onnxruntime"):
    timing = time_model(resolved, "cpu", [1], POLICY, 1, lambda line: None, runtime, export_dir)
    return dict(timing["batches"]["1"], model_memory_mib=timing["model_memory_mib"],
                runtime_version=timing["runtime_version"])


def deployment_runtimes(resolved, exported, workdir):
    """OpenVINO, OpenCV DNN and OpenVINO INT8 on the export; each on a network it cannot read."""
    findings = {runtime: onnxruntime_cells(resolved, exported, runtime) for runtime in ("openvino", "opencv_dnn")}
    quantized = workdir / "openvino_int8"
    findings["quantization"] = quantize.quantize_model(resolved, exported, quantized)
    findings["openvino_int8"] = onnxruntime_cells(resolved, quantized, "openvino_int8")
    unreadable = workdir / "unreadable"
    unreadable.mkdir()
    (unreadable / export.EXPORT_RECORD).write_bytes((exported / export.EXPORT_RECORD).read_bytes())
    (unreadable / export.ONNX_FILE).write_bytes(b"not a network")
    for runtime in ("openvino", "opencv_dnn"):
        findings["unreadable_" + runtime] = first_batch(resolved, unreadable, runtime)
    return findings


def main():
    model_id, workdir = sys.argv[1], Path(sys.argv[2])
    resolved = resolved_model(model_id)
    findings = {"routed_step_matches": routed_step_matches_the_plain_one(resolved)}
    exported = workdir / "onnx"
    findings["export"] = export.export_model(resolved, exported)
    findings["faithful"] = onnxruntime_cells(resolved, exported)
    findings["eager"] = onnxruntime_cells(resolved, None, "eager")
    if "--deployment" in sys.argv:
        findings.update(deployment_runtimes(resolved, exported, workdir))
    perturb(exported / export.ONNX_FILE)
    findings["perturbed"] = onnxruntime_cells(resolved, exported)
    write_json(exported / export.EXPORT_RECORD, {"status": "failed", "message": "RuntimeError: unsupported op"})
    findings["failed_export"] = first_batch(resolved, exported, "onnxruntime")
    print(json.dumps(findings))


if __name__ == "__main__":
    main()
