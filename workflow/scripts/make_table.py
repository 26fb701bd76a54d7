"""Aggregate the per-model JSON records into results/table.md and results/table.csv."""
import argparse
from pathlib import Path

from posebench.records import read_json, write_text
from posebench.table import render_csv, render_markdown, table_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolved", type=Path, nargs="+", required=True)
    parser.add_argument("--complexity", type=Path, nargs="+", required=True)
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--csv", type=Path, required=True)
    args = parser.parse_args()
    resolved = [read_json(path) for path in args.resolved]
    complexity = [read_json(path) for path in args.complexity]
    rows = [table_row(r, c) for r, c in zip(resolved, complexity)]
    write_text(args.csv, render_csv(rows))
    write_text(args.markdown, render_markdown(rows, resolved))


if __name__ == "__main__":
    main()
