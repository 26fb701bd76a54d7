"""Draw the speed–accuracy pictures of a table.csv into its plots/ folder (PNG and SVG); with
--combine-with, its FPS pictures again beside another list's table."""
import argparse
import datetime
from pathlib import Path

from posebench.records import read_table_csv
from posebench.report.plots import COMBINED, draw, plot_names
from posebench.report.runs import read_environments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("table", type=Path, help="results/table.csv")
    parser.add_argument("--environment", type=Path, required=True, help="results/environment.json")
    parser.add_argument("--devices", nargs="+", required=True)
    parser.add_argument("--batch-sizes", type=int, nargs="+", required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--combine-with", type=Path, help="another list's table.csv, drawn beside this one")
    parser.add_argument("--combine-environment", type=Path, help="the environment.json beside it, if any")
    args = parser.parse_args()
    rows = list(read_table_csv(args.table).values())
    here = machine(read_environments(args.environment))
    subtitle = "posebench, %s, %s" % (here, datetime.date.today().isoformat())
    groups = None
    if args.combine_with:
        there = machine(read_environments(args.combine_environment)) if args.combine_environment else "machine unknown"
        groups = [("%s (%d models)" % (args.table, len(rows)), rows)]
        other = list(read_table_csv(args.combine_with).values())
        groups.append(("%s (%d models%s)" % (args.combine_with, len(other), "" if there == here else ", " + there),
                       other))
    for name in plot_names(args.devices, args.batch_sizes, combined=bool(groups)):
        drawn = draw(rows, name, args.output_dir, subtitle, groups if name.startswith(COMBINED) else None)
        print("%s: %d models" % (name, drawn))


def machine(environments: list) -> str:
    """The CPU (and GPU) the measurements ran on, for the figures' subtitles."""
    gpus = sorted({env["gpu"] for env in environments if env.get("gpu")})
    return " + ".join(sorted({env["cpu"] for env in environments}) + gpus) or "unknown machine"


if __name__ == "__main__":
    main()
