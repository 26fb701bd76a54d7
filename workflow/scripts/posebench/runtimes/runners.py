"""Runtimes beyond eager PyTorch: the model's network (backbone, neck, head) run under
channels-last memory format, torch.compile, or from its ONNX export in ONNX Runtime, OpenVINO
or OpenCV's DNN module, or quantized to INT8 by NNCF for OpenVINO; everything around it (flip
test, decoding) left to eager PyTorch. Each runtime must compute the same function as eager
before it is timed: its outputs on one random batch are compared with eager's. INT8 cannot: its
difference is recorded and never checked (speed only).

The timing step loads this module only for these runtimes, so its tolerances are code of the
non-eager timing jobs alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from posebench.failures import ModelFailure, model_stage
from posebench.records import read_json
from posebench.runtimes.export import EXPORT_RECORD, ONNX_FILE, flat_outputs
from posebench.runtimes.names import ONNXRUNTIME, SPEED_ONLY
from posebench.runtimes.quantize import INT8_FILE, QUANTIZATION_FAILED, QUANTIZATION_RECORD, QUANTIZED

# the largest |runtime - eager| over an output, relative to that output's largest |eager| value:
# float32 kernels that reorder sums land near 1e-6; a wrong graph lands near 1
TOLERANCE = {"channels_last": 1e-4, "compile": 1e-3, "onnxruntime": 1e-3, "openvino": 1e-3, "opencv_dnn": 1e-3}
# how OpenCV's DNN module runs the network: its own backend on the CPU
OPENCV_BACKEND_TARGET = "DNN_BACKEND_OPENCV, DNN_TARGET_CPU"
EXPORT_FAILED = "export failed"
MISMATCH = "mismatch"
UNAVAILABLE = "unavailable"


class RuntimeFailure(ModelFailure):
    """A runtime that cannot run the network, or runs a different function: a cell, not a crash."""

    def __init__(self, kind: str, message: str):
        Exception.__init__(self, "%s: %s" % (kind, message))
        self.record = {"status": "failed", "stage": "runtime", "kind": kind, "message": message}


def relative_difference(reference: List[Any], candidate: List[Any]) -> float:
    """The largest |candidate - reference| of any output, over that output's largest |reference|."""
    if len(reference) != len(candidate):
        return float("inf")
    worst = 0.0
    for expected, got in zip(reference, candidate):
        if tuple(expected.shape) != tuple(got.shape):
            return float("inf")
        scale = float(expected.abs().max()) or 1.0
        worst = max(worst, float((got.float() - expected.float()).abs().max()) / scale)
    return worst


def check_agreement(runtime: str, reference: List[Any], candidate: List[Any]) -> Dict[str, object]:
    difference = relative_difference(reference, candidate)
    if runtime in SPEED_ONLY:  # quantized: it cannot match eager to a float32 tolerance
        return {"max_relative_difference": difference, "tolerance": None, "accuracy": SPEED_ONLY[runtime]}
    agreement = {"max_relative_difference": difference, "tolerance": TOLERANCE[runtime]}
    if not difference <= TOLERANCE[runtime]:
        raise RuntimeFailure(
            MISMATCH, "outputs differ from eager by %.3g of their range (tolerance %g)" % (difference, TOLERANCE[runtime])
        )
    return agreement


def make_runner(runtime: str, network, device: str, threads: int, onnx_path: Path) -> Callable[[Any, Any], Any]:
    """(input batch, how eager nests the outputs) -> the network's outputs, computed in `runtime`
    (ONNX Runtime returns a flat list, nested again as eager nests it)."""
    if runtime == "channels_last":
        return _channels_last_runner(network)
    if runtime == "compile":
        import torch

        if not hasattr(torch, "compile"):
            raise RuntimeFailure(UNAVAILABLE, "torch %s has no torch.compile (2.0 and later)" % torch.__version__)
        compiled = torch.compile(network)
        return lambda inputs, structure: compiled(inputs)
    if runtime == ONNXRUNTIME:
        return _onnxruntime_runner(onnx_path, device, threads)
    if runtime in ("openvino", "openvino_int8"):
        return _openvino_runner(onnx_path, device, threads)
    if runtime == "opencv_dnn":
        return _opencv_runner(onnx_path, device, threads)
    return lambda inputs, structure: network(inputs)


def nested(arrays: List[Any], like: Any, structure: Any) -> Any:
    """A runtime's flat output arrays as eager nests its tensors, on the input's device."""
    import torch
    from torch.utils import _pytree

    return _pytree.tree_unflatten([torch.from_numpy(array).to(like.device) for array in arrays], structure)


def _openvino_runner(model_path: Path, device: str, threads: int) -> Callable[[Any, Any], Any]:
    """OpenVINO's CPU plugin on the ONNX export (or its INT8 model), on `threads` threads, in
    float32 where the network is not quantized (a CPU with AMX would otherwise run bfloat16)."""
    if device != "cpu":
        raise RuntimeFailure(UNAVAILABLE, "OpenVINO runs here on the CPU only")
    import numpy

    compiled = openvino_compiled(model_path, threads)
    request = compiled.create_infer_request()
    count = len(compiled.outputs)

    def run(inputs, structure):
        request.infer([inputs.cpu().numpy()])
        arrays = [numpy.array(request.get_output_tensor(index).data) for index in range(count)]
        return nested(arrays, inputs, structure)

    return run


def openvino_compiled(model_path: Path, threads: int, **config: Any):
    """The model compiled by OpenVINO's CPU plugin on `threads` threads, in float32 where it is not
    quantized; `config`: more of the plugin's settings."""
    import openvino

    core = openvino.Core()
    config = dict(config, INFERENCE_NUM_THREADS=threads, INFERENCE_PRECISION_HINT="f32")
    return core.compile_model(core.read_model(str(model_path)), "CPU", config)


def onnxruntime_session(onnx_path: Path, device: str, threads: int):
    """An ONNX Runtime session on `threads` intra-op threads, on the device's provider."""
    import onnxruntime

    provider = "CUDAExecutionProvider" if device == "cuda" else "CPUExecutionProvider"
    if provider not in onnxruntime.get_available_providers():
        raise RuntimeFailure(UNAVAILABLE, "onnxruntime %s has no %s" % (onnxruntime.__version__, provider))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(onnx_path), options, providers=[provider])


def _opencv_runner(onnx_path: Path, device: str, threads: int) -> Callable[[Any, Any], Any]:
    """cv2.dnn.readNetFromONNX on the export, OpenCV's own backend on the CPU."""
    if device != "cpu":
        raise RuntimeFailure(UNAVAILABLE, "OpenCV's DNN module runs here on the CPU only")
    import cv2
    import onnx

    cv2.setNumThreads(threads)
    net = cv2.dnn.readNetFromONNX(str(onnx_path))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    names = [output.name for output in onnx.load(str(onnx_path), load_external_data=False).graph.output]

    def run(inputs, structure):
        net.setInput(inputs.cpu().numpy())
        return nested(list(net.forward(names)), inputs, structure)

    return run


def _channels_last_runner(network) -> Callable[[Any, Any], Any]:
    import torch

    network.to(memory_format=torch.channels_last)
    return lambda inputs, structure: network(inputs.contiguous(memory_format=torch.channels_last))


def _onnxruntime_runner(onnx_path: Path, device: str, threads: int) -> Callable[[Any, Any], Any]:
    session = onnxruntime_session(onnx_path, device, threads)

    def run(inputs, structure):
        return nested(session.run(None, {"input": inputs.cpu().numpy()}), inputs, structure)

    return run


def version(runtime: str) -> str:
    """What ran the network: ONNX Runtime's, OpenVINO's (and NNCF's), OpenCV's (with its
    backend and target) or torch's version."""
    if runtime == ONNXRUNTIME:
        import onnxruntime

        return "onnxruntime " + onnxruntime.__version__
    if runtime in ("openvino", "openvino_int8"):
        import openvino

        text = "openvino " + openvino.__version__
        if runtime == "openvino_int8":
            import nncf

            text += ", nncf %s (INT8)" % nncf.__version__
        return text
    if runtime == "opencv_dnn":
        import cv2

        return "opencv %s (%s)" % (cv2.__version__, OPENCV_BACKEND_TARGET)
    import torch

    return "torch " + torch.__version__


def exported_network(export_dir: Optional[Path]) -> Optional[Path]:
    """The network a runtime reads (the ONNX export, or the INT8 model quantized from it), or a
    RuntimeFailure saying why there is none."""
    if export_dir is None:
        return None
    folder = Path(export_dir)
    if (folder / QUANTIZATION_RECORD).exists():
        quantization = read_json(folder / QUANTIZATION_RECORD)
        if quantization["status"] != QUANTIZED:
            raise RuntimeFailure(QUANTIZATION_FAILED, quantization["message"])
        return folder / INT8_FILE
    export = read_json(folder / EXPORT_RECORD)
    if export["status"] != "exported":
        raise RuntimeFailure(EXPORT_FAILED, export["message"])
    return folder / ONNX_FILE


def use_runtime(backend, model, resolved, runtime, device, threads, export_dir, sizes, progress) -> Dict[int, Dict]:
    """Put the runtime in the model's test step; per batch size, how its outputs on one random
    batch compare with eager's (or why it cannot run there)."""
    import torch

    network = backend.network(model)
    # the runtime first: one that cannot load the network (an operator it lacks, as mmcv's
    # deformable convolution in ONNX Runtime) is the model's finding, like a failed export, and is
    # found before the eager references (a bottom-up network's batch of 10 takes minutes on a CPU)
    exported = exported_network(export_dir)
    with model_stage("%s session" % runtime):
        runner = make_runner(runtime, network, device, threads, exported)
    generator = torch.Generator().manual_seed(0)
    height, width = resolved["input_size"]
    inputs = {size: torch.randn(size, 3, height, width, generator=generator).to(device) for size in sizes}
    checks, references = {}, {}
    for size, batch in inputs.items():
        try:  # a network that fails on a batch (CID's head samples features per image) fails there alone
            with torch.no_grad(), model_stage("test step's network at batch size %d (eager reference)" % size):
                references[size] = flat_outputs(network(batch))
        except ModelFailure as failure:
            checks[size] = failure.record
    if not references:
        raise ModelFailure("eager reference outputs", RuntimeError("the network ran at no batch size"))
    structure = next(iter(references.values()))[1]
    for size, batch in inputs.items():
        if size not in references:
            continue
        try:
            with torch.no_grad(), model_stage("%s at batch size %d" % (runtime, size)):
                candidate = flat_outputs(runner(batch, structure))[0]
            checks[size] = check_agreement(runtime, references[size][0], candidate)
            verdict = "differs from eager (not checked: %s)" % runtime if runtime in SPEED_ONLY else "agrees with eager"
            progress("%s %s at batch size %d: %.2g" % (runtime, verdict, size, checks[size]["max_relative_difference"]))
        except ModelFailure as failure:
            progress("%s at batch size %d: %s" % (runtime, size, failure))
            checks[size] = failure.record
    backend.route_network(model, lambda batch: runner(batch, structure))
    return checks
