"""Compare our params and FLOPs with the seed's, row by row; print every mismatch.

Exit status 1 when any row disagrees (or, with --require-all, when a seed row is missing).
"""
import argparse
import sys
from pathlib import Path

from posebench.compare import complexity_mismatches
from posebench.records import read_table_csv
from posebench.seed import read_seed_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("table", type=Path, nargs="?", default=Path("results/table.csv"))
    parser.add_argument("--seed-table", type=Path, default=Path("resources/seed_table.csv"))
    parser.add_argument("--require-all", action="store_true", help="every seed row must be in the table")
    args = parser.parse_args()
    ours, seed = read_table_csv(args.table), read_seed_csv(args.seed_table)
    problems = complexity_mismatches(ours, seed, args.require_all)
    for problem in problems:
        print(problem)
    compared = len(set(ours) & set(seed))
    print("%d rows compared with the seed, %d mismatches" % (compared, len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
