"""Count params and FLOPs of one resolved model (mmcv's counter, as the seed; thop beside it)."""
import argparse
import sys
from pathlib import Path

from posebench import warm
from posebench.measure.complexity import count_complexity
from posebench.records import read_json, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("resolved", type=Path, help="results/resolved/{id}.json")
    parser.add_argument("output", type=Path, help="results/complexity/{id}.json")
    args = parser.parse_args()
    resolved = read_json(args.resolved)
    warm.hand_over(resolved["backend"], __file__, sys.argv[1:])
    record = count_complexity(resolved)
    record["process"] = warm.how_started("count")
    write_json(args.output, record)


if __name__ == "__main__":
    main()
