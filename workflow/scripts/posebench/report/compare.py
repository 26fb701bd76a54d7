"""Our measured numbers beside the seed's published ones, or beside another run's: per cell
the ratio, and, where both runs kept their rounds (measurements.csv), whether the difference is
real (faster, slower) or within noise."""
from __future__ import annotations

import json
import math
import re
from typing import Dict, List, Optional, Sequence, Tuple

from posebench.report.table import TABLE_DEVICES, seed_number
from posebench.stats import NOT_COMPARED, geometric_mean, sign_test, verdict

FLOPS_TOLERANCE = 0.02
LEADING_NUMBER = re.compile(r"\d+(\.\d+)?(e[-+]?\d+)?")
# a printed two-decimal FPS whose rounding alone is worth more than this is left out of the means
MAX_ROUNDING_ERROR = 0.05
Rounds = Dict[Tuple[str, str, int], List[Sequence[float]]]  # (id, device, batch) -> per-round FPS
ProbeMedians = Dict[str, float]  # device -> the median probe reading (GFLOP/s) over a run's rounds


def complexity_mismatches(
    ours: Dict[str, Dict[str, str]], seed: Dict[str, Dict[str, str]], require_all: bool = False
) -> List[str]:
    """One line per disagreement: params must match the seed to its printed precision (two
    decimals), FLOPs must lie within 2% of its GFLOPs. Rows the seed lacks are not compared."""
    problems = []
    for model_id, seed_row in seed.items():
        row = ours.get(model_id)
        if row is None:
            if require_all:
                problems.append("%s: missing from our table" % model_id)
            continue
        if row.get("failures", "").startswith("complexity"):
            problems.append("%s: not counted (%s)" % (model_id, row["failures"]))
            continue
        params, seed_params = round(float(row["params_m"]), 2), float(seed_row["params_m"])
        if params != seed_params:
            problems.append("%s: params %.2f M, seed %s M" % (model_id, params, seed_row["params_m"]))
        gflops, seed_gflops = float(row["gflops"]), float(seed_row["gflops"])
        if abs(gflops - seed_gflops) > FLOPS_TOLERANCE * seed_gflops:
            problems.append(
                "%s: %.3f GFLOPs, seed %s (%+.1f%%)"
                % (model_id, gflops, seed_row["gflops"], 100 * (gflops / seed_gflops - 1))
            )
    return problems


COUNTERS = ("mmengine", "torch", "mmcv")  # mmengine first: the counter MMPose publishes with


def published_comparison(
    ids: List[str], records: Dict[str, Dict], published: Dict[str, Dict[str, str]]
) -> Tuple[List[str], int]:
    """A line per model: our params and each counter's GFLOPs (MACs) beside the published figures,
    or why there is nothing to compare; and how many disagree by the counter their authors' figure
    is checked against (its `counter`: mmengine for MMPose's, torch for Ultralytics'; its
    `flops_per_mac`: 2 where the authors count a multiply-accumulate as two FLOPs)."""
    lines, mismatches = [], 0
    for model_id in ids:
        record = records.get(model_id)
        if record is None or record.get("status") != "counted":
            lines.append("%s: not counted yet (%s)" % (model_id, "no record" if record is None else record["status"]))
            continue
        counts = ", ".join("%s %.3f" % (name, record[name]["gflops"]) for name in COUNTERS
                           if "gflops" in (record.get(name) or {}))
        figure = published.get(model_id)
        if figure is None:
            lines.append("%s: params %.2f M, GFLOPs %s; none published" % (model_id, record["params_m"], counts))
            continue
        params_ok, params_said = params_agree(record["params_m"], figure)
        flops_ok, flops_said, ours = flops_agree(record, figure)
        mismatches += not (params_ok and flops_ok)
        lines.append("%s: params %.2f M (published %s: %s), GFLOPs %s%s (published %s: %s) [%s]" % (
            model_id, record["params_m"], figure["params_m"], params_said, counts, ours, figure["gflops"],
            flops_said, figure["source"]))
    return lines, mismatches


def params_agree(params_m: float, figure: Dict[str, str]) -> Tuple[bool, str]:
    """To the printed precision, or within the figure's params_tolerance where it gives one."""
    tolerance = figure.get("params_tolerance")
    if tolerance:
        ok = abs(params_m / float(figure["params_m"]) - 1) <= float(tolerance)
        return ok, "within %g%%" % (100 * float(tolerance)) if ok else "MISMATCH"
    decimals = len(figure["params_m"].partition(".")[2])
    ok = round(params_m, decimals) == float(figure["params_m"])
    return ok, "match" if ok else "MISMATCH"


def flops_agree(record: Dict, figure: Dict[str, str]) -> Tuple[bool, str, str]:
    """Our count by the figure's counter, in the figure's FLOPs per MAC, within its tolerance."""
    counter = figure.get("counter") or "mmengine"
    per_mac = float(figure.get("flops_per_mac") or 1)
    tolerance = float(figure.get("flops_tolerance") or FLOPS_TOLERANCE)
    macs = (record.get(counter) or {}).get("gflops")
    ok = macs is not None and abs(per_mac * macs / float(figure["gflops"]) - 1) <= tolerance
    ours = "; %s x %g = %.2f" % (counter, per_mac, per_mac * macs) if per_mac != 1 and macs is not None else ""
    return ok, "within %g%%" % (100 * tolerance) if ok else "MISMATCH", ours


def fps_value(row: Dict[str, str], column: str) -> Optional[float]:
    """A cell's mean FPS: our `_mean` field, else the number the cell starts with ('4.00 ± 0.12');
    None for `/`, `n/a`, failures and empty cells."""
    text = row.get(column + "_mean") or row.get(column) or ""
    match = LEADING_NUMBER.match(text)
    return float(match.group(0)) if match else None


def rounding_error(row: Dict[str, str], column: str) -> float:
    """How far the two-decimal rounding of a printed cell may move its ratio (0.005 / value);
    zero for a cell with its full-precision `_mean`."""
    value = fps_value(row, column)
    if row.get(column + "_mean") or not value:
        return 0.0
    return 0.005 / value


def ratio(ours: Optional[float], theirs: Optional[float]) -> Optional[float]:
    if ours is None or not theirs:
        return None
    return ours / theirs


def column_cell(column: str) -> Tuple[str, int]:
    """cpu_fps_bs10 -> ("cpu", 10)"""
    column_device, _, size = column.split("_")
    device = {column: device for device, column, _ in TABLE_DEVICES}[column_device]
    return device, int(size[2:])


def cell_verdict(model_id: str, column: str, ours: Optional[Rounds], theirs: Optional[Rounds],
                 threshold: float, alpha: float) -> Dict[str, object]:
    """faster / slower / within noise, where both runs have the cell's rounds."""
    key = (model_id,) + column_cell(column)
    if not ours or not theirs or key not in ours or key not in theirs:
        return {"verdict": NOT_COMPARED}
    return verdict(ours[key], theirs[key], threshold, alpha)


def comparison_rows(
    ours: Dict[str, Dict[str, str]], theirs: Dict[str, Dict[str, str]], fps_columns: List[str],
    ours_rounds: Optional[Rounds] = None, theirs_rounds: Optional[Rounds] = None,
    threshold: float = 0.1, alpha: float = 0.05,
) -> List[Dict[str, object]]:
    """Per model in both tables: FPS pairs and ratios (ours / theirs), largest deviation first."""
    rows = []
    for model_id, row in ours.items():
        other = theirs.get(model_id)
        if other is None:
            continue
        pairs = {column: (fps_value(row, column), fps_value(other, column)) for column in fps_columns}
        ratios = {column: ratio(*pair) for column, pair in pairs.items()}
        deviations = [abs(math.log(value)) for value in ratios.values() if value]
        rows.append({
            "id": model_id, "model": row["model"], "input_size": row["input_size"],
            "params_m": (row.get("params_m"), other.get("params_m")), "gflops": (row.get("gflops"), other.get("gflops")),
            "fps": pairs, "ratios": ratios, "deviation": max(deviations) if deviations else None,
            "rough": {column: rounding_error(other, column) > MAX_ROUNDING_ERROR for column in fps_columns},
            "verdicts": {column: cell_verdict(model_id, column, ours_rounds, theirs_rounds, threshold, alpha)["verdict"]
                         for column in fps_columns},
        })
    return sorted(rows, key=lambda item: -1.0 if item["deviation"] is None else item["deviation"], reverse=True)


def column_summary(rows: List[Dict[str, object]], column: str, probe: Optional[float] = None) -> str:
    """The column's geometric-mean ratio and its range, and, given the runs' probe ratio on the
    column's device, that mean over it: what is left once the machine's speed is divided out."""
    ratios = [row["ratios"][column] for row in rows if row["ratios"][column] and not row["rough"][column]]
    rough = sum(1 for row in rows if row["ratios"][column] and row["rough"][column])
    mean = geometric_mean(ratios)
    if mean is None:
        return "no model measured in both"
    text = "%.2f× geometric mean over %d models (%.2f× to %.2f×)" % (mean, len(ratios), min(ratios), max(ratios))
    if probe:
        text += ", %.2f× over the probe's %.2f×" % (mean / probe, probe)
    if rough:
        text += "; %d left out: theirs is printed under 0.1 FPS, where two-decimal rounding alone moves the ratio by over %d%%" % (
            rough, 100 * MAX_ROUNDING_ERROR)
    verdicts = [row["verdicts"][column] for row in rows if row["verdicts"][column] != NOT_COMPARED]
    if verdicts:
        text += "; " + ", ".join("%d %s" % (verdicts.count(word), word)
                                 for word in ("faster", "slower", "within noise"))
    signs = sign_test(ratios)
    return text + "; ours faster in %d, theirs in %d (sign test p = %.2g)" % (signs["higher"], signs["lower"], signs["p_value"])


def pair_text(pair: Tuple[Optional[str], Optional[str]]) -> str:
    return "%s / %s" % tuple(short_number(value) for value in pair)


def short_number(value: Optional[str]) -> str:
    """Two decimals as the seed prints them; a failure's kind as it is."""
    match = LEADING_NUMBER.fullmatch(value or "")
    return seed_number(float(value)) if match else (value or "–")


def ratio_text(ratio_value: Optional[float], pair: Tuple[Optional[float], Optional[float]], word: str = NOT_COMPARED) -> str:
    if ratio_value is None:
        return "–"
    text = "%.2f× (%.2f / %.2f)" % ((ratio_value,) + pair)
    return text if word == NOT_COMPARED else "%s %s" % (text, word)


def render_comparison(
    ours: Dict[str, Dict[str, str]], theirs: Dict[str, Dict[str, str]], theirs_name: str, fps_columns: List[str],
    ours_rounds: Optional[Rounds] = None, theirs_rounds: Optional[Rounds] = None,
    threshold: float = 0.1, alpha: float = 0.05,
    ours_environments: Optional[List[Dict]] = None, theirs_environments: Optional[List[Dict]] = None,
    ours_probes: Optional[ProbeMedians] = None, theirs_probes: Optional[ProbeMedians] = None,
) -> str:
    rows = comparison_rows(ours, theirs, fps_columns, ours_rounds, theirs_rounds, threshold, alpha)
    ours_probes, theirs_probes = ours_probes or {}, theirs_probes or {}
    probes = probe_ratios(ours_probes, theirs_probes)
    labels = {column: fps_column_label(column) for column in fps_columns}
    lines = ["# Our run against %s" % theirs_name, ""]
    if ours_environments and theirs_environments:
        lines += environment_lines(ours_environments, theirs_environments)
    lines += [
        "Each FPS column holds the ratio ours / theirs of the mean FPS, then both means. Rows are sorted "
        "by their largest deviation from 1× in any column, so outliers come first. Params and GFLOPs "
        "read ours / theirs.",
        "",
    ]
    if ours_rounds and theirs_rounds:
        lines += [
            "Where both runs kept their rounds, each cell also says `faster`, `slower` or `within noise`: "
            "a difference counts when the mean FPS differ by more than %g%% and a test over the rounds "
            "finds it at p < %g (Welch's t-test over the round means with two or more rounds a side, "
            "else the Mann-Whitney U test over the iterations)." % (100 * threshold, alpha),
            "",
        ]
    lines += probe_lines(ours_probes, theirs_probes, probes)
    lines += ["- %s: %s" % (labels[column], column_summary(rows, column, probes.get(column_cell(column)[0])))
              for column in fps_columns]
    only_ours = [model_id for model_id in ours if model_id not in theirs]
    only_theirs = [model_id for model_id in theirs if model_id not in ours]
    if only_ours:
        lines.append("- only in ours: %s" % ", ".join(only_ours))
    if only_theirs:
        lines.append("- only in theirs: %d models" % len(only_theirs))
    columns = ["Model", "Input size", "Params (M)", "GFLOPs"] + [labels[column] for column in fps_columns]
    lines += ["", "| " + " | ".join(columns) + " |", "|" + "|".join([" :--- "] * 2 + [" ---: "] * (len(columns) - 2)) + "|"]
    for row in rows:
        cells = [row["model"], row["input_size"], pair_text(row["params_m"]), pair_text(row["gflops"])]
        cells += [ratio_text(row["ratios"][column], row["fps"][column], row["verdicts"][column]) for column in fps_columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def probe_ratios(ours: ProbeMedians, theirs: ProbeMedians) -> Dict[str, float]:
    """Per device both runs probed, ours / theirs of their median probe readings."""
    return {device: ours[device] / theirs[device] for device in ours if theirs.get(device)}


def probe_lines(ours: ProbeMedians, theirs: ProbeMedians, ratios: Dict[str, float]) -> List[str]:
    """How fast each machine ran the probe over its run's rounds (`ratios`: their probe_ratios),
    before any FPS ratio: the part of a ratio that is the machine's speed (another VM, or the same
    one at another hour)."""
    if not ratios:
        return []
    said = ["- the probe (a fixed 3x3 convolution, read before and after every round) on %s: a median of %.0f "
            "GFLOP/s over our rounds and %.0f over theirs, %.2f×" % (device.upper(), ours[device], theirs[device], ratio)
            for device, ratio in sorted(ratios.items())]
    return said + [
        "  (\"over the probe's\" below divides a column's mean by that ratio: a guide to what the machine's speed "
        "leaves, not a correction, since a model spends its time in many operators, not one convolution)"]


# what, besides speed, can make two runs differ: (label, how to read it from an environment)
ENVIRONMENT_FIELDS = [
    ("CPU", lambda env: env["cpu"]),
    ("GPU", lambda env: env.get("gpu") or "none"),
    ("hosts", lambda env: env["host"]),
    ("threads", lambda env: "%s on %s" % (env["threads"], env["device"])),
    ("python", lambda env: env.get("python")),
    ("torch", lambda env: env.get("torch")),
    ("CUDA", lambda env: env.get("cuda") if env["device"] == "cuda" else None),
    ("mmcv", lambda env: env.get("mmcv")),
    ("mmengine", lambda env: env.get("mmengine")),
    ("mmpose", lambda env: env.get("mmpose")),
    ("timing policy", lambda env: json.dumps(env.get("policy"), sort_keys=True) if env.get("policy") else None),
]


def environment_summary(environments: List[Dict]) -> Dict[str, str]:
    """Each field's distinct values over a run's environments, as one text."""
    return {label: ", ".join(sorted({str(read(env)) for env in environments if read(env) is not None})) or "–"
            for label, read in ENVIRONMENT_FIELDS}


def environment_lines(ours: List[Dict], theirs: List[Dict]) -> List[str]:
    """The two runs' environments side by side, and every difference named before any ratio."""
    mine, other = environment_summary(ours), environment_summary(theirs)
    differences = [label for label, _ in ENVIRONMENT_FIELDS if mine[label] != other[label]]
    lines = ["| Environment | ours | theirs |", "| :--- | :--- | :--- |"]
    lines += ["| %s%s | %s | %s |" % (label, " (differs)" if label in differences else "", mine[label], other[label])
              for label, _ in ENVIRONMENT_FIELDS]
    said = ("The runs differ in more than speed: %s. Read the ratios below with that in mind."
            % ", ".join(differences)) if differences else "The two runs ran in the same environment."
    return lines + ["", said, ""]


def fps_column_label(column: str) -> str:
    """gpu_fps_bs10 -> GPU FPS bs=10"""
    device, _, size = column.split("_")
    return "%s FPS %s" % (device.upper(), size.replace("bs", "bs="))


def probe_medians(measurements) -> ProbeMedians:
    """A run's measurements.csv (a DataFrame) as each device's median probe reading; empty for a
    run that kept no probe readings."""
    from posebench.report.measurements import run_probe_medians

    if "probe_before" not in measurements.columns:
        return {}
    return {device: float(median) for device, median in run_probe_medians(measurements).items()}


def rounds_by_cell(measurements, runtime: str = "eager") -> Rounds:
    """A run's measurements.csv (a DataFrame) as each eager cell's per-round FPS values."""
    from posebench.report.measurements import MEASURED, seconds_of
    from posebench.stats import fps_values

    rounds: Rounds = {}
    measured = measurements[(measurements["status"] == MEASURED) & (measurements["runtime"] == runtime)]
    for row in measured.itertuples():
        key = (row.id, row.device, int(row.batch_size))
        rounds.setdefault(key, []).append(fps_values(seconds_of(row.seconds)))
    return rounds
