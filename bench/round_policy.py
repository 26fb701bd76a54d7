"""Choose the round policy from measurements: replay two complete runs' rounds (A and B, made
with max_rounds rounds per cell or close to it) under other policies, and print what each would
have given and cost. A policy is (budget_s, target, max_rounds), with min_rounds fixed:
- budget_s: each round keeps its iterations until their seconds reach the budget (at least one),
  as the timing loop does, so a smaller budget is the same round cut shorter;
- target, max_rounds: a cell takes rounds in order while its interval is wider than the target.
For each policy: median and 90th percentile of |A/B - 1|, cells off by more than 10% and
unmarked, the share of cell-runs marked (interval still wider than the target), how often each
run's interval (and its re-run interval) holds the other's mean, the rounds per cell, and the
seconds per run (each round's
measured fixed cost, its warm-ups and probe, and its kept iterations).

    .venvs/driver/bin/python bench/round_policy.py bench/work/default-A bench/work/default-B \\
        --output bench/results/round-policy.md
"""
import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

from posebench.records import read_json, write_text  # noqa: E402
from posebench.stats import confidence_interval, fps_values  # noqa: E402

FIXED_PHASES = ["start", "imports", "build", "runtime", "probe", "peak", "environment"]


def round_number(path: Path) -> int:
    return int(path.stem[len("round"):])


def read_run(folder: Path) -> dict:
    """Per cell (id, batch size): its rounds in order, each as (seconds, fixed cost share, the
    batch's warm-up and probe seconds)."""
    cells = {}
    for cell_dir in sorted((folder / "results" / "timing").glob("*/*/*")):
        for path in sorted(cell_dir.glob("round*.json"), key=round_number):
            record = read_json(path)
            measured = {size: batch for size, batch in record["batches"].items() if batch["status"] == "measured"}
            fixed = sum(record.get("phases", {}).get(phase, 0.0) for phase in FIXED_PHASES) / max(1, len(measured))
            for size, batch in measured.items():
                extra = batch.get("warmup_seconds", 0.0) + batch.get("probe_seconds", 0.0)
                cells.setdefault((record["id"], int(size)), []).append((batch["seconds"], fixed + extra))
    return cells


def cut(seconds, budget):
    """The iterations a round with this budget would have kept (the timing loop's rule)."""
    kept = []
    for value in seconds:
        if kept and sum(kept) >= budget:
            break
        kept.append(value)
    return kept


def replay(rounds, budget, target, min_rounds, max_rounds):
    """The cell under a policy: its mean FPS, interval, rounds and seconds."""
    kept = [(cut(seconds, budget), cost) for seconds, cost in rounds[:max_rounds]]
    means = [float(np.mean(fps_values(seconds))) for seconds, _ in kept]
    count = min(min_rounds, len(kept))
    while count < len(kept) and confidence_interval(means[:count], means[:count])["ci_half_width"] > target:
        count += 1
    interval = confidence_interval(means[:count], means[:count])
    fps = np.concatenate([fps_values(seconds) for seconds, _ in kept[:count]])
    return {"fps": float(np.mean(fps)), "centre": float(np.mean(means[:count])), "low": interval["ci_low"],
            "high": interval["ci_high"], "rerun_low": interval["rerun_low"], "rerun_high": interval["rerun_high"],
            "width": interval["ci_half_width"], "rounds": count,
            "seconds": sum(sum(seconds) + cost for seconds, cost in kept[:count])}


def evaluate(a, b, budget, target, min_rounds, max_rounds, gap):
    rows = []
    for cell in sorted(set(a) & set(b)):
        ra, rb = (replay(run[cell], budget, target, min_rounds, max_rounds) for run in (a, b))
        rows.append({"ratio": ra["fps"] / rb["fps"], "marked_a": ra["width"] > target, "marked_b": rb["width"] > target,
                     "a_holds_b": ra["low"] <= rb["centre"] <= ra["high"], "b_holds_a": rb["low"] <= ra["centre"] <= rb["high"],
                     "a_rerun": ra["rerun_low"] <= rb["centre"] <= ra["rerun_high"],
                     "b_rerun": rb["rerun_low"] <= ra["centre"] <= rb["rerun_high"],
                     "rounds": (ra["rounds"] + rb["rounds"]) / 2,
                     "seconds": (ra["seconds"] + rb["seconds"]) / 2 + gap * (ra["rounds"] + rb["rounds"]) / 2})
    table = pd.DataFrame(rows)
    off = (table["ratio"] - 1).abs()
    marked = pd.concat([table["marked_a"], table["marked_b"]])
    return {
        "budget_s": budget, "target": target, "max_rounds": max_rounds,
        "median": off.median(), "p90": np.percentile(off, 90),
        "off_unmarked": int(((off > 0.10) & ~(table["marked_a"] | table["marked_b"])).sum()),
        "marked": marked.mean(), "coverage": pd.concat([table["a_holds_b"], table["b_holds_a"]]).mean(),
        "rerun_coverage": pd.concat([table["a_rerun"], table["b_rerun"]]).mean(),
        "rounds": table["rounds"].mean(), "seconds": table["seconds"].sum(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs=2, help="two runs' folders (with results/timing/)")
    parser.add_argument("--min-rounds", type=int, default=3)
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0, 3.0])
    parser.add_argument("--targets", type=float, nargs="+", default=[0.02, 0.03, 0.05, 0.1, 1e9])
    parser.add_argument("--max-rounds", type=int, nargs="+", default=[3, 4, 5, 6, 8])
    parser.add_argument("--gap", type=float, default=1.0, help="Snakemake's seconds between two round jobs")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    a, b = (read_run(folder) for folder in args.runs)
    results = [evaluate(a, b, budget, target, args.min_rounds, max_rounds, args.gap)
               for budget, target, max_rounds in itertools.product(args.budgets, args.targets, args.max_rounds)
               if max_rounds >= args.min_rounds]
    table = pd.DataFrame(results).drop_duplicates(subset=["budget_s", "median", "p90", "marked", "seconds"])
    text = "## Round policies replayed on %s and %s (min_rounds %d; target 1e9: fixed rounds)\n\n%s\n" % (
        args.runs[0].name, args.runs[1].name, args.min_rounds, table.round(4).to_markdown(index=False))
    print(text)
    if args.output:
        write_text(args.output, text)


if __name__ == "__main__":
    main()
