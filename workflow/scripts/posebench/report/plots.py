"""Speed–accuracy pictures from results/table.csv: mAP against FPS (per device and batch size)
and mAP against GFLOPs, one marker per model, coloured by algorithm family, the Pareto front
drawn, each FPS with its 95% confidence interval as an error bar. Each marker set carries an SVG
id (gid) so a test can count what was drawn."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional

from posebench.report.table import TABLE_DEVICES, fps_key

FORMATS = ("png", "svg")
GID_MODELS = "models-"
GID_FRONT = "pareto-front"
GID_INTERVALS = "intervals-"
COMBINED = "combined_"
# a marker shape per table on a combined figure: this list's, then the other's
GROUP_MARKERS = ("o", "^")
# where a label may sit beside its marker (offsets in points), tried in turn
LABEL_SPOTS = [
    (dx * scale, dy * scale, ha, va)
    for scale in (1, 2.5)
    for dx, dy, ha, va in [(4, 3, "left", "bottom"), (4, -3, "left", "top"), (-4, 3, "right", "bottom"),
                           (-4, -3, "right", "top"), (0, 5, "center", "bottom"), (0, -5, "center", "top")]
]


class Point(NamedTuple):
    x: float
    y: float
    label: str
    family: str
    low: Optional[float] = None  # the x's 95% confidence interval, where the table has one
    high: Optional[float] = None
    group: int = 0  # which table it comes from, on a combined figure (its marker shape)


def as_number(text: Optional[str]) -> Optional[float]:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def points(rows: List[Dict[str, str]], x_field: str, group: int = 0) -> List[Point]:
    """The rows with both an mAP and a positive number in x_field (failed and `/` cells drop out),
    with the interval of an FPS mean (`…_mean` beside `…_ci_low`, `…_ci_high`)."""
    found = []
    stem = x_field[: -len("_mean")] if x_field.endswith("_mean") else None
    for row in rows:
        x, y = as_number(row.get(x_field)), as_number(row.get("map"))
        if x is None or y is None:
            continue
        low, high = (interval(row, stem, x) if stem else (None, None))
        found.append(Point(x, y, "%s %s" % (row["model"], row["input_size"]), row["algorithm"], low, high, group))
    return found


def interval(row: Dict[str, str], stem: str, x: float):
    """The cell's confidence interval, kept on the plot's positive log axis; none if absent."""
    low, high = as_number(row.get(stem + "_ci_low")), as_number(row.get(stem + "_ci_high"))
    if high is None:
        return None, None
    return (low if low is not None else x / 10), high


def pareto_front(found: List[Point], higher_x_is_better: bool) -> List[Point]:
    """The points no other point beats on both axes, in increasing x."""
    ordered = sorted(found, key=lambda point: (point.x, point.y), reverse=higher_x_is_better)
    front, best_y = [], -math.inf
    for point in ordered:
        if point.y > best_y:
            front.append(point)
            best_y = point.y
    return sorted(front, key=lambda point: point.x)


def plot_names(devices: List[str], batch_sizes: List[int], combined: bool = False) -> List[str]:
    """The figures (without extension): mAP against GFLOPs, then against FPS per device and batch;
    with `combined`, each FPS figure again with another list's table beside this one."""
    fps_names = [
        "map_vs_fps_%s_bs%d" % (column_device, size)
        for device, column_device, _ in TABLE_DEVICES
        if device in devices
        for size in batch_sizes
    ]
    return ["map_vs_gflops"] + fps_names + ([COMBINED + name for name in fps_names] if combined else [])


def figure_spec(name: str) -> Dict[str, object]:
    """Field, axis title and direction of one figure, read from its name."""
    if name.startswith(COMBINED):
        spec = figure_spec(name[len(COMBINED):])
        return dict(spec, title=spec["title"].replace("mAP against speed", "Both lists: mAP against speed"))
    if name == "map_vs_gflops":
        return {"field": "gflops", "xlabel": "GFLOPs (multiply-accumulates, log scale)", "higher_x_is_better": False,
                "title": "mAP against complexity"}
    column_device, size = name[len("map_vs_fps_"):].rsplit("_bs", 1)
    label = {column: label for _, column, label in TABLE_DEVICES}[column_device]
    return {"field": fps_key(column_device, int(size)) + "_mean", "xlabel": "FPS (log scale)",
            "higher_x_is_better": True, "title": "mAP against speed: %s, batch size %s" % (label, size)}


def draw(rows: List[Dict[str, str]], name: str, output_dir: Path, subtitle: str,
         groups: Optional[List[tuple]] = None) -> int:
    """Write output_dir/name.png and .svg; returns the number of markers drawn. `groups`: on a
    combined figure, (title, rows) of each table, drawn with its own marker shape, one front over
    all of them; `rows` is then unused."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    spec = figure_spec(name)
    groups = groups or [("", rows)]
    found = [point for index, (_, table) in enumerate(groups) for point in points(table, spec["field"], index)]
    figure, axes = plt.subplots(figsize=(13, 8.5))
    families = sorted({point.family for point in found})
    colours = plt.get_cmap("tab10" if len(families) <= 10 else "tab20")
    for index, family in enumerate(families):
        mine = [point for point in found if point.family == family]
        for group, marker in enumerate(GROUP_MARKERS):
            shaped = [point for point in mine if point.group == group]
            if shaped:  # the family's first shape carries its legend entry
                axes.scatter([p.x for p in shaped], [p.y for p in shaped], s=36, color=colours(index), marker=marker,
                             label=family if shaped[0] is mine[0] else None,
                             edgecolors="black", linewidths=0.4, zorder=3, gid=GID_MODELS + family)
        bars = [p for p in mine if p.high is not None]
        if bars:
            axes.errorbar([p.x for p in bars], [p.y for p in bars], fmt="none", ecolor=colours(index), elinewidth=1,
                          capsize=2, zorder=2.5, gid=GID_INTERVALS + family,
                          xerr=[[p.x - min(p.low, p.x) for p in bars], [max(p.high, p.x) - p.x for p in bars]])
    front = pareto_front(found, spec["higher_x_is_better"])
    if front:
        axes.plot([p.x for p in front], [p.y for p in front], color="crimson", linewidth=1.4, linestyle="--",
                  drawstyle="steps-post" if not spec["higher_x_is_better"] else "steps-pre",
                  label="Pareto front (%d models)" % len(front), zorder=2, gid=GID_FRONT)
    axes.set_xscale("log")
    label_log_ticks_plainly(axes.xaxis)
    axes.set_xlabel(spec["xlabel"])
    axes.set_ylabel("mAP (COCO val, as reported by MMPose)")
    axes.set_title("%s\n%s" % (spec["title"], subtitle), fontsize=11)
    axes.grid(True, which="both", alpha=0.25)
    if not found:
        axes.text(0.5, 0.5, "nothing measured", transform=axes.transAxes, ha="center", fontsize=14)
    else:
        handles, _ = axes.get_legend_handles_labels()
        if len(groups) > 1:
            handles += [Line2D([], [], linestyle="none", marker=marker, color="grey", label=title)
                        for marker, (title, _) in zip(GROUP_MARKERS, groups)]
        axes.legend(handles=handles, loc="best", fontsize=8, framealpha=0.9)
    figure.subplots_adjust(left=0.06, right=0.8, top=0.92, bottom=0.07)
    crowded = place_labels(figure, axes, front + [point for point in found if point not in front])
    if crowded:
        key = ["%d  %s" % (number, point.label) for number, point in enumerate(crowded, 1)]
        figure.text(0.81, 0.92, "Crowded markers:\n" + "\n".join(key), va="top", fontsize=6.5, family="monospace")
    output_dir.mkdir(parents=True, exist_ok=True)
    for extension in FORMATS:
        figure.savefig(str(output_dir / ("%s.%s" % (name, extension))), dpi=150)
    plt.close(figure)
    return len(found)


def label_log_ticks_plainly(axis) -> None:
    """Keep matplotlib's choice of which ticks of a log axis to label, but write plain numbers
    (0.5, 2, 300) where it writes 5×10⁻¹ and 2×10⁰ on an axis that spans less than a decade."""
    from matplotlib.ticker import Formatter

    class PlainNumbers(Formatter):
        def __init__(self, chooser):
            self.chooser = chooser

        def set_locs(self, locs):
            self.chooser.set_locs(locs)

        def __call__(self, x, pos=None):
            return "%g" % x if self.chooser(x, pos) else ""

    axis.set_major_formatter(PlainNumbers(axis.get_major_formatter()))
    axis.set_minor_formatter(PlainNumbers(axis.get_minor_formatter()))


def place_labels(figure, axes, ordered: List[Point]) -> List[Point]:
    """Label each marker beside it where the label overlaps no other label or marker; number the
    rest. Returns the numbered points, in number order."""
    renderer = figure.canvas.get_renderer()
    inside = axes.get_window_extent(renderer)
    markers = [axes.transData.transform((point.x, point.y)) for point in ordered]
    taken, crowded = [], []
    for index, point in enumerate(ordered):
        others = [xy for other, xy in enumerate(markers) if other != index]
        for dx, dy, ha, va in LABEL_SPOTS:
            text = axes.annotate(point.label, (point.x, point.y), xytext=(dx, dy), textcoords="offset points",
                                 ha=ha, va=va, fontsize=6.5, color="#333333", zorder=4)
            box = text.get_window_extent(renderer).expanded(1.05, 1.15)
            if _fits(box, inside, taken, others):
                taken.append(box)
                break
            text.remove()
        else:
            crowded.append(point)
            axes.annotate(str(len(crowded)), (point.x, point.y), xytext=(3, 2), textcoords="offset points",
                          fontsize=5.5, color="#555555", zorder=4)
    return crowded


def _fits(box, inside, taken, markers) -> bool:
    if box.x0 < inside.x0 or box.x1 > inside.x1 or box.y0 < inside.y0 or box.y1 > inside.y1:
        return False
    if any(box.overlaps(other) for other in taken):
        return False
    return not any(box.x0 - 3 <= x <= box.x1 + 3 and box.y0 - 3 <= y <= box.y1 + 3 for x, y in markers)
