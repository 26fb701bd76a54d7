"""How far a run's rounds follow the machine: per measured eager round, its mean FPS over its
cell's median round, against the probe read before and after it over the run's median. Prints
the correlation (log terms), the scatter of the rounds (over the run, and within a cell), what setting aside the rounds whose
probes both read below a cut would leave, and what dividing by the probe would.

    .venvs/driver/bin/python bench/probe_rounds.py published/modern/amd-epyc-2core-vm/measurements.csv
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))
from posebench.report.measurements import CELL_KEYS, mean_probe_reading, run_probe_medians  # noqa: E402

CUTS = (0.6, 0.7, 0.8, 0.9)


def round_ratios(measurements: pd.DataFrame) -> pd.DataFrame:
    """The measured eager rounds with fps_ratio (over the cell's median round), the probe before
    and after (over the run's median, every runtime's readings, as the table's p mark takes it)
    and the lower bound both probes share."""
    medians = run_probe_medians(measurements)
    rounds = measurements[(measurements.status == "measured") & (measurements.runtime == "eager")].copy()
    median_probe = rounds.device.map(medians)
    rounds["fps_ratio"] = rounds.fps_mean / rounds.groupby(CELL_KEYS).fps_mean.transform("median")
    rounds["before"] = rounds.probe_before / median_probe
    rounds["after"] = rounds.probe_after / median_probe
    rounds["both_below"] = rounds[["before", "after"]].max(axis=1)
    rounds["probe_ratio"] = mean_probe_reading(rounds) / median_probe
    return rounds.dropna(subset=["fps_ratio", "probe_ratio"])


def report(path: str) -> None:
    rounds = round_ratios(pd.read_csv(path))
    fps_logs, probe_logs = np.log(rounds.fps_ratio.values), np.log(rounds.probe_ratio.values)
    slope = np.polyfit(probe_logs, fps_logs, 1)[0]
    print("%s: %d rounds" % (path, len(rounds)))
    print("  correlation of log FPS ratio with log probe ratio: %.2f" % np.corrcoef(fps_logs, probe_logs)[0, 1])
    print("  scatter (std of log FPS ratio): %.3f; divided by probe^%.2f (fitted): %.3f; by the probe: %.3f"
          % (np.std(fps_logs), slope, np.std(fps_logs - slope * probe_logs), np.std(fps_logs - probe_logs)))
    rounds["fps_log"], rounds["probe_log"] = fps_logs, probe_logs
    within = rounds.groupby(CELL_KEYS)[["fps_log", "probe_log"]].std().median()
    print("  within a cell (median over cells of the std over its rounds): log FPS %.3f, log probe %.3f; "
          "the run's rounds' probe: %.3f" % (within["fps_log"], within["probe_log"], np.std(probe_logs, ddof=1)))
    for cut in CUTS:
        set_aside = (rounds.both_below < cut).values
        print("  both probes below %.1f: %d rounds (%.1f%%) set aside, the rest scatter %.3f"
              % (cut, set_aside.sum(), 100 * set_aside.mean(), np.std(fps_logs[~set_aside])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("measurements", nargs="+", help="a run's measurements.csv")
    for path in parser.parse_args().measurements:
        report(path)


if __name__ == "__main__":
    main()
