"""Runtimes beyond eager PyTorch: the model's network (backbone, neck, head) run under
channels-last memory format, torch.compile or ONNX Runtime, everything around it (flip test,
decoding) left to eager PyTorch. Each runtime must compute the same function as eager before it
is timed: its outputs on one random batch are compared with eager's.

The timing step loads this module only for these runtimes, so its tolerances are code of the
non-eager timing jobs alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from .failures import ModelFailure, model_stage
from .onnx_export import EXPORT_RECORD, ONNX_FILE, flat_outputs
from .records import read_json

# the largest |runtime - eager| over an output, relative to that output's largest |eager| value:
# float32 kernels that reorder sums land near 1e-6; a wrong graph lands near 1
TOLERANCE = {"channels_last": 1e-4, "compile": 1e-3, "onnxruntime": 1e-3}
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


def check_agreement(runtime: str, reference: List[Any], candidate: List[Any]) -> Dict[str, float]:
    difference = relative_difference(reference, candidate)
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
    if runtime == "onnxruntime":
        return _onnxruntime_runner(onnx_path, device, threads)
    return lambda inputs, structure: network(inputs)


def _channels_last_runner(network) -> Callable[[Any, Any], Any]:
    import torch

    network.to(memory_format=torch.channels_last)
    return lambda inputs, structure: network(inputs.contiguous(memory_format=torch.channels_last))


def _onnxruntime_runner(onnx_path: Path, device: str, threads: int) -> Callable[[Any, Any], Any]:
    import onnxruntime
    import torch
    from torch.utils import _pytree

    provider = "CUDAExecutionProvider" if device == "cuda" else "CPUExecutionProvider"
    if provider not in onnxruntime.get_available_providers():
        raise RuntimeFailure(UNAVAILABLE, "onnxruntime %s has no %s" % (onnxruntime.__version__, provider))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(onnx_path), options, providers=[provider])

    def run(inputs, structure):
        arrays = session.run(None, {"input": inputs.cpu().numpy()})
        return _pytree.tree_unflatten([torch.from_numpy(array).to(inputs.device) for array in arrays], structure)

    return run


def version(runtime: str) -> str:
    """What ran the network: ONNX Runtime's version, or torch's."""
    if runtime == "onnxruntime":
        import onnxruntime

        return "onnxruntime " + onnxruntime.__version__
    import torch

    return "torch " + torch.__version__


def onnx_file(export_dir: Optional[Path]) -> Optional[Path]:
    """The exported network, or a RuntimeFailure saying why the export did not give one."""
    if export_dir is None:
        return None
    export = read_json(Path(export_dir) / EXPORT_RECORD)
    if export["status"] != "exported":
        raise RuntimeFailure(EXPORT_FAILED, export["message"])
    return Path(export_dir) / ONNX_FILE


def use_runtime(backend, model, resolved, runtime, device, threads, export_dir, sizes, progress) -> Dict[int, Dict]:
    """Put the runtime in the model's test step; per batch size, how its outputs on one random
    batch compare with eager's (or why it cannot run there)."""
    import torch

    network = backend.network(model)
    # the runtime first: one that cannot load the network (an operator it lacks, as mmcv's
    # deformable convolution in ONNX Runtime) is the model's finding, like a failed export, and is
    # found before the eager references (a bottom-up network's batch of 10 takes minutes on a CPU)
    exported = onnx_file(export_dir)
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
            progress("%s agrees with eager at batch size %d: %.2g" % (runtime, size, checks[size]["max_relative_difference"]))
        except ModelFailure as failure:
            progress("%s at batch size %d: %s" % (runtime, size, failure))
            checks[size] = failure.record
    backend.route_network(model, lambda batch: runner(batch, structure))
    return checks
