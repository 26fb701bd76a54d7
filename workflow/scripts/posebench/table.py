"""Step last: the seed's table, rebuilt from our JSON records (a row per model, seed's columns)."""
from __future__ import annotations

import csv
import datetime
import platform
from typing import Dict, List, Optional

NOT_MEASURED = "–"
NOT_APPLICABLE = "/"
MARKDOWN_COLUMNS = [
    "Algorithm", "Model", "config", "Input size", "mAP", "Flops (GFLOPs)", "Params (M)",
    "GPU Inference Speed<br>(FPS)<sup>1</sup>", "GPU Inference Speed<br>(FPS, bs=10)<sup>2</sup>",
    "CPU Inference Speed<br>(FPS)", "CPU Inference Speed<br>(FPS, bs=10)",
]
FPS_COLUMNS = ["gpu_fps_bs1", "gpu_fps_bs10", "cpu_fps_bs1", "cpu_fps_bs10"]
CSV_COLUMNS = [
    "id", "algorithm", "model", "backend", "config", "input_size", "map", "map_source",
    "gflops", "params_m", "thop_gflops", "thop_params_m",
    "mmcv_uncounted_module_types", "thop_uncounted_module_types",
] + FPS_COLUMNS


def seed_number(value: float) -> str:
    """Two decimals without trailing zeros, as the seed prints them (34, 31.3, 28.54)."""
    return ("%.2f" % value).rstrip("0").rstrip(".")


def type_counts(counts: Optional[Dict[str, int]]) -> str:
    return " ".join("%s×%d" % item for item in sorted((counts or {}).items()))


def table_row(resolved: Dict[str, object], complexity: Dict[str, object]) -> Dict[str, object]:
    """One flat record per model: what the CSV holds and the markdown shows."""
    entry = resolved["entry"]
    height, width = resolved["input_size"]
    thop = complexity["thop"]
    single_image = resolved.get("single_image_test_step")
    row = {
        "id": resolved["id"],
        "algorithm": entry["algorithm"],
        "model": entry["model"],
        "backend": resolved["backend"],
        "config": entry["config"],
        "input_size": "%dx%d" % (height, width),
        "map": resolved["map"]["value"],
        "map_source": resolved["map"]["source"],
        "gflops": complexity["gflops"],
        "params_m": complexity["params_m"],
        "thop_gflops": thop.get("gflops", ""),
        "thop_params_m": thop.get("params_m", ""),
        "mmcv_uncounted_module_types": type_counts(complexity["mmcv"]["uncounted_module_types"]),
        "thop_uncounted_module_types": type_counts(thop.get("uncounted_module_types")) or thop.get("error", ""),
    }
    for column in FPS_COLUMNS:
        batch10 = column.endswith("bs10")
        row[column] = NOT_APPLICABLE if (batch10 and single_image) else NOT_MEASURED
    return row


def map_cell(row: Dict[str, object]) -> str:
    if row["map"] is None:
        return NOT_MEASURED
    mark = "<sup>s</sup>" if row["map_source"] == "seed" else ""
    return "%g%s" % (row["map"], mark)


def markdown_cells(row: Dict[str, object]) -> List[str]:
    height, width = row["input_size"].split("x")
    config_path = row["config"] if str(row["config"]).startswith(("./", "/")) else "configs/" + str(row["config"])
    return [
        str(row["algorithm"]), str(row["model"]), "[config](%s)" % config_path,
        "(3, %s, %s)" % (width, height), map_cell(row),
        seed_number(row["gflops"]), seed_number(row["params_m"]),
    ] + [str(row[column]) for column in FPS_COLUMNS]


def software_lines(resolved_records: List[Dict[str, object]]) -> List[str]:
    by_backend = {}
    for resolved in resolved_records:
        by_backend.setdefault(resolved["backend"], resolved["versions"])
    lines = []
    for backend, versions in sorted(by_backend.items()):
        listed = ", ".join("%s %s" % (name, version) for name, version in sorted(versions.items()))
        lines.append("- backend `%s`: %s" % (backend, listed))
    return lines


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def render_markdown(rows: List[Dict[str, object]], resolved_records: List[Dict[str, object]]) -> str:
    today = datetime.date.today().isoformat()
    lines = [
        "# Inference Speed (measured by posebench)",
        "",
        "Model complexity and inference speed of MMPose models, measured on this machine on %s, "
        "with the method of MMPose's published table. Params and FLOPs come from mmcv's "
        "`get_model_complexity_info` on one forward pass of the network (no flip test, no decoding); "
        "FLOPs are multiply-accumulates, as MMPose reports them. thop's count, and the module types "
        "each counter left at zero, are in `table.csv`." % today,
        "",
        "### Hardware",
        "",
        "- CPU: %s (%s)" % (cpu_name(), platform.machine()),
        "",
        "### Software Environment",
        "",
    ] + software_lines(resolved_records) + [
        "",
        "| " + " | ".join(MARKDOWN_COLUMNS) + " |",
        "|" + "|".join([" :--- "] + [" :---: "] * (len(MARKDOWN_COLUMNS) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(markdown_cells(row)) + " |" for row in rows]
    lines += [
        "",
        "<sup>1</sup> We run several iterations and time each; the mean and standard deviation of FPS are shown.",
        "",
        "<sup>2</sup> FPS is iterations per second, regardless of the batch size of the iteration.",
        "",
        "Input size is printed as the seed prints it, (C, W, H). `%s`: not measured yet. `%s`: does not "
        "apply (bottom-up models test one image at a time). <sup>s</sup>: mAP from the seed table, "
        "no MMPose metafile lists this config." % (NOT_MEASURED, NOT_APPLICABLE),
        "",
    ]
    return "\n".join(lines)


def render_csv(rows: List[Dict[str, object]]) -> str:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
