"""Runtimes beyond eager PyTorch: the model's network (backbone, neck, head) run under
channels-last memory format, torch.compile or ONNX Runtime, everything around it (flip test,
decoding) left to eager PyTorch. Each runtime must compute the same function as eager before it
is timed: its outputs on one random batch are compared with eager's.
"""
from __future__ import annotations

import inspect
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

from .backends import get_backend
from .failures import ModelFailure, model_stage
from .records import write_json

EAGER = "eager"
RUNTIMES = (EAGER, "channels_last", "compile", "onnxruntime")
# the largest |runtime - eager| over an output, relative to that output's largest |eager| value:
# float32 kernels that reorder sums land near 1e-6; a wrong graph lands near 1
TOLERANCE = {"channels_last": 1e-4, "compile": 1e-3, "onnxruntime": 1e-3}
EXPORT_FAILED = "export failed"
MISMATCH = "mismatch"
UNAVAILABLE = "unavailable"
ONNX_FILE = "model.onnx"
EXPORT_RECORD = "export.json"
ONNX_OPSET = 17
PEAK_MATRIX_SIZE = {"cpu": 2048, "cuda": 8192}


class RuntimeFailure(ModelFailure):
    """A runtime that cannot run the network, or runs a different function: a cell, not a crash."""

    def __init__(self, kind: str, message: str):
        Exception.__init__(self, "%s: %s" % (kind, message))
        self.record = {"status": "failed", "stage": "runtime", "kind": kind, "message": message}


def flat_outputs(outputs: Any) -> Tuple[List[Any], Any]:
    """The network's tensors in a flat list, and the structure to put them back into."""
    from torch.utils import _pytree

    return _pytree.tree_flatten(outputs)


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


def check_agreement(runtime: str, reference: List[Any], candidate: List[Any]) -> Dict[str, float]:
    difference = relative_difference(reference, candidate)
    agreement = {"max_relative_difference": difference, "tolerance": TOLERANCE[runtime]}
    if not difference <= TOLERANCE[runtime]:
        raise RuntimeFailure(
            MISMATCH, "outputs differ from eager by %.3g of their range (tolerance %g)" % (difference, TOLERANCE[runtime])
        )
    return agreement


def export_onnx(network, input_shape: List[int], path: Path) -> Dict[str, Any]:
    """Export the network with a free batch size; returns what the export record holds."""
    import torch

    example = torch.randn(*input_shape)
    with torch.no_grad():
        count = len(flat_outputs(network(example))[0])
    outputs = ["output%d" % index for index in range(count)]
    options = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        options["dynamo"] = False  # the TorchScript exporter: torch 2.9+ defaults to the dynamo one
    start = time.perf_counter()
    torch.onnx.export(
        network, (example,), str(path), opset_version=ONNX_OPSET, input_names=["input"], output_names=outputs,
        dynamic_axes={name: {0: "batch"} for name in ["input"] + outputs}, **options
    )
    return {"opset": ONNX_OPSET, "outputs": count, "seconds": time.perf_counter() - start, "torch": torch.__version__}


def export_model(resolved: Dict[str, Any], output_dir: Path) -> Dict[str, Any]:
    """Export one resolved model's network to output_dir/model.onnx, with output_dir/export.json
    saying how it went. A model that does not export gets a record, not a crash. The folder
    appears whole or not at all."""
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=str(output_dir.parent), prefix="." + output_dir.name + "."))
    try:
        record = {"id": resolved["id"], "config_hash": resolved["config_hash"]}
        backend = get_backend(resolved["backend"])
        height, width = resolved["input_size"]
        try:
            with model_stage("ONNX export"):
                network = backend.network(build_seeded(backend, resolved["model_cfg"]))
                record.update(export_onnx(network, [1, 3, height, width], staging / ONNX_FILE), status="exported")
        except ModelFailure as failure:
            record.update(status="failed", message=failure.record["message"])
        write_json(staging / EXPORT_RECORD, record)
        shutil.rmtree(str(output_dir), ignore_errors=True)
        staging.rename(output_dir)
    finally:
        shutil.rmtree(str(staging), ignore_errors=True)
    return record


def build_seeded(backend, model_cfg: Dict[str, Any]):
    """The model with the same random weights in every job: the exported network and the one
    timed beside it must be the same function."""
    import random

    import numpy
    import torch

    random.seed(0)
    numpy.random.seed(0)
    torch.manual_seed(0)
    return backend.build_model(model_cfg)


def make_runner(
    runtime: str, network, device: str, threads: int, onnx_path: Path, structure: Any
) -> Callable[[Any], Any]:
    """input batch -> the network's outputs, computed in `runtime`; `structure` is how eager
    nests them (ONNX Runtime returns a flat list)."""
    if runtime == "channels_last":
        return _channels_last_runner(network)
    if runtime == "compile":
        import torch

        if not hasattr(torch, "compile"):
            raise RuntimeFailure(UNAVAILABLE, "torch %s has no torch.compile (2.0 and later)" % torch.__version__)
        return torch.compile(network)
    if runtime == "onnxruntime":
        return _onnxruntime_runner(onnx_path, device, threads, structure)
    return network


def _channels_last_runner(network) -> Callable[[Any], Any]:
    import torch

    network.to(memory_format=torch.channels_last)
    return lambda inputs: network(inputs.contiguous(memory_format=torch.channels_last))


def _onnxruntime_runner(onnx_path: Path, device: str, threads: int, structure: Any) -> Callable[[Any], Any]:
    import onnxruntime
    import torch
    from torch.utils import _pytree

    provider = "CUDAExecutionProvider" if device == "cuda" else "CPUExecutionProvider"
    if provider not in onnxruntime.get_available_providers():
        raise RuntimeFailure(UNAVAILABLE, "onnxruntime %s has no %s" % (onnxruntime.__version__, provider))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(onnx_path), options, providers=[provider])

    def run(inputs):
        arrays = session.run(None, {"input": inputs.cpu().numpy()})
        return _pytree.tree_unflatten([torch.from_numpy(array).to(inputs.device) for array in arrays], structure)

    return run


def runtime_version(runtime: str) -> str:
    """What ran the network: torch's version, or ONNX Runtime's."""
    if runtime == "onnxruntime":
        import onnxruntime

        return "onnxruntime " + onnxruntime.__version__
    import torch

    return "torch " + torch.__version__


def peak_gflops(device: str, repeats: int = 5) -> Dict[str, float]:
    """The device's float32 throughput, the better of two dense kernels: a large matrix product
    (BLAS) and a large 3x3 convolution (the library the networks' convolutions run on; on some
    CPUs it is the faster, MKL's sgemm on AMD for one)."""
    import torch

    size = PEAK_MATRIX_SIZE[device]
    left, right = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    channels, side = 256, 64
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False).to(device).eval()
    images = torch.randn(4, channels, side, side, device=device)
    with torch.no_grad():
        matmul = 2 * size ** 3 / _best_seconds(lambda: torch.mm(left, right), device, repeats) / 1e9
        convolution = 2 * 4 * channels ** 2 * 9 * side ** 2 / _best_seconds(lambda: conv(images), device, repeats) / 1e9
    return {"gflops_per_s": max(matmul, convolution), "matmul_gflops_per_s": matmul,
            "conv3x3_gflops_per_s": convolution, "matrix_size": size}


def _best_seconds(kernel: Callable[[], Any], device: str, repeats: int) -> float:
    import torch

    synchronize = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    best = float("inf")
    for _ in range(repeats + 1):  # the first call warms up
        synchronize()
        start = time.perf_counter()
        kernel()
        synchronize()
        best = min(best, time.perf_counter() - start)
    return best
