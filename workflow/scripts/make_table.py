"""The per-model records and the cells' statistics -> results/table.md and table.csv."""
import argparse
from pathlib import Path

from posebench.catalog.seed import read_seed_csv
from posebench.records import read_json, records_by_id, write_text
from posebench.report.measurements import probe_summary, read_table
from posebench.report.table import render_csv, render_markdown, table_row

EAGER = "eager"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolved", type=Path, nargs="+", required=True)
    parser.add_argument("--labels", type=Path, nargs="+", required=True, help="results/labels/{id}.json")
    parser.add_argument("--complexity", type=Path, nargs="+", required=True)
    parser.add_argument("--cells", type=Path, required=True, help="results/cells.csv")
    parser.add_argument("--measurements", type=Path, required=True, help="results/measurements.csv")
    parser.add_argument("--environment", type=Path, required=True, help="results/environment.json")
    parser.add_argument("--devices", nargs="+", required=True, help="the devices this run timed on")
    parser.add_argument("--batch-sizes", type=int, nargs="+", required=True)
    parser.add_argument("--seed-table", type=Path, required=True, help="to mark cells beyond the seed")
    parser.add_argument("--target", type=float, required=True, help="the interval's relative half-width to mark above")
    parser.add_argument("--max-probe-deviation", type=float, required=True)
    parser.add_argument("--reference", type=Path, help="a reference run's measurements.csv: its probe beside ours")
    parser.add_argument("--reference-name", help="what to call the reference run")
    parser.add_argument("--flops-counter", choices=["mmcv", "torch", "mmengine"], default="mmcv",
                        help="the counter the GFLOPs column follows")
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--csv", type=Path, required=True)
    args = parser.parse_args()
    cells = read_table(args.cells)
    eager = cells[cells["runtime"] == EAGER].to_dict("records")
    by_model = {}
    for cell in eager:
        by_model.setdefault(cell["id"], {})[(cell["device"], int(cell["batch_size"]))] = cell
    complexity, labels = records_by_id(args.complexity), records_by_id(args.labels)
    rows = [
        table_row(record, labels[record["id"]], complexity[record["id"]], by_model.get(record["id"], {}),
                  args.devices, args.batch_sizes, args.flops_counter)
        for record in map(read_json, args.resolved)
    ]
    reference = probe_summary(read_table(args.reference)) if args.reference else None
    write_text(args.csv, render_csv(rows, args.batch_sizes))
    write_text(args.markdown, render_markdown(
        rows, read_json(args.environment), args.batch_sizes, read_seed_csv(args.seed_table), args.target,
        args.max_probe_deviation, probe_summary(read_table(args.measurements)), reference,
        args.reference_name or (str(args.reference.parent) if args.reference else None), args.flops_counter,
    ))


if __name__ == "__main__":
    main()
