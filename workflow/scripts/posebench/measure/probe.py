"""The machine's speed and load while a measurement runs: a short fixed kernel (a 3x3
convolution, well under a second) timed right before and right after each batch size's timed
iterations (after the model's warm-ups: a cold process reads slow), and the load average with
the count of runnable processes; where the host has put the first two CPUs
(posebench/measure/placement.py) only where the policy asks (timing.read_placement). On a shared
machine a slow spell shows up here as it does in the model's FPS, so a measurement can be flagged
or scaled by it."""
from __future__ import annotations

import importlib
import statistics
import time
from typing import Any, Callable, Dict, Mapping, Optional

# 2 x 4 x 128 x 128 x 9 x 48 x 48 = 2.7 GFLOP a call: about 6 ms at 450 GFLOP/s
PROBE_SHAPE = {"batch": 4, "channels": 128, "side": 48}
PROBE_REPEATS = 9
# calls at construction: a fresh process's first convolutions run slow (oneDNN primitive
# creation, first-touch memory), which would read as the machine slowing down
PROBE_WARMUP = 3
PEAK_MATRIX_SIZE = {"cpu": 2048, "cuda": 8192}
PLACEMENT = "posebench.measure.placement"
RoundTrip = Callable[[], Optional[float]]


def probe_kernel(device: str) -> Callable[[], float]:
    """Build the probe once; each call times it and returns its GFLOP/s (median of the repeats)."""
    import torch

    batch, channels, side = PROBE_SHAPE["batch"], PROBE_SHAPE["channels"], PROBE_SHAPE["side"]
    generator = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False).to(device).eval()
    images = torch.randn(batch, channels, side, side, generator=generator).to(device)
    flops = 2.0 * batch * channels ** 2 * 9 * side ** 2
    synchronize = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run_once() -> float:
        synchronize()
        start = time.perf_counter()
        conv(images)
        synchronize()
        return time.perf_counter() - start

    def probe() -> float:
        with torch.no_grad():
            run_once()  # the first call after other work warms caches up
            seconds = [run_once() for _ in range(PROBE_REPEATS)]
        return flops / statistics.median(seconds) / 1e9

    with torch.no_grad():
        for _ in range(PROBE_WARMUP):
            run_once()
    return probe


def machine_load() -> Dict[str, float]:
    """The 1-minute load average and the processes runnable now (this one included), from
    /proc/loadavg; empty where there is none."""
    try:
        with open("/proc/loadavg") as handle:
            fields = handle.read().split()
    except OSError:
        return {}
    return {"load1": float(fields[0]), "runnable": int(fields[3].split("/")[0])}


def placement_reader(policy: Mapping[str, object]) -> Optional[RoundTrip]:
    """The reading of where the host put the first two CPUs, where the round's policy asks for it
    (timing.read_placement; off by default: a diagnostic of a VM, docs/method.md). Loaded by
    name, so that its code is an input of the timing jobs only where they read it."""
    if not policy.get("read_placement"):
        return None
    return importlib.import_module(PLACEMENT).core_round_trip_ns


def probe_state(probe: Callable[[], float], round_trip: Optional[RoundTrip] = None) -> Dict[str, float]:
    """The probe's GFLOP/s and the load, with the first two CPUs' round trip where `round_trip`
    reads it (and there are two), as one snapshot, with the wall time they took."""
    start = time.perf_counter()
    gflops = probe()
    state = dict(machine_load(), probe_gflops_per_s=gflops)
    reading = round_trip() if round_trip else None
    if reading is not None:
        state["round_trip_ns"] = reading
    return dict(state, probe_seconds=time.perf_counter() - start)


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
