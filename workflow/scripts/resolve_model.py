"""Resolve one models.yaml entry: merged config, input size, backend versions -> JSON."""
import argparse
import json
import sys
from pathlib import Path

from posebench import warm
from posebench.catalog.resolve import ResolveError, resolve_model
from posebench.records import write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entry", required=True, help="the model's entry, as JSON")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    entry = json.loads(args.entry)
    warm.hand_over(entry["backend"], __file__, sys.argv[1:])
    try:
        resolved = resolve_model(entry, Path.cwd())
    except ResolveError as error:
        sys.exit("posebench: %s" % error)
    write_json(args.output, resolved)


if __name__ == "__main__":
    main()
