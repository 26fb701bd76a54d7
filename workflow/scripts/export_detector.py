"""Export a person detector of the scenes (config scenes.detectors) to ONNX in the layout rtmlib's
RTMDet decodes -> a folder with model.onnx and export.json (its input height and width)."""
import argparse
import sys
from pathlib import Path

from posebench import warm
from posebench.runtimes.export import export_detector
from posebench.runtimes.names import RTMLIB_BACKEND


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="the detector's name in config scenes.detectors")
    parser.add_argument("config", help="its config inside the mmpose package's .mim folder")
    parser.add_argument("output", type=Path, help="results/detectors/{name}")
    args = parser.parse_args()
    warm.hand_over(RTMLIB_BACKEND, __file__, sys.argv[1:])
    record = export_detector(args.name, args.config, args.output)
    print("%s: %s at %s" % (record["status"], args.output / "model.onnx", "x".join(map(str, record["input_size"]))))


if __name__ == "__main__":
    main()
