"""Is this machine quiet enough for the timing target? A couple of minutes of the probe
(posebench/measure/probe.py) before a long run says how far the machine's speed scatters, how much CPU
other processes take, and how much the hypervisor steals; from the scatter, the narrowest interval
`max_rounds` rounds could reach if the rounds scattered as the machine does; and whether the host
moved the first two CPUs apart and back (posebench/measure/placement.py), which moves small operations'
speed at two threads while the probe's stays. A round averages the machine over its warm-ups and
timed iterations, about 2.2 s per batch size here (bench/results/default-round-cost.md), so the
scatter is that of the probe's mean over windows of WINDOW_S: single readings dip further than a
round does. Where the reachable width is wider than
the target, the run's cells will carry their width."""
from __future__ import annotations

import os
import time
from typing import Callable, Dict, List, Sequence

import numpy as np

from posebench.measure.placement import apart_threshold, core_round_trip_ns, helper_cpu_seconds
from posebench.measure.probe import probe_state
from posebench.stats import percent_text, t_half_width

# a round's span at one batch size, over which it averages the machine (see above)
WINDOW_S = 2.0
# other processes' share of the machine's CPU time above which a run is not alone: the idle 2-core
# VM here spends under 1% on its own daemons
MAX_OTHERS_SHARE = 0.05
# readings of the CPUs apart above which the host is moving them: single readings of a steady
# placement strayed past the apart threshold in 1-2% of a check's here
MAX_APART_SHARE = 0.1
# a check's figures in a wait's log, one row a check, after its number and end time
CHECK_LOG_FIELDS = ["median", "p10", "p90", "scatter", "reachable_half_width", "target", "others_share",
                    "steal_share", "apart_share", "quiet"]
PROC_STAT_FIELDS = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]


def cpu_times() -> Dict[str, float]:
    """The machine's CPU seconds by kind since boot (all CPUs, /proc/stat's first line), and this
    process's own (its threads and children included); empty where there is no /proc/stat."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()[1:1 + len(PROC_STAT_FIELDS)]
    except OSError:
        return {}
    ticks = os.sysconf("SC_CLK_TCK")
    times = {name: int(value) / ticks for name, value in zip(PROC_STAT_FIELDS, fields)}
    own = os.times()
    # with the round trips' helper and the processes it forked (posebench/measure/placement.py)
    times["own"] = own.user + own.system + own.children_user + own.children_system + helper_cpu_seconds()
    return times


def machine_shares(before: Dict[str, float], after: Dict[str, float]) -> Dict[str, float]:
    """Between two cpu_times(): the share of the machine's CPU time that other processes used
    (busy time less this process's own), and the share the hypervisor stole."""
    if not before or not after:
        return {"others_share": float("nan"), "steal_share": float("nan")}
    spent = {name: after[name] - before[name] for name in before}
    total = sum(spent[name] for name in PROC_STAT_FIELDS)
    busy = total - spent["idle"] - spent["iowait"] - spent["steal"]
    return {"others_share": max(0.0, busy - spent["own"]) / total, "steal_share": spent["steal"] / total}


def sample(probe: Callable[[], float], seconds: float, pause_s: float = 0.5,
           clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
           times: Callable[[], Dict[str, float]] = cpu_times) -> Dict[str, object]:
    """The probe read every `pause_s` for `seconds`, with the CPU time spent around it."""
    before, end, readings = times(), clock() + seconds, []
    while clock() < end:
        readings.append(probe_state(probe, core_round_trip_ns))
        sleep(pause_s)
    return dict(machine_shares(before, times()), gflops=[reading["probe_gflops_per_s"] for reading in readings],
                load1=[reading.get("load1", float("nan")) for reading in readings],
                round_trips=[reading["round_trip_ns"] for reading in readings if "round_trip_ns" in reading])


def apart(round_trips: Sequence[float]) -> Dict[str, float]:
    """The share of the round trips that read the CPUs apart (placement.apart_threshold), with
    their 10th and 90th percentiles in nanoseconds; NaN where there are none."""
    trips = np.asarray(round_trips, dtype=float)
    if not len(trips):
        return {"apart_share": float("nan"), "round_trip_p10": float("nan"), "round_trip_p90": float("nan")}
    return {"apart_share": float(np.mean(trips > apart_threshold(trips))),
            "round_trip_p10": float(np.percentile(trips, 10)), "round_trip_p90": float(np.percentile(trips, 90))}


def window_scatter(logs: np.ndarray, window: int) -> float:
    """The standard deviation of the means of consecutive windows of `window` readings (the
    remainder left out); NaN with fewer than two windows."""
    count = len(logs) // window
    if count < 2:
        return float("nan")
    return float(np.std(logs[:count * window].reshape(count, window).mean(axis=1), ddof=1))


def quietness(gflops: Sequence[float], others_share: float, steal_share: float, target: float,
              max_rounds: int, seconds: float, round_trips: Sequence[float] = ()) -> Dict[str, object]:
    """The probe's median, 10th and 90th percentiles, its scatter (the standard deviation of its
    logarithm, a relative one) over single readings and over windows of WINDOW_S, the half-width
    max_rounds rounds could reach at the windows' scatter, the CPUs' placement (apart), and whether
    the machine is quiet: that half-width within the target, no other process taking more than
    MAX_OTHERS_SHARE of the CPU, and no more than MAX_APART_SHARE of the round trips apart (given
    the round trips: for rounds of two or more threads)."""
    readings = np.asarray(gflops, dtype=float)
    logs = np.log(readings)
    window = max(1, int(round(WINDOW_S * len(readings) / seconds))) if seconds > 0 else 1
    scatter = window_scatter(logs, window)
    reach = t_half_width(scatter, max_rounds)
    reasons = []
    if np.isnan(reach):
        reasons.append("%d readings are too few for two windows of a round's span: probe for longer" % len(readings))
    elif not reach <= target:
        reasons.append("±%s is wider than the ±%s target" % (percent_text(reach), percent_text(target)))
    if others_share > MAX_OTHERS_SHARE:
        reasons.append("other processes took %s of the CPU" % percent_text(others_share))
    placement = apart(round_trips)
    if placement["apart_share"] > MAX_APART_SHARE:
        reasons.append("the host moved the CPUs apart in %s of the readings (round trip %.0f–%.0f ns)"
                       % (percent_text(placement["apart_share"]), placement["round_trip_p10"],
                          placement["round_trip_p90"]))
    return dict(placement, **{"readings": len(readings), "median": float(np.median(readings)),
            "p10": float(np.percentile(readings, 10)), "p90": float(np.percentile(readings, 90)),
            "reading_scatter": window_scatter(logs, 1), "window": window, "scatter": scatter,
            "reachable_half_width": reach, "others_share": others_share,
            "steal_share": steal_share, "target": target, "max_rounds": max_rounds, "quiet": not reasons,
            "reasons": reasons})


def until_quiet(check: Callable[[], Dict[str, object]], seconds: float,
                clock: Callable[[], float] = time.monotonic,
                report: Callable[[int, Dict[str, object]], None] = lambda attempt, found: None) -> Dict[str, object]:
    """Checks one after another until one says quiet or `seconds` have passed since the first began;
    the last check's figures, with how many checks it took and every check's forecast and probe
    median (`waited`). A noisy hour passes: a run that waits for a quiet check gets the quiet machine
    its figures ask for (bench/HISTORY.md, make repeatability)."""
    end, waited = clock() + seconds, []
    while True:
        found = check()
        waited.append({"reachable_half_width": found["reachable_half_width"], "median": found["median"]})
        report(len(waited), found)
        if found["quiet"] or clock() >= end:
            return dict(found, checks=len(waited), waited=waited)


def wait_text(waited: Sequence[Dict[str, float]]) -> str:
    """A wait's checks in a phrase: the range of their forecasts and of their probe medians."""
    forecasts = [check["reachable_half_width"] for check in waited if not np.isnan(check["reachable_half_width"])]
    medians = [check["median"] for check in waited]
    forecast_range = "±%s–%s" % (percent_text(min(forecasts)), percent_text(max(forecasts))) if forecasts else "none"
    return "forecasts %s, probe medians %.0f–%.0f GFLOP/s" % (forecast_range, min(medians), max(medians))


def check_record(attempt: int, found: Dict[str, object], ended: float) -> Dict[str, object]:
    """One check as a flat row of a wait's log (check_machine.py --log)."""
    record = {"check": attempt, "ended_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ended))}
    # GFLOP/s to a tenth, shares and widths to a hundredth of a percent: the readings' own precision
    record.update({field: round(found[field], 1 if field in ("median", "p10", "p90") else 4)
                   if isinstance(found[field], float) else found[field] for field in CHECK_LOG_FIELDS})
    return dict(record, reasons="; ".join(found["reasons"]))


def placement_text(found: Dict[str, object]) -> str:
    if np.isnan(found.get("apart_share", float("nan"))):
        return "not read (one CPU or one thread)"
    return "%.0f–%.0f ns (10th–90th percentile), apart in %s of the readings" % (
        found["round_trip_p10"], found["round_trip_p90"], percent_text(found["apart_share"]))


def render(found: Dict[str, object], seconds: float, host: str) -> List[str]:
    """The check as lines a reader can paste beside a run's figures."""
    waited = ", check %d of a wait for a quiet one" % found["checks"] if found.get("checks", 1) > 1 else ""
    lines = [
        "machine: %s, probed for %.0f s (%d readings)%s" % (host, seconds, found["readings"], waited),
        "probe: median %.0f GFLOP/s (10th–90th percentile %.0f–%.0f); scatter (standard deviation of its "
        "logarithm) ±%s over windows of %d readings, a round's span, and ±%s over single readings"
        % (found["median"], found["p10"], found["p90"], percent_text(found["scatter"]), found["window"],
           percent_text(found["reading_scatter"])),
        "other processes: %s of the CPU; stolen by the hypervisor: %s"
        % (percent_text(found["others_share"]), percent_text(found["steal_share"])),
        "the first two CPUs' round trip: %s" % placement_text(found),
        "if the rounds scatter as the probe does, %d rounds reach ±%s"
        % (found["max_rounds"], percent_text(found["reachable_half_width"])),
    ]
    if found["quiet"]:
        # the probe is one small convolution: with one thread here it read ±3% while the models'
        # rounds scattered twice as far (bench/HISTORY.md), so the verdict is a forecast, not a promise
        lines.append("quiet by the probe: a run here can reach its target if the models' rounds scatter as the "
                     "probe does; make repeatability's last line checks it")
    else:
        lines.append("not quiet: " + "; ".join(found["reasons"]) + ". Expect cells marked with their width; "
                     "publish or compare from a quieter machine or hour")
    return lines
