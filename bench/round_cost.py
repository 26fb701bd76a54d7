"""Where a round job's wall time goes, from the timing records of complete runs: per round job,
the process's phases (interpreter start-up, imports, model build, the probe's set-up, the batch
sizes' warm-ups, probe readings and timed iterations, the peak, the rest), and Snakemake's own
share: the gap from one round process's end to the next one's start (the rounds run one at a
time, each taking every core).

    .venvs/driver/bin/python bench/round_cost.py bench/work/default-A bench/work/default-B \\
        --output bench/results/default-round-cost.md
"""
import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

from diagnostics.round_cost import job_phases, render  # noqa: E402
from posebench.records import read_json, write_text  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="a run's folder (with results/timing/)")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    args = parser.parse_args()
    sections = []
    for run in args.runs:
        records = [read_json(path) for path in sorted((run / "results" / "timing").glob("*/*/*/round*.json"))]
        sections.append(render(job_phases(records), str(run.relative_to(REPO) if run.is_relative_to(REPO) else run)))
    text = "\n".join(sections)
    print(text)
    if args.output:
        write_text(args.output, text)


if __name__ == "__main__":
    main()
