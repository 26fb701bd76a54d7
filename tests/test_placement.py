"""Where the host put the CPUs (posebench/measure/placement.py): the round trip on this machine, a partner
that never answers, and what the run and the machine check make of the readings, on known numbers."""
import argparse
import math
import os
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import REPO
from diagnostics.quietness import quietness, render
from diagnostics.repeatability import placement_effect, placement_line
from posebench.measure import placement
from posebench.report.measurements import apart_share, cell_table, measurement_table
from test_statistics import timing_record

TWO_CPUS = len(os.sched_getaffinity(0)) >= 2
QUIET = [100 * math.exp(x) for x in (-0.01, 0.01) * 10]


def record_forks(monkeypatch):
    """The pids of the processes os.fork makes from here on (in this process: its children)."""
    pids, fork = [], os.fork

    def recorded():
        pid = fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded)
    return pids


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_a_round_reads_the_placement_only_where_its_policy_asks():
    from posebench.measure.probe import placement_reader, probe_state

    assert placement_reader({"allocator": "caching"}) is None and placement_reader({"read_placement": False}) is None
    default = probe_state(lambda: 100.0, placement_reader({}))
    assert "round_trip_ns" not in default and default["probe_gflops_per_s"] == 100.0
    asked = placement_reader({"read_placement": True})
    assert asked is placement.core_round_trip_ns
    if TWO_CPUS:
        assert probe_state(lambda: 100.0, asked)["round_trip_ns"] > 0


@pytest.mark.skipif(not TWO_CPUS, reason="the round trip needs two CPUs")
def test_the_round_trip_between_two_cpus_is_read_and_its_processes_reaped(monkeypatch):
    allowed, forked = os.sched_getaffinity(0), record_forks(monkeypatch)
    found = placement.measure_round_trip_ns()
    # a byte through a shared page and back, with the interpreter's steps: 0.2-0.6 µs on the VMs here
    assert 20 < found < 100000
    assert os.sched_getaffinity(0) == allowed and len(forked) == 2 and all(reaped(pid) for pid in forked)


@pytest.mark.skipif(not TWO_CPUS, reason="the round trip needs two CPUs")
def test_a_process_reads_it_through_one_helper_that_does_not_outlive_it():
    code = ("from posebench.measure import placement; readings = [placement.core_round_trip_ns() for _ in range(20)]; "
            "print(placement._helper[0].pid, len(placement._helper), placement.helper_cpu_seconds(), *readings)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO / "workflow" / "scripts", capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    pid, helpers, cpu_seconds, *readings = done.stdout.split()
    assert helpers == "1" and len(readings) == 20 and all(20 < float(reading) < 100000 for reading in readings)
    # 20 readings of two processes spinning for about 3 ms: a machine check counts it as its own
    assert float(cpu_seconds) > 0
    # its parent gone, the helper reads the end of its pipe and exits
    for _ in range(50):
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the helper %s outlived its process" % pid)


def test_one_cpu_has_no_round_trip():
    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); " \
           "from posebench.measure.placement import core_round_trip_ns; print(core_round_trip_ns())"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO / "workflow" / "scripts", capture_output=True,
                          text=True, timeout=60)
    assert done.stdout == "None\n", done.stderr


@pytest.mark.skipif(not TWO_CPUS, reason="the round trip needs two CPUs")
def test_a_partner_that_never_answers_is_killed_at_the_deadline(monkeypatch):
    forked = record_forks(monkeypatch)
    monkeypatch.setattr(placement, "_answer", lambda view, cpu, trips: None)
    monkeypatch.setattr(placement, "DEADLINE_S", 1)
    started = time.monotonic()
    assert placement.measure_round_trip_ns() is None
    assert time.monotonic() - started < 5 and len(forked) == 2 and all(reaped(pid) for pid in forked)


def test_a_round_reads_apart_by_the_runs_own_round_trips():
    table = pd.DataFrame({"device": ["cpu"] * 6 + ["cuda"],
                          "round_trip_before": [230, 240, 520, 500, 235, None, None],
                          "round_trip_after": [225, 530, 510, 240, None, None, None]})
    # the 10th percentile of the cpu's readings is 228.5: apart over 342.75 ns
    assert apart_share(table).tolist()[:5] == [0.0, 0.5, 1.0, 0.5, 0.0]
    assert apart_share(table).isna().tolist()[5:] == [True, True]
    assert apart_share(pd.DataFrame({"device": ["cpu"]})).isna().all()  # recorded before round trips


def test_round_scatter_sets_each_window_against_its_partner_at_other_threads_by_placement(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from round_scatter import paired_lines

    trips = [200, 210, 500, 520]  # the 10th percentile 203: apart over 304.5 ns; passes 2 and 3 apart
    windows = pd.DataFrame({"process": 0, "pass": range(4), "fps": [10, 10, 7, 7], "probe": 400,
                            "round_trip_before": trips, "round_trip_after": trips})
    partners = windows.assign(fps=[9, 9, 8.75, 8.75], probe=200)
    lines = paired_lines(windows, partners, argparse.Namespace(paired_threads=1))
    assert "the partners (1 thread a round): a window's FPS median 8.88" in lines
    assert "median FPS 8.75 against 9 (0.97×" in lines
    assert "apart at both ends of the window (2) against together at both (2): 0.800 against 1.111" in lines


def test_a_wide_cell_says_what_share_of_its_rounds_ran_with_the_cpus_apart():
    near, far = (230.0, 240.0), (520.0, 530.0)
    records = [timing_record("moved", 1, [0.1] * 3, round_trip=near), timing_record("moved", 2, [0.2] * 3, round_trip=far),
               timing_record("moved", 3, [0.1] * 3, round_trip=near), timing_record("moved", 4, [0.2] * 3, round_trip=far),
               timing_record("stayed", 1, [0.1] * 3, round_trip=far), timing_record("stayed", 2, [0.2] * 3, round_trip=far),
               timing_record("steady", 1, [0.1] * 3, round_trip=near), timing_record("steady", 2, [0.1] * 3, round_trip=far)]
    cells = cell_table(measurement_table(records), 0.03, 0.5).set_index(["id", "batch_size"])
    assert cells.loc[("moved", 1), "apart_share"] == 0.5
    assert cells.loc[("moved", 1), "unsteady"].endswith("after 4 rounds; CPUs apart in 50% of its rounds")
    # apart all along: the placement did not move under it, so it is no reason
    assert cells.loc[("stayed", 1), "unsteady"].endswith("after 2 rounds")
    # moved, but known to the target: no mark at all
    assert cells.loc[("steady", 1), "unsteady"] == ""


def placement_rounds(model, rounds, size=1):
    """Measured rounds of one cell: (round trips, probe, FPS) each."""
    return [{"id": model, "device": "cpu", "runtime": "eager", "batch_size": size, "status": "measured",
             "fps_mean": fps, "probe_before": probe, "probe_after": probe, "round_trip_before": trips[0],
             "round_trip_after": trips[1]} for trips, probe, fps in rounds]


def test_the_run_says_what_being_apart_did_to_a_rounds_fps_beyond_its_probe():
    near, far, mixed = (230, 235), (520, 510), (240, 530)
    # FPS follows the probe one for one, and reads 0.8x with the CPUs apart: the fit finds 0.8
    # exactly, though the rounds apart ran on a faster machine (the raw ratio would be 9.2 / 10.25)
    moved = placement_rounds("moved", [(near, 400, 10.0), (far, 440, 8.8), (far, 480, 9.6), (near, 420, 10.5),
                                       (mixed, 300, 3.0)])
    stayed = placement_rounds("stayed", [(far, 400, 5.0), (far, 400, 5.0)])
    table = pd.DataFrame(moved + stayed + placement_rounds("moved", [(near, 400, 1.0), (near, 400, 1.0)], size=10))
    effect = placement_effect(table).set_index("batch_size")
    assert effect.loc[1, "rounds"] == 6 and effect.loc[1, "apart_share"] == pytest.approx(4 / 6)  # the mixed one left out
    assert effect.loc[1, "apart_factor"] == pytest.approx(0.8) and effect.loc[1, "apart_log_se"] == pytest.approx(0, abs=1e-9)
    # a cell whose rounds were all apart says nothing about the placement, whatever its FPS: only
    # the error widens
    scattered = placement_effect(pd.DataFrame(moved + placement_rounds("stayed", [(far, 400, 5.0), (far, 400, 9.0)])))
    assert scattered.loc[0, "apart_factor"] == pytest.approx(0.8) and scattered.loc[0, "apart_log_se"] > 0.1
    assert math.isnan(effect.loc[10, "apart_factor"])  # no round apart at batch 10
    line = placement_line({"A": placement_effect(table),
                           "B": placement_effect(table.drop(columns=["round_trip_before", "round_trip_after"]))})
    assert line == ("- the CPUs apart (round trip over 1.5× the run's 10th percentile, at both ends of a round), and "
                    "what it did to a round's FPS beyond its probe (± a standard error): A: 67% of the rounds at batch 1 "
                    "(FPS ×0.800 ± 0.0%), 0% of the rounds at batch 10 (too few of one kind); B: no round trips recorded")


def test_a_check_whose_cpus_moved_apart_is_not_quiet_and_says_so():
    moving = [230.0] * 14 + [520.0] * 6  # apart in 30% of the readings
    found = quietness(QUIET, 0.0, 0.0, 0.03, 8, 40.0, moving)
    assert not found["quiet"] and found["apart_share"] == pytest.approx(0.3)
    assert found["reasons"] == ["the host moved the CPUs apart in 30% of the readings (round trip 230–520 ns)"]
    assert render(found, 40, "vm")[3] == ("the first two CPUs' round trip: 230–520 ns (10th–90th percentile), apart in "
                                          "30% of the readings")
    # one stray reading in 20 is no move; apart all along is a steady placement
    assert quietness(QUIET, 0.0, 0.0, 0.03, 8, 40.0, [230.0] * 19 + [520.0])["quiet"]
    assert quietness(QUIET, 0.0, 0.0, 0.03, 8, 40.0, [520.0] * 20)["quiet"]
    # one CPU or one thread: not read, and no reason
    unread = quietness(QUIET, 0.0, 0.0, 0.03, 8, 40.0)
    assert unread["quiet"] and render(unread, 40, "vm")[3] == "the first two CPUs' round trip: not read (one CPU or one thread)"
