"""Every model of a list against the params and FLOPs its authors published, where they did:
params to the printed precision, FLOPs (MACs) within 2%, by each counter; "none published"
where no figure exists (posebench's count is then the first).

    .venvs/driver/bin/python workflow/scripts/check_published.py config/models-modern.yaml

Exit status 1 when a published figure disagrees with the counter MMPose publishes with (mmengine).
"""
import argparse
import csv
import sys
from pathlib import Path

import yaml
from posebench.records import read_json
from posebench.report.compare import published_comparison


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, help="a model list, e.g. config/models-modern.yaml")
    parser.add_argument("--published", type=Path, default=Path("resources/published_complexity.csv"))
    parser.add_argument("--complexity-dir", type=Path, default=Path("results/complexity"))
    args = parser.parse_args()
    ids = [entry["id"] for entry in yaml.safe_load(args.models.read_text())["models"]]
    with open(args.published, newline="") as handle:
        published = {row["id"]: row for row in csv.DictReader(handle)}
    records = {model_id: read_json(path) for model_id in ids
               for path in [args.complexity_dir / ("%s.json" % model_id)] if path.is_file()}
    lines, mismatches = published_comparison(ids, records, published)
    print("\n".join(lines))
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
