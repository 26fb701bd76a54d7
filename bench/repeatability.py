"""Repeatability: run the same subset twice, A then B, each a complete run of the pipeline into
its own folder, and print per cell A/B, the median and 90th percentile of |A/B - 1|, the worst
cell, and whether every cell off by more than 10% was flagged unsteady in A or B; for raw FPS,
for FPS scaled by the machine-speed probe round by round, and for FPS scaled by each run's probe
median.

Run with the driver's interpreter, from the repository root (`make repeatability` runs it with
the configured default; `make repeatability-one-round` with one round of the seed's 20 s, the old
method):
    .venvs/driver/bin/python bench/repeatability.py --label default --output bench/results/default.md
"""
import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

import yaml  # noqa: E402
from diagnostics.repeatability import paired_cells, placement_effect, render  # noqa: E402
from diagnostics.workspace import copy_workflow  # noqa: E402
from posebench.records import write_text  # noqa: E402
from posebench.report.measurements import read_table, run_probe_medians  # noqa: E402

MODELS = [
    "res50_coco_256x192", "hrnet_w32_coco_256x192", "mobilenetv2_coco_256x192", "shufflenetv1_coco_256x192",
    "shufflenetv2_coco_256x192", "litehrnet_30_coco_256x192", "deeppose_res50_coco_256x192",
    "ae_mobilenetv2_coco_512x512",
]


SECONDS = "run_seconds.txt"


def fresh_copy(folder: Path) -> None:
    """The workflow alone, without results: a complete run from nothing."""
    if folder.exists():
        shutil.rmtree(folder)
    copy_workflow(REPO, folder)


def run(folder: Path, models, timing: str, cores: int, extra) -> float:
    fresh_copy(folder)
    command = [str(REPO / ".venvs" / "driver" / "bin" / "snakemake"), "--cores", str(cores), "results/cells.csv",
               "--config", "select=[%s]" % ",".join(models), timing] + list(extra)
    start = time.monotonic()
    print("%s: %s" % (folder.name, " ".join(command)), flush=True)
    done = subprocess.run(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        sys.exit("run %s failed:\n%s" % (folder, done.stderr[-3000:]))
    seconds = time.monotonic() - start
    (folder / SECONDS).write_text("%.1f\n" % seconds)
    return seconds


def recorded_seconds(folder: Path) -> float:
    """A finished run's wall time, as run() recorded it (nan for a run from before it did)."""
    path = folder / SECONDS
    return float(path.read_text()) if path.exists() else float("nan")


def min_rounds(timing: str) -> int:
    """The runs' min_rounds: from --timing, else the config's."""
    given = yaml.safe_load("{%s}" % timing) or {}
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return int(given.get("min_rounds", config["timing"]["min_rounds"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timing", default="", help="timing settings of both runs, as YAML inside {} "
                        "(default: the config's), e.g. 'min_rounds: 1, max_rounds: 1, budget_s: 20, min_iterations: 3'")
    parser.add_argument("--label", required=True, help="names the two runs' folders: <label>-A, <label>-B")
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work", help="where the two runs go")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    parser.add_argument("--summarize-only", action="store_true",
                        help="run nothing: summarize the two runs already in the work folder")
    parser.add_argument("--config", nargs="*", default=[], help="more --config settings for both runs")
    parser.add_argument("--machine-check", type=Path, help="check_machine.py's verdict from before the runs, "
                        "printed above them")
    parser.add_argument("--machine-check-json", type=Path, help="its --json figures: its forecast is set beside the "
                        "half-widths the cells reached")
    args = parser.parse_args()
    folders = [args.work / ("%s-%s" % (args.label, run_name)) for run_name in "AB"]
    # the pair reads where the host put the CPUs, for its placement line (a default run does not)
    timing = "timing=%s" % json.dumps(dict({"read_placement": True}, **(yaml.safe_load("{%s}" % args.timing) or {})))
    if args.summarize_only:
        seconds = [recorded_seconds(folder) for folder in folders]
    else:
        seconds = [run(folder, args.models, timing, args.cores, args.config) for folder in folders]
    results = [folder / "results" for folder in folders]
    measurements = [read_table(r / "measurements.csv") for r in results]
    probes = [run_probe_medians(table) for table in measurements]
    pairs = paired_cells(*(read_table(r / "cells.csv") for r in results), run_probes=(probes[0], probes[1]))
    text = render(pairs, "`%s` (%d models; run A %.0f s, run B %.0f s)"
                  % (timing, len(args.models), seconds[0], seconds[1]), min_rounds(args.timing),
                  args.machine_check.read_text() if args.machine_check else "",
                  json.loads(args.machine_check_json.read_text()) if args.machine_check_json else None,
                  {"A": placement_effect(measurements[0]), "B": placement_effect(measurements[1])})
    print(text)
    if args.output:
        write_text(args.output, text)


if __name__ == "__main__":
    main()
