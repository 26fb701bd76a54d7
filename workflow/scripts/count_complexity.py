"""Count params and FLOPs of one resolved model (mmcv's counter, as the seed; thop beside it)."""
import argparse
from pathlib import Path

from posebench.complexity import count_complexity
from posebench.records import read_json, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("resolved", type=Path, help="results/resolved/{id}.json")
    parser.add_argument("output", type=Path, help="results/complexity/{id}.json")
    args = parser.parse_args()
    write_json(args.output, count_complexity(read_json(args.resolved)))


if __name__ == "__main__":
    main()
