"""What a full table's round jobs would cost under today's round policy, estimated from a
published run's rounds (made with 3 fixed rounds in a process each, 3 s budgets, 2 s of
warm-ups), in the worst case where every cell stays wider than the target: each round keeps
its iterations up to today's budget, loses the warm-ups beyond 0.5 s of steady-state calls and
the imports a warm process saves, and a cell takes rounds until max_rounds or max_cell_s.

    .venvs/driver/bin/python bench/full_table_estimate.py published/amd-epyc-2core-vm --caps 45 60 90
"""
import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

from posebench.report.measurements import read_table, seconds_of  # noqa: E402
from round_policy import cut  # noqa: E402  (beside this script)

# measured on this VM (bench/results/default-round-cost.md, bench/HISTORY.md): outside a cold round's timing record,
# process start-up and Snakemake's gap (0.9 s) and the imports (1.4 s); inside it, the build's
# lazy imports a warm process saves (1.6 s); a warm round's gap (0.2 s)
COLD_OUTSIDE_S, WARM_BUILD_SAVING_S, WARM_GAP_S = 2.3, 1.6, 0.2


def round_costs(measurements: pd.DataFrame, budget: float, long_iteration: float):
    """Per model, each old round job's wall time and its estimate under today's policy."""
    costs = {}
    for (model_id, _), rows in measurements.groupby(["id", "round"]):
        wall = (pd.to_datetime(rows["ended_at"]).max() - pd.to_datetime(rows["started_at"]).min()).total_seconds()
        saving = WARM_BUILD_SAVING_S
        for _, row in rows.iterrows():
            seconds = seconds_of(row["seconds"])
            if not seconds:
                continue
            kept = cut(seconds, budget)
            step = float(np.median(seconds))
            warmups = int(row["warmup"] or 0)
            if warmups > 1:
                saving += max(0.0, (warmups - 1) * step - min(warmups - 1, max(1, math.ceil(long_iteration / step))) * step)
            saving += sum(seconds) - sum(kept)
        costs.setdefault(model_id, []).append((wall + COLD_OUTSIDE_S, max(1.0, wall - saving) + WARM_GAP_S))
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a published run's folder (measurements.csv)")
    parser.add_argument("--caps", type=float, nargs="+", default=[60.0], help="max_cell_s values")
    parser.add_argument("--min-rounds", type=int, default=3)
    parser.add_argument("--max-rounds", type=int, default=8)
    parser.add_argument("--budget", type=float, default=1.0)
    parser.add_argument("--long-iteration", type=float, default=0.5)
    args = parser.parse_args()
    measurements = read_table(args.run / "measurements.csv")
    measurements = measurements[measurements["runtime"] == "eager"]
    costs = round_costs(measurements, args.budget, args.long_iteration)
    old = sum(cost for rounds in costs.values() for cost, _ in rounds)
    print("%s: %d models, the old rounds' jobs: %.0f min" % (args.run, len(costs), old / 60))
    for cap in args.caps:
        total, taken = 0.0, []
        for rounds in costs.values():
            per_round = float(np.mean([new for _, new in rounds]))
            count = args.min_rounds
            while count < args.max_rounds and count * per_round < cap:
                count += 1
            taken.append(count)
            total += count * per_round
        print("max_cell_s %g: %.0f min, %.1f rounds per model, %d at max_rounds (every cell wide)"
              % (cap, total / 60, np.mean(taken), sum(count == args.max_rounds for count in taken)))


if __name__ == "__main__":
    main()
