"""Where a round job's wall time goes: its process's phases from the timing record, and the gap
Snakemake leaves between one round process's end and the next one's start (bench/round_cost.py)."""
from __future__ import annotations

from typing import Dict, Iterable

import pandas as pd

from posebench.report.measurements import MEASURED, round_rows

PROCESS_PHASES = ["start", "imports", "build", "runtime", "probe", "batches", "failure", "peak", "environment"]
BATCH_PARTS = ["warmup_seconds", "probe_seconds", "timed_seconds"]


def job_phases(records: Iterable[Dict[str, object]]) -> pd.DataFrame:
    """A row per round job: its phases in seconds, the batches' phase split into warm-ups, probe
    readings, timed iterations and the rest (inputs, decoding set-up), and the gap before it."""
    rows = []
    for record in records:
        if "phases" not in record:
            continue  # a record from before the phases were kept
        row = {"id": record["id"], "round": record["round"], "started": pd.Timestamp(record["process_started_at"]),
               "ended": pd.Timestamp(record["ended_at"])}
        row.update({phase: record["phases"].get(phase, 0.0) for phase in PROCESS_PHASES})
        # the batch sizes' parts as measurements.csv has them, summed over the round's batch sizes
        measured = [batch for batch in round_rows(record) if batch["status"] == MEASURED]
        row.update({part: sum(batch[part] or 0.0 for batch in measured) for part in BATCH_PARTS})
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("started").reset_index(drop=True)
    table["process"] = (table["ended"] - table["started"]).dt.total_seconds()
    table["batch_rest"] = table["batches"] - table[BATCH_PARTS].sum(axis=1)
    table["gap_before"] = (table["started"] - table["ended"].shift()).dt.total_seconds()
    return table


def render(table: pd.DataFrame, label: str) -> str:
    """The mean seconds per round job of each part (the gap: its median), and its share of the job's wall time (the
    process plus the gap before it)."""
    parts = {
        "interpreter start-up": "start", "imports (torch, mmcv, mmpose)": "imports", "model build": "build",
        "runtime set-up (export, agreement)": "runtime", "probe set-up": "probe", "warm-ups": "warmup_seconds",
        "probe readings": "probe_seconds", "timed iterations": "timed_seconds", "inputs and the rest of each batch":
        "batch_rest", "a failure, up to it": "failure", "peak (round 1 only)": "peak",
        "environment record": "environment",
        "Snakemake between jobs": "gap_before",
    }
    means = {name: float(table[column].mean()) for name, column in parts.items()}
    # the median gap: another job (a complexity count) can run between two rounds
    means["Snakemake between jobs"] = float(table["gap_before"].median())
    wall = means["Snakemake between jobs"] + float(table["process"].mean())
    lines = ["## %s: %d round jobs, %.1f s of wall time each on average" % (label, len(table), wall), "",
             "| part | seconds per round job | share |", "| :--- | ---: | ---: |"]
    lines += ["| %s | %.2f | %.0f%% |" % (name, value, 100 * value / wall) for name, value in means.items()]
    return "\n".join(lines) + "\n"
