"""Aggregate the per-model JSON records into results/table.md, table.csv and environment.json."""
import argparse
from collections import defaultdict
from pathlib import Path

from posebench.records import read_json, write_json, write_text
from posebench.seed import read_seed_csv
from posebench.table import collect_environment, render_csv, render_markdown, table_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolved", type=Path, nargs="+", required=True)
    parser.add_argument("--complexity", type=Path, nargs="+", required=True)
    parser.add_argument("--timing", type=Path, nargs="+", required=True)
    parser.add_argument("--batch-sizes", type=int, nargs="+", required=True)
    parser.add_argument("--seed-table", type=Path, required=True, help="to mark cells beyond the seed")
    parser.add_argument("--max-cv", type=float, required=True, help="mark FPS whose std/mean is over this")
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--environment", type=Path, required=True)
    args = parser.parse_args()
    resolved = [read_json(path) for path in args.resolved]
    complexity = {record["id"]: record for record in map(read_json, args.complexity)}
    timings = [read_json(path) for path in args.timing]
    timings_by_model = defaultdict(dict)
    for timing in timings:
        timings_by_model[timing["id"]][timing["device"]] = timing
    rows = [
        table_row(record, complexity[record["id"]], timings_by_model[record["id"]], args.batch_sizes)
        for record in resolved
    ]
    environment = collect_environment(timings)
    write_json(args.environment, environment)
    write_text(args.csv, render_csv(rows, args.batch_sizes))
    seed = read_seed_csv(args.seed_table)
    write_text(args.markdown, render_markdown(rows, environment, args.batch_sizes, seed, args.max_cv))


if __name__ == "__main__":
    main()
