"""The measurement loop, with a fake clock: policy, FPS arithmetic, device synchronisation."""
import re
import statistics
import subprocess

import pytest
from conftest import REPO
from posebench.failures import failure_record
from posebench.measure.timing import batches_not_taken, fps_summary, run_iterations

POLICY = {"iterations": 50, "warmup": 5, "min_iterations": 3, "budget_s": 20.0, "long_iteration_s": 2.0}


class FakeDevice:
    """A step whose iterations take the given seconds on a fake clock, logging every call."""

    def __init__(self, durations):
        self.durations = list(durations)
        self.now = 0.0
        self.calls = []

    def clock(self):
        return self.now

    def step(self):
        self.calls.append("step")
        self.now += self.durations.pop(0)

    def synchronize(self):
        self.calls.append("sync")


def measure(durations, **policy):
    device = FakeDevice(durations)
    result = run_iterations(device.step, device.synchronize, dict(POLICY, **policy), lambda line: None, device.clock,
                            warmed_up=lambda: device.calls.append("probe"))
    return result, device


def test_fps_is_the_mean_and_population_std_of_per_iteration_fps():
    summary = fps_summary([0.5, 0.25, 0.25, 0.125])
    assert summary["fps_mean"] == pytest.approx((2 + 4 + 4 + 8) / 4)
    assert summary["fps_std"] == pytest.approx(statistics.pstdev([2, 4, 4, 8]))
    assert summary["fps_std"] == pytest.approx(4.75 ** 0.5)  # mean 4.5, squared deviations 19 / 4


def test_a_fast_model_gets_the_seeds_five_warmups_and_fifty_iterations():
    result, _ = measure([0.1] * 55)
    assert (result["warmup"], result["iterations"], result["capped"]) == (5, 50, False)
    assert result["seconds"] == pytest.approx([0.1] * 50)
    assert result["fps_mean"] == pytest.approx(10.0) and result["fps_std"] == pytest.approx(0.0)


def test_the_budget_cuts_a_slow_model_short_and_says_so():
    result, _ = measure([1.5] * 5 + [1.5] * 50)
    # warm-ups stop after two steady ones (3 s > 2 s in all); 14 iterations reach 21 s >= the 20 s budget
    assert (result["warmup"], result["iterations"], result["capped"]) == (3, 14, True)


def test_a_long_iteration_gets_one_warmup_judged_on_a_steady_state_call():
    result, device = measure([30.0] * 10)
    # the second call, steady and long, ends the warm-ups and is the first timed iteration
    assert (result["warmup"], result["iterations"], result["capped"]) == (1, 3, True)
    assert len(device.durations) == 6  # nothing ran beyond what was recorded
    assert result["warmup_seconds"] == 30.0  # the kept call counts as timed, not as a warm-up


def test_a_slow_first_call_alone_does_not_cut_the_warmups():
    """The first call carries one-time set-up (oneDNN primitives, cuDNN autotuning): a model that
    is fast in steady state still gets the seed's five warm-ups."""
    result, _ = measure([10.0] + [0.1] * 54)
    assert (result["warmup"], result["iterations"]) == (5, 50)
    assert result["warmup_seconds"] == pytest.approx(10.4)
    assert result["seconds"] == pytest.approx([0.1] * 50)


def test_warmups_stop_once_the_steady_state_ones_have_taken_the_long_iteration_time():
    result, _ = measure([1.5] + [0.9] * 60)
    # steady warm-ups 0.9, 1.8, 2.7 s: the third passes 2 s
    assert (result["warmup"], result["iterations"]) == (4, 23)


def test_the_device_is_synchronised_around_every_step_and_the_probe_runs_between_warmups_and_iterations():
    _, device = measure([0.1] * 55)
    assert device.calls == ["sync", "step", "sync"] * 5 + ["probe"] + ["sync", "step", "sync"] * 50
    _, device = measure([30.0] * 10)  # a long iteration: the probe follows the call that ended the warm-ups
    assert device.calls == ["sync", "step", "sync"] * 2 + ["probe"] + ["sync", "step", "sync"] * 2


def test_asking_for_cuda_without_a_gpu_fails_clearly(tmp_path):
    """The CUDA path itself, on a machine without one: a clear failure, no fake number."""
    python = REPO / ".venvs" / "mmpose1" / "bin" / "python"
    code = "from posebench.measure.timing import prepare_device; prepare_device('cuda', 1)"
    run = subprocess.run([str(python), "-c", code], cwd=REPO / "workflow" / "scripts", capture_output=True, text=True)
    assert run.returncode == 1
    # PyPI's torch build, CUDA inside (torch 2.13.0+cu130), on a machine with no GPU
    assert re.search(r"RuntimeError: device cuda: torch 2\.13\.0\S* sees no CUDA device on this machine", run.stderr)


# glibc's count of blocks it gave from fresh mappings (mallinfo2's hblks), around a tensor of
# argv[2] MiB, in a fresh process or one prepared as a round's with argv[1]'s allocator
MAPPED_BLOCKS = """
import ctypes, sys
import torch
from posebench.measure.timing import prepare_device

class MallInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo
if sys.argv[1] != "fresh":
    print(prepare_device("cpu", 1, sys.argv[1]))
mapped = []
for _ in range(2):  # a call's block, freed, then the next call's
    before = libc.mallinfo2().hblks
    tensor = torch.empty(int(sys.argv[2]) * 2 ** 18)
    mapped.append(libc.mallinfo2().hblks - before)
    del tensor
print(*mapped)
"""


@pytest.mark.parametrize("start, mib, lines", [
    ("fresh", 12, ["1 0"]),  # the first block is mapped; freeing it raises glibc's threshold
    ("system", 12, ["system", "0 0"]),
    ("system", 40, ["system", "1 1"]),  # above glibc's largest threshold (32 MiB): mapped every call
    ("caching", 40, ["caching", "0 0"]),
])
def test_a_round_process_takes_its_blocks_from_the_heap(start, mib, lines):
    """A fresh process maps a 12 MB block anew (and faults its pages in) until it has freed a
    larger one; a round's process, once prepared, takes it from the heap, whatever its model. With
    the system's allocator a block over 32 MiB is still mapped on every call; with the caching one
    it comes from the heap, and stays there once freed."""
    python = REPO / ".venvs" / "mmpose1" / "bin" / "python"
    run = subprocess.run([str(python), "-c", MAPPED_BLOCKS, start, str(mib)], cwd=REPO / "workflow" / "scripts",
                         capture_output=True, text=True, check=True)
    assert run.stdout.split("\n")[:-1] == lines


MEASURED = {"status": "measured", "fps_mean": 2.0}


def test_a_batch_the_test_step_fails_on_where_one_image_runs_does_not_apply_and_says_why():
    dekr = failure_record("test step at batch size 10",
                          AssertionError("DEKRHead only supports prediction with batch_size 1, but got 10"))
    marked = batches_not_taken({"1": MEASURED, "10": dekr})
    assert marked["1"] is MEASURED
    assert marked["10"] == {"status": "not applicable", "reason": "the test step runs one image but fails on a batch "
                            "of 10 (AssertionError: DEKRHead only supports prediction with batch_size 1, but got 10)"}


def test_running_out_of_memory_or_failing_at_one_image_stays_a_failure():
    oom = failure_record("test step at batch size 10", RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert batches_not_taken({"1": MEASURED, "10": oom})["10"]["kind"] == "OOM"
    broken = failure_record("test step at batch size 1", ValueError("bad"))
    also_broken = failure_record("test step at batch size 10", ValueError("bad"))
    assert batches_not_taken({"1": broken, "10": also_broken})["10"] is also_broken
    # an runtime that disagrees with eager at a batch size is its own finding, not a batch the step refuses
    disagrees = failure_record("onnxruntime at batch size 10", ValueError("outputs differ"))
    assert batches_not_taken({"1": MEASURED, "10": disagrees})["10"] is disagrees
