"""The tidy measurement table: every round of every cell as one row (results/measurements.csv),
and per cell (model, device, runtime, batch size) its statistics over the rounds and why it is
marked unsteady (results/cells.csv). Every table, plot and comparison reads these two."""
from __future__ import annotations

from typing import Dict, Iterable, List

import numpy as np
import pandas as pd

from posebench.measure.memory import allocator_of
from posebench.measure.placement import apart_threshold
from posebench.records import content_hash
from posebench.stats import cell_statistics, percent_text

CELL_KEYS = ["id", "device", "runtime", "batch_size"]
MEASURED = "measured"
# why a cell is marked unsteady, as cells.csv's `unsteady` column names it
WIDE = "interval ±%s after %d rounds"
PROBE_SHIFTED = "probe %.0f%% %s the run's median"
# beside a wide interval: the host moved the CPUs apart under some of its rounds, not all
APART = "CPUs apart in %d%% of its rounds"
ROUND_TRIP_COLUMNS = ["round_trip_before", "round_trip_after"]


def round_rows(record: Dict[str, object]) -> List[Dict[str, object]]:
    """One timing record (a round of one model on one device and runtime) as flat rows, one per
    batch size."""
    rows = []
    for size, batch in record["batches"].items():
        before, after = batch.get("probe_before") or {}, batch.get("probe_after") or {}
        seconds = batch.get("seconds") or []
        fps = 1.0 / np.asarray(seconds, dtype=float) if seconds else np.array([np.nan])
        agreement = batch.get("agreement") or {}
        rows.append({
            "id": record["id"], "device": record["device"], "runtime": record["runtime"],
            "batch_size": int(size), "round": record.get("round", 1),
            "host": record.get("host", record["environment"].get("host")),
            "cpu": record["environment"].get("cpu"), "environment": environment_id(record),
            "started_at": record.get("started_at"), "ended_at": record.get("ended_at"),
            "threads": record["threads"], "allocator": allocator_of(record), "status": batch["status"],
            "kind": batch.get("kind", ""), "stage": batch.get("stage", ""), "message": batch.get("message", batch.get("reason", "")),
            "warmup": batch.get("warmup"), "iterations": batch.get("iterations"), "capped": batch.get("capped"),
            "policy_iterations": (record.get("policy") or {}).get("iterations"),
            "warmup_seconds": batch.get("warmup_seconds"), "probe_seconds": batch.get("probe_seconds"),
            "timed_seconds": float(sum(seconds)) if seconds else None,
            "fps_mean": batch.get("fps_mean"), "fps_median": float(np.median(fps)) if seconds else None,
            "fps_std": batch.get("fps_std"),
            "probe_before": before.get("probe_gflops_per_s"), "probe_after": after.get("probe_gflops_per_s"),
            "load1_before": before.get("load1"), "load1_after": after.get("load1"),
            "runnable_before": before.get("runnable"), "runnable_after": after.get("runnable"),
            "round_trip_before": before.get("round_trip_ns"), "round_trip_after": after.get("round_trip_ns"),
            "peak_gflops_per_s": (record.get("peak") or {}).get("gflops_per_s"),
            "peak_memory_mib": batch.get("peak_memory_mib"), "model_memory_mib": record.get("model_memory_mib"),
            "max_relative_difference": agreement.get("max_relative_difference"),
            "tolerance": agreement.get("tolerance"),
            "seconds": " ".join(repr(value) for value in seconds),
        })
    return rows


def measurement_table(records: Iterable[Dict[str, object]]) -> pd.DataFrame:
    rows = [row for record in records for row in round_rows(record)]
    table = pd.DataFrame(rows)
    return table.sort_values(CELL_KEYS + ["round"], kind="stable").reset_index(drop=True)


def seconds_of(text: object) -> List[float]:
    return [float(value) for value in str(text).split()] if isinstance(text, str) and text else []


def probe_readings(measurements: pd.DataFrame) -> pd.DataFrame:
    """Every probe reading of the run's measured rounds (before and after each batch), by device."""
    measured = measurements[measurements["status"] == MEASURED]
    readings = pd.concat([
        measured[["device", "probe_before"]].rename(columns={"probe_before": "probe"}),
        measured[["device", "probe_after"]].rename(columns={"probe_after": "probe"}),
    ])
    return readings.dropna()


def run_probe_medians(measurements: pd.DataFrame) -> pd.Series:
    """Per device, the median of every probe reading of the run."""
    return probe_readings(measurements).groupby("device")["probe"].median()


def mean_probe_reading(table: pd.DataFrame) -> pd.Series:
    """Each round's (each row's) probe, the mean of its readings before and after its iterations."""
    return (table["probe_before"] + table["probe_after"]) / 2


def apart_share(measurements: pd.DataFrame) -> pd.Series:
    """Each round's (each row's) share of its round-trip readings (before and after its
    iterations) that read the CPUs apart: over placement.apart_threshold of its device's readings
    in the run. NaN where a round has none (timing.read_placement off, one CPU, or a round
    recorded before the reading)."""
    trips = measurements.reindex(columns=ROUND_TRIP_COLUMNS).astype(float)
    readings = pd.concat([trips[name] for name in ROUND_TRIP_COLUMNS])
    devices = pd.concat([measurements["device"]] * len(ROUND_TRIP_COLUMNS))
    thresholds = readings.dropna().groupby(devices[readings.notna()]).agg(apart_threshold)
    threshold = measurements["device"].map(thresholds)
    apart = trips.gt(threshold, axis=0).astype(float).where(trips.notna())
    return apart.mean(axis=1)


def with_probe_deviations(measurements: pd.DataFrame) -> pd.DataFrame:
    """Each round's probe drift (after / before - 1), its offset from the run's median probe
    (the further of before and after), its shift (its mean reading / the run's median - 1,
    signed), its FPS per GFLOP/s of probe (the round's mean reading): times a reference
    probe, the FPS it would read on a machine of that speed; and the share of its round trips
    that read the CPUs apart."""
    table = measurements.copy()
    table["apart"] = apart_share(table)
    median = table["device"].map(run_probe_medians(table))
    mean_reading = mean_probe_reading(table)
    table["probe_drift"] = (table["probe_after"] / table["probe_before"] - 1).abs()
    table["probe_offset"] = np.maximum(
        (table["probe_before"] / median - 1).abs(), (table["probe_after"] / median - 1).abs()
    )
    table["probe_shift"] = mean_reading / median - 1
    table["fps_per_probe"] = table["fps_mean"] / mean_reading
    return table


def interval_wider(half_width: float, target: float) -> bool:
    """The mark <sup>±N%</sup> and its reason: the interval is still wider than the target."""
    return half_width > target


def probe_shifted(shift: float, max_probe_deviation: float) -> bool:
    """The mark <sup>p</sup> and its reason: the probe stood that far off the run's median."""
    return abs(shift) > max_probe_deviation


def unsteady_reasons(cell: Dict[str, float], target: float, max_probe_deviation: float) -> str:
    """Why a cell is not known to the target: its interval is still wider than the target (after
    every round it was given; with the share of its rounds the CPUs were apart, where they moved
    under it), or the machine was clearly faster or slower than the run's median under most of
    its rounds (the median round's probe shift)."""
    reasons = []
    if interval_wider(cell["ci_half_width"], target):
        reasons.append(WIDE % (percent_text(cell["ci_half_width"]), cell["rounds"]))
        if 0 < cell.get("apart_share", 0) < 1:
            reasons.append(APART % round(100 * cell["apart_share"]))
    if probe_shifted(cell["probe_shift"], max_probe_deviation):
        side = "below" if cell["probe_shift"] < 0 else "above"
        reasons.append(PROBE_SHIFTED % (100 * abs(cell["probe_shift"]), side))
    return "; ".join(reasons)


def cut_short(rounds: pd.DataFrame) -> bool:
    """Whether the cell has fewer iterations, over all its rounds, than the seed's count in one
    (the policy's `iterations`): each round alone is cut short by its budget by design. Rounds
    recorded without their policy: whether any round was cut short."""
    target = rounds["policy_iterations"].max() if "policy_iterations" in rounds else float("nan")
    if pd.isna(target):
        return bool(rounds["capped"].astype(bool).any())
    return bool(rounds["iterations"].sum() < target)


def summarize_cell(rounds: pd.DataFrame, target: float, max_probe_deviation: float) -> Dict[str, object]:
    """One cell from its rounds. A round that did not measure (a failure, `/`) stands for the
    whole cell: its status and message."""
    first = rounds.iloc[0]
    not_measured = rounds[rounds["status"] != MEASURED]
    cell = {
        "hosts": " ".join(sorted(set(rounds["host"].dropna()))),
        "cpus": "; ".join(sorted(set(rounds["cpu"].dropna()))),
        "started_at": rounds["started_at"].min(),
        "ended_at": rounds["ended_at"].max(),
        "rounds": len(rounds),
    }
    if len(not_measured):
        failed = not_measured.iloc[0]
        return dict(cell, status=failed["status"], kind=failed["kind"], stage=failed["stage"], message=failed["message"])
    cell.update(cell_statistics([seconds_of(text) for text in rounds["seconds"]]))
    cell.update(
        status=MEASURED, kind="", stage="", message="",
        capped=cut_short(rounds),
        probe_drift=float(rounds["probe_drift"].max()), probe_offset=float(rounds["probe_offset"].max()),
        probe_shift=float(rounds["probe_shift"].median()),
        fps_per_probe=float(rounds["fps_per_probe"].mean()),
        apart_share=float(rounds["apart"].mean()),
        peak_gflops_per_s=float(rounds["peak_gflops_per_s"].median()),
        # memory: the highest peak of any round's timed iterations, the model's usual footprint
        peak_memory_mib=rounds["peak_memory_mib"].max(),
        model_memory_mib=rounds["model_memory_mib"].median(),
        max_relative_difference=rounds["max_relative_difference"].max(),
        tolerance=first["tolerance"],
    )
    cell["probe_worst_deviation"] = max(cell["probe_drift"], cell["probe_offset"])
    cell["unsteady"] = unsteady_reasons(cell, target, max_probe_deviation)
    return cell


def cell_table(measurements: pd.DataFrame, target: float, max_probe_deviation: float) -> pd.DataFrame:
    """Per cell, its statistics over every round (a row per model, device, runtime, batch size)."""
    table = with_probe_deviations(measurements)
    cells = [
        dict(zip(CELL_KEYS, key), **summarize_cell(rounds, target, max_probe_deviation))
        for key, rounds in table.groupby(CELL_KEYS, sort=False)
    ]
    return pd.DataFrame(cells)


def probe_summary(measurements: pd.DataFrame) -> Dict[str, Dict[str, float]]:
    """Per device, the run's probe median and range: how fast the machine was while it measured;
    and how far it moved from round to round (round_scatter: the standard deviation of the log
    of each measured round's mean reading). A cell's rounds, spread over the run in round-major
    order, scatter about that much when they follow the machine: a 2-minute machine-check
    sees less than an hour's drift (bench/results/probe-rounds.md)."""
    stats = probe_readings(measurements).groupby("device")["probe"].agg(["median", "min", "max", "count"])
    measured = measurements[measurements["status"] == MEASURED]
    scatter = np.log(mean_probe_reading(measured)).groupby(measured["device"]).std()
    return {device: {"median": float(row["median"]), "min": float(row["min"]), "max": float(row["max"]),
                     "readings": int(row["count"]), "round_scatter": float(scatter.get(device, np.nan))}
            for device, row in stats.iterrows()}


TEXT_COLUMNS = ["seconds", "kind", "stage", "message", "unsteady", "hosts", "cpus"]


def read_table(path) -> pd.DataFrame:
    """measurements.csv or cells.csv, its text columns empty (not NaN) where blank."""
    table = pd.read_csv(path, dtype={name: str for name in TEXT_COLUMNS})
    present = [name for name in TEXT_COLUMNS if name in table.columns]
    table[present] = table[present].fillna("")
    return table


def environment_of(record: Dict[str, object]) -> Dict[str, object]:
    """Where one round ran: host, CPU, GPU, threads, versions, and the device it timed."""
    return dict(record["environment"], device=record["device"], policy=record.get("policy"))


def environment_id(record: Dict[str, object]) -> str:
    """A short name for the environment a round ran in: equal environments, equal names."""
    return content_hash(environment_of(record))[:8]


def collect_environment(records: Iterable[Dict[str, object]]) -> List[Dict[str, object]]:
    """Every distinct environment the run's rounds ran in, each with its id (measurements.csv's
    `environment` column), how many rounds ran there, and when the first began and the last ended."""
    found: Dict[str, Dict[str, object]] = {}
    for record in records:
        name = environment_id(record)
        env = found.setdefault(name, dict(environment_of(record), id=name, rounds=0, started_at=None, ended_at=None))
        env["rounds"] += 1
        env["started_at"] = min(filter(None, [env["started_at"], record.get("started_at")]), default=None)
        env["ended_at"] = max(filter(None, [env["ended_at"], record.get("ended_at")]), default=None)
    return sorted(found.values(), key=lambda env: (env["backend"], env["device"], env["host"], env["id"]))
