"""Step last: one page to explore a run (index.html in the table's folder). Every cell (model,
device, batch size, runtime) as a row beside its model's facts, in a sortable table filtered by
algorithm, device, batch size, runtime and a search on the model's name; beside it mAP against FPS
on a log axis for the chosen device, batch size and runtime, with each point's interval, hover,
click-to-select the row, and the Pareto front; above both, the facts of table.md's header. Where
the run times scenes, below them: frames per second against N people in the frame, a line per
scene, the rows behind it with each stage's share, and where the one-pass models overtake the
top-down pipelines.

Made with Bokeh: its table, chart and widgets share one data source, so a filter or a click
reaches both without code of ours, and `file_html` with its INLINE resources writes one file that
opens from disk with no network and no server."""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pandas as pd

from posebench.report.measurements import MEASURED
from posebench.report.plots import Point, as_number, pareto_front
from posebench.report.scene_table import TOP_DOWN, crossing_frame, crossings, share_text
from posebench.report.table import MARK, NOT_APPLICABLE, cell_marks
from posebench.scenes.plan import STAGES

ALL = "all"
DEVICE_NAMES = {"cpu": "CPU", "cuda": "GPU"}
FACT_COLUMNS = ["id", "algorithm", "model", "input_size", "map", "gflops", "params_m"]
NUMBER_COLUMNS = ["map", "gflops", "params_m", "fps_mean", "ci_low", "ci_high", "rounds", "latency_p90_ms", "speedup"]
TEXT_COLUMNS = ["list", "id", "algorithm", "model", "input_size", "device", "device_name", "batch", "runtime",
                "fps_html", "fps_text", "interval_text", "reasons"]
SHARE_COLUMNS = ["%s_share" % stage for stage in STAGES]
SCENE_NUMBER_COLUMNS = ["people", "fps_mean", "ci_low", "ci_high", "rounds", "network_batch", "instances",
                        "peak_memory_mib"] + SHARE_COLUMNS
SCENE_TEXT_COLUMNS = ["scene", "name", "kind", "device", "device_name", "fps_html", "fps_text", "interval_text",
                      "reasons", "shares_text"]


def number(value: object) -> Optional[float]:
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(found) else found


def cell_texts(cell: Dict[str, object], target: float, max_probe_deviation: float) -> Dict[str, str]:
    """How a cell reads: its mean ± std with the marks (HTML and plain), its interval, and why it
    is marked or not measured (the hover of its FPS cell)."""
    if cell["status"] != MEASURED:  # as runtimes.md reads it: the failure's kind, or `/`
        shown = str(cell.get("kind") or NOT_APPLICABLE)
        reason = str(cell.get("message") or cell["status"])
        return {"fps_html": html.escape(shown), "fps_text": shown, "interval_text": "", "reasons": reason}
    text = "%.2f ± %.2f" % (float(cell["fps_mean"]), float(cell["fps_std"]))
    found = cell_marks(str(cell.get("capped")) == "True", number(cell.get("ci_half_width")),
                       number(cell.get("probe_shift")), target, max_probe_deviation)
    reasons = [str(cell.get("unsteady") or "")]
    if "c" in found:
        reasons.append("cut short: fewer iterations over all rounds than the policy's count for one")
    return {
        "fps_html": html.escape(text) + "".join(MARK % html.escape(mark) for mark in found),
        "fps_text": text + ("  [%s]" % ", ".join(found) if found else ""),
        "interval_text": "%.2f–%.2f" % (float(cell["ci_low"]), float(cell["ci_high"])),
        "reasons": "; ".join(reason for reason in reasons if reason) or "steady: within the target",
    }


def read_as_cells(rows: pd.DataFrame, target: float, max_probe_deviation: float, numbers: Sequence[str],
                  failure_kind: str = "kind") -> pd.DataFrame:
    """Rows of cells with how each reads (cell_texts; `failure_kind` names the column that says
    why one was not measured), their `numbers` kept only where measured, and the device's name."""
    texts = pd.DataFrame([cell_texts(dict(cell, kind=cell.get(failure_kind)), target, max_probe_deviation)
                          for cell in rows.to_dict("records")], index=rows.index)
    rows = pd.concat([rows, texts], axis=1)
    measured = rows["status"] == MEASURED
    for column in numbers:
        if column not in rows:
            rows[column] = float("nan")
        rows[column] = pd.to_numeric(rows[column], errors="coerce").where(measured)
    rows["device_name"] = rows["device"].map(DEVICE_NAMES).fillna(rows["device"])
    return rows


def page_rows(table: pd.DataFrame, cells: pd.DataFrame, runtimes: Optional[pd.DataFrame], list_name: str,
              target: float, max_probe_deviation: float) -> pd.DataFrame:
    """A row per cell: the model's facts (table.csv), the cell's statistics (cells.csv), its
    speed-up over eager (runtimes.csv), and how it reads."""
    # the table's row order (the seed's), each model's cells in cells.csv's order
    order = {model_id: index for index, model_id in enumerate(table["id"])}
    rows = cells.merge(table[FACT_COLUMNS], on="id", how="inner")
    rows = rows.iloc[rows["id"].map(order).argsort(kind="stable")].reset_index(drop=True)
    if runtimes is not None:
        speedups = runtimes[["id", "device", "batch_size", "runtime", "speedup"]]
        rows = rows.merge(speedups, on=["id", "device", "batch_size", "runtime"], how="left")
    else:
        rows["speedup"] = float("nan")
    rows = read_as_cells(rows, target, max_probe_deviation, ("fps_mean", "ci_low", "ci_high", "latency_p90_s"))
    rows["latency_p90_ms"] = 1000 * rows["latency_p90_s"]
    rows["batch"] = rows["batch_size"].astype(str)
    rows["list"] = list_name
    return rows


def scene_rows(scenes: pd.DataFrame, target: float, max_probe_deviation: float) -> pd.DataFrame:
    """A row per scene, device and number of people (scenes.csv), read as the table's cells are; a
    scene's `kind` is top-down or one pass, so one not measured reads as its status."""
    rows = read_as_cells(scenes.reset_index(drop=True), target, max_probe_deviation, ("fps_mean", "ci_low", "ci_high"),
                         failure_kind="status")
    rows["shares_text"] = [", ".join("%s %s" % (stage, share_text(row["%s_share" % stage])) for stage in STAGES)
                           for row in rows.to_dict("records")]
    rows["dash"] = rows["kind"].map(lambda kind: "solid" if kind == TOP_DOWN else "dashed")
    return rows


def scene_lines(rows: pd.DataFrame) -> pd.DataFrame:
    """Each scene's measured FPS against N on one device, as one poly-line."""
    lines = []
    measured = rows[rows["status"] == MEASURED].sort_values("people", kind="stable")
    for (scene, device), group in measured.groupby(["scene", "device"], sort=False):
        first = group.iloc[0]
        lines.append({"scene": scene, "name": first["name"], "kind": first["kind"], "device": device,
                      "dash": first["dash"], "xs": group["people"].astype(float).tolist(),
                      "ys": group["fps_mean"].tolist()})
    return pd.DataFrame(lines, columns=["scene", "name", "kind", "device", "dash", "xs", "ys"])


CROSSINGS_STYLE = "<style>.crossings th, .crossings td {padding: 2px 12px; text-align: left}</style>"


def crossings_html(rows: pd.DataFrame) -> str:
    """Where each one-pass model overtakes each top-down pipeline, per device, as scenes.md says it."""
    parts = []
    for device in dict.fromkeys(rows["device"]):
        found = crossings(rows, device)
        if len(found):
            parts.append("<h4>Where a one-pass model overtakes a top-down pipeline, %s</h4>"
                         % html.escape(DEVICE_NAMES.get(device, device)))
            parts.append(crossing_frame(found).to_html(border=0, classes="crossings"))
    return CROSSINGS_STYLE + "\n".join(parts) if parts else ""


def front_lines(rows: pd.DataFrame, scopes: Dict[str, List[str]]) -> pd.DataFrame:
    """The Pareto front (higher mAP and higher FPS) of each choice of list scope, device, batch
    size and runtime, as one poly-line each."""
    lines = []
    for scope, lists in scopes.items():
        chosen = rows[rows["list"].isin(lists)]
        for (device, batch, runtime), group in chosen.groupby(["device", "batch", "runtime"], sort=False):
            found = [Point(row["fps_mean"], row["map"], row["model"], row["algorithm"])
                     for row in group.to_dict("records") if as_number(row["fps_mean"]) and as_number(row["map"])]
            front = pareto_front(found, higher_x_is_better=True)
            lines.append({"key": "|".join([scope, device, batch, runtime]),
                          "xs": [point.x for point in front], "ys": [point.y for point in front]})
    return pd.DataFrame(lines, columns=["key", "xs", "ys"])


def header_html(markdown: str) -> str:
    """The facts above table.md's table (machine, versions, dates, policy, probe) as HTML."""
    parts: List[str] = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            break
        text = html.escape(line.strip()).replace("`", "")
        if line.startswith("- "):
            if not parts or parts[-1] != "</ul>":
                parts.append("<ul>")
            else:
                parts.pop()
            parts += ["<li>%s</li>" % text[2:], "</ul>"]
        elif line.startswith("# "):
            parts.append("<h2>%s</h2>" % text[2:])
        elif line.startswith("### "):
            parts.append("<h4>%s</h4>" % text[4:])
        elif text:
            parts.append("<p>%s</p>" % text)
    return "\n".join(parts)


def row_source(rows: pd.DataFrame, numbers: Sequence[str], texts: Sequence[str], name: str):
    """The rows as one Bokeh data source: numbers as float arrays (a missing one is NaN, which
    BokehJS keeps), text as strings."""
    from bokeh.models import ColumnDataSource

    data = {column: pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float) for column in numbers}
    data.update({column: rows[column].fillna("").astype(str).tolist() for column in texts})
    return ColumnDataSource(data, name=name)


def fps_formatter():
    """An FPS cell with its marks, and their reasons on hover."""
    from bokeh.models import HTMLTemplateFormatter

    return HTMLTemplateFormatter(template='<span title="<%- reasons %>"><%= fps_html %></span>')


FILTER_CODE = """
const data = source.data;
const query = search.value_input.trim().toLowerCase();
const keep = [];
for (let i = 0; i < data.id.length; i++) {
  keep.push((algorithm.value === ALL || data.algorithm[i] === algorithm.value)
    && (device.value === ALL || data.device[i] === device.value)
    && (batch.value === ALL || data.batch[i] === batch.value)
    && (runtime.value === ALL || data.runtime[i] === runtime.value)
    && (scope.value === ALL || lists[scope.value].includes(data.list[i]))
    && (!query || data.model[i].toLowerCase().includes(query) || data.id[i].toLowerCase().includes(query)));
}
shown.booleans = keep;
const key = [scope.value, device.value, batch.value, runtime.value].join("|");
front_shown.booleans = fronts.data.key.map((found) => found === key);
const count = keep.filter(Boolean).length;
counter.text = count + " of " + data.id.length + " cells shown";
"""


def build_page(rows: pd.DataFrame, fronts: pd.DataFrame, header: str, scopes: Dict[str, List[str]]):
    """The page's Bokeh layout; its first view is the first device, batch size 1 and eager."""
    from bokeh.layouts import column, row
    from bokeh.models import (
        BooleanFilter, CDSView, ColumnDataSource, CustomJS, DataTable, Div, HoverTool,
        NumberFormatter, Select, TableColumn, TapTool, TextInput,
    )
    from bokeh.palettes import Category20
    from bokeh.plotting import figure
    from bokeh.transform import factor_cmap

    source = row_source(rows, NUMBER_COLUMNS, TEXT_COLUMNS, "cells")

    def choices(name, first=None):
        values = list(dict.fromkeys(rows[name]))
        if first in values:
            values.remove(first)
            values.insert(0, first)
        return values

    devices, batches, runtimes = choices("device", "cpu"), choices("batch", "1"), choices("runtime", "eager")
    algorithm = Select(title="Algorithm", value=ALL, options=[ALL] + sorted(set(rows["algorithm"])), name="algorithm")
    device = Select(title="Device", value=devices[0], options=devices + [ALL], name="device")
    batch = Select(title="Batch size", value=batches[0], options=batches + [ALL], name="batch")
    runtime = Select(title="Runtime", value=runtimes[0], options=runtimes + [ALL], name="runtime")
    scope = Select(title="List", value=list(scopes)[0], options=list(scopes), name="list",
                   visible=len(scopes) > 1)
    search = TextInput(title="Model name contains", name="search")
    first = [scope.value, device.value, batch.value, runtime.value]
    booleans = [bool(value) for value in (rows["device"].eq(first[1]) & rows["batch"].eq(first[2])
                                          & rows["runtime"].eq(first[3]) & rows["list"].isin(scopes[first[0]]))]
    shown = BooleanFilter(booleans=booleans)
    counter = Div(text="%d of %d cells shown" % (sum(booleans), len(rows)), name="counter")

    front_source = ColumnDataSource({"key": fronts["key"].tolist(), "xs": fronts["xs"].tolist(),
                                     "ys": fronts["ys"].tolist()})
    front_shown = BooleanFilter(booleans=[key == "|".join(first) for key in fronts["key"]])

    chart = figure(x_axis_type="log", height=460, sizing_mode="stretch_width", name="chart",
                   x_axis_label="FPS (log scale; the bar: 95% interval)", y_axis_label="mAP",
                   tools="pan,wheel_zoom,box_zoom,reset,save", title="mAP against FPS: the chosen device, "
                   "batch size and runtime; the line is the Pareto front")
    chart.multi_line("xs", "ys", source=front_source, view=CDSView(filter=front_shown), line_color="gray",
                     line_dash="dashed", line_width=2)
    view = CDSView(filter=shown)
    chart.segment("ci_low", "map", "ci_high", "map", source=source, view=view, line_color="gray", line_alpha=0.6)
    algorithms = sorted(set(rows["algorithm"]))
    palette = [Category20[20][i % 20] for i in range(len(algorithms))]
    points = chart.scatter("fps_mean", "map", source=source, view=view, size=10, name="points",
                           fill_color=factor_cmap("algorithm", palette, algorithms), line_color="black",
                           selection_line_width=3, nonselection_fill_alpha=0.3)
    chart.add_tools(HoverTool(renderers=[points], tooltips=[
        ("model", "@model (@algorithm, @input_size)"), ("FPS", "@fps_text"), ("95% interval", "@interval_text"),
        ("mAP", "@map{0.000}"), ("device", "@device_name, batch @batch, @runtime"), ("list", "@list")]))
    chart.add_tools(TapTool(renderers=[points]))

    fps = fps_formatter()
    table = DataTable(source=source, view=view, name="table", sizing_mode="stretch_width", height=600,
                      index_position=None, scroll_to_selection=True, reorderable=False, columns=[
                          TableColumn(field="algorithm", title="Algorithm", width=160),
                          TableColumn(field="model", title="Model"),
                          TableColumn(field="input_size", title="Input size"),
                          TableColumn(field="map", title="mAP", formatter=NumberFormatter(format="0.000")),
                          TableColumn(field="gflops", title="GFLOPs", formatter=NumberFormatter(format="0.00")),
                          TableColumn(field="params_m", title="Params (M)", formatter=NumberFormatter(format="0.00")),
                          TableColumn(field="device_name", title="Device"),
                          TableColumn(field="batch", title="Batch"),
                          TableColumn(field="runtime", title="Runtime"),
                          TableColumn(field="fps_mean", title="FPS", formatter=fps, width=190),
                          TableColumn(field="interval_text", title="95% interval", sortable=False),
                          TableColumn(field="rounds", title="Rounds"),
                          TableColumn(field="latency_p90_ms", title="p90 latency (ms)",
                                      formatter=NumberFormatter(format="0.0")),
                          TableColumn(field="speedup", title="× eager", formatter=NumberFormatter(format="0.00")),
                          TableColumn(field="list", title="List"),
                      ])

    update = CustomJS(args=dict(source=source, shown=shown, front_shown=front_shown, fronts=front_source,
                                algorithm=algorithm, device=device, batch=batch, runtime=runtime, scope=scope,
                                search=search, counter=counter, lists=scopes, ALL=ALL), code=FILTER_CODE)
    for widget in (algorithm, device, batch, runtime, scope):
        widget.js_on_change("value", update)
    search.js_on_change("value_input", update)
    intro = Div(text=header + "<p>Hover a FPS cell for why it is marked; click a point to select its row. "
                "The CSV files beside this page hold every number.</p>", sizing_mode="stretch_width")
    controls = row(algorithm, device, batch, runtime, scope, search, sizing_mode="stretch_width")
    return column(intro, controls, counter, chart, table, sizing_mode="stretch_width", name="page")


SCENE_FILTER_CODE = """
const chosen = (columns) => columns.device.map((value, i) => (device.value === ALL || value === device.value)
  && (kind.value === ALL || columns.kind[i] === kind.value));
const keep = chosen(source.data);
shown.booleans = keep;
lines_shown.booleans = chosen(lines.data);
counter.text = keep.filter(Boolean).length + " of " + keep.length + " scene rows shown";
"""


def build_scenes(rows: pd.DataFrame, lines: pd.DataFrame, header: str, crossings_text: str):
    """The scenes' part of the page: FPS against N people (a line per scene, top-down solid, one
    pass dashed), the rows behind it with each stage's share, and the crossings."""
    from bokeh.layouts import column, row
    from bokeh.models import (
        BooleanFilter, CDSView, ColumnDataSource, CustomJS, DataTable, Div, HoverTool,
        NumberFormatter, Select, TableColumn,
    )
    from bokeh.palettes import Category20
    from bokeh.plotting import figure
    from bokeh.transform import factor_cmap

    source = row_source(rows, SCENE_NUMBER_COLUMNS, SCENE_TEXT_COLUMNS, "scenes")
    line_source = ColumnDataSource({name: lines[name].tolist() for name in lines.columns}, name="scene_lines")

    devices = list(dict.fromkeys(rows["device"]))
    device = Select(title="Device", value=devices[0], options=devices + [ALL], name="scene_device")
    kind = Select(title="Kind", value=ALL, options=[ALL] + sorted(set(rows["kind"])), name="scene_kind")
    booleans = [bool(value) for value in rows["device"].eq(device.value)]
    shown = BooleanFilter(booleans=booleans)
    lines_shown = BooleanFilter(booleans=[bool(value) for value in lines["device"].eq(device.value)])
    counter = Div(text="%d of %d scene rows shown" % (sum(booleans), len(rows)), name="scene_counter")

    names = list(dict.fromkeys(rows["name"]))
    colours = factor_cmap("name", [Category20[20][i % 20] for i in range(len(names))], names)
    chart = figure(x_axis_type="log", y_axis_type="log", height=460, sizing_mode="stretch_width",
                   name="scene_chart", x_axis_label="people in the frame (N)",
                   y_axis_label="frames per second (the bar: 95% interval)",
                   tools="pan,wheel_zoom,box_zoom,reset,save",
                   title="Whole frames with N people: top-down pipelines solid, one-pass models dashed")
    chart.xaxis.ticker = sorted(int(people) for people in set(rows["people"]))
    chart.multi_line("xs", "ys", source=line_source, view=CDSView(filter=lines_shown), line_color=colours,
                     line_dash="dash", line_width=2)
    view = CDSView(filter=shown)
    chart.segment("people", "ci_low", "people", "ci_high", source=source, view=view, line_color="gray",
                  line_alpha=0.6)
    points = chart.scatter("people", "fps_mean", source=source, view=view, size=9, name="scene_points",
                           fill_color=colours, line_color="black", legend_field="name")
    # the scenes' names beside the chart, not over the lines
    chart.add_layout(chart.legend[0], "right")
    chart.legend.label_text_font_size = "9pt"
    chart.add_tools(HoverTool(renderers=[points], tooltips=[
        ("scene", "@name (@kind)"), ("people", "@people{0}"), ("FPS", "@fps_text"),
        ("95% interval", "@interval_text"), ("time per stage", "@shares_text"), ("device", "@device_name")]))

    fps = fps_formatter()
    share = NumberFormatter(format="0%")
    table = DataTable(source=source, view=view, name="scene_table", sizing_mode="stretch_width", height=420,
                      index_position=None, reorderable=False, columns=[
                          TableColumn(field="name", title="Scene", width=260),
                          TableColumn(field="kind", title="Kind", width=80),
                          TableColumn(field="device_name", title="Device", width=60),
                          TableColumn(field="people", title="N", formatter=NumberFormatter(format="0"), width=40),
                          TableColumn(field="fps_mean", title="FPS", formatter=fps, width=200),
                          TableColumn(field="interval_text", title="95% interval", sortable=False, width=100),
                          TableColumn(field="rounds", title="Rounds", width=60),
                      ] + [TableColumn(field="%s_share" % stage, title=stage, formatter=share, width=80)
                           for stage in STAGES] + [
                          TableColumn(field="network_batch", title="Network batch", width=90),
                          TableColumn(field="instances", title="People decoded", width=100),
                          TableColumn(field="peak_memory_mib", title="Peak memory (MiB)",
                                      formatter=NumberFormatter(format="0"), width=120),
                      ])
    update = CustomJS(args=dict(source=source, shown=shown, lines=line_source, lines_shown=lines_shown, device=device,
                                kind=kind, counter=counter, ALL=ALL), code=SCENE_FILTER_CODE)
    for widget in (device, kind):
        widget.js_on_change("value", update)
    intro = Div(text=header, sizing_mode="stretch_width")
    return column(intro, row(device, kind), counter, chart, table, Div(text=crossings_text),
                  sizing_mode="stretch_width", name="scenes_part")


def write_page(table_csv: Path, cells_csv: Path, markdown: Path, output: Path, target: float,
               max_probe_deviation: float, runtimes_csv: Optional[Path] = None,
               combine: Optional[Dict[str, Path]] = None, scenes: Optional[Dict[str, Path]] = None) -> int:
    """index.html from the run's records (and another list's, combined, and the run's scenes, or
    the other list's when the run timed none); returns its cell count."""
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    from posebench.records import write_text
    from posebench.report.measurements import read_table

    name = str(table_csv.parent)
    runtimes = pd.read_csv(runtimes_csv) if runtimes_csv else None
    rows = page_rows(pd.read_csv(table_csv), read_table(cells_csv), runtimes, name, target, max_probe_deviation)
    scopes = {name: [name]}
    if combine and combine.get("cells"):
        other = str(combine["table"].parent)
        rows = pd.concat([rows, page_rows(pd.read_csv(combine["table"]), read_table(combine["cells"]), None, other,
                                          target, max_probe_deviation)], ignore_index=True)
        scopes = {name: [name], other: [other], "both lists": [name, other]}
    layout = build_page(rows, front_lines(rows, scopes), header_html(markdown.read_text()), scopes)
    if scenes:
        found = scene_rows(pd.read_csv(scenes["csv"]), target, max_probe_deviation)
        # scenes.md's words above its first device's table
        words = scenes["markdown"].read_text().split("\n## ")[0]
        if scenes["csv"].parent != table_csv.parent:
            words += "\nThese scenes come from %s, the list this page combines with: this run timed none." % (
                scenes["csv"].parent)
        header = header_html(words)
        layout.children.append(build_scenes(found, scene_lines(found), header, crossings_html(found)))
    write_text(output, file_html(layout, INLINE, title="posebench: %s" % name))
    return len(rows)
