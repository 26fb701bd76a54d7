"""Export one resolved model's network to ONNX (free batch size) -> a folder with model.onnx and
export.json. A network that does not export is recorded there, and its onnxruntime cells say so."""
import argparse
import sys
from pathlib import Path

from posebench import warm
from posebench.records import read_json
from posebench.runtimes.export import export_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("resolved", type=Path, help="results/resolved/{id}.json")
    parser.add_argument("output", type=Path, help="results/onnx/{id}")
    args = parser.parse_args()
    resolved = read_json(args.resolved)
    warm.hand_over(resolved["backend"], __file__, sys.argv[1:])
    record = export_model(resolved, args.output)
    print("%s: %s" % (record["status"], record.get("message", args.output / "model.onnx")))


if __name__ == "__main__":
    main()
