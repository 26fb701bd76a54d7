"""How well a run repeats: two complete runs of the same subset, A then B, cell by cell. For each
cell the ratio A / B of the mean FPS (raw, and scaled by each round's machine-speed probe), then
the median and 90th percentile of |A/B - 1|, the worst cell, and whether every cell off by more
than the tolerance was marked unsteady in A or in B."""
from __future__ import annotations

from typing import Dict

import numpy as np
import pandas as pd

from .measurements import CELL_KEYS, MEASURED

OFF = 0.10


def paired_cells(a_cells: pd.DataFrame, b_cells: pd.DataFrame) -> pd.DataFrame:
    """A row per cell measured in both runs: both means, the ratios A / B of raw FPS and of FPS
    per GFLOP/s of probe (FPS as if every round had run on a machine of the same speed), and
    whether A or B marked the cell unsteady."""
    keep = ["fps_mean", "fps_per_probe", "unsteady", "rounds"]
    a = a_cells[a_cells["status"] == MEASURED].set_index(CELL_KEYS)[keep]
    b = b_cells[b_cells["status"] == MEASURED].set_index(CELL_KEYS)[keep]
    both = a.merge(b, left_index=True, right_index=True, suffixes=("_a", "_b"))
    both["ratio"] = both["fps_mean_a"] / both["fps_mean_b"]
    both["scaled_ratio"] = both["fps_per_probe_a"] / both["fps_per_probe_b"]
    both["flagged"] = both["unsteady_a"].fillna("").astype(bool) | both["unsteady_b"].fillna("").astype(bool)
    return both.reset_index()


def summary(pairs: pd.DataFrame, column: str = "ratio") -> Dict[str, object]:
    off = (pairs[column] - 1).abs()
    worst = off.idxmax()
    missed = pairs[(off > OFF) & ~pairs["flagged"]]
    return {
        "cells": int(len(pairs)),
        "median_abs_deviation": float(off.median()),
        "p90_abs_deviation": float(np.percentile(off, 90)),
        "worst_cell": "%s %s bs=%d" % (pairs.at[worst, "id"], pairs.at[worst, "device"], pairs.at[worst, "batch_size"]),
        "worst_ratio": float(pairs.at[worst, column]),
        "cells_off_by_more_than_10pct": int((off > OFF).sum()),
        "of_them_unflagged": int(len(missed)),
    }


def render(pairs: pd.DataFrame, label: str) -> str:
    table = pairs.assign(
        a=pairs["fps_mean_a"].round(2), b=pairs["fps_mean_b"].round(2), ratio=pairs["ratio"].round(3),
        scaled_ratio=pairs["scaled_ratio"].round(3), flagged=pairs["flagged"].map({True: "yes", False: ""}),
    )[["id", "device", "batch_size", "a", "b", "ratio", "scaled_ratio", "flagged"]]
    lines = ["## %s" % label, "", table.to_markdown(index=False), ""]
    for column, name in (("ratio", "raw FPS"), ("scaled_ratio", "FPS scaled by the probe")):
        found = summary(pairs, column)
        lines.append(
            "- %s: median |A/B − 1| %.1f%%, 90th percentile %.1f%%, worst %s (A/B %.3f); %d of %d cells off by "
            "more than 10%%, %d of them unflagged in A and B"
            % (name, 100 * found["median_abs_deviation"], 100 * found["p90_abs_deviation"], found["worst_cell"],
               found["worst_ratio"], found["cells_off_by_more_than_10pct"], found["cells"], found["of_them_unflagged"])
        )
    return "\n".join(lines) + "\n"
