"""Time one resolved model's test-time step on one device, per batch size -> JSON.

Progress (each warm-up and iteration) goes to stdout as it happens; the rule sends it to the log.
The round runs in a child forked from the backend's warm process (posebench/warm.py), which has
imported torch and MMPose already; with POSEBENCH_WARM=0, or where there is none to be had, in
this process.
"""
import time

ENTERED = time.time()  # before the script's imports: the rest of the process's start-up is the interpreter's

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from posebench import warm  # noqa: E402

from posebench.measure.environment import default_threads  # noqa: E402
from posebench.measure.timing import Phases, time_model  # noqa: E402
from posebench.records import read_json, write_json  # noqa: E402
from posebench.runtimes.names import RUNTIMES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("resolved", type=Path, help="results/resolved/{id}.json")
    parser.add_argument("output", type=Path, help="results/timing/{id}/{device}/{runtime}/round{N}.json")
    parser.add_argument("--round", type=int, default=1, help="which round of this measurement this process is")
    parser.add_argument("--device", required=True, choices=["cpu", "cuda"])
    parser.add_argument("--runtime", default="eager", choices=RUNTIMES)
    parser.add_argument("--export-dir", type=Path, help="results/onnx/{id}: the exported network (onnxruntime)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--policy", type=json.loads, required=True, help="the iteration policy, as JSON")
    parser.add_argument("--threads", type=int, default=None, help="default: a SLURM job's CPUs per task, else the physical cores")
    args = parser.parse_args()
    resolved = read_json(args.resolved)
    warm.hand_over(resolved["backend"], __file__, sys.argv[1:], warm.round_server(args.round))
    threads = args.threads or default_threads()
    progress = functools.partial(print, flush=True)
    timing = time_model(
        resolved, args.device, args.batch_sizes, args.policy, threads, progress,
        args.runtime, args.export_dir, args.round, Phases(ENTERED),
    )
    timing.update(warm.round_process())
    write_json(args.output, timing)


if __name__ == "__main__":
    main()
