"""The page to explore a run (index.html), from a tiny real pipeline run, opened from disk in a
real browser: headless Chromium from Debian, driven by Selenium."""
import re
import shutil

import pandas as pd
import pytest
from conftest import REPO, tiny_timing
from posebench.report.page import cell_texts, crossings_html, front_lines, header_html, page_rows, scene_lines, scene_rows, write_page

# three rows whose round the prepared run timed: the run here makes the tables and the page
MODELS = ["shufflenetv2_coco_256x192", "deeppose_res50_coco_256x192", "ae_mobilenetv2_coco_512x512"]
ONE_ROUND = tiny_timing(1)
# Bokeh draws each part in its own shadow root: these walk every one of them
WALK = """
const found = [];
const walk = (root) => {
  found.push(...root.querySelectorAll(arguments[0]));
  root.querySelectorAll("*").forEach((element) => { if (element.shadowRoot) walk(element.shadowRoot); });
};
walk(document);
"""
DEEP_QUERY = WALK + "return found;"
# the elements' text read in the page at once: one WebDriver call each would take seconds
DEEP_TEXTS = WALK + "return found.map((element) => element.innerText.trim());"
# the table's rows as shown, top to bottom, each as its cells' text
TABLE_ROWS = WALK + """
found.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
return found.map((row) => Array.from(row.querySelectorAll(".slick-cell"), (cell) => cell.innerText.trim()));
"""
# where a point is on the screen, from its chart's own scales: the renderer, the name field, the
# name, and the fields of x and y
POINT_ON_SCREEN = """
const renderer = Bokeh.documents[0].get_model_by_name(arguments[0]);
const view = Bokeh.index.find_one(renderer);
const data = renderer.data_source.data;
const i = data[arguments[1]].indexOf(arguments[2]);
view.parent.canvas_view.el.scrollIntoView({block: "center"});
const canvas = view.parent.canvas_view.el.getBoundingClientRect();
return [canvas.left + view.coordinates.x_scale.compute(data[arguments[3]][i]),
        canvas.top + view.coordinates.y_scale.compute(data[arguments[4]][i])];
"""
# the published modern reference: its records, scenes included, make a page without a pipeline run
MODERN = REPO / "published" / "modern" / "amd-epyc-2core-vm"


@pytest.fixture
def browser():
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("Debian's chromium and chromium-driver are not installed (make test installs them as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1600"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def deep(browser, selector):
    return browser.execute_script(DEEP_QUERY, selector)


def texts(browser, selector):
    return browser.execute_script(DEEP_TEXTS, selector)


def table_rows(browser, selector=".slick-row"):
    """The main table's rows as shown, top to bottom, each as its cells' text."""
    return browser.execute_script(TABLE_ROWS, selector)


def column_index(browser, title):
    return texts(browser, ".slick-header-column").index(title)


def shown(browser, what="cells"):
    return next(text for text in texts(browser, "div") if re.fullmatch(r"\d+ of \d+ %s shown" % what, text))


def hover(browser, *point):
    """Move the pointer onto a chart's point (POINT_ON_SCREEN's arguments) and wait for its tooltip
    to name it."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.support.ui import WebDriverWait

    x, y = browser.execute_script(POINT_ON_SCREEN, *point)
    actions = ActionBuilder(browser)
    actions.pointer_action.move_to_location(int(x), int(y))
    actions.perform()
    WebDriverWait(browser, 10).until(lambda b: any(point[2] in tip for tip in texts(b, "[class*='ooltip']")))


@pytest.mark.prepared
def test_the_page_opens_from_disk_sorts_filters_and_names_a_hovered_point(workflow, browser, tmp_path):
    from selenium.webdriver.support.ui import Select, WebDriverWait

    run = workflow.snakemake("results/index.html", "--config", "select=[%s]" % ",".join(MODELS), ONE_ROUND)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "checkpoint timing:" not in run.stdout + run.stderr
    page = workflow.root / "results" / "index.html"
    # nothing to fetch: Bokeh's JavaScript and the data are inlined
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page.read_text())

    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda b: len(deep(b, ".slick-row")) == len(MODELS))
    # the first view: CPU, batch size 1, eager; the bottom-up row's batch of 10 (`/`) is the sixth cell
    assert shown(browser) == "3 of 6 cells shown"
    model = column_index(browser, "Model")
    assert sorted(row[model] for row in table_rows(browser)) == ["MobilenetV2", "ResNet-50", "ShuffleNetV2"]
    # the facts of table.md's header above it
    assert texts(browser, "h4") == ["Hardware", "Software Environment", "Measurement"]
    assert any(item.startswith("CPU probe") for item in texts(browser, "li"))

    # sorting by FPS orders the rows, both ways
    fps = column_index(browser, "FPS")
    header = next(h for h in deep(browser, ".slick-header-column") if h.text == "FPS")
    for descending in (False, True):
        header.click()
        values = [float(row[fps].split(" ")[0]) for row in table_rows(browser)]
        assert values == sorted(values, reverse=descending) and len(set(values)) == 3, values

    # a filter hides the rows it should: batch size 10 shows the bottom-up row's `/`
    batch = next(select for select in deep(browser, "select") if "10" in select.text.split())
    Select(batch).select_by_visible_text("10")
    WebDriverWait(browser, 10).until(lambda b: "/" in [row[fps] for row in table_rows(b)])
    assert shown(browser) == "3 of 6 cells shown" and len(table_rows(browser)) == 3
    Select(batch).select_by_visible_text("1")

    # a search hides the other rows
    search = next(field for field in deep(browser, "input") if field.get_attribute("type") == "text")
    search.send_keys("shuffle")
    WebDriverWait(browser, 10).until(lambda b: len(deep(b, ".slick-row")) == 1)
    assert shown(browser) == "1 of 6 cells shown"
    search.clear()
    search.send_keys(" ")
    WebDriverWait(browser, 10).until(lambda b: len(deep(b, ".slick-row")) == 3)

    # hovering a point names its model
    hover(browser, "points", "model", "MobilenetV2", "fps_mean", "map")
    # a run without scenes has no scenes part
    assert texts(browser, "h2") and not any(h.startswith("Scenes") for h in texts(browser, "h2"))

    browser.save_screenshot(str(tmp_path / "page.png"))
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []

    # combined with a list that timed scenes, the run's page shows that list's scenes and says whose
    combined = workflow.snakemake("results/index.html", "--config", "select=[%s]" % ",".join(MODELS), ONE_ROUND,
                                  "combine_with=%s" % MODERN)
    assert combined.returncode == 0, combined.stderr[-3000:]
    text = page.read_text()
    assert "Scenes: frames per second with N people" in text
    assert "These scenes come from %s, the list this page combines with" % MODERN in text
    assert "RTMO-l" in text and "%d of %d scene rows shown" % ((len(pd.read_csv(MODERN / "scenes.csv")),) * 2) in text


MEASURED = {"status": "measured", "fps_mean": 10.0, "fps_std": 2.0, "ci_low": 9.0, "ci_high": 11.0, "capped": True,
            "ci_half_width": 0.072, "probe_shift": -0.4, "unsteady": "interval ±7.2% after 8 rounds"}


def test_a_cell_reads_as_in_the_table_with_its_marks_and_their_reasons():
    texts = cell_texts(MEASURED, 0.03, 0.35)
    assert texts["fps_html"] == "10.00 ± 2.00<sup>c</sup><sup>±7.2%</sup><sup>p</sup>"
    assert texts["fps_text"] == "10.00 ± 2.00  [c, ±7.2%, p]" and texts["interval_text"] == "9.00–11.00"
    assert texts["reasons"].startswith("interval ±7.2% after 8 rounds; cut short")
    steady = cell_texts(dict(MEASURED, capped=False, ci_half_width=0.02, probe_shift=0.1, unsteady=""), 0.03, 0.35)
    assert steady["fps_html"] == "10.00 ± 2.00" and steady["reasons"] == "steady: within the target"
    # a cell not measured reads as runtimes.md reads it, its message on hover
    assert cell_texts({"status": "not applicable", "kind": "", "message": "one image at a time"}, 0.03, 0.35) == {
        "fps_html": "/", "fps_text": "/", "interval_text": "", "reasons": "one image at a time"}
    assert cell_texts({"status": "failed", "kind": "oom", "message": "out of memory"}, 0.03, 0.35)["fps_text"] == "oom"


def test_each_cell_joins_its_models_facts_and_each_choice_gets_its_pareto_front():
    table = pd.DataFrame([
        {"id": "a", "algorithm": "x", "model": "A", "input_size": "256x192", "map": 0.70, "gflops": 1.0, "params_m": 2.0},
        {"id": "b", "algorithm": "x", "model": "B", "input_size": "256x192", "map": 0.75, "gflops": 2.0, "params_m": 3.0},
        {"id": "c", "algorithm": "y", "model": "C", "input_size": "256x192", "map": 0.65, "gflops": 3.0, "params_m": 4.0},
    ])
    cells = pd.DataFrame([
        dict(MEASURED, id="a", device="cpu", runtime="eager", batch_size=1, fps_mean=20.0),
        dict(MEASURED, id="b", device="cpu", runtime="eager", batch_size=1, fps_mean=10.0),
        dict(MEASURED, id="c", device="cpu", runtime="eager", batch_size=1, fps_mean=5.0),  # beaten by both
        {"id": "c", "device": "cpu", "runtime": "eager", "batch_size": 10, "status": "not applicable", "kind": "",
         "message": "one image at a time"},
    ])
    rows = page_rows(table, cells, None, "results", 0.03, 0.35)
    assert list(rows["model"]) == ["A", "B", "C", "C"] and list(rows["batch"]) == ["1", "1", "1", "10"]
    assert rows["fps_mean"].isna().tolist() == [False, False, False, True]
    fronts = front_lines(rows, {"results": ["results"]})
    assert fronts.to_dict("records") == [{"key": "results|cpu|1|eager", "xs": [10.0, 20.0], "ys": [0.75, 0.70]},
                                         {"key": "results|cpu|10|eager", "xs": [], "ys": []}]


def test_the_header_facts_come_from_table_md_above_its_table():
    markdown = ("# Inference Speed\n\nMeasured here.\n\n### Hardware\n\n- CPU: `AMD` <EPYC>\n- GPU: none\n\n"
                "| a | b |\n| - | - |\n")
    assert header_html(markdown) == ("<h2>Inference Speed</h2>\n<p>Measured here.</p>\n<h4>Hardware</h4>\n<ul>\n"
                                     "<li>CPU: AMD &lt;EPYC&gt;</li>\n<li>GPU: none</li>\n</ul>")


def test_the_scenes_part_charts_n_people_filters_by_kind_and_names_a_hovered_scene(browser, tmp_path):
    from selenium.webdriver.support.ui import Select, WebDriverWait

    page = tmp_path / "index.html"
    write_page(MODERN / "table.csv", MODERN / "cells.csv", MODERN / "table.md", page, 0.03, 0.35,
               MODERN / "runtimes.csv", scenes={"csv": MODERN / "scenes.csv", "markdown": MODERN / "scenes.md"})
    scenes = pd.read_csv(MODERN / "scenes.csv")
    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda b: any(h.startswith("Scenes") for h in texts(b, "h2")))
    assert shown(browser, "scene rows") == "%d of %d scene rows shown" % (len(scenes), len(scenes))
    # scenes.md's own words above the scenes: the frame and what each kind runs
    assert any(p.startswith("One 480×640 frame already in memory") for p in texts(browser, "p"))
    assert "Where a one-pass model overtakes a top-down pipeline, CPU" in texts(browser, "h4")

    kind = next(select for select in deep(browser, "select") if "top-down" in select.text.split("\n"))
    Select(kind).select_by_visible_text("top-down")
    top_down = int((scenes["kind"] == "top-down").sum())
    WebDriverWait(browser, 10).until(lambda b: shown(b, "scene rows") == "%d of %d scene rows shown" % (
        top_down, len(scenes)))
    assert 0 < top_down < len(scenes)
    hover(browser, "scene_points", "name", "rtmdet-nano + RTMPose-t", "people", "fps_mean")

    browser.save_screenshot(str(tmp_path / "scenes.png"))
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


def test_each_scene_reads_as_a_cell_and_each_line_follows_n_on_its_device():
    scenes = pd.DataFrame([
        dict(MEASURED, scene="td", name="det + A", kind="top-down", device="cpu", people=5, fps_mean=2.0,
             detector_share=0.5, preprocessing_share=0.1, network_share=0.3, decoding_share=0.1),
        dict(MEASURED, scene="td", name="det + A", kind="top-down", device="cpu", people=1, fps_mean=4.0,
             detector_share=0.6, preprocessing_share=0.1, network_share=0.2, decoding_share=0.1),
        dict(MEASURED, scene="op", name="B", kind="one pass", device="cpu", people=1, fps_mean=3.0,
             detector_share=0.0, preprocessing_share=0.0, network_share=1.0, decoding_share=0.0),
        dict(MEASURED, scene="op", name="B", kind="one pass", device="cpu", people=5, fps_mean=3.0,
             detector_share=0.0, preprocessing_share=0.0, network_share=1.0, decoding_share=0.0),
        {"scene": "op", "name": "B", "kind": "one pass", "device": "cuda", "people": 1, "status": "failed",
         "message": "CUDA out of memory"},
    ])
    rows = scene_rows(scenes, 0.03, 0.35)
    # a scene's kind is not a failure's: the failed one reads as its status, its message on hover
    assert rows.loc[4, "fps_text"] == "failed" and rows.loc[4, "reasons"] == "CUDA out of memory"
    assert rows.loc[0, "fps_text"] == "2.00 ± 2.00  [c, ±7.2%, p]"
    assert rows.loc[0, "shares_text"] == "detector 50%, preprocessing 10%, network 30%, decoding 10%"
    assert list(rows["dash"]) == ["solid", "solid", "dashed", "dashed", "dashed"]
    lines = scene_lines(rows)
    assert lines[["scene", "device", "xs", "ys"]].to_dict("records") == [
        {"scene": "td", "device": "cpu", "xs": [1.0, 5.0], "ys": [4.0, 2.0]},
        {"scene": "op", "device": "cpu", "xs": [1.0, 5.0], "ys": [3.0, 3.0]}]
    # B overtakes det + A between N = 1 and 5, on the CPU only: nothing of CUDA's failed scene
    crossings = crossings_html(rows)
    assert "overtakes a top-down pipeline, CPU" in crossings and "GPU" not in crossings
    assert "<th>B</th>" in crossings and "from N = 5 (≈" in crossings
