"""Does the order of a pair's runs matter? Several complete runs of the same subset, given in
the order they ran (e.g. two `bench/repeatability.py` pairs back to back: A, B, A, B): per run,
when it started, its probe's median on each device, and its speed as a whole against the others (the geometric
mean over the cells of FPS / the cell's mean across the runs), with the shift from the run
before it (A/B, cells faster in each, sign test); then the first run of each pair over the
second. The runs behind `bench/results/run-order.md` (2026-12-02 19:04-20:31 UTC; `make
repeatability` made the default pair between the second and the third):

    for label in order1 order2; do .venvs/driver/bin/python bench/repeatability.py --label $label; done
    make repeatability
    for label in order3 order4; do .venvs/driver/bin/python bench/repeatability.py --label $label; done
    .venvs/driver/bin/python bench/run_order.py bench/work/{order1,order2,default,order3,order4}-{A,B} \\
        --output bench/results/run-order.md
"""
import argparse
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

from diagnostics.repeatability import first_over_second, run_factors  # noqa: E402
from posebench.records import write_text  # noqa: E402
from posebench.report.measurements import read_table, run_probe_medians  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="the runs' folders (with results/), in the order they ran")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    args = parser.parse_args()
    results = {run.name: run / "results" for run in args.runs}
    factors = run_factors({name: read_table(folder / "cells.csv") for name, folder in results.items()})
    measurements = {name: read_table(folder / "measurements.csv") for name, folder in results.items()}
    factors.insert(1, "started", [measurements[name]["started_at"].min()[:19] for name in factors["run"]])
    probes = pd.DataFrame([run_probe_medians(measurements[name]) for name in factors["run"]]).add_prefix("probe_")
    for position, column in enumerate(probes.columns, 2):  # a column per device the runs probed
        factors.insert(position, column, probes[column].to_numpy())
    formats = dict({column: "%.0f" for column in probes.columns}, factor="%.3f", ratio_to_previous="%.3f",
                   previous_faster="%d", faster="%d", sign_test_p="%.2g")
    shown = factors.assign(**{column: factors[column].map(lambda value, form=form: "" if value != value else form % value)
                              for column, form in formats.items()})
    text = "%s\n\nfirst run of a pair over the second (geometric mean over %d pairs): %.3f\n" % (
        shown.to_markdown(index=False), len(factors) // 2, first_over_second(factors))
    print(text)
    if args.output:
        write_text(args.output, text)


if __name__ == "__main__":
    main()
