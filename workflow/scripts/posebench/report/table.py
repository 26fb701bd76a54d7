"""Step last: the seed's table, rebuilt from our JSON records (a row per model, the seed's columns),
with the environment the measurements ran in."""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple

from posebench.backends.names import config_link
from posebench.report.measurements import interval_wider, probe_shifted
from posebench.stats import percent_text

NOT_MEASURED = "–"
NOT_APPLICABLE = "/"
NO_DEVICE = "n/a"
TABLE_DEVICES = [("cuda", "gpu", "GPU"), ("cpu", "cpu", "CPU")]  # the seed's order: GPU first
MARK = "<sup>%s</sup>"
MARK_CAPPED = MARK % "c"
MARK_BEYOND_SEED = MARK % "b"
MARK_SEED_MAP = MARK % "s"
MARK_PUBLISHED_MAP = MARK % "a"
MAP_MARKS = {"seed": MARK_SEED_MAP, "published": MARK_PUBLISHED_MAP}
MARK_PROBE = MARK % "p"
COMPLEXITY_COLUMNS = [
    "id", "algorithm", "model", "backend", "config", "input_size", "map", "map_source",
    "gflops", "gflops_counter", "params_m", "mmcv_gflops", "thop_gflops", "thop_params_m", "torch_gflops",
    "mmengine_gflops", "mmcv_uncounted_module_types", "thop_uncounted_module_types", "torch_uncounted_operators",
    "mmengine_uncounted_operators", "failures", "not_applicable",
    "hosts", "cpus", "measured_from", "measured_to",
]
# per FPS cell in table.csv: the cell's text, then its statistics over every round
FPS_FIELDS = [
    "", "_mean", "_std", "_median", "_ci_low", "_ci_high", "_ci_half_width", "_rounds", "_iterations", "_capped",
    "_latency_p50_s", "_latency_p90_s", "_latency_p99_s", "_peak_memory_mib", "_model_memory_mib",
    "_within_round_cv", "_between_round_cv", "_probe_shift", "_probe_worst_deviation", "_unsteady", "_hosts",
]
# cells.csv's column behind each field
CELL_COLUMN = {field: {"mean": "fps_mean", "std": "fps_std", "median": "fps_median"}.get(field[1:], field[1:])
               for field in FPS_FIELDS[1:]}


def seed_number(value: float) -> str:
    """Two decimals without trailing zeros, as the seed prints them (34, 31.3, 28.54)."""
    return ("%.2f" % value).rstrip("0").rstrip(".")


def type_counts(counts: Optional[Dict[str, int]]) -> str:
    return " ".join("%s×%d" % item for item in sorted((counts or {}).items()))


def fps_key(column_device: str, batch_size: int) -> str:
    return "%s_fps_bs%d" % (column_device, batch_size)


def csv_columns(batch_sizes: List[int]) -> List[str]:
    return COMPLEXITY_COLUMNS + [
        fps_key(column_device, size) + field
        for _, column_device, _ in TABLE_DEVICES
        for size in batch_sizes
        for field in FPS_FIELDS
    ]


def fps_fields(cell: Optional[Dict[str, object]], timed: bool, key: str) -> Dict[str, object]:
    """The flat CSV fields of one FPS cell, from its row of cells.csv."""
    if not timed:
        return {key: NO_DEVICE}
    if cell is None:
        return {key: NOT_MEASURED}
    if cell["status"] == "failed":
        return {key: cell["kind"]}
    if cell["status"] != "measured":
        return {key: NOT_APPLICABLE}
    fields = {key + field: cell[column] for field, column in CELL_COLUMN.items()}
    fields[key] = "%.2f ± %.2f" % (cell["fps_mean"], cell["fps_std"])
    fields[key + "_unsteady"] = cell["unsteady"]
    return fields


def table_row(
    resolved: Dict[str, object],
    label: Dict[str, object],
    complexity: Dict[str, object],
    cells: Dict[Tuple[str, int], Dict[str, object]],
    devices: List[str],
    batch_sizes: List[int],
    flops_counter: str = "mmcv",
) -> Dict[str, object]:
    """One flat record per model: what the CSV holds and the markdown shows. `label`: its name
    and mAP (labels.py); `cells`: the model's eager cells by (device, batch size)."""
    height, width = resolved["input_size"]
    row = {
        "id": resolved["id"],
        "algorithm": label["algorithm"],
        "model": label["model"],
        "backend": resolved["backend"],
        "config": label["config"],
        "input_size": "%dx%d" % (height, width),
        "map": label["map"]["value"],
        "map_source": label["map"]["source"],
    }
    row.update(complexity_fields(complexity, flops_counter))
    failures = [describe_failure("complexity", complexity["failure"])] if complexity["status"] == "failed" else []
    not_applicable = []
    for device, column_device, _ in TABLE_DEVICES:
        for size in batch_sizes:
            cell = cells.get((device, size))
            row.update(fps_fields(cell, device in devices, fps_key(column_device, size)))
            if cell and cell["status"] == "failed":
                failures.append(describe_failure("%s bs=%d" % (device, size), cell))
            elif cell and cell["status"] not in ("measured", "failed"):
                not_applicable.append("%s bs=%d: %s" % (device, size, cell["message"]))
    row["failures"] = "; ".join(failures)
    row["not_applicable"] = "; ".join(not_applicable)
    row.update(provenance(list(cells.values())))
    return row


def provenance(cells: List[Dict[str, object]]) -> Dict[str, str]:
    """Where and when a row's cells were measured: every host and CPU, the first round's start
    and the last round's end."""
    def joined(column: str, separator: str) -> str:
        found = {part for cell in cells for part in str(cell.get(column) or "").split(separator) if part}
        return separator.join(sorted(found))

    starts = [cell["started_at"] for cell in cells if isinstance(cell.get("started_at"), str)]
    ends = [cell["ended_at"] for cell in cells if isinstance(cell.get("ended_at"), str)]
    return {"hosts": joined("hosts", " "), "cpus": joined("cpus", "; "),
            "measured_from": min(starts, default=""), "measured_to": max(ends, default="")}


def complexity_fields(complexity: Dict[str, object], counter: str = "mmcv") -> Dict[str, object]:
    """Params and GFLOPs (MACs) by the counter the table follows; every counter's beside them."""
    if complexity["status"] == "failed":
        return {"gflops": complexity["failure"]["kind"], "params_m": complexity["failure"]["kind"]}
    counts = {name: complexity.get(name) or {} for name in ("mmcv", "thop", "torch", "mmengine")}
    return {
        "gflops": counts[counter].get("gflops", counts[counter].get("error", "")),
        "gflops_counter": counts[counter].get("counter", counter),
        "params_m": complexity["params_m"],
        "mmcv_gflops": counts["mmcv"].get("gflops", ""),
        "thop_gflops": counts["thop"].get("gflops", ""),
        "thop_params_m": counts["thop"].get("params_m", ""),
        "torch_gflops": counts["torch"].get("gflops", ""),
        "mmengine_gflops": counts["mmengine"].get("gflops", ""),
        "mmcv_uncounted_module_types": type_counts(counts["mmcv"].get("uncounted_module_types"))
        or counts["mmcv"].get("error", ""),
        "thop_uncounted_module_types": type_counts(counts["thop"].get("uncounted_module_types"))
        or counts["thop"].get("error", ""),
        "torch_uncounted_operators": type_counts(counts["torch"].get("uncounted_operators"))
        or counts["torch"].get("error", ""),
        "mmengine_uncounted_operators": type_counts(counts["mmengine"].get("uncounted_operators"))
        or counts["mmengine"].get("error", ""),
    }


def describe_failure(where: str, failure: Dict[str, str]) -> str:
    return "%s: %s in %s: %s" % (where, failure["kind"], failure["stage"], failure["message"])


def map_cell(row: Dict[str, object]) -> str:
    if row["map"] is None:
        return NOT_MEASURED
    return "%g%s" % (row["map"], MAP_MARKS.get(row["map_source"], ""))


def number_cell(value: object) -> str:
    return seed_number(value) if isinstance(value, float) else str(value)


def cell_marks(capped: bool, half_width: Optional[float], probe_shift: Optional[float], target: float,
               max_probe_deviation: float) -> List[str]:
    """A measured cell's marks, in the table's order: c (cut short), ±N% (its interval's
    half-width, where that is wider than the target), p (the probe off the run's median under
    most of its rounds). A statistic an older record lacks (None) marks nothing."""
    marks = ["c"] if capped else []
    if half_width is not None and interval_wider(half_width, target):
        marks.append("±" + percent_text(half_width))
    if probe_shift is not None and probe_shifted(probe_shift, max_probe_deviation):
        marks.append("p")
    return marks


def fps_cell(row: Dict[str, object], key: str, seed_row: Optional[Dict[str, str]], target: float,
             max_probe_deviation: float) -> str:
    """The cell's mean ± std, with its marks (cell_marks), and b where the seed printed `/`."""
    cell = str(row[key])
    if key + "_mean" not in row:
        return cell
    marks = cell_marks(row[key + "_capped"], row[key + "_ci_half_width"], row[key + "_probe_shift"], target,
                       max_probe_deviation)
    cell += "".join(MARK % mark for mark in marks)
    if seed_row and seed_row.get(key) == NOT_APPLICABLE:
        cell += MARK_BEYOND_SEED
    return cell


def markdown_columns(batch_sizes: List[int]) -> List[str]:
    columns = ["Algorithm", "Model", "config", "Input size", "mAP", "Flops (GFLOPs)", "Params (M)"]
    for _, column_device, label in TABLE_DEVICES:
        for index, size in enumerate(batch_sizes):
            batch = "" if size == 1 else ", bs=%d" % size
            note = "<sup>%d</sup>" % min(index + 1, 2) if column_device == "gpu" else ""
            columns.append("%s Inference Speed<br>(FPS%s)%s" % (label, batch, note))
    return columns


def markdown_cells(row: Dict[str, object], batch_sizes: List[int], seed_row: Optional[Dict[str, str]],
                   target: float, max_probe_deviation: float) -> List[str]:
    height, width = row["input_size"].split("x")
    config_path = config_link(str(row["backend"]), str(row["config"]))
    cells = [
        str(row["algorithm"]), str(row["model"]), "[config](%s)" % config_path,
        "(3, %s, %s)" % (width, height), map_cell(row),
        number_cell(row["gflops"]), number_cell(row["params_m"]),
    ]
    for _, column_device, _ in TABLE_DEVICES:
        cells += [fps_cell(row, fps_key(column_device, size), seed_row, target, max_probe_deviation)
                  for size in batch_sizes]
    return cells


COUNTER_TEXT = {
    "mmcv": "Params and FLOPs come from mmcv's `get_model_complexity_info` (the seed's counter)",
    "torch": "FLOPs come from PyTorch's operator-level `FlopCounterMode` (matrix products and attention "
             "included), params from the model's parameters",
    "mmengine": "FLOPs come from mmengine's operator-level `FlopAnalyzer` (what MMPose 1.x publishes), "
                "params from the model's parameters",
}
SOFTWARE = ["python", "torch", "cuda", "cudnn", "mmcv", "mmengine", "mmpose", "ultralytics", "opencv"]


def hardware_lines(environments: List[Dict[str, object]]) -> List[str]:
    """The hosts, CPUs and GPUs the rounds ran on; a warning when there is more than one of a kind."""
    hosts = sorted({env["host"] for env in environments})
    cpus = sorted({"%s (%s physical cores, %s logical)" % (env["cpu"], env["cpu_physical_cores"], env["cpu_logical"])
                   for env in environments})
    gpus = sorted({"%s (driver %s)" % (env["gpu"], env["gpu_driver"]) for env in environments if env["device"] == "cuda"})
    gpu = ", ".join(gpus) or "none: no CUDA device where this ran, so the GPU columns read n/a"
    lines = ["- CPU: %s" % ", ".join(cpus), "- GPU: %s" % gpu, "- host: %s" % ", ".join(hosts)]
    mixed = [what % count for what, count in (("%d hosts", len(hosts)), ("%d CPU models", len(cpus))) if count > 1]
    if mixed:
        lines.append("- **warning: this table mixes %s**; `table.csv` gives each row's hosts and CPUs"
                     % " and ".join(mixed))
    return lines


def software_line(env: Dict[str, object]) -> str:
    return ", ".join("%s %s" % (name, env[name]) for name in SOFTWARE if env.get(name) is not None)


def software_lines(environments: List[Dict[str, object]]) -> List[str]:
    """Per backend, each distinct set of versions, with the threads it timed with per device."""
    lines = []
    for backend in sorted({env["backend"] for env in environments}):
        mine = [env for env in environments if env["backend"] == backend]
        for versions in sorted({software_line(env) for env in mine}):
            threads = sorted({"%s threads on %s" % (env["threads"], env["device"])
                              for env in mine if software_line(env) == versions})
            lines.append("- backend `%s`: %s; %s" % (backend, versions, ", ".join(threads)))
    return lines


def probe_lines(probe: Dict[str, Dict[str, float]], reference: Optional[Dict[str, Dict[str, float]]],
                reference_name: Optional[str]) -> List[str]:
    """How fast the machine was while this run measured, by the probe; against a reference run's."""
    lines = []
    for device, _, label in TABLE_DEVICES:
        if device not in probe:
            continue
        mine = probe[device]
        line = "- %s probe (3×3 convolution): median %.0f GFLOP/s, range %.0f–%.0f over %d readings" % (
            label, mine["median"], mine["min"], mine["max"], mine["readings"])
        if math.isfinite(mine["round_scatter"]):
            line += ("; the machine moved ±%s from round to round, as far as a cell's rounds scatter when they "
                     "follow it" % percent_text(mine["round_scatter"]))
        if reference and device in reference:
            line += "; %s: median %.0f, this run %+.1f%%" % (
                reference_name, reference[device]["median"], 100 * (mine["median"] / reference[device]["median"] - 1))
        lines.append(line)
    return lines


def measured_span(rows: List[Dict[str, object]]) -> str:
    """When the table's rounds ran (UTC, to the minute), not when it was rendered."""
    starts = [row["measured_from"] for row in rows if row.get("measured_from")]
    ends = [row["measured_to"] for row in rows if row.get("measured_to")]
    if not starts:
        return "(nothing timed)"
    return "from %s to %s UTC" % (min(starts)[:16].replace("T", " "), max(ends)[:16].replace("T", " "))


def render_markdown(
    rows: List[Dict[str, object]],
    environment: List[Dict[str, object]],
    batch_sizes: List[int],
    seed: Dict[str, Dict[str, str]],
    target: float,
    max_probe_deviation: float,
    probe: Dict[str, Dict[str, float]],
    reference: Optional[Dict[str, Dict[str, float]]] = None,
    reference_name: Optional[str] = None,
    flops_counter: str = "mmcv",
) -> str:
    columns = markdown_columns(batch_sizes)
    rounds = sorted({int(row[key]) for row in rows for key in row if key.endswith("_rounds") and row[key]})
    lines = [
        "# Inference Speed (measured by posebench)",
        "",
        "Model complexity and inference speed of pose models, measured on the machine below %s "
        "with the method of MMPose's published table. %s on one forward pass of the network (no flip "
        "test, no decoding); FLOPs are multiply-accumulates, as MMPose reports them. The other "
        "counters' figures, and what each left uncounted, are in `table.csv`. FPS times the test-time "
        "step on ready inputs: forward, the flip-test pass where the config asks for it, outputs to "
        "the host, and keypoint decoding; pre-processing excluded." % (measured_span(rows), COUNTER_TEXT[flops_counter]),
        "",
        "### Hardware",
        "",
    ] + hardware_lines(environment) + ["", "### Software Environment", ""] + software_lines(environment) + [
        "",
        "### Measurement",
        "",
        "- each FPS cell: %s round(s), separate processes run round-major across the table, more rounds "
        "while its 95%% interval is wider than ±%g%%; the mean ± population std of per-iteration FPS over "
        "every iteration of every round. `table.csv` adds the median, the interval, the p50, p90 and "
        "p99 latency, the within- and between-round CV and the probe's shift; `measurements.csv` has "
        "every round." % ("–".join(str(n) for n in (rounds[0], rounds[-1])) if len(rounds) > 1
                          else (rounds or ["no"])[0], 100 * target),
    ] + probe_lines(probe, reference, reference_name) + [
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "|".join([" :--- "] + [" :---: "] * (len(columns) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(markdown_cells(row, batch_sizes, seed.get(row["id"]), target, max_probe_deviation)) + " |" for row in rows]
    lines += [""] + not_applicable_lines(rows) + [
        "<sup>1</sup> We run several iterations and time each; the mean and standard deviation of FPS are shown.",
        "",
        "<sup>2</sup> FPS is iterations per second, regardless of the batch size of the iteration.",
        "",
        "Input size as the seed prints it, (C, W, H). `%s`: does not apply (why: listed under the "
        "table). `%s`: no such device where this ran. `%s`: not measured. "
        "%s: fewer iterations over all its rounds than the seed's count for one (`timing.iterations`, 50), as "
        "the time budget cut each round short (`config/config.yaml`, `timing`). "
        "<sup>±N%%</sup>: not known to the target: the 95%% interval of the mean is ±N%% wide, wider than "
        "±%g%%, after every round it was given. %s: the machine-speed probe stood more than %g%% off the "
        "run's median under most of the cell's rounds: the machine was not the same (`table.csv`, "
        "`_unsteady`, says both). "
        "%s: measured here, where the seed printed `/`. %s: mAP from the seed table, no MMPose "
        "metafile lists this config. %s: mAP from its authors' page (`resources/published_map.csv`), "
        "where they keep no metafile. `error`, `OOM`: the model failed there (out of memory for `OOM`); "
        "`table.csv` and the job's log under `logs/` say how."
        % (NOT_APPLICABLE, NO_DEVICE, NOT_MEASURED, MARK_CAPPED, 100 * target, MARK_PROBE, 100 * max_probe_deviation,
           MARK_BEYOND_SEED, MARK_SEED_MAP, MARK_PUBLISHED_MAP),
        "",
    ]
    return "\n".join(lines)


def not_applicable_lines(rows: List[Dict[str, object]]) -> List[str]:
    """Why cells read `/`: one line per reason, with the models it applies to."""
    models_by_reason: Dict[str, List[str]] = {}
    for row in rows:
        for note in filter(None, str(row.get("not_applicable") or "").split("; ")):
            models_by_reason.setdefault(note, []).append("%s %s %s" % (row["algorithm"], row["model"], row["input_size"]))
    lines = ["`%s` at %s: %s." % (NOT_APPLICABLE, note, ", ".join(models)) for note, models in models_by_reason.items()]
    return [line + "\n" for line in lines]


def render_csv(rows: List[Dict[str, object]], batch_sizes: List[int]) -> str:
    import pandas as pd

    return pd.DataFrame(rows, columns=csv_columns(batch_sizes)).to_csv(index=False)
