"""Our measured numbers beside the seed's published ones."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Dict, List

FLOPS_TOLERANCE = 0.02


def read_table_csv(path: Path) -> Dict[str, Dict[str, str]]:
    with open(path, newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def complexity_mismatches(
    ours: Dict[str, Dict[str, str]], seed: Dict[str, Dict[str, str]], require_all: bool = False
) -> List[str]:
    """One line per disagreement: params must match the seed to its printed precision (two
    decimals), FLOPs must lie within 2% of its GFLOPs. Rows the seed lacks are not compared."""
    problems = []
    for model_id, seed_row in seed.items():
        row = ours.get(model_id)
        if row is None:
            if require_all:
                problems.append("%s: missing from our table" % model_id)
            continue
        if row.get("failures", "").startswith("complexity"):
            problems.append("%s: not counted (%s)" % (model_id, row["failures"]))
            continue
        params, seed_params = round(float(row["params_m"]), 2), float(seed_row["params_m"])
        if params != seed_params:
            problems.append("%s: params %.2f M, seed %s M" % (model_id, params, seed_row["params_m"]))
        gflops, seed_gflops = float(row["gflops"]), float(seed_row["gflops"])
        if abs(gflops - seed_gflops) > FLOPS_TOLERANCE * seed_gflops:
            problems.append(
                "%s: %.3f GFLOPs, seed %s (%+.1f%%)"
                % (model_id, gflops, seed_row["gflops"], 100 * (gflops / seed_gflops - 1))
            )
    return problems
