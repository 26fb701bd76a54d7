"""Resolve one models.yaml entry: merged config, input size, versions, reported mAP -> JSON."""
import argparse
import json
import sys
from pathlib import Path

from posebench.records import write_json
from posebench.resolve import ResolveError, resolve_model
from posebench.seed import read_seed_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entry", required=True, help="the model's entry, as JSON")
    parser.add_argument("--seed-table", type=Path, required=True, help="resources/seed_table.csv")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    entry = json.loads(args.entry)
    seed_row = read_seed_csv(args.seed_table).get(entry["id"])
    try:
        resolved = resolve_model(entry, Path.cwd(), seed_row)
    except ResolveError as error:
        sys.exit("posebench: %s" % error)
    write_json(args.output, resolved)


if __name__ == "__main__":
    main()
