"""Where the host has put the machine's first two CPUs, read as the time a byte takes to go from
one to the other and back. On a VM the host moves its virtual CPUs: on the 2-core AMD EPYC VM
here the round trip read about 0.25 µs while they shared a cache and about 0.6 µs while they did
not, switching every few seconds, and two threads of a model with many small operations ran about
a fifth slower while they did not (LiteHRNet-30 at batch 1: 0.82x), where the probe's large
convolution did not move (docs/findings.md, "The machine"). A diagnostic: `make machine-check`
and bench/ read it, a round only where timing.read_placement asks. Pure Python, so it runs wherever the
pipeline does: two forked processes, one pinned to each CPU, pass a byte through a shared page.
The figure includes the interpreter's own steps, so compare it within one machine only. A timing
process reads it through a small helper process of its own: forking the timing process itself
took 45 ms with torch imported and 135 ms with 1.6 GB of tensors, every reading."""
from __future__ import annotations

import atexit
import mmap
import os
import signal
import statistics
import struct
import subprocess
import sys
import time
from typing import Optional

# a round trip APART_FACTOR times the TOGETHER_PERCENTILE of a run's (or a check's) reads as the
# CPUs apart: on the VM above 0.21-0.25 µs together and 0.48-0.55 µs apart (10th-90th percentiles)
APART_FACTOR = 1.5
TOGETHER_PERCENTILE = 10
TRIPS = 1000
# trips timed together: one clock read per block keeps the clock's own cost out of a trip
BLOCK = 20
# a side that has not finished by then is killed (SIGALRM's default action): the byte's loops spin
# without a way out, for speed, and a partner that died must not leave the other spinning for ever
DEADLINE_S = 2
GO, RESULT = 0, 8


def apart_threshold(round_trips) -> float:
    """The round trip over which a reading reads the CPUs apart: APART_FACTOR times the
    TOGETHER_PERCENTILE of the readings given (a run's, or a check's), the same rule for both."""
    import numpy as np  # here, not above: the helper (this file run with -I -S) has no numpy

    return APART_FACTOR * float(np.percentile(np.asarray(round_trips, dtype=float), TOGETHER_PERCENTILE))


def _answer(view: memoryview, cpu: int, trips: int) -> None:
    """One side: sends back every value it is sent."""
    os.sched_setaffinity(0, {cpu})
    value = 1
    for _ in range(trips):
        while view[GO] != value:
            pass
        view[GO] = (value + 1) & 255
        value = (value + 2) & 255


def _time_trips(view: memoryview, cpu: int, trips: int) -> None:
    """The other side: sends, waits for the answer, and writes the median trip's seconds at RESULT.
    The first block waits for the partner to start and pin itself, so it is left out."""
    os.sched_setaffinity(0, {cpu})
    value, blocks = 0, []
    for _ in range(trips // BLOCK):
        start = time.perf_counter()
        for _ in range(BLOCK):
            view[GO] = (value + 1) & 255
            value = (value + 2) & 255
            while view[GO] != value:
                pass
        blocks.append((time.perf_counter() - start) / BLOCK)
    view[RESULT:RESULT + 8] = struct.pack("d", statistics.median(blocks[1:]))


def _fork(side, view: memoryview, cpu: int, trips: int) -> int:
    child = os.fork()
    if child == 0:
        signal.alarm(DEADLINE_S)
        try:
            side(view, cpu, trips)
        finally:
            os._exit(0)
    return child


def two_cpus() -> bool:
    """Whether this process may run on two CPUs or more and can pin a process to one (Linux)."""
    return hasattr(os, "sched_getaffinity") and hasattr(os, "fork") and len(os.sched_getaffinity(0)) >= 2


def measure_round_trip_ns(trips: int = TRIPS) -> Optional[float]:
    """The median round trip in nanoseconds between the first two CPUs this process may run on,
    read by two processes forked from this one; None where there are fewer than two, the platform
    cannot pin a process (not Linux), or a side did not finish in time."""
    if not two_cpus():
        return None
    allowed = sorted(os.sched_getaffinity(0))
    shared = mmap.mmap(-1, mmap.PAGESIZE)
    view = memoryview(shared)
    try:
        trips = (trips // BLOCK + 1) * BLOCK
        children = [_fork(_answer, view, allowed[1], trips), _fork(_time_trips, view, allowed[0], trips)]
        finished = all([os.waitpid(child, 0)[1] == 0 for child in children])  # both reaped
        seconds = struct.unpack("d", view[RESULT:RESULT + 8])[0]
        return seconds * 1e9 if finished and seconds > 0 else None
    finally:
        view.release()
        shared.close()


_helper = []  # the helper process, once started: one per process that reads the round trip


def _stop_helper() -> None:
    for helper in _helper:
        try:
            helper.stdin.close()
        except OSError:  # it died: its pipe is broken
            pass
        helper.wait()


def core_round_trip_ns() -> Optional[float]:
    """measure_round_trip_ns, read by this process's helper (this file run as a script, started on
    the first call); None where it cannot be read or the helper has died."""
    if not two_cpus():
        return None
    if not _helper:
        # -I: without this file's folder on the path, where posebench/stats.py would stand in
        # for the standard library's
        _helper.append(subprocess.Popen([sys.executable, "-I", "-S", os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, universal_newlines=True))
        atexit.register(_stop_helper)
    helper = _helper[0]
    try:
        helper.stdin.write("read\n")
        helper.stdin.flush()
        answer = helper.stdout.readline().strip()
    except (BrokenPipeError, OSError):
        return None
    return float(answer) if answer and answer != "none" else None


def helper_cpu_seconds() -> float:
    """The CPU seconds the helper and the processes it forked have used (/proc's utime, stime,
    cutime and cstime), so that a machine check counts them as its own; 0 with no helper."""
    if not _helper:
        return 0.0
    try:
        with open("/proc/%d/stat" % _helper[0].pid) as handle:
            # after the command's closing parenthesis: field 3 is the state, 14-17 the times
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def serve() -> None:
    """The helper: a reading for every line read, until its parent closes the pipe (or dies)."""
    for _ in sys.stdin:
        found = measure_round_trip_ns()
        print("none" if found is None else repr(found), flush=True)


if __name__ == "__main__":
    serve()
