"""scenes.csv, scenes.md and plots/scenes_fps_vs_people_{device}.png from the scene rounds: frames
per second per scene and number of people with their intervals and marks (the table's own
statistics: a scene round is shaped as a timing round), each stage's share of the frame, and where
each one-pass model overtakes each top-down pipeline."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pandas as pd

from posebench.report.measurements import cell_table
from posebench.report.plots import label_log_ticks_plainly
from posebench.report.table import MARK, NOT_MEASURED, TABLE_DEVICES, cell_marks
from posebench.scenes.plan import MMPOSE_STACK, STAGES

TOP_DOWN, ONE_PASS = "top-down", "one pass"
CSV_COLUMNS = [
    "scene", "kind", "stack", "name", "detector", "model", "algorithm", "device", "people", "status", "fps_mean", "fps_std",
    "ci_low", "ci_high", "ci_half_width", "rounds", "instances", "network_batch", "network_input", "unsteady",
] + ["%s_share" % stage for stage in STAGES] + ["%s_s" % stage for stage in STAGES] + [
    "peak_memory_mib", "capped", "probe_shift", "message",
]


def stage_rows(records: List[Dict[str, object]]) -> pd.DataFrame:
    """Per round and number of people: the people decoded, and each stage's seconds per frame."""
    rows = []
    for record in records:
        for people, frames in record["batches"].items():
            if frames.get("status") != "measured":
                continue
            stages = frames.get("stage_seconds") or {}
            network_input = "x".join(str(side) for side in frames.get("network_input") or []) or None
            rows.append(dict({"scene": record["id"], "device": record["device"], "people": int(people),
                              "instances": frames.get("instances"), "network_batch": frames.get("network_batch"),
                              "network_input": network_input},
                             **{"%s_s" % stage: stages.get(stage, 0.0) for stage in STAGES}))
    columns = ["scene", "device", "people", "instances", "network_batch", "network_input"] + [
        "%s_s" % stage for stage in STAGES]
    return pd.DataFrame(rows, columns=columns)


def scene_table(rounds: pd.DataFrame, records: List[Dict[str, object]], labels: Dict[str, Dict[str, object]],
                target: float, max_probe_deviation: float) -> pd.DataFrame:
    """A row per scene, device and number of people (scenes.csv), from the scene rounds' table
    (measurement_table of their records, as the model rounds' measurements.csv)."""
    cells = cell_table(rounds, target, max_probe_deviation)
    # the cells' "kind" is a failure's; a scene's kind is top-down or one pass
    cells = cells.rename(columns={"id": "scene", "batch_size": "people", "kind": "failure_kind"})
    keys = ["scene", "device", "people"]
    per_round = stage_rows(records)
    stages = per_round.drop(columns="network_input").groupby(keys, as_index=False).median()
    # the height and width the network ran at, as the last round recorded it (a letterbox's own)
    stages = stages.merge(per_round.groupby(keys, as_index=False)["network_input"].last(), on=keys, how="left")
    seconds = ["%s_s" % stage for stage in STAGES]
    total = stages[seconds].sum(axis=1).replace(0, np.nan)
    for stage in STAGES:
        stages["%s_share" % stage] = stages["%s_s" % stage] / total
    table = cells.merge(stages, on=["scene", "device", "people"], how="left")
    about = pd.DataFrame([scene_about(record, labels) for record in records]).drop_duplicates("scene")
    table = table.merge(about, on="scene", how="left")
    return table.reindex(columns=CSV_COLUMNS).sort_values(["device", "kind", "scene", "people"], kind="stable")


def scene_about(record: Dict[str, object], labels: Dict[str, Dict[str, object]]) -> Dict[str, object]:
    label = labels[record["model"]]
    detector = (record.get("detector") or {}).get("name")
    model = model_name(str(label["algorithm"]), str(label["model"]))
    stack = record.get("stack") or MMPOSE_STACK
    name = "%s + %s" % (detector, model) if detector else model
    return {
        "scene": record["id"], "model": record["model"], "detector": detector, "algorithm": label["algorithm"],
        "kind": TOP_DOWN if detector else ONE_PASS, "stack": stack,
        "name": name if stack == MMPOSE_STACK else "%s (%s)" % (name, stack),
    }


def model_name(algorithm: str, model: str) -> str:
    """The model as a reader tells it apart: its backbone alone is not enough where two
    algorithms share one (DEKR's and CID's HRNet-W32); a config-style algorithm key is left out,
    and so is an algorithm the model's name starts with (RTMO-s, YOLO11n-pose of YOLO11-pose)."""
    if model.lower().startswith(algorithm.lower().split("-")[0]) or "_" in algorithm:
        return model
    return "%s %s" % (algorithm, model)


def crossing(people: List[int], one_pass: List[float], top_down: List[float]) -> Dict[str, Optional[float]]:
    """Where the one-pass model's FPS overtakes the top-down pipeline's: the first measured N at
    which it is at least as fast, and the N where the two lines cross, interpolated on log-log
    axes between the measured N on either side (None where they do not cross in the range)."""
    ratios = [math.log(a / b) for a, b in zip(one_pass, top_down)]
    first = next((n for n, ratio in zip(people, ratios) if ratio >= 0), None)
    crossed = None
    for (n0, r0), (n1, r1) in zip(zip(people, ratios), zip(people[1:], ratios[1:])):
        if r0 < 0 <= r1:
            crossed = math.exp(math.log(n0) + (0 - r0) * (math.log(n1) - math.log(n0)) / (r1 - r0))
            break
    if ratios and ratios[0] >= 0:
        crossed = float(people[0])
    return {"first_measured": first, "interpolated": crossed}


def crossings(table: pd.DataFrame, device: str) -> pd.DataFrame:
    """Each one-pass model against each top-down pipeline, over the N both measured."""
    measured = table[(table["device"] == device) & (table["status"] == "measured")]
    fps = measured.pivot_table(index="people", columns="scene", values="fps_mean")
    names = measured.drop_duplicates("scene").set_index("scene")
    rows = []
    for one in names.index[names["kind"] == ONE_PASS]:
        for top in names.index[names["kind"] == TOP_DOWN]:
            both = fps[[one, top]].dropna()
            if len(both):
                found = crossing(list(both.index), list(both[one]), list(both[top]))
                rows.append(dict(found, one_pass=names.loc[one, "name"], top_down=names.loc[top, "name"],
                                 people_range="%d–%d" % (both.index.min(), both.index.max())))
    return pd.DataFrame(rows, columns=["one_pass", "top_down", "first_measured", "interpolated", "people_range"])


def fps_text(row: pd.Series, target: float, max_probe_deviation: float) -> str:
    if row["status"] != "measured":
        return NOT_MEASURED if pd.isna(row["status"]) else str(row["status"])
    marks = cell_marks(bool(row["capped"]), row["ci_half_width"], row["probe_shift"], target, max_probe_deviation)
    return "%.2f ± %.2f%s" % (row["fps_mean"], row["fps_std"], "".join(MARK % mark for mark in marks))


def crossing_text(row: pd.Series) -> str:
    """A crossing in a few words: at every N, from which measured N (and where the lines cross),
    or not in the range measured."""
    smallest, largest = row["people_range"].split("–")
    if row["first_measured"] is None or pd.isna(row["first_measured"]):
        return "not up to %s" % largest
    if int(row["first_measured"]) == int(smallest):
        return "at every N"
    text = "from N = %d" % row["first_measured"]
    if not pd.isna(row["interpolated"]):
        text += " (≈ %.1f)" % row["interpolated"]
    return text


CROSSING_CORNER = "One-pass model, faster than →"


def crossing_frame(found: pd.DataFrame) -> pd.DataFrame:
    """The crossings in words: a row per one-pass model, a column per top-down pipeline."""
    texts = found.assign(text=found.apply(crossing_text, axis=1))
    matrix = texts.pivot(index="one_pass", columns="top_down", values="text")
    matrix = matrix.reindex(index=list(dict.fromkeys(found["one_pass"])), columns=list(dict.fromkeys(found["top_down"])))
    return matrix.fillna(NOT_MEASURED).rename_axis(index=CROSSING_CORNER, columns=None)


def crossing_matrix(found: pd.DataFrame) -> List[str]:
    """The crossings as a markdown table."""
    matrix = crossing_frame(found)
    lines = ["| %s | " % CROSSING_CORNER + " | ".join(matrix.columns) + " |",
             "| :--- |" + " :--- |" * len(matrix.columns)]
    for name, row in matrix.iterrows():
        lines.append("| %s | %s |" % (name, " | ".join(row)))
    return lines


def render_markdown(table: pd.DataFrame, frame_size: List[int], target: float, max_probe_deviation: float) -> str:
    people = sorted(table["people"].unique())
    lines = [
        "# Scenes: frames per second with N people in the frame (measured by posebench)",
        "",
        "One %d×%d frame already in memory (no image decoding, no tracking, random weights). A top-down "
        "pipeline runs its person detector's test step on the frame, then its pose model on N person boxes "
        "laid out on the frame: MMPose's top-down path (the test pipeline's affine crop and normalisation "
        "per box, one batch of N, flip test as configured, decoding). A one-pass model (one-stage or "
        "bottom-up) runs once on the frame, its decoding set to keep exactly N people (random weights "
        "decode nobody otherwise); an Ultralytics YOLO pose model runs `predict`'s own steps (letterbox, "
        "network, NMS with the N best candidates in). A pipeline marked (rtmlib-RUNTIME) runs on rtmlib "
        "instead, on posebench's ONNX exports: its RTMDet on the frame, then its RTMPose on each box in turn "
        "(numpy crop and decoding around the runtime, one crop per call). Its detector keeps rtmlib's score "
        "threshold (0.3), which no candidate of random weights reaches, so its NMS has nothing to do, where "
        "MMPose's detector takes its 1,000 best candidates (nms_pre) into NMS. FPS: mean ± std over the "
        "timed frames of every round; marks as in `table.md`." % (frame_size[0], frame_size[1]),
    ]
    for device, _, label in TABLE_DEVICES:
        mine = table[table["device"] == device]
        if mine.empty:
            continue
        lines += ["", "## %s" % label, "", "| Scene | Kind | " + " | ".join("N = %d" % n for n in people) + " |",
                  "| :--- | :--- |" + " ---: |" * len(people)]
        for _, rows in mine.groupby(["kind", "scene"], sort=False):
            by_people = rows.set_index("people")
            first = rows.iloc[0]
            cells = [fps_text(by_people.loc[n], target, max_probe_deviation) if n in by_people.index else NOT_MEASURED
                     for n in people]
            lines.append("| %s | %s | %s |" % (first["name"], first["kind"], " | ".join(cells)))
        lines += ["", "Where the frame's time goes (share of the summed stages; decoding: the pose model's step "
                  "less its network), the batch the pose network got (N crops, or the frame), the height × width "
                  "it ran at and the people decoded:", "",
                  "| Scene | N | detector | pre-processing | network | decoding | network batch | network input "
                  "| people decoded |",
                  "| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for _, row in mine[mine["status"] == "measured"].iterrows():
            shares = " | ".join(share_text(row["%s_share" % stage]) for stage in STAGES)
            decoded = "%d" % row["instances"] if not pd.isna(row["instances"]) else NOT_MEASURED
            if not pd.isna(row["instances"]) and int(row["instances"]) != int(row["people"]):
                decoded += " (not %d)" % row["people"]
            batch = NOT_MEASURED if pd.isna(row["network_batch"]) else "%d" % row["network_batch"]
            network_input = NOT_MEASURED if pd.isna(row["network_input"]) else row["network_input"].replace("x", "×")
            lines.append("| %s | %d | %s | %s | %s | %s |" % (row["name"], row["people"], shares, batch, network_input,
                                                              decoded))
        found = crossings(table, device)
        if len(found):
            lines += ["", "Where a one-pass model overtakes a top-down pipeline: the first measured N at which it is "
                      "at least as fast, and (≈) the N where the two lines cross on log–log axes:", ""]
            lines += crossing_matrix(found)
    failed = table[table["status"] != "measured"].drop_duplicates(["scene", "device"])
    for _, row in failed.iterrows():
        lines.append("")
        lines.append("%s on %s: %s (%s)" % (row["name"], row["device"], row["status"], row["message"]))
    return "\n".join(lines) + "\n"


def share_text(share: float) -> str:
    return NOT_MEASURED if pd.isna(share) else "%.0f%%" % (100 * share)


def draw(table: pd.DataFrame, device: str, output: Path, subtitle: str) -> None:
    """FPS against N on log-log axes: a line per scene with its interval, solid for top-down
    pipelines and dashed for one-pass models, and an x where each one-pass line crosses each
    top-down line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mine = table[(table["device"] == device) & (table["status"] == "measured")]
    figure, axes = plt.subplots(figsize=(11, 7.5))
    colours = plt.get_cmap("tab20")
    for index, (scene, rows) in enumerate(mine.groupby("scene", sort=False)):
        first = rows.iloc[0]
        axes.errorbar(rows["people"], rows["fps_mean"], yerr=[rows["fps_mean"] - rows["ci_low"], rows["ci_high"] - rows["fps_mean"]],
                      color=colours(index % 20), marker="o", markersize=4, capsize=2,
                      linestyle="-" if first["kind"] == TOP_DOWN else "--", label=first["name"])
    fps = mine.pivot_table(index="people", columns="name", values="fps_mean")
    for _, row in crossings(table, device).iterrows():
        if row["interpolated"] is not None and not pd.isna(row["interpolated"]) and row["interpolated"] > fps.index.min():
            people = float(row["interpolated"])
            axes.plot([people], [interpolated_fps(fps[row["top_down"]].dropna(), people)], marker="x", color="black",
                      markersize=6, linestyle="none")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(sorted(mine["people"].unique()))
    axes.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())  # every measured N, not decades
    label_log_ticks_plainly(axes.yaxis)
    axes.set_xlabel("people in the frame (N)")
    axes.set_ylabel("frames per second")
    axes.set_title("Whole frames with N people, %s\n%s (x: a one-pass line crosses a top-down line)" % (device, subtitle),
                   fontsize=11)
    axes.grid(True, which="both", alpha=0.25)
    if mine.empty:
        axes.text(0.5, 0.5, "nothing measured", transform=axes.transAxes, ha="center", fontsize=14)
    else:
        axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    figure.subplots_adjust(left=0.08, right=0.72, top=0.9, bottom=0.09)
    output.parent.mkdir(parents=True, exist_ok=True)
    # tight: the figure grows to hold the legend's longest name (an rtmlib pipeline's)
    figure.savefig(str(output), dpi=150, bbox_inches="tight")
    plt.close(figure)


def interpolated_fps(series: pd.Series, people: float) -> float:
    """A line's FPS at N, interpolated on log-log axes."""
    return float(np.exp(np.interp(np.log(people), np.log(series.index.astype(float)), np.log(series.values))))
