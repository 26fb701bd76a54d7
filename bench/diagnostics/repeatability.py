"""How well a run repeats: two complete runs of the same subset, A then B, cell by cell. For each
cell the ratio A / B of the mean FPS (raw, and scaled by each round's machine-speed probe), then
the median and 90th percentile of |A/B - 1|, the worst cell, whether every cell off by more
than the tolerance was marked in A or in B, how many cells each run marked, how often each run's
95% interval holds the other run's mean, the rounds each cell took and the largest probe shift
(what the p mark reads) in each run; and whether the machine itself moved between the runs
(every cell faster in one of them), which no run's own rounds see; and, where the runs' rounds
read the CPUs' placement, what being apart did to a round's FPS (placement_effect)."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import pandas as pd

from posebench.measure.placement import APART_FACTOR
from posebench.report.measurements import CELL_KEYS, MEASURED, with_probe_deviations
from posebench.stats import geometric_mean, percent_text, sign_test

OFF = 0.10


NO_FIT = {"apart_factor": float("nan"), "apart_log_se": float("nan")}


def apart_fit(rounds: pd.DataFrame) -> Dict[str, float]:
    """Over rounds with the CPUs apart (1) or together (0) at both ends: least squares of each
    round's log FPS on whether they were apart and on its probe shift (log), all three taken about
    their cell's means (a cell's own level drops out, and a cell whose rounds were all one way
    says nothing about the placement). The factor being apart put on FPS beyond what the probe
    saw, and its standard error in log terms; NaN with fewer than two rounds of each kind."""
    counts = rounds["apart"].value_counts()
    if min(counts.get(0.0, 0), counts.get(1.0, 0)) < 2:
        return dict(NO_FIT)
    variables = pd.DataFrame({"log_fps": np.log(rounds["fps_mean"]), "apart": rounds["apart"],
                              "log_probe": np.log1p(rounds["probe_shift"])})
    centred = variables - variables.groupby([rounds[key] for key in CELL_KEYS]).transform("mean")
    design, outcome = centred[["apart", "log_probe"]].to_numpy(), centred["log_fps"].to_numpy()
    degrees = len(rounds) - rounds.groupby(CELL_KEYS).ngroups - design.shape[1]
    if degrees < 1:
        return dict(NO_FIT)
    coefficients = np.linalg.lstsq(design, outcome, rcond=None)[0]
    residual = outcome - design @ coefficients
    covariance = residual @ residual / degrees * np.linalg.pinv(design.T @ design)
    return {"apart_factor": float(np.exp(coefficients[0])), "apart_log_se": float(np.sqrt(covariance[0, 0]))}


def placement_effect(measurements: pd.DataFrame) -> pd.DataFrame:
    """Per batch size, the share of measured rounds with the CPUs apart at both ends (apart_share
    1) and the factor that put on their FPS beyond the probe (apart_fit): how much the host's
    placement moved that batch size's numbers in this run."""
    rounds = with_probe_deviations(measurements[measurements["status"] == MEASURED])
    rounds = rounds[rounds["apart"].isin([0.0, 1.0])]
    rows = [dict({"batch_size": size, "rounds": len(sized), "apart_share": float(sized["apart"].mean())},
                 **apart_fit(sized))
            for size, sized in rounds.groupby("batch_size")]
    return pd.DataFrame(rows, columns=["batch_size", "rounds", "apart_share", "apart_factor", "apart_log_se"])


def paired_cells(a_cells: pd.DataFrame, b_cells: pd.DataFrame,
                 run_probes: Optional[Tuple[pd.Series, pd.Series]] = None) -> pd.DataFrame:
    """A row per cell measured in both runs: both means, the ratios A / B of raw FPS and of FPS
    per GFLOP/s of probe (FPS as if every round had run on a machine of the same speed), and
    whether A or B marked the cell unsteady. Given the runs' probe medians by device (A's, B's:
    run_probe_medians), also A / B scaled by its device's (`run_scaled_ratio`): the machine's
    shift between the runs, read by the probe over the whole run rather than round by round."""
    keep = ["fps_mean", "fps_per_probe", "unsteady", "rounds", "ci_low", "ci_high", "ci_half_width", "rerun_low",
            "rerun_high", "probe_shift"]
    a = a_cells[a_cells["status"] == MEASURED].set_index(CELL_KEYS)[keep]
    b = b_cells[b_cells["status"] == MEASURED].set_index(CELL_KEYS)[keep]
    both = a.merge(b, left_index=True, right_index=True, suffixes=("_a", "_b"))
    both["ratio"] = both["fps_mean_a"] / both["fps_mean_b"]
    both["scaled_ratio"] = both["fps_per_probe_a"] / both["fps_per_probe_b"]
    if run_probes:
        device = both.index.get_level_values("device")
        both["run_scaled_ratio"] = both["ratio"] * device.map(run_probes[1]) / device.map(run_probes[0])
    both["marked_a"] = both["unsteady_a"].fillna("").astype(bool)
    both["marked_b"] = both["unsteady_b"].fillna("").astype(bool)
    both["flagged"] = both["marked_a"] | both["marked_b"]
    # the interval's centre is the mean of the round means, the quantity the interval is about
    centre_a, centre_b = (both["ci_low_a"] + both["ci_high_a"]) / 2, (both["ci_low_b"] + both["ci_high_b"]) / 2
    both["a_holds_b"] = centre_b.between(both["ci_low_a"], both["ci_high_a"])
    both["b_holds_a"] = centre_a.between(both["ci_low_b"], both["ci_high_b"])
    both["a_rerun_holds_b"] = centre_b.between(both["rerun_low_a"], both["rerun_high_a"])
    both["b_rerun_holds_a"] = centre_a.between(both["rerun_low_b"], both["rerun_high_b"])
    return both.reset_index()


def run_summary(pairs: pd.DataFrame, min_rounds: int) -> Dict[str, object]:
    """What the method costs and promises, over both runs: cells marked, interval coverage (each
    run's interval against the other's mean, both ways), rounds per cell, and each run's largest
    |probe shift| (how far a machine that did not change leaves the p mark's statistic)."""
    rounds = pd.concat([pairs["rounds_a"], pairs["rounds_b"]])
    return {
        "marked_a": int(pairs["marked_a"].sum()), "marked_b": int(pairs["marked_b"].sum()),
        "marked_share": float(pd.concat([pairs["marked_a"], pairs["marked_b"]]).mean()),
        "coverage": float(pd.concat([pairs["a_holds_b"], pairs["b_holds_a"]]).mean()),
        "rerun_coverage": float(pd.concat([pairs["a_rerun_holds_b"], pairs["b_rerun_holds_a"]]).mean()),
        "mean_rounds": float(rounds.mean()),
        "cell_runs_beyond_min_rounds": int((rounds > min_rounds).sum()),
        "cell_runs": int(len(rounds)),
        "largest_probe_shift_a": float(pairs["probe_shift_a"].abs().max()),
        "largest_probe_shift_b": float(pairs["probe_shift_b"].abs().max()),
    }


def summary(pairs: pd.DataFrame, column: str = "ratio") -> Dict[str, object]:
    off = (pairs[column] - 1).abs()
    worst = off.idxmax()
    missed = pairs[(off > OFF) & ~pairs["flagged"]]
    return {
        "cells": int(len(pairs)),
        "median_abs_deviation": float(off.median()),
        "p90_abs_deviation": float(np.percentile(off, 90)),
        "worst_cell": "%s %s bs=%d" % (pairs.at[worst, "id"], pairs.at[worst, "device"], pairs.at[worst, "batch_size"]),
        "worst_ratio": float(pairs.at[worst, column]),
        "cells_off_by_more_than_10pct": int((off > OFF).sum()),
        "of_them_unflagged": int(len(missed)),
    }


def machine_shift(pairs: pd.DataFrame, column: str = "ratio") -> Dict[str, object]:
    """A common factor between the runs: the geometric mean of A/B over the cells, how many cells
    each run had faster, a two-sided sign test of those counts (a p-value near 0: the machine, not
    the cells, moved), and |A/B - 1| once that factor is divided out (the scatter the method
    itself leaves)."""
    ratios = pairs[column].to_numpy(dtype=float)
    common = geometric_mean(ratios)
    signs = sign_test(ratios)
    residual = np.abs(ratios / common - 1)
    return {
        "geometric_mean_ratio": common, "a_faster": signs["higher"], "b_faster": signs["lower"],
        "sign_test_p": signs["p_value"],
        "median_abs_deviation_without_shift": float(np.median(residual)),
        "p90_abs_deviation_without_shift": float(np.percentile(residual, 90)),
    }


def foresight_line(pairs: pd.DataFrame, check: Dict[str, object]) -> str:
    """The machine check's forecast (check_machine.py --json: the half-width its max_rounds could
    reach, and the target) beside the half-widths the runs' cells reached, so that the verdict is
    checked against the rounds that followed it."""
    widths = {run: pairs["ci_half_width_" + run] for run in "ab"}
    within = sum(int((width <= check["target"]).sum()) for width in widths.values())
    return ("- the machine check foresaw ±%s after %d rounds (%s); the cells' 95%% intervals reached a median "
            "half-width of ±%s in A and ±%s in B, %d of %d cell-runs within the ±%s target"
            % (percent_text(check["reachable_half_width"]), check["max_rounds"],
               "quiet" if check["quiet"] else "not quiet", percent_text(widths["a"].median()),
               percent_text(widths["b"].median()), within, 2 * len(pairs), percent_text(check["target"])))


def placement_line(placements: Dict[str, pd.DataFrame]) -> str:
    """Per run, how often the host had the CPUs apart and what it did to the FPS (placement_effect:
    a round's FPS against its cell's others, with its probe's shift taken out)."""
    parts = []
    for run, effect in placements.items():
        sizes = ["%.0f%% of the rounds at batch %d (%s)"
                 % (100 * row.apart_share, row.batch_size, "too few of one kind" if np.isnan(row.apart_factor)
                    else "FPS ×%.3f ± %.1f%%" % (row.apart_factor, 100 * row.apart_log_se))
                 for row in effect.itertuples()]
        parts.append("%s: %s" % (run, ", ".join(sizes) if sizes else "no round trips recorded"))
    return ("- the CPUs apart (round trip over %.1f× the run's 10th percentile, at both ends of a round), and what "
            "it did to a round's FPS beyond its probe (± a standard error): %s" % (APART_FACTOR, "; ".join(parts)))


def render(pairs: pd.DataFrame, label: str, min_rounds: int, machine_check: str = "",
           check: Optional[Dict[str, object]] = None, placements: Optional[Dict[str, pd.DataFrame]] = None) -> str:
    """The pairs, their summary lines, the machine check from before the runs where given (its
    text, and its figures for the forecast against the cells), and the CPUs' placement in each
    run where given (placement_effect, by run)."""
    table = pairs.assign(
        a=pairs["fps_mean_a"].round(2), b=pairs["fps_mean_b"].round(2), ratio=pairs["ratio"].round(3),
        scaled_ratio=pairs["scaled_ratio"].round(3), marked_a=pairs["unsteady_a"].fillna(""),
        marked_b=pairs["unsteady_b"].fillna(""), holds=(pairs["a_holds_b"].astype(int) + pairs["b_holds_a"].astype(int)),
    )[["id", "device", "batch_size", "a", "b", "ratio", "scaled_ratio", "rounds_a", "rounds_b", "marked_a", "marked_b",
       "holds"]]
    runs = run_summary(pairs, min_rounds)
    lines = ["## %s" % label, ""]
    if machine_check:
        lines += ["Before the runs, `make machine-check`:", "", "```", machine_check.rstrip("\n"), "```", ""]
    lines += [table.to_markdown(index=False), "",
             "`holds`: how many of the two intervals hold the other run's mean (0, 1 or 2).", ""]
    lines.append(
        "- marked: %d of %d cells in A, %d in B (%.0f%% of cell-runs); 95%% intervals of the mean holding the "
        "other run's mean: %.0f%% (re-run intervals: %.0f%%); rounds per cell: %.2f on average, %d of %d "
        "cell-runs beyond min_rounds (%d); largest |probe shift| of a cell (the p mark's statistic): %.1f%% in A, "
        "%.1f%% in B"
        % (runs["marked_a"], len(pairs), runs["marked_b"], 100 * runs["marked_share"], 100 * runs["coverage"],
           100 * runs["rerun_coverage"], runs["mean_rounds"], runs["cell_runs_beyond_min_rounds"], runs["cell_runs"],
           min_rounds, 100 * runs["largest_probe_shift_a"], 100 * runs["largest_probe_shift_b"])
    )
    scalings = [("ratio", "raw FPS"), ("scaled_ratio", "FPS scaled by the probe"),
                ("run_scaled_ratio", "FPS scaled by each run's probe median")]
    for column, name in (scaling for scaling in scalings if scaling[0] in pairs):
        found = summary(pairs, column)
        lines.append(
            "- %s: median |A/B − 1| %.1f%%, 90th percentile %.1f%%, worst %s (A/B %.3f); %d of %d cells off by "
            "more than 10%%, %d of them unflagged in A and B"
            % (name, 100 * found["median_abs_deviation"], 100 * found["p90_abs_deviation"], found["worst_cell"],
               found["worst_ratio"], found["cells_off_by_more_than_10pct"], found["cells"], found["of_them_unflagged"])
        )
    shift = machine_shift(pairs)
    lines.append(
        "- the machine between the runs: A/B %.3f over all cells (geometric mean), A faster in %d cells and B in %d "
        "(sign test p = %.2g); with that factor divided out, median |A/B − 1| %.1f%%, 90th percentile %.1f%%"
        % (shift["geometric_mean_ratio"], shift["a_faster"], shift["b_faster"], shift["sign_test_p"],
           100 * shift["median_abs_deviation_without_shift"], 100 * shift["p90_abs_deviation_without_shift"])
    )
    if check:
        lines.append(foresight_line(pairs, check))
    if placements:
        lines.append(placement_line(placements))
    return "\n".join(lines) + "\n"


def run_factors(cells_by_run: Dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Several complete runs of the same subset, in the order they ran: per run, its speed as a
    whole (the geometric mean, over the cells measured in every run, of the cell's FPS over the
    cell's geometric mean across the runs), and the machine shift (machine_shift) from the run
    before it. Whether the order of two runs matters shows as the first run of each pair standing
    above or below the second, whatever the machine did over the whole series."""
    fps = pd.DataFrame({
        name: cells[cells["status"] == MEASURED].set_index(CELL_KEYS)["fps_mean"] for name, cells in cells_by_run.items()
    }).dropna()
    logs = np.log(fps)
    factors = np.exp(logs.sub(logs.mean(axis=1), axis=0).mean())
    rows = []
    names = list(fps.columns)
    for position, name in enumerate(names):
        row = {"run": name, "factor": float(factors[name]), "cells": int(len(fps))}
        if position:
            shift = machine_shift(pd.DataFrame({"ratio": fps[names[position - 1]] / fps[name]}))
            row.update(ratio_to_previous=shift["geometric_mean_ratio"], previous_faster=shift["a_faster"],
                       faster=shift["b_faster"], sign_test_p=shift["sign_test_p"])
        rows.append(row)
    return pd.DataFrame(rows)


def first_over_second(factors: pd.DataFrame) -> float:
    """Runs taken two by two (A, B, A, B...): the geometric mean over the pairs of the first run's
    factor over the second's (above 1: the first run of a pair reads faster)."""
    values = factors["factor"].to_numpy(dtype=float)
    pairs = len(values) // 2
    return float(np.exp(np.mean(np.log(values[0:2 * pairs:2] / values[1:2 * pairs:2]))))
