"""Our table beside another: the seed (resources/seed_table.csv) or an earlier run (its results/
folder or table.csv). Prints, or writes with --output, per model the ratio ours / theirs of each
FPS column, outliers first. Where both runs have a measurements.csv beside their table.csv, each
cell also says faster, slower or within noise, and each machine's probe median over its rounds
comes first, the part of a ratio that is the machine's speed.

    python workflow/scripts/compare_runs.py results/table.csv ../other-machine/results
"""
import argparse
import sys
from pathlib import Path

from posebench.catalog.models import CatalogError, other_table, record_beside
from posebench.records import read_table_csv, write_text
from posebench.report.compare import probe_medians, render_comparison, rounds_by_cell
from posebench.report.runs import read_environments
from posebench.report.table import TABLE_DEVICES, fps_key


def measurements_beside(table: Path):
    """The measurements.csv of the run whose table.csv this is, or None where it kept none."""
    found = record_beside(str(table), "measurements.csv")
    if found is None:
        return None
    from posebench.report.measurements import read_table

    return read_table(found)


def rounds_of(measurements):
    return None if measurements is None else rounds_by_cell(measurements)


def probes_of(measurements):
    return None if measurements is None else probe_medians(measurements)


def environments_beside(table: Path):
    """The environments the run whose table.csv this is ran in, or None where it kept none."""
    found = record_beside(str(table), "environment.json")
    if not found:
        return None
    return read_environments(Path(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ours", type=Path, help="our results/table.csv")
    parser.add_argument("theirs", type=Path, help="the other run's results/ folder or table.csv, or the seed's CSV")
    parser.add_argument("--name", help="what to call theirs in the title (default: its path)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--threshold", type=float, default=0.1, help="smallest relative difference that counts")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level of the test over rounds")
    parser.add_argument("--output", type=Path, help="write the markdown here instead of printing it")
    args = parser.parse_args()
    try:
        theirs_table = Path(other_table(str(args.theirs), "compare"))
    except CatalogError as error:
        sys.exit(str(error))
    columns = [fps_key(column, size) for _, column, _ in TABLE_DEVICES for size in args.batch_sizes]
    ours_measured, theirs_measured = measurements_beside(args.ours), measurements_beside(theirs_table)
    text = render_comparison(
        read_table_csv(args.ours), read_table_csv(theirs_table), args.name or str(args.theirs), columns,
        rounds_of(ours_measured), rounds_of(theirs_measured), args.threshold, args.alpha,
        environments_beside(args.ours), environments_beside(theirs_table),
        probes_of(ours_measured), probes_of(theirs_measured),
    )
    if args.output:
        write_text(args.output, text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
