"""Before a long run: is this machine quiet enough for the timing target? Reads the probe (the
3x3 convolution every round reads) every half second for --seconds with the rounds' threads, with
the CPU time other processes and the hypervisor took meanwhile and where the host put the CPUs,
and says how narrow the intervals can get (`make machine-check`). Exits 0 either way: the verdict
is information, not an error; with --until-quiet it checks again until one check says quiet, and
exits 1 where none did in time (`make repeatability UNTIL_QUIET=3600` waits so, and runs nothing
on a machine that stayed noisy). --log keeps every check's figures, a row each as it ends."""
import argparse
import csv
import json
import socket
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))
from diagnostics.quietness import CHECK_LOG_FIELDS, check_record, quietness, render, sample, until_quiet, wait_text  # noqa: E402
from posebench.measure.environment import cpu_model, default_threads  # noqa: E402
from posebench.measure.probe import probe_kernel  # noqa: E402
from posebench.measure.timing import prepare_device  # noqa: E402


def timing_goal(config: Path):
    """The config's timing.target and timing.max_rounds; a one-line error where it has none."""
    try:
        timing = (yaml.safe_load(config.read_text()) or {}).get("timing") or {}
    except (OSError, yaml.YAMLError) as error:
        sys.exit("%s: %s" % (config, error))
    try:
        return float(timing["target"]), int(timing["max_rounds"])
    except (KeyError, TypeError, ValueError):
        sys.exit("%s: field timing.target or timing.max_rounds: missing or not a number" % config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60, help="how long to probe")
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"), help="its timing target and max_rounds")
    parser.add_argument("--threads", type=int, default=None, help="default: the rounds' (the physical cores)")
    parser.add_argument("--json", type=Path, help="also write the figures and every reading here")
    parser.add_argument("--until-quiet", type=float, default=0, metavar="SECONDS",
                        help="check again until a check says quiet, for at most this long; exit 1 if none did")
    parser.add_argument("--log", type=Path, help="a CSV row here for every check, written as it ends")
    args = parser.parse_args()
    target, max_rounds = timing_goal(args.config)
    import torch

    prepare_device("cpu", args.threads or default_threads())
    probe = probe_kernel("cpu")

    def check():
        sampled = sample(probe, args.seconds)
        # the placement matters to rounds of two or more threads only
        round_trips = sampled["round_trips"] if torch.get_num_threads() > 1 else []
        found = quietness(sampled["gflops"], sampled["others_share"], sampled["steal_share"], target, max_rounds,
                          args.seconds, round_trips)
        # every reading, so that the verdict can be checked against the rounds of a run that follows
        return dict(found, probe_gflops_per_s=sampled["gflops"], load1=sampled["load1"], round_trip_ns=round_trips)

    log = CheckLog(args.log) if args.log else None

    def report(attempt: int, found: dict) -> None:
        if args.until_quiet:
            report_progress(attempt, found)
        if log:
            log.write(check_record(attempt, found, time.time()))

    # without a wait, until_quiet makes the one check: a single check is logged the same way
    found = until_quiet(check, args.until_quiet, report=report)
    print("\n".join(render(found, args.seconds, "%s (%s, %d threads)" % (
        socket.gethostname(), cpu_model(), torch.get_num_threads()))))
    if args.until_quiet and not found["quiet"]:
        sys.exit("check_machine.py: no check in %.0f s said quiet (%d checks, the last: %s; %s)"
                 % (args.until_quiet, found["checks"], "; ".join(found["reasons"]), wait_text(found["waited"])))
    if args.json:
        args.json.write_text(json.dumps(found, indent=1) + "\n")


class CheckLog:
    """A wait's log: the header at once, then a row for every check as it ends, so that a wait
    that is stopped still holds the checks it made."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("w", newline="")
        self.writer = csv.DictWriter(self.handle, ["check", "ended_utc"] + CHECK_LOG_FIELDS + ["reasons"])
        self.writer.writeheader()
        self.handle.flush()

    def write(self, record: dict) -> None:
        self.writer.writerow(record)
        self.handle.flush()


def report_progress(attempt: int, found: dict) -> None:
    """One line per check on stderr, so that a wait for a quiet hour shows how it goes."""
    verdict = "quiet" if found["quiet"] else "not quiet: " + "; ".join(found["reasons"])
    print("%s check %d: probe median %.0f GFLOP/s, %s" % (time.strftime("%H:%M:%S"), attempt, found["median"], verdict),
          file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
