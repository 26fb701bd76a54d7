"""Every round's timing record -> results/measurements.csv (a row per round and batch size),
results/cells.csv (a row per cell: statistics over its rounds, why it is unsteady) and
results/environment.json."""
import argparse
from pathlib import Path

from posebench.records import read_json, write_json, write_text
from posebench.report.measurements import cell_table, collect_environment, measurement_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("timing", type=Path, nargs="+", help="results/timing/{id}/{device}/{runtime}/round{N}.json")
    parser.add_argument("--target", type=float, required=True,
                        help="unsteady while the 95%% interval's relative half-width is over this")
    parser.add_argument("--max-probe-deviation", type=float, required=True,
                        help="unsteady when the median round's probe stood further than this off the run's median")
    parser.add_argument("--measurements", type=Path, required=True)
    parser.add_argument("--cells", type=Path, required=True)
    parser.add_argument("--environment", type=Path, required=True)
    args = parser.parse_args()
    records = [read_json(path) for path in args.timing]
    measurements = measurement_table(records)
    cells = cell_table(measurements, args.target, args.max_probe_deviation)
    write_json(args.environment, collect_environment(records))
    write_text(args.measurements, measurements.to_csv(index=False))
    write_text(args.cells, cells.to_csv(index=False))
    print("%d rounds, %d cells, %d unsteady" % (len(measurements), len(cells), (cells["unsteady"].fillna("") != "").sum()))


if __name__ == "__main__":
    main()
