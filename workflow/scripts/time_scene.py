"""Time one scene (a detector plus a top-down model, or a one-stage or bottom-up model) on whole
frames with N people, one round -> JSON shaped as a timing round's (posebench/scenes/frames.py).

Progress goes to stdout as it happens; the rule sends it to the log. Like a timing round, it runs
in a child forked from the backend's warm process where there is one.
"""
import argparse
import functools
import json
import sys
from pathlib import Path

from posebench import warm
from posebench.measure.environment import default_threads
from posebench.records import read_json, write_json
from posebench.scenes.frames import time_scene


def detector_arg(text):
    """NAME=CONFIG: the detector's name in config scenes.detectors, and its config file."""
    name, _, config = text.partition("=")
    if not name or not config:
        raise argparse.ArgumentTypeError("expected NAME=CONFIG, got %r" % text)
    return {"name": name, "config": config}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("resolved", type=Path, help="results/resolved/{id}.json of the pose model")
    parser.add_argument("output", type=Path, help="results/scenes/{scene}/{device}/round{N}.json")
    parser.add_argument("--scene", required=True, help="the scene's id: DETECTOR+MODEL, or MODEL")
    parser.add_argument("--detector", type=detector_arg, help="NAME=CONFIG (inside mmpose's .mim folder); top-down only")
    parser.add_argument("--stack", default="mmpose", help="what runs a top-down pipeline: mmpose or rtmlib-RUNTIME")
    parser.add_argument("--pose-export", type=Path, help="results/onnx/{id}: the pose model's export (rtmlib)")
    parser.add_argument("--detector-export", type=Path, help="results/detectors/{name}: the detector's (rtmlib)")
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--device", required=True, choices=["cpu", "cuda"])
    parser.add_argument("--people", type=int, nargs="+", required=True)
    parser.add_argument("--frame-size", type=int, nargs=2, required=True, metavar=("HEIGHT", "WIDTH"))
    parser.add_argument("--policy", type=json.loads, required=True, help="the iteration policy, as JSON")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    resolved = read_json(args.resolved)
    warm.hand_over(resolved["backend"], __file__, sys.argv[1:], warm.round_server(args.round))
    record = time_scene(
        args.scene, resolved, args.detector, args.device, args.people, args.frame_size, args.policy,
        args.threads or default_threads(), functools.partial(print, flush=True), args.round,
        {"name": args.stack, "pose_export": args.pose_export, "detector_export": args.detector_export},
    )
    record.update(warm.round_process())
    write_json(args.output, record)


if __name__ == "__main__":
    main()
