"""Does the warm process a round is forked from leave its mark on the round's FPS? Rounds from one
parent would share such a mark, hidden from their interval, which is why each round number now
has a server of its own (posebench/warm.py). This times rounds of the same cells from several
servers and from fresh processes, interleaved (server 1, 2, ..., a fresh process, then again from
server 2), so that the machine's drift and a round's place in the pass fall on every parent
alike, and compares the spread of the parents' mean FPS with the spread of rounds from one parent
(one-way analysis of variance on log FPS, and the same after each pass's mean is taken out).

Run with the driver's interpreter, from the repository root:
    .venvs/driver/bin/python bench/warm_parents.py --models deeppose_res50_coco_256x192 \\
        --servers 4 --rounds 6 --output bench/results/warm-parents.md
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

from posebench import warm  # noqa: E402
from posebench.measure.rounds import round_policy  # noqa: E402
from posebench.records import read_json, write_text  # noqa: E402
from repeatability import fresh_copy  # noqa: E402  (bench/repeatability.py: the workflow alone, from nothing)

SNAKEMAKE = REPO / ".venvs" / "driver" / "bin" / "snakemake"
# a PYTHON... variable is part of a warm server's key (warm.server_key): each value gets a server of its own
PARENT_VARIABLE = "PYTHONPOSEBENCH_PARENT"
FRESH = "fresh process"


def configured_policy() -> str:
    """The configured policy of one round, as the timing rule passes it."""
    return round_policy(yaml.safe_load((REPO / "config" / "config.yaml").read_text())["timing"])


def check_one_server_each(parents) -> None:
    """Each parent's variable must give it a server of its own (else they all share one)."""
    keys = set()
    for parent in parents:
        os.environ[PARENT_VARIABLE] = parent
        keys.add(warm.server_key("mmpose1"))
    del os.environ[PARENT_VARIABLE]
    if len(keys) != len(parents):
        sys.exit("bench/warm_parents.py: %s no longer keys the warm servers (warm.server_key)" % PARENT_VARIABLE)


def resolve(work: Path, models) -> None:
    targets = [str(resolved_path(model)) for model in models]
    subprocess.run([str(SNAKEMAKE), "--cores", "2"] + targets, cwd=work, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def time_round(work: Path, model: str, parent: str, number: int, batch_sizes) -> dict:
    """One round of the model, forked from the server named `parent` (or in a fresh process)."""
    resolved = read_json(work / resolved_path(model))
    env = dict(os.environ)
    if parent == FRESH:
        env["POSEBENCH_WARM"] = "0"
    else:
        env[PARENT_VARIABLE] = parent
    output = work / "parents" / model / ("%s-%d.json" % (parent.replace(" ", "-"), number))
    python = work / ".venvs" / resolved["backend"] / "bin" / "python"
    # every round as round 2: round 1 also measures the device's peak, and each round number has
    # its own server, where here the parent is the variable's alone
    subprocess.run([str(python), "workflow/scripts/time_model.py", str(resolved_path(model)), str(output),
                    "--device", "cpu", "--round", "2", "--batch-sizes"] + [str(size) for size in batch_sizes]
                   + ["--policy", configured_policy()], cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
    record = read_json(output)
    return {size: batch["fps_mean"] for size, batch in record["batches"].items() if batch["status"] == "measured"}


def resolved_path(model: str) -> Path:
    return Path("results") / "resolved" / ("%s.json" % model)


def analyse(rounds: pd.DataFrame) -> pd.DataFrame:
    """Per model and batch size: each parent's mean FPS, the scatter of log FPS between rounds of
    one server and between the servers' means, and the F test of 'no parent effect'."""
    rows = []
    for (model, size), cell in rounds.groupby(["model", "batch_size"]):
        servers = cell[cell["parent"] != FRESH]
        groups = [np.log(group["fps"].to_numpy()) for _, group in servers.groupby("parent")]
        test = stats.f_oneway(*groups)
        # the same with each pass's mean taken out: the machine's moves between passes
        within_pass = np.log(servers["fps"]) - np.log(servers["fps"]).groupby(servers["round"]).transform("mean")
        passes_out = stats.f_oneway(*[values.to_numpy() for _, values in within_pass.groupby(servers["parent"])])
        row = {"model": model, "batch_size": size}
        row.update({parent: float(np.exp(np.log(group["fps"]).mean())) for parent, group in cell.groupby("parent")})
        row.update({"rounds per parent": len(groups[0]),
                    "within one server": float(np.sqrt(np.mean([group.var(ddof=1) for group in groups]))),
                    "between servers' means": float(np.std([group.mean() for group in groups], ddof=1)),
                    "F": float(test.statistic), "p": float(test.pvalue), "p, pass means out": float(passes_out.pvalue)})
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=6, help="rounds per server")
    parser.add_argument("--fresh", type=int, default=2, help="rounds in fresh processes (the first passes)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work" / "parents")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--summarize-only", action="store_true", help="time nothing: analyse the work folder's rounds.csv")
    args = parser.parse_args()
    args.work = args.work.resolve()  # the rounds run inside it
    if args.summarize_only:
        return write_report(pd.read_csv(args.work / "rounds.csv"), args)
    fresh_copy(args.work)
    resolve(args.work, args.models)
    parents = ["server %d" % (index + 1) for index in range(args.servers)]
    check_one_server_each(parents)
    rounds = []
    for number in range(args.rounds):
        # each pass starts from the next server, so that no server always runs first (after
        # another model's rounds) or last: a parent's mean is not its place in the pass
        order = parents[number % len(parents):] + parents[:number % len(parents)]
        for model in args.models:
            for parent in order + ([FRESH] if number < args.fresh else []):
                for size, fps in time_round(args.work, model, parent, number, args.batch_sizes).items():
                    rounds.append({"model": model, "batch_size": int(size), "parent": parent, "round": number, "fps": fps})
                print(model, parent, number, flush=True)
    rounds = pd.DataFrame(rounds)
    rounds.to_csv(args.work / "rounds.csv", index=False)
    write_report(rounds, args)


def write_report(rounds: pd.DataFrame, args) -> None:
    text = ("## Rounds by parent: %d servers x %d rounds, %d in fresh processes, interleaved\n\n"
            "Mean FPS per parent (geometric); scatter as the standard deviation of log FPS.\n\n%s\n"
            % (args.servers, args.rounds, args.fresh, analyse(rounds).round(3).to_markdown(index=False)))
    print(text)
    if args.output:
        write_text(args.output, text)


if __name__ == "__main__":
    main()
