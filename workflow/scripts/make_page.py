"""Write index.html beside a run's table: one self-contained page to explore the run (a sortable,
filterable table of every cell and the speed–accuracy chart, with hover and the Pareto front; and
the scenes' frames per second against N people where the run times scenes)."""
import argparse
from pathlib import Path

from posebench.report.page import write_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", type=Path, required=True, help="results/table.csv")
    parser.add_argument("--cells", type=Path, required=True, help="results/cells.csv")
    parser.add_argument("--markdown", type=Path, required=True, help="results/table.md (its header's facts)")
    parser.add_argument("--runtimes", type=Path, help="results/runtimes.csv, when the run has runtimes beyond eager")
    parser.add_argument("--combine-with", type=Path, help="another list's table.csv, on the page beside this one")
    parser.add_argument("--combine-cells", type=Path, help="the cells.csv beside it")
    parser.add_argument("--scenes", type=Path, help="results/scenes.csv, when the run times scenes")
    parser.add_argument("--scenes-markdown", type=Path, help="the scenes.md beside it (its words above the tables)")
    parser.add_argument("--target", type=float, required=True, help="timing.target: the marks' interval width")
    parser.add_argument("--max-probe-deviation", type=float, required=True)
    parser.add_argument("--output", type=Path, required=True, help="results/index.html")
    args = parser.parse_args()
    combine = {"table": args.combine_with, "cells": args.combine_cells} if args.combine_with else None
    scenes = {"csv": args.scenes, "markdown": args.scenes_markdown} if args.scenes else None
    count = write_page(args.table, args.cells, args.markdown, args.output, args.target, args.max_probe_deviation,
                       args.runtimes, combine, scenes)
    print("%s: %d cells" % (args.output, count))


if __name__ == "__main__":
    main()
