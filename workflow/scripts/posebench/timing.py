"""Step 3: FPS of one model's test-time step on one device, measured as MMPose 0.x's
.dev_scripts/benchmark/speed_test.py did: random weights, eval(), no_grad, inputs already on the
device, warm-ups, then timed iterations; per-iteration FPS = 1 / seconds, mean and population std.
FPS counts iterations per second whatever the batch size (the seed's footnote 2).
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

from . import runtimes
from .backends import get_backend
from .environment import describe_environment
from .failures import ModelFailure, model_stage
from .records import read_json

TIMED_REGION = "forward{flip}, outputs to the host, keypoint decoding; pre-processing excluded"
SINGLE_IMAGE_REASON = "the bottom-up test step takes one image at a time"


def fps_summary(seconds: List[float]) -> Dict[str, float]:
    fps = [1.0 / value for value in seconds]
    return {"fps_mean": statistics.fmean(fps), "fps_std": statistics.pstdev(fps)}


def run_iterations(
    step: Callable[[], object],
    synchronize: Callable[[], None],
    policy: Dict[str, float],
    progress: Callable[[str], None] = print,
    clock: Callable[[], float] = time.perf_counter,
) -> Dict[str, object]:
    """Warm up, then time iterations of `step` until the seed's count, or until the time budget
    is spent once the minimum count is reached. One warm-up only when an iteration is long."""
    warmups = 0
    while warmups < policy["warmup"]:
        seconds = _timed(step, synchronize, clock)
        warmups += 1
        progress("warm-up %d: %.4f s" % (warmups, seconds))
        if seconds > policy["long_iteration_s"]:
            break
    timed: List[float] = []
    while len(timed) < policy["iterations"]:
        if len(timed) >= policy["min_iterations"] and sum(timed) >= policy["budget_s"]:
            break
        timed.append(_timed(step, synchronize, clock))
        progress("iteration %d/%d: %.4f s" % (len(timed), policy["iterations"], timed[-1]))
    return dict(
        fps_summary(timed),
        seconds=timed,
        warmup=warmups,
        iterations=len(timed),
        capped=len(timed) < policy["iterations"],
    )


def _timed(step: Callable[[], object], synchronize: Callable[[], None], clock: Callable[[], float]) -> float:
    synchronize()
    start = clock()
    step()
    synchronize()
    return clock() - start


def device_synchronizer(device: str) -> Callable[[], None]:
    import torch

    if device == "cuda":
        return torch.cuda.synchronize
    return lambda: None


def prepare_device(device: str, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    if device == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device cuda: torch %s sees no CUDA device on this machine" % torch.__version__)
        torch.backends.cudnn.benchmark = True  # as the seed's 0.x configs set it


def time_model(
    resolved: Dict[str, object],
    device: str,
    batch_sizes: List[int],
    policy: Dict[str, float],
    threads: int,
    progress: Callable[[str], None] = print,
    runtime: str = runtimes.EAGER,
    export_dir: Optional[Path] = None,
) -> Dict[str, object]:
    """Time the test step at each batch size; under a runtime other than eager, only after the
    runtime has shown, at that batch size, that it computes what eager computes."""
    prepare_device(device, threads)
    backend = get_backend(resolved["backend"])
    flip = bool((resolved["model_cfg"].get("test_cfg") or {}).get("flip_test", False))
    sizes = [size for size in batch_sizes if batch_applies(resolved, size)]
    try:
        with model_stage("build"):
            model = runtimes.build_seeded(backend, resolved["model_cfg"]).to(device)
        checks = {}
        if runtime != runtimes.EAGER:
            checks = use_runtime(backend, model, resolved, runtime, device, threads, export_dir, sizes, progress)
        batches = {
            str(size): time_batch(backend, model, resolved, size, device, policy, progress, checks.get(size))
            for size in batch_sizes
        }
    except ModelFailure as failure:
        progress("failed: %s" % failure)
        batches = {str(size): failure.record for size in batch_sizes}
    return {
        "id": resolved["id"],
        "config_hash": resolved["config_hash"],
        "device": device,
        "runtime": runtime,
        "runtime_version": runtimes.runtime_version(runtime),
        "threads": threads,
        "policy": dict(policy),
        "flip_test": flip,
        "timed_region": TIMED_REGION.format(flip=" and its flip-test pass" if flip else ""),
        "batches": batches,
        "peak": runtimes.peak_gflops(device),
        "environment": describe_environment(backend, device, threads),
    }


def batch_applies(resolved, batch_size: int) -> bool:
    return batch_size == 1 or not resolved["single_image_test_step"]


def use_runtime(backend, model, resolved, runtime, device, threads, export_dir, sizes, progress) -> Dict[int, Dict]:
    """Put the runtime in the model's test step; per batch size, how its outputs on one random
    batch compare with eager's (or why it cannot run there)."""
    import torch

    network = backend.network(model)
    generator = torch.Generator().manual_seed(0)
    height, width = resolved["input_size"]
    inputs = {size: torch.randn(size, 3, height, width, generator=generator).to(device) for size in sizes}
    with torch.no_grad(), model_stage("eager reference outputs"):
        references = {size: runtimes.flat_outputs(network(batch)) for size, batch in inputs.items()}
    structure = references[sizes[0]][1]
    runner = runtimes.make_runner(runtime, network, device, threads, onnx_file(export_dir), structure)
    checks = {}
    for size, batch in inputs.items():
        try:
            with torch.no_grad(), model_stage("%s at batch size %d" % (runtime, size)):
                candidate = runtimes.flat_outputs(runner(batch))[0]
            checks[size] = runtimes.check_agreement(runtime, references[size][0], candidate)
            progress("%s agrees with eager at batch size %d: %.2g" % (runtime, size, checks[size]["max_relative_difference"]))
        except ModelFailure as failure:
            progress("%s at batch size %d: %s" % (runtime, size, failure))
            checks[size] = failure.record
    backend.route_network(model, runner)
    return checks


def onnx_file(export_dir: Optional[Path]) -> Optional[Path]:
    """The exported network, or a RuntimeFailure saying why the export did not give one."""
    if export_dir is None:
        return None
    export = read_json(Path(export_dir) / runtimes.EXPORT_RECORD)
    if export["status"] != "exported":
        raise runtimes.RuntimeFailure(runtimes.EXPORT_FAILED, export["message"])
    return Path(export_dir) / runtimes.ONNX_FILE


def time_batch(backend, model, resolved, batch_size, device, policy, progress, check=None) -> Dict[str, object]:
    """One measurement; a failure of the model at this batch size (out of memory, say) is recorded
    and the next batch size still runs. `check`: the runtime's agreement with eager here."""
    import torch

    if not batch_applies(resolved, batch_size):
        return {"status": "not applicable", "reason": SINGLE_IMAGE_REASON}
    if check and check.get("status") == "failed":
        return check
    progress("batch size %d on %s" % (batch_size, device))
    try:
        with model_stage("test step at batch size %d" % batch_size), torch.no_grad():
            step = backend.test_step(model, resolved, batch_size, device)
            measured = run_iterations(step, device_synchronizer(device), policy, progress)
    except ModelFailure as failure:
        progress("failed: %s" % failure)
        if device == "cuda":
            torch.cuda.empty_cache()
        return failure.record
    progress("batch size %d: %.2f ± %.2f FPS" % (batch_size, measured["fps_mean"], measured["fps_std"]))
    if check:
        measured["agreement"] = check
    return dict(measured, status="measured")
