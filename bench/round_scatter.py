"""What scatters a cell's rounds: the machine's speed moving over time, or something each process
gets once and keeps (where its memory lands, its threads' placement)?

`--processes` processes each build the model and warm it up as a round does, then wait. In turn
(process 1, 2, ..., then 1 again) each times one window, a round's worth of timed iterations (the
configured budget), with the probe after it, while the others wait. A two-way analysis of
variance of log FPS over process and pass then tells a process's own speed (the same in all its
windows) from the machine's moves (the same for every process in one pass) and from what is left.
With `--processes 1` one process times its windows one after another: a timeline of its speed and
the probe's, a window at a time. Each window also records the minor page faults and the
involuntary context switches of its iterations (getrusage): what the system took from the process
while it ran; and the round trip between the first two CPUs right before and right after it
(posebench/measure/placement.py), so that windows with the CPUs apart at both ends can be set beside those
with them together at both. `--paired-threads N` gives each process a partner at N threads, timed
right after it in every pass: a window's FPS over its partner's leaves out the machine's drift,
which the two share, and shows what the placement does to one thread count against the other.

Run with the driver's interpreter, from the repository root, after `make setup`:
    .venvs/driver/bin/python bench/round_scatter.py --model res50_coco_256x192 --batch-size 1 \\
        --processes 6 --passes 8 --output bench/results/round-scatter.md
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

from posebench.measure.memory import ALLOCATORS, CACHING_ALLOCATOR  # noqa: E402

SNAKEMAKE = REPO / ".venvs" / "driver" / "bin" / "snakemake"


def serve(args) -> None:
    """One process (the backend's interpreter): build, warm up, then time a window for each line
    read from stdin, answering with it as a JSON line."""
    from posebench.backends import get_backend
    from posebench.measure.environment import default_threads
    from posebench.measure.placement import core_round_trip_ns
    from posebench.measure.probe import probe_kernel
    from posebench.measure.timing import device_synchronizer, prepare_device, run_iterations
    from posebench.records import read_json
    import torch

    resolved = read_json(args.resolved)
    prepare_device("cpu", args.threads or default_threads(), args.allocator)
    backend = get_backend(resolved["backend"])
    model = backend.build_seeded(resolved["model_cfg"]).to("cpu")
    probe = probe_kernel("cpu")
    policy = json.loads(args.policy)
    quiet = lambda message: None  # noqa: E731
    with torch.no_grad():
        step = backend.test_step(model, resolved, args.batch_size, "cpu")
        synchronize = device_synchronizer("cpu")
        run_iterations(step, synchronize, dict(policy, iterations=1), quiet)  # the round's warm-ups
        print("ready", flush=True)
        for _ in sys.stdin:
            round_trip_before = core_round_trip_ns()
            before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.time()
            measured = run_iterations(step, synchronize, dict(policy, warmup=0), quiet)
            after = resource.getrusage(resource.RUSAGE_SELF)
            print(json.dumps({
                "started": started, "fps": measured["fps_mean"], "iterations": measured["iterations"],
                "probe": probe(), "minor_faults": after.ru_minflt - before.ru_minflt,
                "involuntary_switches": after.ru_nivcsw - before.ru_nivcsw,
                "cpu_seconds": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
                "system_seconds": after.ru_stime - before.ru_stime,
                "wall_seconds": sum(measured["seconds"]), "round_trip_before": round_trip_before,
                "round_trip_after": core_round_trip_ns(),
            }), flush=True)


def time_windows(args):
    import pandas as pd

    from posebench.records import read_json
    from warm_parents import configured_policy  # bench/warm_parents.py: the policy the timing rule passes

    resolved_path = REPO / "results" / "resolved" / ("%s.json" % args.model)
    if not resolved_path.exists():
        subprocess.run([str(SNAKEMAKE), "--cores", "2", str(resolved_path.relative_to(REPO))], cwd=REPO, check=True)
    python = REPO / ".venvs" / read_json(resolved_path)["backend"] / "bin" / "python"
    policy = configured_policy()
    command = [str(python), __file__, "--serve", "--resolved", str(resolved_path), "--batch-size", str(args.batch_size),
               "--policy", policy, "--allocator", args.allocator]
    env = dict(os.environ, PYTHONPATH=str(REPO / "workflow" / "scripts"))

    def at(threads):
        return command + (["--threads", str(threads)] if threads else [])

    # each process's partner comes right after it, so that in every pass it times its window next
    kinds = (False, True) if args.paired_threads else (False,)
    commands = [(index, is_paired, at(args.paired_threads if is_paired else args.threads))
                for index in range(args.processes) for is_paired in kinds]
    processes = []
    # one at a time: a build or warm-up beside another's would slow both
    for index, is_paired, process_command in commands:
        process = subprocess.Popen(process_command, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   text=True)
        if process.stdout.readline().strip() != "ready":
            sys.exit("bench/round_scatter.py: a timing process failed to start")
        processes.append((index, is_paired, process))
    rows = []
    for number in range(args.passes):
        for index, is_paired, process in processes:
            process.stdin.write("window\n")
            process.stdin.flush()
            window = json.loads(process.stdout.readline())
            rows.append(dict(window, process=index, paired=is_paired, **{"pass": number}))
        print("pass %d of %d done" % (number + 1, args.passes), flush=True)
    for _, _, process in processes:
        process.stdin.close()
        process.wait()
    args.work.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.work / "windows.csv", index=False)
    return table


def two_way(values):
    """Two-way analysis of variance without replication (rows: processes, columns: passes): each
    factor's means' scatter, its F test's p, and the residual's standard deviation."""
    import numpy as np
    from scipy import stats

    rows, columns = values.shape
    residual = values - values.mean(axis=1, keepdims=True) - values.mean(axis=0, keepdims=True) + values.mean()
    residual_df = (rows - 1) * (columns - 1)
    residual_ms = float((residual ** 2).sum() / residual_df)
    result = {"residual": float(np.sqrt(residual_ms))}
    for name, means, count, df in (("process", values.mean(axis=1), columns, rows - 1),
                                   ("pass", values.mean(axis=0), rows, columns - 1)):
        f = count * means.var(ddof=1) / residual_ms
        result[name] = float(means.std(ddof=1))
        result[name + "_p"] = float(stats.f.sf(f, df, residual_df))
    return result


def analyse(windows, args) -> str:
    """Two-way analysis of variance of log FPS (and of the probe) over process and pass."""
    import numpy as np

    windows = windows.assign(log_fps=np.log(windows["fps"]), log_probe=np.log(windows["probe"]),
                             faults_per_iteration=windows["minor_faults"] / windows["iterations"],
                             system_share=windows["system_seconds"] / windows["cpu_seconds"])
    lines = ["## %s at batch %d: %d processes x %d passes (%s threads, %s allocator)" % (
        args.model, args.batch_size, windows["process"].nunique(), windows["pass"].nunique(), args.threads or "default",
        args.allocator),
        "", "Command: `.venvs/driver/bin/python bench/round_scatter.py %s`" % " ".join(sys.argv[1:]), ""]
    # with one process there is nothing to split: its windows follow the machine and its own state together
    if windows["process"].nunique() > 1:
        for column, name in (("log_fps", "FPS"), ("log_probe", "probe")):
            split = two_way(windows.pivot(index="process", columns="pass", values=column).to_numpy())
            lines.append("- %s: the processes' means scatter ±%.1f%% (p = %.2g), the passes' means ±%.1f%% (p = %.2g), "
                         "a window beyond both ±%.1f%%" % (
                             name, 100 * split["process"], split["process_p"], 100 * split["pass"], split["pass_p"],
                             100 * split["residual"]))
    for column, name in (("fps", "FPS"), ("probe", "probe")):
        low, middle, high = np.percentile(windows[column], [10, 50, 90])
        scatter = windows["log_" + column].std()  # the log columns assigned above
        lines.append("- a window's %s: median %.3g, 10th–90th percentile %.3g–%.3g (the 90th over the 10th: %.2f), "
                     "scatter ±%.1f%%" % (name, middle, low, high, high / low, 100 * scatter))
    lines.append("- window FPS against the probe: r = %.2f; minor page faults %.0f an iteration, %.0f%% of the CPU "
                 "time in the kernel" % (np.corrcoef(windows["log_fps"], windows["log_probe"])[0, 1],
                                         windows["faults_per_iteration"].median(), 100 * windows["system_share"].median()))
    if "round_trip_before" in windows and windows["round_trip_before"].notna().any():
        lines.append(placement_line(windows))
    per_process = windows.groupby("process").agg(
        fps=("fps", "mean"), probe=("probe", "median"), faults_per_iteration=("faults_per_iteration", "median"),
        involuntary_switches=("involuntary_switches", "median"), system_share=("system_share", "median"))
    lines += ["", per_process.round(3).to_markdown(), ""]
    return "\n".join(lines)


def placement_line(windows) -> str:
    """FPS and probe of the windows with the CPUs apart at both ends against those together at
    both (measurements.apart_share's rule), with a rank test of the FPS."""
    from scipy import stats

    from posebench.report.measurements import apart_share

    state = apart_share(windows.assign(device="cpu"))
    apart, together = windows[state == 1], windows[state == 0]
    if not len(apart) or not len(together):
        return "- the CPUs' placement: %d windows apart, %d together, so no comparison" % (len(apart), len(together))
    return ("- the CPUs apart at both ends of %d windows, together at both ends of %d: median FPS %.3g against %.3g "
            "(%.2f×, Mann-Whitney p = %.2g), median probe %.0f against %.0f GFLOP/s"
            % (len(apart), len(together), apart["fps"].median(), together["fps"].median(),
               apart["fps"].median() / together["fps"].median(),
               stats.mannwhitneyu(apart["fps"], together["fps"]).pvalue, apart["probe"].median(),
               together["probe"].median()))


def paired_lines(windows, partners, args) -> str:
    """The partners' windows (the same processes at --paired-threads, each timed right after its
    own), their placement, and each window's FPS over its partner's in the same pass, split by
    where the CPUs were at both ends of the window: the machine's drift, shared by the two,
    drops out of the ratio."""
    from scipy import stats

    from posebench.report.measurements import apart_share

    pairs = windows.assign(apart=apart_share(windows.assign(device="cpu"))).merge(
        partners, on=["process", "pass"], suffixes=("", "_partner"))
    ratio = pairs["fps"] / pairs["fps_partner"]
    apart, together = ratio[pairs["apart"] == 1], ratio[pairs["apart"] == 0]
    lines = ["- the partners (%s a round): a window's FPS median %.3g; %s" % (
        "1 thread" if args.paired_threads == 1 else "%s threads" % args.paired_threads, partners["fps"].median(),
        placement_line(partners)[2:])]
    if len(apart) and len(together):
        lines.append("- a window's FPS over its partner's, the CPUs apart at both ends of the window (%d) against "
                     "together at both (%d): %.3f against %.3f (Mann-Whitney p = %.2g)"
                     % (len(apart), len(together), apart.median(), together.median(),
                        stats.mannwhitneyu(apart, together).pvalue))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--resolved", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--policy", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="res50_coco_256x192")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--processes", type=int, default=6, help="1: one process's windows over time, no analysis of variance")
    parser.add_argument("--passes", type=int, default=8, help="windows per process, one pass over the processes each")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--paired-threads", type=int, help="also time each window again right after it, in a "
                        "process of its own at this many threads")
    parser.add_argument("--allocator", choices=ALLOCATORS, default=CACHING_ALLOCATOR, help="as timing.allocator")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work" / "round-scatter")
    parser.add_argument("--output", type=Path, help="also append the report here (markdown)")
    parser.add_argument("--summarize-only", action="store_true", help="time nothing: analyse the work folder's windows.csv")
    args = parser.parse_args()
    if args.serve:
        return serve(args)
    import pandas as pd

    windows = pd.read_csv(args.work / "windows.csv") if args.summarize_only else time_windows(args)
    paired = windows.pop("paired") if "paired" in windows else pd.Series(False, index=windows.index)
    report = analyse(windows[~paired], args)
    if paired.any():
        report += "\n" + paired_lines(windows[~paired], windows[paired], args)
    print(report)
    if args.output:
        with open(args.output, "a") as handle:
            handle.write(report + "\n")


if __name__ == "__main__":
    main()
