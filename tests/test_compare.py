"""The comparison with the seed or another run: parsing, ratio arithmetic, order, the CLI."""
import math
import subprocess
import sys

import pytest
from conftest import REPO, SCRIPTS
from posebench.report.compare import comparison_rows, fps_value, geometric_mean, render_comparison

COLUMNS = ["cpu_fps_bs1", "cpu_fps_bs10"]
HEADER = "id,model,input_size,params_m,gflops,cpu_fps_bs1,cpu_fps_bs1_mean,cpu_fps_bs10,cpu_fps_bs10_mean\n"


def our_row(model_id, bs1, bs10):
    return {"id": model_id, "model": model_id.upper(), "input_size": "256x192", "params_m": "34.0", "gflops": "5.46",
            "cpu_fps_bs1": "%.2f ± 0.10" % bs1, "cpu_fps_bs1_mean": repr(bs1),
            "cpu_fps_bs10": bs10 if isinstance(bs10, str) else "%.2f ± 0.01" % bs10,
            "cpu_fps_bs10_mean": "" if isinstance(bs10, str) else repr(bs10)}


def seed_row(model_id, bs1, bs10):
    return {"id": model_id, "model": model_id.upper(), "input_size": "256x192", "params_m": "34", "gflops": "5.46",
            "cpu_fps_bs1": bs1, "cpu_fps_bs10": bs10}


OURS = {"a": our_row("a", 12.0, 1.0), "b": our_row("b", 4.4, "OOM"), "c": our_row("c", 2.0, 0.3), "d": our_row("d", 1.0, 1.0)}
SEED = {"a": seed_row("a", "4.00 ± 0.12", "1.00 ± 0.02"), "b": seed_row("b", "4.00 ± 0.50", "/"),
        "c": seed_row("c", "4.00 ± 0.30", "0.30 ± 0.00"), "e": seed_row("e", "1.00 ± 0.00", "/")}


def test_fps_cells_read_the_mean_from_either_table_and_nothing_from_marks_or_failures():
    assert fps_value({"cpu_fps_bs1": "229.21 ± 16.91"}, "cpu_fps_bs1") == 229.21
    assert fps_value({"cpu_fps_bs1": "9.01 ± 0.2<sup>c</sup>", "cpu_fps_bs1_mean": "9.0123"}, "cpu_fps_bs1") == 9.0123
    for cell in ["/", "n/a", "OOM", "error", "–", ""]:
        assert fps_value({"cpu_fps_bs1": cell}, "cpu_fps_bs1") is None


def test_ratios_are_ours_over_theirs_and_the_largest_deviation_comes_first():
    rows = comparison_rows(OURS, SEED, COLUMNS)
    assert [row["id"] for row in rows] == ["a", "c", "b"]  # 3×, then 0.5×, then 1.1×; d and e are in one table only
    assert rows[0]["ratios"] == {"cpu_fps_bs1": pytest.approx(3.0), "cpu_fps_bs10": pytest.approx(1.0)}
    assert rows[1]["ratios"]["cpu_fps_bs1"] == pytest.approx(0.5)
    assert rows[2]["ratios"] == {"cpu_fps_bs1": pytest.approx(1.1), "cpu_fps_bs10": None}
    assert rows[0]["deviation"] == pytest.approx(math.log(3.0))


def test_the_markdown_gives_each_ratio_with_both_means_and_a_geometric_mean_per_column():
    text = render_comparison(OURS, SEED, "the seed", COLUMNS)
    assert "| A | 256x192 | 34 / 34 | 5.46 / 5.46 | 3.00× (12.00 / 4.00) | 1.00× (1.00 / 1.00) |" in text
    assert "| B | 256x192 | 34 / 34 | 5.46 / 5.46 | 1.10× (4.40 / 4.00) | – |" in text
    expected = geometric_mean([3.0, 1.1, 0.5])
    assert expected == pytest.approx((3.0 * 1.1 * 0.5) ** (1 / 3))
    assert "- CPU FPS bs=1: %.2f× geometric mean over 3 models (0.50× to 3.00×); ours faster in 2, theirs in 1 " \
        "(sign test p = 1)" % expected in text
    assert "- only in ours: d" in text and "- only in theirs: 1 models" in text


def test_a_run_faster_as_a_whole_is_told_by_the_sign_test_though_each_model_is_within_the_threshold():
    models = ["m%d" % index for index in range(9)]
    ours = {model: our_row(model, 4.16, 1.0) for model in models}
    theirs = {model: our_row(model, 4.0, 1.0) for model in models}
    text = render_comparison(ours, theirs, "the other run", COLUMNS)
    # 4% faster in all 9: 2 / 2**9 two-sided; at batch 10 every ratio is 1, a tie counted in neither
    assert "- CPU FPS bs=1: 1.04× geometric mean over 9 models (1.04× to 1.04×); ours faster in 9, theirs in 0 " \
        "(sign test p = 0.0039)" in text
    assert "- CPU FPS bs=10: 1.00× geometric mean over 9 models (1.00× to 1.00×); ours faster in 0, theirs in 0 " \
        "(sign test p = 1)" in text


def run_compare(*args):
    return subprocess.run([sys.executable, str(SCRIPTS / "compare_runs.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=REPO)


def write_table(path, rows):
    path.write_text(HEADER + "".join(
        ",".join('"%s"' % row.get(name, "") for name in HEADER.strip().split(",")) + "\n" for row in rows))


def test_the_cli_compares_with_another_runs_results_folder_or_its_csv(tmp_path):
    ours, other = tmp_path / "ours.csv", tmp_path / "other" / "results"
    other.mkdir(parents=True)
    write_table(ours, OURS.values())
    write_table(other / "table.csv", [our_row("a", 6.0, 0.5), our_row("c", 2.0, 0.6)])
    for theirs in (other, other / "table.csv"):
        run = run_compare(ours, theirs, "--batch-sizes", "1", "10")
        assert run.returncode == 0, run.stderr
        assert "| A | 256x192 | 34 / 34 | 5.46 / 5.46 | – | – | 2.00× (12.00 / 6.00) | 2.00× (1.00 / 0.50) |" in run.stdout
        assert run.stdout.index("| A |") < run.stdout.index("| C |")


def test_the_cli_names_a_missing_table_in_one_line(tmp_path):
    write_table(tmp_path / "ours.csv", OURS.values())
    run = run_compare(tmp_path / "ours.csv", tmp_path / "nowhere")
    assert run.returncode == 1
    assert run.stderr.strip() == "compare: %s has no table.csv (give a results/ folder or a table.csv)" % (tmp_path / "nowhere")


def test_seed_cells_printed_under_a_tenth_of_an_fps_stay_out_of_the_geometric_mean():
    ours = {"a": our_row("a", 12.0, 1.0), "slow": our_row("slow", 0.5, 0.06)}
    seed = {"a": seed_row("a", "4.00 ± 0.12", "1.00 ± 0.02"), "slow": seed_row("slow", "0.25 ± 0.01", "0.03 ± 0.00")}
    text = render_comparison(ours, seed, "the seed", COLUMNS)
    assert "- CPU FPS bs=1: 2.45× geometric mean over 2 models (2.00× to 3.00×)" in text
    # 0.03 printed with two decimals may be 0.025 to 0.035: worth ±17% alone
    assert ("- CPU FPS bs=10: 1.00× geometric mean over 1 models (1.00× to 1.00×); 1 left out: theirs is printed "
            "under 0.1 FPS, where two-decimal rounding alone moves the ratio by over 5%") in text
    assert "| SLOW | 256x192 | 34 / 34 | 5.46 / 5.46 | 2.00× (0.50 / 0.25) | 2.00× (0.06 / 0.03) |" in text


def write_rounds(path, cells):
    """A measurements.csv: per (id, batch size), each round's per-iteration seconds."""
    lines = ["id,device,runtime,batch_size,round,status,seconds"]
    for (model_id, size), rounds in cells.items():
        for number, seconds in enumerate(rounds, 1):
            lines.append("%s,cpu,eager,%d,%d,measured,%s" % (model_id, size, number, " ".join(map(repr, seconds))))
    path.write_text("\n".join(lines) + "\n")


def test_with_both_runs_rounds_each_cell_says_faster_slower_or_within_noise(tmp_path):
    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    ours_dir.mkdir(), theirs_dir.mkdir()
    write_table(ours_dir / "table.csv", [our_row("a", 12.0, 1.0), our_row("c", 2.0, 0.3)])
    write_table(theirs_dir / "table.csv", [our_row("a", 6.0, 1.0), our_row("c", 2.4, 0.3)])
    steady = lambda fps: [[1 / (fps * f)] * 3 for f in (0.99, 1.0, 1.01)]  # noqa: E731
    write_rounds(ours_dir / "measurements.csv", {("a", 1): steady(12), ("a", 10): steady(1.0),
                                                ("c", 1): [[0.25] * 3, [1.0] * 3, [0.5] * 3]})
    write_rounds(theirs_dir / "measurements.csv", {("a", 1): steady(6), ("a", 10): steady(1.0),
                                                  ("c", 1): steady(2.4)})
    run = run_compare(ours_dir / "table.csv", theirs_dir, "--batch-sizes", "1", "10", "--threshold", "0.1")
    assert run.returncode == 0, run.stderr
    assert "| A | 256x192 | 34 / 34 | 5.46 / 5.46 | – | – | 2.00× (12.00 / 6.00) faster | 1.00× (1.00 / 1.00) within noise |" in run.stdout
    # ours is 17% slower on average, but its rounds read 4, 1 and 2 FPS: noise
    assert "| 0.83× (2.00 / 2.40) within noise |" in run.stdout
    assert "- CPU FPS bs=1: 1.29× geometric mean over 2 models (0.83× to 2.00×); 1 faster, 0 slower, 1 within noise; " \
        "ours faster in 1, theirs in 1 (sign test p = 1)" in run.stdout
    swapped = run_compare(theirs_dir / "table.csv", ours_dir, "--batch-sizes", "1")
    assert "0.50× (6.00 / 12.00) slower" in swapped.stdout


def test_each_machines_probe_median_comes_before_the_ratios_and_each_mean_is_also_given_over_its_ratio():
    models = ["m%d" % index for index in range(9)]
    ours = {model: our_row(model, 4.4, 1.2) for model in models}
    theirs = {model: our_row(model, 4.0, 1.0) for model in models}
    text = render_comparison(ours, theirs, "the other run", COLUMNS,
                             ours_probes={"cpu": 220.0, "cuda": 9000.0}, theirs_probes={"cpu": 200.0})
    lines = text.splitlines()
    said = "- the probe (a fixed 3x3 convolution, read before and after every round) on CPU: a median of 220 " \
        "GFLOP/s over our rounds and 200 over theirs, 1.10×"
    assert said in lines
    assert lines.index(said) < next(index for index, line in enumerate(lines) if line.startswith("- CPU FPS"))
    assert "CUDA" not in text  # probed in ours only: nothing to set it against
    assert "- CPU FPS bs=1: 1.10× geometric mean over 9 models (1.10× to 1.10×), 1.00× over the probe's 1.10×;" in text
    assert "- CPU FPS bs=10: 1.20× geometric mean over 9 models (1.20× to 1.20×), 1.09× over the probe's 1.10×;" in text
    without = render_comparison(ours, theirs, "the other run", COLUMNS)
    assert "probe" not in without


def test_the_cli_reads_each_runs_probe_median_from_its_measured_rounds(tmp_path):
    header = "id,device,runtime,batch_size,round,status,seconds,probe_before,probe_after"
    rounds = {  # before and after each round; a failed round's readings do not count
        "ours": ["a,cpu,eager,1,1,measured,0.1,200,220", "a,cpu,eager,1,2,measured,0.1,210,240",
                 "a,cpu,onnxruntime,1,1,measured,0.05,230,300", "a,cpu,eager,10,1,failed,,10,10"],
        "theirs": ["a,cpu,eager,1,1,measured,0.2,150,150", "a,cpu,eager,1,2,measured,0.2,150,150"],
    }
    for name, rows in rounds.items():
        (tmp_path / name).mkdir()
        write_table(tmp_path / name / "table.csv", [our_row("a", 10.0 if name == "ours" else 5.0, 1.0)])
        (tmp_path / name / "measurements.csv").write_text("\n".join([header] + rows) + "\n")
    run = run_compare(tmp_path / "ours" / "table.csv", tmp_path / "theirs", "--batch-sizes", "1")
    assert run.returncode == 0, run.stderr
    # ours read 200, 210, 220, 230, 240 and 300: median 225
    assert "on CPU: a median of 225 GFLOP/s over our rounds and 150 over theirs, 1.50×" in run.stdout
    assert "- CPU FPS bs=1: 2.00× geometric mean over 1 models (2.00× to 2.00×), 1.33× over the probe's 1.50×;" in run.stdout


def environment(**changes):
    env = {"backend": "mmpose1", "device": "cpu", "host": "vm1", "cpu": "AMD EPYC", "gpu": None, "threads": 2,
           "python": "3.11.2", "torch": "2.13.0+cpu", "cuda": None, "mmcv": "2.1.0", "mmengine": "0.10.7",
           "mmpose": "1.3.2", "policy": {"budget_s": 3, "iterations": 50}, "cpu_physical_cores": 2, "cpu_logical": 2,
           "gpu_driver": None}
    return dict(env, **changes)


def test_a_comparison_names_what_differs_besides_speed_before_any_ratio():
    ours = [environment()]
    theirs = [environment(host="vm2", threads=4, torch="2.14.1"), environment(host="vm3", threads=4, torch="2.14.1")]
    text = render_comparison({}, {}, "the other run", COLUMNS, ours_environments=ours, theirs_environments=theirs)
    lines = text.splitlines()
    assert "| Environment | ours | theirs |" in lines
    assert "| CPU | AMD EPYC | AMD EPYC |" in lines
    assert "| hosts (differs) | vm1 | vm2, vm3 |" in lines
    assert "| threads (differs) | 2 on cpu | 4 on cpu |" in lines
    assert "| torch (differs) | 2.13.0+cpu | 2.14.1 |" in lines
    said = next(line for line in lines if line.startswith("The runs differ"))
    assert said == "The runs differ in more than speed: hosts, threads, torch. Read the ratios below with that in mind."
    assert lines.index(said) < next(index for index, line in enumerate(lines) if line.startswith("- CPU FPS"))
    same = render_comparison({}, {}, "x", COLUMNS, ours_environments=ours, theirs_environments=ours)
    assert "The two runs ran in the same environment." in same and "(differs)" not in same


def test_the_table_header_warns_when_a_table_mixes_hosts_or_cpus():
    from posebench.report.table import hardware_lines, software_lines

    one = hardware_lines([environment(), environment(device="cpu", backend="mmpose0")])
    assert one == ["- CPU: AMD EPYC (2 physical cores, 2 logical)", "- GPU: none: no CUDA device where this ran, "
                   "so the GPU columns read n/a", "- host: vm1"]
    mixed = hardware_lines([environment(), environment(host="node7", cpu="Intel Xeon")])
    assert mixed[-1] == ("- **warning: this table mixes 2 hosts and 2 CPU models**; `table.csv` gives each row's "
                         "hosts and CPUs")
    assert software_lines([environment(), environment(torch="2.14.1", threads=4)]) == [
        "- backend `mmpose1`: python 3.11.2, torch 2.13.0+cpu, mmcv 2.1.0, mmengine 0.10.7, mmpose 1.3.2; 2 threads on cpu",
        "- backend `mmpose1`: python 3.11.2, torch 2.14.1, mmcv 2.1.0, mmengine 0.10.7, mmpose 1.3.2; 4 threads on cpu",
    ]


def test_published_figures_are_checked_where_they_exist_and_said_missing_where_not():
    from posebench.report.compare import published_comparison

    def counted(params_m, mmengine, torch):
        return {"status": "counted", "params_m": params_m, "mmengine": {"gflops": mmengine}, "torch": {"gflops": torch},
                "mmcv": {"gflops": torch}}

    published = {"t": {"params_m": "3.34", "gflops": "0.36", "source": "RTMPose README"},
                 "bad": {"params_m": "5.47", "gflops": "0.68", "source": "RTMPose README"}}
    records = {"t": counted(3.3413, 0.359, 0.355), "bad": counted(5.47, 0.70, 0.69), "rtmo": counted(9.87, 12.13, 12.06)}
    lines, mismatches = published_comparison(["t", "bad", "rtmo", "later"], records, published)
    assert mismatches == 1
    assert lines[0] == ("t: params 3.34 M (published 3.34: match), GFLOPs mmengine 0.359, torch 0.355, mmcv 0.355 "
                        "(published 0.36: within 2%) [RTMPose README]")
    assert "(published 0.68: MISMATCH)" in lines[1]
    assert lines[2] == "rtmo: params 9.87 M, GFLOPs mmengine 12.130, torch 12.060, mmcv 12.060; none published"
    assert lines[3] == "later: not counted yet (no record)"


def complexity_record(model_id, params_m, mmcv_gflops, status="counted"):
    if status == "failed":
        return {"id": model_id, "status": "failed",
                "failure": {"kind": "error", "stage": "build", "message": "KeyError: 'Nope'"}}
    return {"id": model_id, "status": status, "params_m": params_m, "mmcv": {"gflops": mmcv_gflops},
            "thop": {}, "torch": {}, "mmengine": {}}


def test_check_complexity_reads_the_records_without_a_timed_table(tmp_path):
    import json

    folder = tmp_path / "complexity"
    folder.mkdir()
    records = [complexity_record("alexnet_coco_256x192", 5.6213, 1.4201),  # the seed: 5.62 M, 1.42 G
               complexity_record("cpm_coco_256x192", 31.3, 66.0),  # 3.4% over the seed's 63.81
               complexity_record("res50_coco_256x192", None, None, status="failed")]
    for record in records:
        (folder / ("%s.json" % record["id"])).write_text(json.dumps(record))
    run = subprocess.run([sys.executable, str(SCRIPTS / "check_complexity.py"), "--complexity-dir", str(folder)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        "cpm_coco_256x192: 66.000 GFLOPs, seed 63.81 (+3.4%)",
        "res50_coco_256x192: not counted (complexity: error in build: KeyError: 'Nope')",
        "3 rows compared with the seed, 2 mismatches",
    ]
    everything = subprocess.run([sys.executable, str(SCRIPTS / "check_complexity.py"), "--complexity-dir", str(folder),
                                 "--require-all"], capture_output=True, text=True, cwd=REPO)
    assert "78 rows" not in everything.stdout and "missing from our table" in everything.stdout
