"""The statistics of a cell over its rounds, the unsteady reasons, the verdicts of a comparison
and the round plan, on known numbers."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from posebench.measure.rounds import planned_rounds, wants_another_round, wide_batch_sizes
from posebench.report.measurements import cell_table, measurement_table, probe_summary
from posebench.report.table import probe_lines
from posebench.stats import cell_statistics, relative_half_width, significance, verdict


def test_a_cell_pools_every_iteration_of_every_round_and_its_interval_is_over_the_rounds():
    rounds = [[0.5, 0.25], [0.25, 0.125], [0.5, 0.5]]  # FPS 2, 4 | 4, 8 | 2, 2
    cell = cell_statistics(rounds)
    assert cell["fps_mean"] == pytest.approx(22 / 6)
    assert cell["fps_std"] == pytest.approx(np.std([2, 4, 4, 8, 2, 2]))  # population std
    assert cell["fps_median"] == pytest.approx(3.0)
    assert (cell["rounds"], cell["iterations"]) == (3, 6)
    # round means 3, 6, 2: t interval with 2 degrees of freedom
    half = 4.302652729911275 * np.std([3, 6, 2], ddof=1) / np.sqrt(3)
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((11 / 3 - half, 11 / 3 + half))
    assert cell["ci_half_width"] == pytest.approx(half / (11 / 3))
    # a re-run's mean: the difference of two means of 3 rounds, sqrt(2) times the error of one
    assert (cell["rerun_low"], cell["rerun_high"]) == pytest.approx((11 / 3 - half * 2 ** 0.5, 11 / 3 + half * 2 ** 0.5))
    assert cell["between_round_cv"] == pytest.approx(np.std([3, 6, 2], ddof=1) / (11 / 3))
    assert cell["within_round_cv"] == pytest.approx(2 / 6)  # round 2: std 2 around 6


def test_one_round_falls_back_to_an_interval_over_its_iterations():
    cell = cell_statistics([[0.5, 0.25, 0.25, 0.125]])
    half = stats.t.ppf(0.975, 3) * stats.sem([2, 4, 4, 8])
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((4.5 - half, 4.5 + half))
    assert np.isnan(cell["between_round_cv"])


def timing_record(model, round_number, seconds, probe=(400.0, 400.0), device="cpu", round_trip=(230.0, 240.0)):
    batch = {"status": "measured", "seconds": seconds, "fps_mean": float(np.mean(1 / np.array(seconds))),
             "fps_std": float(np.std(1 / np.array(seconds))), "iterations": len(seconds), "warmup": 5,
             "capped": False, "probe_before": {"probe_gflops_per_s": probe[0], "load1": 0.5, "runnable": 2,
                                               "round_trip_ns": round_trip[0]},
             "probe_after": {"probe_gflops_per_s": probe[1], "load1": 0.6, "runnable": 3, "round_trip_ns": round_trip[1]}}
    return {"id": model, "device": device, "runtime": "eager", "round": round_number, "host": "node1",
            "started_at": "2026-11-25T00:00:0%d+00:00" % round_number, "ended_at": None, "threads": 2,
            "environment": {"host": "node1", "backend": "mmpose1"}, "peak": {"gflops_per_s": 450.0},
            "batches": {"1": batch, "10": {"status": "not applicable", "reason": "one image at a time"}}}


STEADY = [0.1, 0.1, 0.1]


def reasons(records, target=0.03, max_probe=0.2):
    cells = cell_table(measurement_table(records), target, max_probe).set_index(["id", "batch_size"])
    return cells


def test_a_cell_is_marked_only_for_a_wide_interval_or_a_machine_that_changed_under_most_rounds():
    records = [
        # steady rounds, the probe at the run's median
        timing_record("steady", 1, STEADY), timing_record("steady", 2, STEADY),
        # iterations scattered within a round, round means equal: known to the target, no mark
        timing_record("scattered", 1, [0.1, 0.2, 0.05]), timing_record("scattered", 2, [0.2, 0.05, 0.1]),
        # rounds far apart: FPS 10 and 5, t(0.975, 1) x 2.5 / 7.5 = 4.24
        timing_record("drifting", 1, STEADY), timing_record("drifting", 2, [0.2, 0.2, 0.2]),
        # the probe moved during one round, or stood off the median in one round of two: no mark
        timing_record("probe_moved", 1, STEADY, probe=(400.0, 300.0)), timing_record("probe_moved", 2, STEADY),
        # the probe stood 25% below the run's median in both rounds: the machine was slower
        timing_record("slow_spell", 1, STEADY, probe=(300.0, 300.0)),
        timing_record("slow_spell", 2, STEADY, probe=(300.0, 300.0)),
    ] + [timing_record("other%d" % n, 1, STEADY) for n in range(4)]
    cells = reasons(records)
    assert cells.loc[("steady", 1), "unsteady"] == ""
    assert cells.loc[("scattered", 1), "unsteady"] == ""
    assert cells.loc[("scattered", 1), "within_round_cv"] > 0.4
    assert cells.loc[("drifting", 1), "unsteady"] == "interval ±424% after 2 rounds"
    assert cells.loc[("drifting", 1), "ci_half_width"] == pytest.approx(stats.t.ppf(0.975, 1) * 2.5 / 7.5)
    assert cells.loc[("probe_moved", 1), "unsteady"] == ""
    assert cells.loc[("probe_moved", 1), "probe_worst_deviation"] == pytest.approx(0.25)
    assert cells.loc[("slow_spell", 1), "unsteady"] == "probe 25% below the run's median"
    assert cells.loc[("slow_spell", 1), "probe_shift"] == pytest.approx(-0.25)
    assert cells.loc[("steady", 10), "status"] == "not applicable"


def test_a_cell_is_cut_short_when_its_rounds_together_have_fewer_iterations_than_the_seeds_one():
    def rounds(count, iterations):
        records = [timing_record("m", n, [0.1] * iterations) for n in range(1, count + 1)]
        for record in records:
            record["policy"] = {"iterations": 50}
            record["batches"]["1"]["capped"] = True  # each round cut short by its budget
        return records

    assert reasons(rounds(3, 10)).loc[("m", 1), "capped"]  # 30 iterations in all
    assert not reasons(rounds(5, 10)).loc[("m", 1), "capped"]  # 50
    # rounds recorded without their policy: any round cut short
    assert reasons([timing_record("m", 1, STEADY)]).loc[("m", 1), "capped"] == False  # noqa: E712


def test_latency_percentiles_are_over_every_iteration_of_every_round():
    cell = cell_statistics([[0.01 * n for n in range(1, 51)], [0.01 * n for n in range(51, 101)]])
    assert cell["latency_p50_s"] == pytest.approx(np.percentile(np.arange(1, 101) / 100, 50))
    assert (cell["latency_p90_s"], cell["latency_p99_s"]) == pytest.approx((0.901, 0.9901))


def test_another_round_only_for_the_batch_sizes_wider_than_the_target():
    def record(fps_by_size):
        return {"batches": {size: {"status": "measured", "fps_mean": fps} for size, fps in fps_by_size.items()}}

    # bs 1: 10, 10.1, 9.9 FPS (±2.5%); bs 10: 1.0, 1.2, 0.8 (±50%)
    rounds = [record({"1": 10.0, "10": 1.0}), record({"1": 10.1, "10": 1.2}), record({"1": 9.9, "10": 0.8})]
    assert relative_half_width([10.0, 10.1, 9.9]) == pytest.approx(stats.t.ppf(0.975, 2) * 0.1 / np.sqrt(3) / 10)
    assert wide_batch_sizes(rounds, 0.03) == ["10"]
    assert wide_batch_sizes(rounds, 0.6) == []
    assert wide_batch_sizes(rounds, 0.02) == ["1", "10"]
    # one round says nothing of the spread; a failure or a `/` in any round asks for no more
    assert wide_batch_sizes(rounds[:1], 0.6) == ["1", "10"]
    failed = {"batches": {"1": {"status": "failed"}, "10": {"status": "measured", "fps_mean": 1.0}}}
    assert wide_batch_sizes(rounds[:2] + [failed], 0.03) == ["10"]


def test_another_round_until_the_target_the_maximum_or_the_cells_time_is_reached():
    def record(fps, seconds):
        return {"batches": {"1": {"status": "measured", "fps_mean": fps}}, "started_at": "2026-12-01T08:00:01+00:00",
                "process_started_at": "2026-12-01T08:00:00+00:00", "ended_at": "2026-12-01T08:00:%02d+00:00" % seconds}

    wide = [record(10.0, 20), record(12.0, 20), record(8.0, 20)]  # ±50%, 20 s a round
    assert wants_another_round(wide, 0.03, max_rounds=8, max_cell_s=120)
    assert not wants_another_round(wide, 0.6, max_rounds=8, max_cell_s=120)  # within the target
    assert not wants_another_round(wide, 0.03, max_rounds=3, max_cell_s=120)  # at max_rounds
    assert not wants_another_round(wide, 0.03, max_rounds=8, max_cell_s=60)  # 3 x 20 s: its time is spent
    assert wants_another_round(wide, 0.03, max_rounds=8, max_cell_s=61)


def test_the_tidy_table_has_a_row_per_round_with_probe_load_and_host():
    table = measurement_table([timing_record("m", 2, STEADY), timing_record("m", 1, [0.2, 0.1])])
    assert list(table["round"]) == [1, 2, 1, 2]  # sorted by cell, then round
    first = table.iloc[0]
    assert (first["host"], first["probe_before"], first["probe_after"], first["load1_before"], first["runnable_after"],
            first["round_trip_before"], first["round_trip_after"]) == ("node1", 400.0, 400.0, 0.5, 3, 230.0, 240.0)
    assert first["fps_median"] == pytest.approx(7.5) and first["seconds"] == "0.2 0.1"


def test_the_run_says_how_far_the_machine_moved_from_round_to_round():
    # three measured rounds whose probes average 100, 200 and 400 GFLOP/s (one read 300 before
    # and 500 after), and a failed round whose probe must not count
    measurements = pd.DataFrame({
        "device": ["cpu"] * 4, "status": ["measured"] * 3 + ["error"],
        "probe_before": [100.0, 200.0, 300.0, 10.0], "probe_after": [100.0, 200.0, 500.0, 10.0],
    })
    summary = probe_summary(measurements)["cpu"]
    assert summary["median"] == 200.0 and (summary["min"], summary["max"], summary["readings"]) == (100.0, 500.0, 6)
    assert summary["round_scatter"] == pytest.approx(np.log(2))  # logs of 100, 200, 400: one step of log 2
    line = probe_lines({"cpu": summary}, None, None)[0]
    assert line.endswith("range 100–500 over 6 readings; the machine moved ±69% from round to round, "
                         "as far as a cell's rounds scatter when they follow it")


def test_a_difference_counts_only_when_it_is_large_and_the_rounds_agree():
    fast = [np.full(5, 10.0) + offset for offset in (0.0, 0.1, -0.1)]
    slow = [np.full(5, 8.0) + offset for offset in (0.0, 0.1, -0.1)]
    assert verdict(fast, slow, 0.1, 0.05)["verdict"] == "faster"
    assert verdict(slow, fast, 0.1, 0.05)["verdict"] == "slower"
    # 25% apart on average, but the rounds overlap: noise
    wild = [np.full(5, value) for value in (4.0, 16.0, 10.0)]
    assert verdict(wild, slow, 0.1, 0.05)["verdict"] == "within noise"
    # significant but under the threshold
    close = [fps * 1.05 for fps in slow]
    assert verdict(close, slow, 0.1, 0.05)["verdict"] == "within noise"
    assert verdict(close, slow, 0.01, 0.05)["verdict"] == "faster"


def test_one_round_a_side_uses_the_rank_test_over_iterations():
    ours, theirs = [np.arange(10.0, 20.0)], [np.arange(0.0, 10.0)]
    found = significance(ours, theirs)
    assert found["test"] == "mann-whitney iterations"
    assert found["p_value"] == pytest.approx(stats.mannwhitneyu(ours[0], theirs[0]).pvalue)
    assert significance(ours * 2, theirs * 2)["test"] == "welch rounds"


def test_the_round_plan_keeps_rounds_on_disk_and_adds_rounds_only_to_unsteady_cells(tmp_path):
    cells = [("a", "cpu", "eager"), ("b", "cpu", "eager")]
    assert planned_rounds(cells, 3, tmp_path) == {cells[0]: [1, 2, 3], cells[1]: [1, 2, 3]}
    for number in (1, 2, 3, 4):
        path = tmp_path / "timing" / "a" / "cpu" / "eager" / ("round%d.json" % number)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    assert planned_rounds(cells, 3, tmp_path)[cells[0]] == [1, 2, 3, 4]
    pd.DataFrame([{"id": "a", "device": "cpu", "runtime": "eager", "batch_size": 1, "unsteady": ""},
                  {"id": "b", "device": "cpu", "runtime": "eager", "batch_size": 10, "unsteady": "between-round CV 0.2"}]
                 ).to_csv(tmp_path / "cells.csv", index=False)
    plan = planned_rounds(cells, 3, tmp_path, remeasure=2)
    assert plan == {cells[0]: [1, 2, 3, 4], cells[1]: [1, 2, 3, 4, 5]}


def test_the_repeatability_summary_on_known_runs():
    from diagnostics.repeatability import paired_cells, render, run_summary, summary

    def cells(values, flags, rounds=3, half=0.015, shifts=(0.01, -0.02, 0.0, 0.005)):
        return pd.DataFrame([{"id": "m%d" % i, "device": "cpu", "runtime": "eager", "batch_size": 1, "status": "measured",
                              "fps_mean": fps, "fps_per_probe": fps / 100, "unsteady": flag, "rounds": rounds,
                              "probe_shift": shift,
                              "ci_low": fps * (1 - half), "ci_high": fps * (1 + half), "ci_half_width": half,
                              "rerun_low": fps * (1 - 2 * half), "rerun_high": fps * (1 + 2 * half)}
                             for i, (fps, flag, shift) in enumerate(zip(values, flags, shifts))])

    a = cells([10.0, 10.0, 12.0, 5.0], ["", "", "interval ±7% after 8 rounds", ""], rounds=8, half=0.015)
    b = cells([10.0, 9.8, 10.0, 4.0], ["", "", "", ""], rounds=3, half=0.025, shifts=(0.0, 0.03, -0.12, 0.0))
    pairs = paired_cells(a, b)
    found = summary(pairs)
    runs = run_summary(pairs, min_rounds=3)
    assert (runs["marked_a"], runs["marked_b"], runs["marked_share"]) == (1, 0, 1 / 8)
    # A's ±1.5% holds B's mean in m0 only; B's ±2.5% holds A's in m0 and m1 (10 within 9.8 ± 0.245)
    assert list(pairs["a_holds_b"]) == [True, False, False, False]
    assert list(pairs["b_holds_a"]) == [True, True, False, False]
    assert runs["coverage"] == 3 / 8
    # twice as wide: A's ±3% holds m1 (9.8 within 10 ± 0.3); B's ±5% holds m0 and m1, not m2 (12 ∉ 10 ± 0.5)
    assert list(pairs["a_rerun_holds_b"]) == [True, True, False, False]
    assert list(pairs["b_rerun_holds_a"]) == [True, True, False, False]
    assert runs["rerun_coverage"] == 4 / 8
    assert (runs["mean_rounds"], runs["cell_runs_beyond_min_rounds"], runs["cell_runs"]) == (5.5, 4, 8)
    # the largest |shift| each run left: A's -0.02, B's -0.12
    assert (runs["largest_probe_shift_a"], runs["largest_probe_shift_b"]) == pytest.approx((0.02, 0.12))
    # |A/B - 1|: 0, 0.0204, 0.2, 0.25
    assert found["median_abs_deviation"] == pytest.approx((0.0204082 + 0.2) / 2, rel=1e-5)
    assert found["worst_cell"] == "m3 cpu bs=1" and found["worst_ratio"] == pytest.approx(1.25)
    assert (found["cells_off_by_more_than_10pct"], found["of_them_unflagged"]) == (2, 1)
    assert list(pairs["scaled_ratio"]) == pytest.approx(list(pairs["ratio"]))
    # scaled by the runs' probe medians: B's machine read 10% slower, so A / B shrinks by 1.1
    by_run = paired_cells(a, b, run_probes=(pd.Series({"cpu": 220.0, "cuda": 5e4}), pd.Series({"cpu": 200.0})))
    assert list(by_run["run_scaled_ratio"]) == pytest.approx([1 / 1.1, 1 / 0.98 / 1.1, 1.2 / 1.1, 1.25 / 1.1])
    assert "- FPS scaled by each run's probe median: median |A/B − 1| 9.1%" in render(by_run, "runs", 3)
    assert "each run's probe median" not in render(pairs, "runs", 3)
    # the machine check from before the runs stands under the heading, as the command printed it
    text = render(pairs, "runs", 3, "machine: vm\nquiet: a run here can reach its target\n")
    assert text.startswith("## runs\n\nBefore the runs, `make machine-check`:\n\n```\nmachine: vm\n"
                           "quiet: a run here can reach its target\n```\n\n| id ")
    assert render(pairs, "runs", 3).startswith("## runs\n\n| id ")
    assert "largest |probe shift| of a cell (the p mark's statistic): 2.0% in A, 12.0% in B" in text
    # the machine check's forecast beside what the cells reached: A ±1.5% everywhere, B ±2.5%
    check = {"reachable_half_width": 0.024, "max_rounds": 8, "quiet": True, "target": 0.02}
    assert render(pairs, "runs", 3, check=check).endswith(
        "- the machine check foresaw ±2.4% after 8 rounds (quiet); the cells' 95% intervals reached a median "
        "half-width of ±1.5% in A and ±2.5% in B, 4 of 8 cell-runs within the ±2.0% target\n")
    assert "machine check foresaw" not in text


def test_a_machine_that_moved_between_the_runs_is_told_from_the_cells_scatter():
    from diagnostics.repeatability import machine_shift

    # B 20% slower on every cell, each cell then ±1%: the common factor, and what is left of it
    ratios = [1.2 * r for r in (1.01, 0.99, 1.0, 1.01, 0.99, 1.0, 1.01, 0.99)]
    shift = machine_shift(pd.DataFrame({"ratio": ratios}))
    assert shift["geometric_mean_ratio"] == pytest.approx(1.2 * (1.01 * 0.99) ** 0.375, rel=1e-9)
    assert (shift["a_faster"], shift["b_faster"]) == (8, 0)
    assert shift["sign_test_p"] == pytest.approx(2 / 2 ** 8)  # two-sided: all 8 one way
    assert shift["median_abs_deviation_without_shift"] == pytest.approx(0.01, abs=2e-4)
    # no common factor: the cells split, the sign test says nothing
    even = machine_shift(pd.DataFrame({"ratio": [1.05, 0.95, 1.02, 0.98]}))
    assert (even["a_faster"], even["b_faster"]) == (2, 2) and even["sign_test_p"] == pytest.approx(1.0)


def test_runs_in_a_row_are_told_apart_by_their_speed_as_a_whole_and_by_their_place_in_a_pair():
    from diagnostics.repeatability import first_over_second, run_factors

    speeds = {"1-A": 1.1, "1-B": 1.0, "2-A": 1.0, "2-B": 0.9}  # each run's speed, the same on every cell
    cells = {
        name: pd.DataFrame({"id": ["m1", "m2", "m3"], "device": "cpu", "runtime": "eager", "batch_size": 1,
                            "status": ["measured", "measured", "failed"], "fps_mean": [speed * 2, speed * 4, 9.0]})
        for name, speed in speeds.items()
    }
    factors = run_factors(cells)
    common = (1.1 * 0.9) ** 0.25
    assert factors["factor"].tolist() == pytest.approx([1.1 / common, 1 / common, 1 / common, 0.9 / common])
    assert factors["cells"].tolist() == [2] * 4  # the failed cell counts in no run
    assert factors["ratio_to_previous"].tolist()[1:] == pytest.approx([1.1, 1.0, 1 / 0.9])
    assert factors["previous_faster"].tolist()[1:] == [2, 0, 2] and factors["faster"].tolist()[1:] == [0, 0, 0]
    # the first of each pair reads 10% and 11% faster than its second
    assert first_over_second(factors) == pytest.approx((1.1 / 1.0 * 1.0 / 0.9) ** 0.5)
