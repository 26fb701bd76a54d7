"""How sure a measurement is: the statistics of one cell over its rounds, and whether two runs'
cells differ by more than their noise. Pure numbers in, numbers out (numpy and scipy)."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np

CONFIDENCE = 0.95
FASTER, SLOWER, WITHIN_NOISE, NOT_COMPARED = "faster", "slower", "within noise", "–"


def scipy_stats():
    """scipy.stats, imported where it is first used: its import takes a second, and every Snakemake
    invocation imports this module to plan the rounds, though most compute no interval."""
    from scipy import stats

    return stats


def fps_values(seconds: Sequence[float]) -> np.ndarray:
    return 1.0 / np.asarray(seconds, dtype=float)


def confidence_interval(round_means: Sequence[float], fps: Sequence[float]) -> Dict[str, float]:
    """A 95% Student's t interval of the mean FPS, its half-width relative to its centre, and where
    a re-run's mean should fall (95%, if the machine is the same). Its
    unit is the round when there are two or more (iterations within one process are not
    independent; rounds are); with one round, the iterations, which understates what a re-run
    would show."""
    sample = np.asarray(round_means if len(round_means) >= 2 else fps, dtype=float)
    if len(sample) < 2:
        nan = float("nan")
        return {"ci_low": nan, "ci_high": nan, "ci_half_width": nan, "rerun_low": nan, "rerun_high": nan}
    half = t_half_width(float(np.std(sample, ddof=1)), len(sample))
    centre = float(np.mean(sample))
    # a re-run's mean (as many rounds, the same machine) has its own error: the difference of two
    # such means spreads sqrt(2) times as far, so even a perfect 95% interval of this run's mean
    # holds a re-run's mean only about 83% of the time; this one holds it 95% of the time
    rerun = half * np.sqrt(2)
    return {"ci_low": centre - half, "ci_high": centre + half, "ci_half_width": float(half / centre),
            "rerun_low": centre - rerun, "rerun_high": centre + rerun}


def t_half_width(spread: float, count: int) -> float:
    """Half the width of the 95% Student's t interval of a mean of `count` values whose standard
    deviation is `spread`: t(0.975, count - 1) × spread / √count."""
    return float(scipy_stats().t.ppf(0.5 + CONFIDENCE / 2, count - 1) * spread / np.sqrt(count))


def relative_half_width(round_means: Sequence[float]) -> float:
    """The 95% interval's half-width over the round means, relative to their mean: how far the
    cell's mean may stand from the truth. Infinite with fewer than two rounds (unknown)."""
    if len(round_means) < 2:
        return float("inf")
    return confidence_interval(round_means, round_means)["ci_half_width"]


def percent_text(fraction: float) -> str:
    """A relative width as a reader compares it with a target of a few percent: one decimal
    under 10% (a 3.4% interval is not "3%", wider than a 3% target), none above."""
    percent = 100 * fraction
    return ("%.1f" % percent if percent < 10 else "%.0f" % percent) + "%"


def latency_percentiles(seconds: Sequence[float]) -> Dict[str, float]:
    """p50, p90 and p99 of the per-iteration seconds (MLPerf's single-stream scenario reports the
    90th): what a deployment engineer reads as latency."""
    p50, p90, p99 = np.percentile(np.asarray(seconds, dtype=float), [50, 90, 99])
    return {"latency_p50_s": float(p50), "latency_p90_s": float(p90), "latency_p99_s": float(p99)}


def coefficient_of_variation(values: Sequence[float], ddof: int = 1) -> float:
    """std / mean; NaN with too few values."""
    values = np.asarray(values, dtype=float)
    if len(values) <= ddof:
        return float("nan")
    return float(np.std(values, ddof=ddof) / np.mean(values))


def cell_statistics(rounds_seconds: List[Sequence[float]]) -> Dict[str, float]:
    """A cell over all its rounds: the seed's mean ± population std of per-iteration FPS over
    every iteration of every round, their median, the interval (and its relative half-width), the
    two spreads, and the latency percentiles over every iteration."""
    per_round = [fps_values(seconds) for seconds in rounds_seconds]
    everything = np.concatenate(per_round)
    round_means = [float(np.mean(fps)) for fps in per_round]
    seconds = np.concatenate([np.asarray(values, dtype=float) for values in rounds_seconds])
    return dict(
        confidence_interval(round_means, everything),
        **latency_percentiles(seconds),
        fps_mean=float(np.mean(everything)),
        fps_std=float(np.std(everything)),
        fps_median=float(np.median(everything)),
        rounds=len(per_round),
        iterations=int(len(everything)),
        within_round_cv=max(coefficient_of_variation(fps, ddof=0) for fps in per_round),
        between_round_cv=coefficient_of_variation(round_means),
    )


def significance(ours: List[Sequence[float]], theirs: List[Sequence[float]]) -> Dict[str, object]:
    """p-value of a difference in FPS between two cells, each given as its rounds' per-iteration
    FPS. With two or more rounds on each side: Welch's t-test over the round means (the rounds are
    the independent samples; with 3 rounds a side, a rank test cannot go below p = 0.1). Otherwise
    the Mann-Whitney U test over the iterations."""
    if len(ours) >= 2 and len(theirs) >= 2:
        ours_means = [float(np.mean(fps)) for fps in ours]
        theirs_means = [float(np.mean(fps)) for fps in theirs]
        if np.std(ours_means) == 0 and np.std(theirs_means) == 0:
            p_value = 1.0 if ours_means[0] == theirs_means[0] else 0.0
        else:
            p_value = float(scipy_stats().ttest_ind(ours_means, theirs_means, equal_var=False).pvalue)
        return {"test": "welch rounds", "p_value": p_value}
    result = scipy_stats().mannwhitneyu(np.concatenate(ours), np.concatenate(theirs), alternative="two-sided")
    return {"test": "mann-whitney iterations", "p_value": float(result.pvalue)}


def verdict(
    ours: List[Sequence[float]], theirs: List[Sequence[float]], threshold: float, alpha: float
) -> Dict[str, object]:
    """faster / slower / within noise: a difference counts when the mean FPS differ by more than
    `threshold` (relative) and the test finds it at level `alpha`."""
    ours_mean = float(np.mean(np.concatenate(ours)))
    theirs_mean = float(np.mean(np.concatenate(theirs)))
    ratio = ours_mean / theirs_mean
    found = significance(ours, theirs)
    real = abs(ratio - 1) > threshold and found["p_value"] < alpha
    word = (FASTER if ratio > 1 else SLOWER) if real else WITHIN_NOISE
    return dict(found, ratio=ratio, verdict=word)


def geometric_mean(values: Sequence[float]) -> Optional[float]:
    values = [value for value in values if value]
    return float(scipy_stats().gmean(values)) if values else None


def sign_test(ratios: Sequence[float]) -> Dict[str, object]:
    """How many ratios (first over second) stand above 1 and how many below, and a two-sided sign
    test of those counts: a p-value near 0 says the first is faster or slower as a whole (the
    machine moved), whatever each cell's own noise."""
    ratios = np.asarray([value for value in ratios if value], dtype=float)
    higher, lower = int((ratios > 1).sum()), int((ratios < 1).sum())
    p_value = float(scipy_stats().binomtest(higher, higher + lower).pvalue) if higher + lower else 1.0
    return {"higher": higher, "lower": lower, "p_value": p_value}
