"""Compare our params and FLOPs with the seed's, row by row; print every mismatch. Reads a
table.csv, or with --complexity-dir the complexity records themselves (after `snakemake --until
complexity`: no timing needed), by mmcv's count, the seed's counter.

Exit status 1 when any row disagrees (or, with --require-all, when a seed row is missing).
"""
import argparse
import sys
from pathlib import Path

from posebench.catalog.seed import read_seed_csv
from posebench.records import read_json, read_table_csv
from posebench.report.compare import complexity_mismatches
from posebench.report.table import describe_failure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("table", type=Path, nargs="?", default=Path("results/table.csv"))
    parser.add_argument("--seed-table", type=Path, default=Path("resources/seed_table.csv"))
    parser.add_argument("--complexity-dir", type=Path, help="read these complexity records instead of a table")
    parser.add_argument("--require-all", action="store_true", help="every seed row must be in the table")
    args = parser.parse_args()
    seed = read_seed_csv(args.seed_table)
    ours = counted_rows(args.complexity_dir, seed) if args.complexity_dir else read_table_csv(args.table)
    problems = complexity_mismatches(ours, seed, args.require_all)
    for problem in problems:
        print(problem)
    compared = len(set(ours) & set(seed))
    print("%d rows compared with the seed, %d mismatches" % (compared, len(problems)))
    sys.exit(1 if problems else 0)


def counted_rows(folder: Path, seed: dict) -> dict:
    """The seed's rows as the table would show their params and GFLOPs (mmcv's count)."""
    rows = {}
    for model_id in seed:
        path = folder / ("%s.json" % model_id)
        if path.is_file():
            record = read_json(path)
            if record["status"] == "failed":
                rows[model_id] = {"failures": describe_failure("complexity", record["failure"])}
            else:
                rows[model_id] = {"params_m": record["params_m"], "gflops": record["mmcv"]["gflops"], "failures": ""}
    return rows


if __name__ == "__main__":
    main()
