"""results/runtimes.md and runtimes.csv: per model, the test step's FPS with the network run in
each runtime, the speed-up over eager, and the GFLOP/s that FPS achieves against the device's
measured peak."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from posebench.report.table import NOT_APPLICABLE, NOT_MEASURED, TABLE_DEVICES
from posebench.runtimes.names import EAGER, ONNXRUNTIME, SPEED_ONLY
from posebench.stats import geometric_mean

CSV_COLUMNS = [
    "id", "algorithm", "model", "input_size", "device", "batch_size", "runtime", "status", "fps_mean", "fps_std",
    "speedup", "gflops_per_s", "peak_gflops_per_s", "fraction_of_peak", "peak_memory_mib", "model_memory_mib",
    "max_relative_difference", "tolerance", "message",
]


def speedup(fps: Optional[float], eager_fps: Optional[float]) -> Optional[float]:
    if fps is None or not eager_fps:
        return None
    return fps / eager_fps


def achieved_gflops_per_s(gmacs: float, batch_size: int, passes: int, fps: float) -> float:
    """Multiply-accumulates count two floating-point operations each; a flip test runs the
    network twice per iteration."""
    return 2.0 * gmacs * batch_size * passes * fps


def runtime_records(
    resolved: List[Dict[str, object]],
    labels: Dict[str, Dict[str, object]],
    complexity: Dict[str, Dict[str, object]],
    cells: Dict[Tuple[str, str, str, int], Dict[str, object]],
    devices: List[str],
    batch_sizes: List[int],
    runtimes: List[str],
) -> List[Dict[str, object]]:
    """One flat record per model, device, batch size and runtime (the CSV's rows), from the
    cells' statistics over their rounds (results/cells.csv)."""
    records = []
    for entry in resolved:
        for device in devices:
            for size in batch_sizes:
                by_runtime = [
                    dict(runtime_record(entry, labels[entry["id"]], complexity[entry["id"]], cells.get((entry["id"], device, runtime, size)), size),
                         device=device, runtime=runtime)
                    for runtime in runtimes
                ]
                eager_fps = next((cell["fps_mean"] for cell in by_runtime if cell["runtime"] == EAGER), None)
                for cell in by_runtime:
                    cell["speedup"] = speedup(cell["fps_mean"], eager_fps)
                records += by_runtime
    return records


def runtime_record(
    entry: Dict[str, object], label: Dict[str, object], complexity: Dict[str, object], cell: Optional[Dict[str, object]], batch_size: int
) -> Dict[str, object]:
    height, width = entry["input_size"]
    record = {
        "id": entry["id"], "algorithm": label["algorithm"], "model": label["model"],
        "input_size": "%dx%d" % (height, width), "batch_size": batch_size, "fps_mean": None,
    }
    if cell is None:
        return dict(record, status=NOT_MEASURED)
    if cell["status"] != "measured":
        return dict(record, status=cell.get("kind") or NOT_APPLICABLE, message=cell.get("message"))
    record.update(status="measured", fps_mean=cell["fps_mean"], fps_std=cell["fps_std"])
    record.update(max_relative_difference=cell.get("max_relative_difference"), tolerance=cell.get("tolerance"))
    record.update(peak_memory_mib=cell.get("peak_memory_mib"), model_memory_mib=cell.get("model_memory_mib"))
    if complexity["status"] == "counted":
        flip = bool((entry["model_cfg"].get("test_cfg") or {}).get("flip_test", False))
        achieved = achieved_gflops_per_s(complexity["gflops"], batch_size, 2 if flip else 1, cell["fps_mean"])
        peak = cell["peak_gflops_per_s"]
        record.update(gflops_per_s=achieved, peak_gflops_per_s=peak, fraction_of_peak=achieved / peak)
    return record


def best_runtime(cells: List[Dict[str, object]]) -> Optional[Dict[str, object]]:
    """The fastest runtime whose outputs agreed with eager's (a speed-only one never wins)."""
    measured = [cell for cell in cells if cell["status"] == "measured" and cell["runtime"] not in SPEED_ONLY]
    return max(measured, key=lambda cell: cell["fps_mean"]) if measured else None


def fps_text(cell: Dict[str, object], best: Optional[Dict[str, object]]) -> str:
    if cell["status"] != "measured":
        return str(cell["status"])
    text = "%.2f" % cell["fps_mean"]
    if cell["runtime"] != EAGER and cell["speedup"] is not None:
        text += " (%.2f×)" % cell["speedup"]
    return "**%s**" % text if cell is best else text


def throughput_text(best: Optional[Dict[str, object]]) -> str:
    if best is None or best.get("gflops_per_s") is None:
        return NOT_MEASURED
    return "%.1f (%.0f%%)" % (best["gflops_per_s"], 100 * best["fraction_of_peak"])


def memory_text(best: Optional[Dict[str, object]]) -> str:
    """The fastest runtime's peak memory during its timed iterations, in MiB."""
    peak = (best or {}).get("peak_memory_mib")
    return NOT_MEASURED if peak is None or peak != peak else "%.0f" % peak


def render_runtimes_markdown(
    records: List[Dict[str, object]], devices: List[str], batch_sizes: List[int], runtimes: List[str]
) -> str:
    lines = [
        "# Runtimes (measured by posebench)",
        "",
        "FPS of each model's test step (the table's timed region: forward, flip-test pass, decoding) with "
        "the network (backbone, neck, head) run in each runtime; everything else stays eager PyTorch. "
        "In parentheses, the speed-up over eager; in bold, the fastest runtime of the row. A runtime is "
        "timed only after its outputs on a random batch agreed with eager's (`runtimes.csv` has the "
        "difference): `mismatch` means they did not, `export failed` that the ONNX export did not run.",
        "",
        "Achieved GFLOP/s = 2 × GMACs × batch size × network passes per step (2 with flip test) × FPS, "
        "for the fastest runtime, and in parentheses its fraction of the device's peak: the faster of a "
        "float32 matrix product and a 3×3 convolution, timed in the measurement's first round. GMACs count direct "
        "convolution; a runtime that picks a cheaper algorithm (Winograd, FFT) does fewer operations than "
        "counted, and can pass 100%. Peak memory: the fastest runtime's highest resident memory during "
        "its timed iterations (CPU; on CUDA the allocator's peak), in MiB, over its rounds.",
    ]
    for device, _, label in TABLE_DEVICES:
        if device not in devices:
            continue
        for size in batch_sizes:
            lines += runtime_section(records, device, label, size, runtimes)
    return "\n".join(lines) + "\n"


def runtime_section(
    records: List[Dict[str, object]], device: str, label: str, batch_size: int, runtimes: List[str]
) -> List[str]:
    mine = [record for record in records if record["device"] == device and record["batch_size"] == batch_size]
    peaks = sorted(record["peak_gflops_per_s"] for record in mine if record.get("peak_gflops_per_s"))
    peak = " (peak: %.0f GFLOP/s, the median over its jobs)" % peaks[len(peaks) // 2] if peaks else ""
    titles = ["%s (%s)" % (runtime, SPEED_ONLY[runtime]) if runtime in SPEED_ONLY else runtime for runtime in runtimes]
    columns = ["Algorithm", "Model", "Input size"] + titles + ["Achieved GFLOP/s (% of peak)", "Peak memory (MiB)"]
    lines = [
        "",
        "### %s, batch size %d%s" % (label, batch_size, peak),
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "|".join([" :--- "] * 3 + [" ---: "] * (len(columns) - 3)) + "|",
    ]
    by_model: Dict[str, List[Dict[str, object]]] = {}
    for record in mine:
        by_model.setdefault(record["id"], []).append(record)
    for cells in by_model.values():
        best = best_runtime(cells)
        first = cells[0]
        row = [str(first["algorithm"]), str(first["model"]), str(first["input_size"])]
        row += [fps_text(cell, best) for cell in cells] + [throughput_text(best), memory_text(best)]
        lines.append("| " + " | ".join(row) + " |")
    return lines + [""] + summary_lines(list(by_model.values()), runtimes)


def wins(rows: List[List[Dict[str, object]]], runtimes: List[str]) -> Dict[str, int]:
    """How many rows each runtime is the fastest checked one of."""
    counts = {runtime: 0 for runtime in runtimes if runtime not in SPEED_ONLY}
    for cells in rows:
        best = best_runtime(cells)
        if best is not None:
            counts[best["runtime"]] += 1
    return counts


def geometric_mean_speedup(rows: List[List[Dict[str, object]]], runtime: str, over: str) -> Tuple[Optional[float], int]:
    """The geometric mean of runtime's FPS over `over`'s, on the rows where both were measured."""
    ratios = []
    for cells in rows:
        fps = {cell["runtime"]: cell["fps_mean"] for cell in cells if cell["status"] == "measured"}
        if runtime in fps and over in fps:
            ratios.append(fps[runtime] / fps[over])
    return geometric_mean(ratios), len(ratios)


def summary_lines(rows: List[List[Dict[str, object]]], runtimes: List[str]) -> List[str]:
    """Which runtime wins how many rows, and each runtime's geometric-mean speed-up over eager and
    over ONNX Runtime."""
    lines = ["Fastest checked runtime: " + ", ".join("%s %d" % item for item in wins(rows, runtimes).items()) + " rows."]
    for runtime in runtimes[1:] if runtimes[:1] == [EAGER] else runtimes:
        speedups = []
        for over in (EAGER, ONNXRUNTIME):
            mean, count = geometric_mean_speedup(rows, runtime, over)
            if runtime != over and over in runtimes and mean is not None:
                speedups.append("%.2f× over %s (%d rows)" % (mean, over, count))
        if speedups:
            lines.append("Geometric-mean speed-up of %s: %s." % (runtime, ", ".join(speedups)))
    return lines


def render_runtimes_csv(records: List[Dict[str, object]]) -> str:
    import pandas as pd

    return pd.DataFrame(records).reindex(columns=CSV_COLUMNS).to_csv(index=False)

