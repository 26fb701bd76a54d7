"""Label one models.yaml entry: its display name, algorithm and reported mAP -> JSON."""
import argparse
import json
import sys
from pathlib import Path

from posebench import warm
from posebench.catalog.labels import label_model
from posebench.catalog.metafile import read_published_maps
from posebench.catalog.seed import read_seed_csv
from posebench.records import write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entry", required=True, help="the model's entry, as JSON")
    parser.add_argument("--seed-table", type=Path, required=True, help="resources/seed_table.csv")
    parser.add_argument("--published-map", type=Path, required=True, help="resources/published_map.csv")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    entry = json.loads(args.entry)
    warm.hand_over(entry["backend"], __file__, sys.argv[1:])
    seed_row = read_seed_csv(args.seed_table).get(entry["id"])
    write_json(args.output, label_model(entry, seed_row, read_published_maps(args.published_map)))


if __name__ == "__main__":
    main()
