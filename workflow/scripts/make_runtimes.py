"""Aggregate the per-runtime timing records into results/runtimes.md and runtimes.csv."""
import argparse
from pathlib import Path

from posebench.records import read_json, records_by_id, write_text
from posebench.report.measurements import read_table
from posebench.report.runtime_table import render_runtimes_csv, render_runtimes_markdown, runtime_records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolved", type=Path, nargs="+", required=True)
    parser.add_argument("--labels", type=Path, nargs="+", required=True, help="results/labels/{id}.json")
    parser.add_argument("--complexity", type=Path, nargs="+", required=True)
    parser.add_argument("--cells", type=Path, required=True, help="results/cells.csv")
    parser.add_argument("--devices", nargs="+", required=True)
    parser.add_argument("--batch-sizes", type=int, nargs="+", required=True)
    parser.add_argument("--runtimes", nargs="+", required=True, help="in column order, eager first")
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--csv", type=Path, required=True)
    args = parser.parse_args()
    resolved = [read_json(path) for path in args.resolved]
    complexity, labels = records_by_id(args.complexity), records_by_id(args.labels)
    cells = {
        (cell["id"], cell["device"], cell["runtime"], int(cell["batch_size"])): cell
        for cell in read_table(args.cells).to_dict("records")
    }
    records = runtime_records(resolved, labels, complexity, cells, args.devices, args.batch_sizes, args.runtimes)
    write_text(args.csv, render_runtimes_csv(records))
    write_text(args.markdown, render_runtimes_markdown(records, args.devices, args.batch_sizes, args.runtimes))


if __name__ == "__main__":
    main()
