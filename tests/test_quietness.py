"""The machine check before a long run (`make machine-check`): the verdict on known numbers, the
CPU shares from /proc/stat's counters, and the command itself for a few seconds."""
import csv
import json
import math
import re
import subprocess

import numpy as np
import pytest
from conftest import REPO
from diagnostics.quietness import (check_record, machine_shares, quietness, render, sample, until_quiet, wait_text,
                                 window_scatter)
from posebench.stats import percent_text, t_half_width

PYTHON = str(REPO / ".venvs" / "mmpose1" / "bin" / "python")
QUIET = [100 * math.exp(x) for x in (-0.01, 0.01) * 10]  # a scatter of about 1%
ONE_PER_WINDOW = 40.0  # 20 readings in 40 s: one reading per 2 s window


def test_the_reachable_half_width_is_the_t_interval_of_max_rounds_at_the_probes_scatter():
    # t(0.975, 7) = 2.3646: 8 rounds scattering by 5% reach ±4.18%
    assert t_half_width(0.05, 8) == pytest.approx(2.364624 * 0.05 / math.sqrt(8), rel=1e-6)
    found = quietness(QUIET, 0.004, 0.001, 0.03, 8, ONE_PER_WINDOW)
    assert found["window"] == 1 and found["scatter"] == pytest.approx(np.std(np.log(QUIET), ddof=1))
    assert found["median"] == pytest.approx(100 * math.cosh(0.01)) and found["p10"] == pytest.approx(100 * math.exp(-0.01))
    assert found["quiet"] and found["reasons"] == []
    assert render(found, 60, "vm")[-1] == ("quiet by the probe: a run here can reach its target if the models' "
                                           "rounds scatter as the probe does; make repeatability's last line checks it")


def test_a_machine_that_scatters_or_runs_other_work_is_not_quiet_and_says_why():
    noisy = [100 * math.exp(x) for x in (-0.1, 0.1) * 10]  # about 10%: 8 rounds reach ±8.6%
    found = quietness(noisy, 0.2, 0.0, 0.03, 8, ONE_PER_WINDOW)
    assert not found["quiet"]
    assert found["reasons"] == ["±8.6% is wider than the ±3.0% target", "other processes took 20% of the CPU"]
    lines = render(found, 60, "vm")
    assert lines[4] == "if the rounds scatter as the probe does, 8 rounds reach ±8.6%"
    assert lines[5].startswith("not quiet: ±8.6% is wider than the ±3.0% target; other processes took 20%")
    # more rounds narrow what the same scatter allows: 40 rounds reach ±3.3%
    assert quietness(noisy, 0.0, 0.0, 0.03, 40, ONE_PER_WINDOW)["reasons"] == ["±3.3% is wider than the ±3.0% target"]


def test_the_scatter_is_over_windows_of_a_rounds_span_as_a_round_averages_the_machine():
    # readings 1 s apart that alternate 10% up and down: every 2 s window averages them out
    flicker = [100 * math.exp(x) for x in (-0.1, 0.1) * 10]
    found = quietness(flicker, 0.0, 0.0, 0.03, 8, 20.0)
    assert found["window"] == 2 and found["scatter"] == pytest.approx(0.0, abs=1e-12) and found["quiet"]
    assert found["reading_scatter"] == pytest.approx(np.std(np.log(flicker), ddof=1))
    assert "±0.0% over windows of 2 readings, a round's span, and ±10% over single readings" in render(found, 20, "vm")[1]
    # a machine that slows for good halfway through stays in the windows' scatter
    step = np.log([100.0] * 10 + [80.0] * 10)
    assert window_scatter(step, 2) == pytest.approx(np.std([0.0] * 5 + [np.log(0.8)] * 5, ddof=1))
    assert math.isnan(window_scatter(step, 11))
    assert quietness(flicker[:3], 0.0, 0.0, 0.03, 8, 3.0)["reasons"] == [
        "3 readings are too few for two windows of a round's span: probe for longer"]


def test_other_processes_are_the_busy_time_less_this_processs_own():
    before = {"user": 100.0, "nice": 0.0, "system": 10.0, "idle": 500.0, "iowait": 0.0, "irq": 0.0, "softirq": 0.0,
              "steal": 0.0, "own": 5.0}
    # 20 s of two CPUs: 4 busy (3 of them this process's), 1 stolen, 35 idle
    after = dict(before, user=103.0, system=11.0, idle=535.0, steal=1.0, own=8.0)
    assert machine_shares(before, after) == pytest.approx({"others_share": 1 / 40, "steal_share": 1 / 40})
    assert math.isnan(machine_shares({}, after)["others_share"])


def test_sampling_reads_the_probe_until_the_time_is_up():
    ticks = iter(range(100))
    found = sample(lambda: 50.0, 3, clock=lambda: next(ticks), sleep=lambda _: None, times=lambda: {})
    assert found["gflops"] == [50.0, 50.0] and len(found["load1"]) == 2 and math.isnan(found["others_share"])


def test_waiting_for_a_quiet_machine_checks_again_until_one_check_says_quiet_or_time_is_up():
    noisy = quietness([100 * math.exp(x) for x in (-0.1, 0.1) * 10], 0.0, 0.0, 0.03, 8, ONE_PER_WINDOW)
    quiet = quietness(QUIET, 0.0, 0.0, 0.03, 8, ONE_PER_WINDOW)
    verdicts, reported, now = iter([noisy, noisy, quiet, noisy]), [], iter([0, 120, 240, 360])
    found = until_quiet(lambda: next(verdicts), 600, clock=lambda: next(now),
                        report=lambda attempt, check: reported.append((attempt, check["quiet"])))
    assert found["quiet"] and found["checks"] == 3 and reported == [(1, False), (2, False), (3, True)]
    assert render(found, 120, "vm")[0] == "machine: vm, probed for 120 s (20 readings), check 3 of a wait for a quiet one"
    # every check's forecast and probe median stay with the answer: the wait in a phrase
    assert [check["median"] for check in found["waited"]] == [noisy["median"], noisy["median"], quiet["median"]]
    medians = sorted([quiet["median"], noisy["median"]])
    assert wait_text(found["waited"]) == "forecasts ±%s–%s, probe medians %.0f–%.0f GFLOP/s" % (
        percent_text(quiet["reachable_half_width"]), percent_text(noisy["reachable_half_width"]), *medians)
    # past the deadline the last noisy check is the answer, not another check
    verdicts, now = iter([noisy, noisy, quiet]), iter([0, 120, 250])
    found = until_quiet(lambda: next(verdicts), 200, clock=lambda: next(now))
    assert not found["quiet"] and found["checks"] == 2


def test_a_checks_row_in_a_waits_log_is_flat_and_dated():
    found = quietness(QUIET, 0.01, 0.002, 0.03, 8, ONE_PER_WINDOW)
    record = check_record(4, found, 1764763200.0)
    assert record["check"] == 4 and record["ended_utc"] == "2025-12-03T12:00:00Z"
    assert record["quiet"] is True and record["reasons"] == "" and record["target"] == 0.03
    assert record["others_share"] == 0.01 and record["median"] == round(found["median"], 1)


def test_the_command_probes_this_machine_and_gives_its_verdict(tmp_path):
    done = subprocess.run([PYTHON, "bench/check_machine.py", "--seconds", "2", "--json",
                           str(tmp_path / "check.json")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("machine: ") and lines[1].startswith("probe: median ")
    assert lines[-1].startswith(("quiet: ", "not quiet: "))
    recorded = json.loads((tmp_path / "check.json").read_text())
    assert recorded["max_rounds"] == 8 and recorded["target"] == 0.03
    assert len(recorded["probe_gflops_per_s"]) == len(recorded["load1"]) == recorded["readings"] >= 2
    # with two threads or more the CPUs' placement is read beside every probe reading
    assert lines[3].startswith("the first two CPUs' round trip: ")
    assert len(recorded["round_trip_ns"]) in (0, recorded["readings"])


def test_a_config_without_the_timing_goal_is_a_one_line_error(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("timing: {min_rounds: 3}\n")
    done = subprocess.run([PYTHON, "bench/check_machine.py", "--seconds", "1", "--config", str(config)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr == "%s: field timing.target or timing.max_rounds: missing or not a number\n" % config


def test_a_wait_for_a_quiet_machine_that_never_comes_exits_1_and_writes_no_figures(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("timing: {target: 0.000001, max_rounds: 8}\n")  # no machine is this quiet
    done = subprocess.run([PYTHON, "bench/check_machine.py", "--seconds", "1", "--until-quiet", "3",
                           "--config", str(config), "--json", str(tmp_path / "check.json"),
                           "--log", str(tmp_path / "checks.csv")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    progress, verdict = done.stderr.splitlines()[:-1], done.stderr.splitlines()[-1]
    assert len(progress) >= 2 and all(" check %d: probe median " % n in line for n, line in enumerate(progress, 1))
    assert verdict.startswith("check_machine.py: no check in 3 s said quiet (%d checks, the last: " % len(progress))
    # a second of readings cannot say how far a round's window scatters, and says so (beside the CPU
    # other processes took, where tests run alongside)
    assert "readings are too few for two windows of a round's span: probe for longer" in verdict
    assert re.search(r"; forecasts none, probe medians \d+–\d+ GFLOP/s\)$", verdict), verdict
    assert "check %d of a wait for a quiet one" % len(progress) in done.stdout.splitlines()[0]
    assert not (tmp_path / "check.json").exists()
    # the log holds every check the wait made, a row each, with its reasons
    rows = list(csv.DictReader((tmp_path / "checks.csv").open()))
    assert [row["check"] for row in rows] == [str(n) for n in range(1, len(progress) + 1)]
    assert all(row["quiet"] == "False" and "too few" in row["reasons"] for row in rows)
