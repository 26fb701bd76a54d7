"""Step 3: FPS of one model's test-time step on one device, measured as MMPose 0.x's
.dev_scripts/benchmark/speed_test.py did: random weights, eval(), no_grad, inputs already on the
device, warm-ups, then timed iterations; per-iteration FPS = 1 / seconds, mean and population std.
FPS counts iterations per second whatever the batch size (the seed's footnote 2).

One call is one round: the pipeline measures each (model, device, runtime) in several rounds,
separate processes at separate times, and a machine-speed probe runs before and after each batch
size's iterations.
"""
from __future__ import annotations

import ctypes
import datetime
import importlib
import os
import socket
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

from posebench.backends import get_backend
from posebench.failures import ERROR, ModelFailure, model_stage
from posebench.measure.environment import describe_environment
from posebench.measure.memory import CACHING_ALLOCATOR, SYSTEM_ALLOCATOR, allocator_of, in_use_mib, peak_mib, reset_peak
from posebench.measure.probe import peak_gflops, placement_reader, probe_kernel, probe_state
from posebench.runtimes.names import EAGER


TIMED_REGION = "forward{flip}, outputs to the host, keypoint decoding; pre-processing excluded"
SINGLE_IMAGE_REASON = "the bottom-up test step takes one image at a time"
TEST_STEP = "test step"
NO_BATCH_REASON = "the test step runs one image but fails on a batch of %d (%s)"
# below glibc's largest dynamic mmap threshold (32 MiB on 64 bits), above the probe's 4.7 MB
# output and above most models' blocks at batch 1
SETTLED_HEAP_BYTES = 16 * 2 ** 20
# glibc's mallopt(3) parameters, and the threshold that keeps every block below it in the heap
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEPT_BLOCK_BYTES = 2 ** 30


def fps_summary(seconds: List[float]) -> Dict[str, float]:
    fps = [1.0 / value for value in seconds]
    return {"fps_mean": statistics.fmean(fps), "fps_std": statistics.pstdev(fps)}


def run_iterations(
    step: Callable[[], object],
    synchronize: Callable[[], None],
    policy: Dict[str, float],
    progress: Callable[[str], None] = print,
    clock: Callable[[], float] = time.perf_counter,
    warmed_up: Callable[[], None] = lambda: None,
) -> Dict[str, object]:
    """Warm up, then time iterations of `step` until the seed's count, or until the time budget
    is spent once the minimum count is reached. `warmed_up` runs between the two (the probe).

    The first call is always a warm-up: it carries one-time set-up (oneDNN primitives, cuDNN
    autotuning) and says nothing of the steady state, so no decision rests on it. Warm-ups go on
    to the seed's count, or until the steady-state ones have taken over long_iteration_s; a
    steady-state call that alone takes that long is a long iteration, and is kept as the first
    timed one (the seed's single warm-up for long iterations)."""
    warmups, steady_seconds, warmup_seconds = 0, 0.0, 0.0
    timed: List[float] = []
    while warmups < policy["warmup"]:
        seconds = _timed(step, synchronize, clock)
        if warmups and seconds > policy["long_iteration_s"]:
            timed.append(seconds)
            progress("iteration %d/%d: %.4f s (long: warm-ups end)" % (1, policy["iterations"], seconds))
            break
        warmups += 1
        warmup_seconds += seconds
        progress("warm-up %d: %.4f s" % (warmups, seconds))
        if warmups > 1:
            steady_seconds += seconds
            if steady_seconds > policy["long_iteration_s"]:
                break
    warmed_up()
    while len(timed) < policy["iterations"]:
        if len(timed) >= policy["min_iterations"] and sum(timed) >= policy["budget_s"]:
            break
        timed.append(_timed(step, synchronize, clock))
        progress("iteration %d/%d: %.4f s" % (len(timed), policy["iterations"], timed[-1]))
    return dict(
        fps_summary(timed),
        seconds=timed,
        warmup=warmups,
        warmup_seconds=warmup_seconds,
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


def settle_heap() -> None:
    """Start the process's heap where a long-running one's sits: free one 16 MB block, and glibc
    raises its mmap threshold (and trim threshold) to it. Blocks below that then come from the heap
    for every model from its build on, instead of fresh pages faulted in on every call until the
    process happens to free a larger block. Without it the probe read 130-140 GFLOP/s after the
    warm-ups of HRNet-W32 and LiteHRNet-30 at batch 1, whose blocks are all small, against about
    200 after every other model's (2026-12-01). No torch operation: a warm process's child must
    make its thread pool after the fork."""
    block = bytearray(SETTLED_HEAP_BYTES)
    del block


def keep_freed_memory() -> bool:
    """glibc's malloc keeps what the process frees for its next allocations, as a caching
    allocator does (jemalloc or tcmalloc, which PyTorch's CPU tuning guide recommends; ONNX
    Runtime's and OpenVINO's own arenas): blocks up to 1 GiB come from the heap, and the heap's
    top is not handed back. glibc's defaults map every block over 32 MiB afresh and unmap it when
    freed: ResNet-50's first deconvolution at batch 1, most activations at batch 10, 16,000 to
    211,000 pages faulted in on every call. On a 2-core VM that was a fifth to three quarters of
    a call's time, and it gave each process a speed of its own (ResNet-50 at batch 10: six
    processes' means ±9.9% apart where their probes read ±1.0%; bench/results/round-scatter.md).
    Whether glibc took the settings (not on another C library)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, KEPT_BLOCK_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, KEPT_BLOCK_BYTES))


def prepare_device(device: str, threads: int, allocator: str = CACHING_ALLOCATOR) -> str:
    """The process as every round starts it: its freed memory kept (or its heap settled), its
    threads set, its device there. Returns the allocator it runs with."""
    import torch

    if not (allocator == CACHING_ALLOCATOR and keep_freed_memory()):
        settle_heap()
        allocator = SYSTEM_ALLOCATOR
    torch.set_num_threads(threads)
    if device == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device cuda: torch %s sees no CUDA device on this machine" % torch.__version__)
        torch.backends.cudnn.benchmark = True  # as the seed's 0.x configs set it
    return allocator


def process_started_at() -> Optional[float]:
    """When this process started (seconds since the epoch, to the clock tick), from /proc: its
    start in ticks since boot, against the seconds since boot now (/proc/stat's boot time is
    rounded to the second); None where there is none."""
    try:
        with open("/proc/self/stat") as handle:
            ticks = int(handle.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return time.time() - (uptime - ticks / os.sysconf("SC_CLK_TCK"))


class Phases:
    """Where a round's wall time goes: seconds from one named mark to the next, the first from
    the process's start (interpreter start-up and the script's own imports)."""

    def __init__(self, entered: Optional[float] = None):
        started = process_started_at()
        self.seconds: Dict[str, float] = {}
        self.last = started if started is not None else (entered or time.time())
        self.started_at = datetime.datetime.fromtimestamp(self.last, datetime.timezone.utc).isoformat()
        if entered is not None:
            self.mark("start", entered)

    def mark(self, name: str, at: Optional[float] = None) -> None:
        at = time.time() if at is None else at
        self.seconds[name] = self.seconds.get(name, 0.0) + max(0.0, at - self.last)
        self.last = at


def time_model(
    resolved: Dict[str, object],
    device: str,
    batch_sizes: List[int],
    policy: Dict[str, float],
    threads: int,
    progress: Callable[[str], None] = print,
    runtime: str = EAGER,
    export_dir: Optional[Path] = None,
    round_number: int = 1,
    phases: Optional[Phases] = None,
) -> Dict[str, object]:
    """Time the test step at each batch size (one round); under a runtime other than eager, only
    after the runtime has shown, at that batch size, that it computes what eager computes.
    `phases` records where the round's wall time goes."""
    phases = phases or Phases()
    started = now()
    allocator = prepare_device(device, threads, allocator_of(policy))
    backend = get_backend(resolved["backend"])
    backend.versions()  # imports the libraries: their time is the imports', not the build's
    phases.mark("imports")
    flip = bool((resolved["model_cfg"].get("test_cfg") or {}).get("flip_test", False))
    sizes = [size for size in batch_sizes if batch_applies(resolved, size)]
    try:
        with model_stage("build"):
            model = backend.build_seeded(resolved["model_cfg"]).to(device)
        model_memory = in_use_mib(device)
        phases.mark("build")
        checks = {}
        if runtime != EAGER:
            checks = runtime_module().use_runtime(
                backend, model, resolved, runtime, device, threads, export_dir, sizes, progress
            )
            phases.mark("runtime")
        probe = probe_kernel(device)
        round_trip = placement_reader(policy)
        phases.mark("probe")
        batches = batches_not_taken({
            str(size): time_batch(backend, model, resolved, size, device, policy, progress, checks.get(size), probe,
                                  round_trip)
            for size in batch_sizes
        })
        phases.mark("batches")
    except ModelFailure as failure:
        progress("failed: %s" % failure)
        batches = {str(size): failure.record for size in batch_sizes}
        model_memory = None
        phases.mark("failure")
    peak = peak_gflops(device) if round_number == 1 else None
    phases.mark("peak")
    environment = describe_environment(backend, device, threads)
    phases.mark("environment")
    return {
        "id": resolved["id"],
        "config_hash": resolved["config_hash"],
        "device": device,
        "runtime": runtime,
        "round": round_number,
        "host": socket.gethostname(),
        "started_at": started,
        "ended_at": now(),
        "runtime_version": runtime_version(runtime),
        "threads": threads,
        "allocator": allocator,
        "placement_read": bool(policy.get("read_placement")),
        "policy": dict(policy),
        "flip_test": flip,
        "timed_region": TIMED_REGION.format(flip=" and its flip-test pass" if flip else ""),
        "batches": batches,
        # the device's peak (for runtimes.md) once per measurement, in its first round
        "peak": peak,
        # what the process held once the model was built (resident memory; CUDA: allocated)
        "model_memory_mib": model_memory,
        "environment": environment,
        "process_started_at": phases.started_at,
        "phases": phases.seconds,
    }


def runtime_module():
    """posebench.runtimes.runners, loaded by name for the runtimes beyond eager only: the eager timing
    jobs do not run its code (tolerances, runners), so a change to it does not re-time them."""
    return importlib.import_module("posebench.runtimes.runners")


def runtime_version(runtime: str) -> str:
    if runtime == EAGER:
        import torch

        return "torch " + torch.__version__
    return runtime_module().version(runtime)


def now() -> str:
    """The wall-clock time, in UTC to the microsecond (ISO 8601): when a round ran."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def batches_not_taken(batches: Dict[str, Dict[str, object]]) -> Dict[str, Dict[str, object]]:
    """A test step that ran one image but failed in its test step on a batch (a head that decodes
    one image at a time: DEKR's asserts it, CID's breaks) does not take a batch: that batch size
    does not apply, with the failure as its reason. Out of memory stays a failure."""
    if batches.get("1", {}).get("status") != "measured":
        return batches
    return {
        size: {"status": "not applicable", "reason": NO_BATCH_REASON % (int(size), record["message"])}
        if size != "1" and record.get("kind") == ERROR and str(record.get("stage", "")).startswith(TEST_STEP)
        else record
        for size, record in batches.items()
    }


def batch_applies(resolved, batch_size: int) -> bool:
    return batch_size == 1 or not resolved["single_image_test_step"]


def time_batch(backend, model, resolved, batch_size, device, policy, progress, check=None, probe=None,
               round_trip=None) -> Dict[str, object]:
    """One measurement; a failure of the model at this batch size (out of memory, say) is recorded
    and the next batch size still runs. `check`: the runtime's agreement with eager here.
    `probe`: the machine-speed probe, run just before and just after the iterations, with
    `round_trip` (the CPUs' placement) beside it where the policy reads it."""
    import torch

    if not batch_applies(resolved, batch_size):
        return {"status": "not applicable", "reason": SINGLE_IMAGE_REASON}
    if check and check.get("status") == "failed":
        return check
    progress("batch size %d on %s" % (batch_size, device))
    try:
        with model_stage(TEST_STEP + " at batch size %d" % batch_size), torch.no_grad():
            step = backend.test_step(model, resolved, batch_size, device)
            before, memory = {}, {}

            def warmed_up():
                # the probe runs once the model is warm, right before and right after the timed
                # iterations; the memory's high-water mark starts again after the probe's
                if probe:
                    before.update(probe_state(probe, round_trip))
                memory["reset"] = reset_peak(device)

            measured = run_iterations(step, device_synchronizer(device), policy, progress, warmed_up=warmed_up)
            peak_memory = peak_mib(device, memory.get("reset", False))
            after = probe_state(probe, round_trip) if probe else {}
            probe_seconds = before.get("probe_seconds", 0.0) + after.get("probe_seconds", 0.0)
    except ModelFailure as failure:
        progress("failed: %s" % failure)
        if device == "cuda":
            torch.cuda.empty_cache()
        return failure.record
    progress("batch size %d: %.2f ± %.2f FPS" % (batch_size, measured["fps_mean"], measured["fps_std"]))
    measured["probe_seconds"] = probe_seconds
    # the peak memory of the timed iterations: resident memory on the CPU, allocated on CUDA
    measured["peak_memory_mib"] = peak_memory
    if probe:
        measured["probe_before"], measured["probe_after"] = before, after
        progress("probe: %.1f GFLOP/s before, %.1f after; load %s"
                 % (before["probe_gflops_per_s"], after["probe_gflops_per_s"], after.get("load1")))
    if check:
        measured["agreement"] = check
    return dict(measured, status="measured")
