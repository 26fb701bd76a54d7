"""Parse the seed's markdown table into resources/seed_table.csv (run once; the CSV is committed)."""
import argparse
from pathlib import Path

from posebench.catalog.seed import parse_seed_markdown, write_seed_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("markdown", type=Path, help="the seed page, inference_speed_summary.md")
    parser.add_argument("csv", type=Path, help="where to write the parsed table")
    args = parser.parse_args()
    rows = parse_seed_markdown(args.markdown.read_text())
    write_seed_csv(rows, args.csv)
    print("%d seed rows -> %s" % (len(rows), args.csv))


if __name__ == "__main__":
    main()
