"""Quantize one model's ONNX export to INT8 for OpenVINO (NNCF, calibrated on random inputs) ->
a folder with model.xml, model.bin and quantization.json. For speed only: no accuracy is measured."""
import argparse
import sys
from pathlib import Path

from posebench import warm
from posebench.records import read_json
from posebench.runtimes.quantize import quantize_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("resolved", type=Path, help="results/resolved/{id}.json")
    parser.add_argument("export", type=Path, help="results/onnx/{id}")
    parser.add_argument("output", type=Path, help="results/openvino_int8/{id}")
    args = parser.parse_args()
    resolved = read_json(args.resolved)
    warm.hand_over(resolved["backend"], __file__, sys.argv[1:])
    record = quantize_model(resolved, args.export, args.output)
    print("%s: %s" % (record["status"], record.get("message", args.output)))


if __name__ == "__main__":
    main()
