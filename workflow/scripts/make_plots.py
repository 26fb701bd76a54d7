"""Draw the speed–accuracy pictures of results/table.csv into results/plots/ (PNG and SVG)."""
import argparse
import datetime
from pathlib import Path

from posebench.plots import draw, plot_names
from posebench.records import read_json, read_table_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("table", type=Path, help="results/table.csv")
    parser.add_argument("--environment", type=Path, required=True, help="results/environment.json")
    parser.add_argument("--devices", nargs="+", required=True)
    parser.add_argument("--batch-sizes", type=int, nargs="+", required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    args = parser.parse_args()
    rows = list(read_table_csv(args.table).values())
    subtitle = "posebench, %s, %s" % (machine(read_json(args.environment)), datetime.date.today().isoformat())
    for name in plot_names(args.devices, args.batch_sizes):
        print("%s: %d models" % (name, draw(rows, name, args.output_dir, subtitle)))


def machine(environments: list) -> str:
    """The CPU (and GPU) the measurements ran on, for the figures' subtitles."""
    gpus = sorted({env["gpu"] for env in environments if env.get("gpu")})
    return " + ".join(sorted({env["cpu"] for env in environments}) + gpus) or "unknown machine"


if __name__ == "__main__":
    main()
