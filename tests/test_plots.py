"""The speed–accuracy pictures: the Pareto front, and images with one marker per measured model."""
import re
from xml.etree import ElementTree

import pandas as pd
from conftest import REPO
from PIL import Image
from posebench.report.plots import COMBINED, GID_FRONT, GID_INTERVALS, GID_MODELS, Point, draw, pareto_front, plot_names, points
from posebench.report.scene_table import draw as draw_scenes

SUBTITLE = "test machine"


def row(model, algorithm, map_, gflops, bs1, bs10):
    return {"id": model, "model": model, "algorithm": algorithm, "input_size": "256x192", "map": map_,
            "gflops": gflops, "cpu_fps_bs1_mean": bs1, "cpu_fps_bs10_mean": bs10}


ROWS = [
    row("fast", "topdown_heatmap", "0.60", "1.5", "40.0", "5.0"),
    row("accurate", "topdown_heatmap", "0.75", "15.8", "3.0", "0.3"),
    row("dominated", "DeepPose", "0.55", "20.0", "2.0", "0.2"),
    row("middle", "topdown_heatmap", "0.70", "5.5", "10.0", "1.0"),
    row("bottom-up", "Associative Embedding", "0.65", "40.0", "1.0", ""),  # bs=10 is `/`
    row("failed", "DeepPose", "0.50", "error", "", ""),
    row("no map", "RTMPose", "", "0.4", "60.0", "9.0"),
]


def test_the_pareto_front_keeps_the_models_nothing_beats_on_both_axes():
    points = [Point(40, 0.60, "fast", ""), Point(3, 0.75, "accurate", ""), Point(2, 0.55, "dominated", ""),
              Point(10, 0.70, "middle", ""), Point(10, 0.65, "tied speed, worse", "")]
    faster_is_better = [point.label for point in pareto_front(points, higher_x_is_better=True)]
    assert faster_is_better == ["accurate", "middle", "fast"]
    cheaper_is_better = [point.label for point in pareto_front(points, higher_x_is_better=False)]
    assert cheaper_is_better == ["dominated", "accurate"]


def svg_markers(svg_text):
    """Markers drawn per family: matplotlib writes a scatter as <use> elements inside its gid group."""
    counts = {}
    for family, body in re.findall(r'<g id="%s([^"]+)">(.*?)</g>' % GID_MODELS, svg_text, flags=re.S):
        counts[family] = body.count("<use ")
    return counts


def test_each_figure_is_a_real_image_with_one_marker_per_model_that_has_both_numbers(tmp_path):
    names = plot_names(["cpu"], [1, 10])
    assert names == ["map_vs_gflops", "map_vs_fps_cpu_bs1", "map_vs_fps_cpu_bs10"]
    drawn = {name: draw(ROWS, name, tmp_path, SUBTITLE) for name in names}
    assert drawn == {"map_vs_gflops": 5, "map_vs_fps_cpu_bs1": 5, "map_vs_fps_cpu_bs10": 4}
    expected_families = {
        "map_vs_gflops": {"topdown_heatmap": 3, "DeepPose": 1, "Associative Embedding": 1},
        "map_vs_fps_cpu_bs1": {"topdown_heatmap": 3, "DeepPose": 1, "Associative Embedding": 1},
        "map_vs_fps_cpu_bs10": {"topdown_heatmap": 3, "DeepPose": 1},
    }
    for name in names:
        svg = (tmp_path / (name + ".svg")).read_text()
        assert svg_markers(svg) == expected_families[name]
        assert 'id="%s"' % GID_FRONT in svg
        for label in ("fast 256x192", "accurate 256x192"):
            assert label in svg
        with Image.open(tmp_path / (name + ".png")) as image:
            assert image.size[0] > 1000 and image.size[1] > 600
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 50  # drawn, not blank


def test_the_figures_name_the_device_and_batch_size_they_show(tmp_path):
    draw(ROWS, "map_vs_fps_cpu_bs10", tmp_path, SUBTITLE)
    assert "CPU, batch size 10" in (tmp_path / "map_vs_fps_cpu_bs10.svg").read_text()


def test_each_fps_marker_carries_its_confidence_interval_as_an_error_bar(tmp_path):
    rows = [dict(r) for r in ROWS]
    rows[0].update(cpu_fps_bs1_ci_low="36.0", cpu_fps_bs1_ci_high="44.5")
    rows[3].update(cpu_fps_bs1_ci_low="9.0", cpu_fps_bs1_ci_high="11.0")
    found = {point.label: point for point in points(rows, "cpu_fps_bs1_mean")}
    assert (found["fast 256x192"].low, found["fast 256x192"].high) == (36.0, 44.5)
    assert found["accurate 256x192"].high is None  # no interval in the table: no bar
    draw(rows, "map_vs_fps_cpu_bs1", tmp_path, SUBTITLE)
    svg = (tmp_path / "map_vs_fps_cpu_bs1.svg").read_text()
    groups = re.findall(r'<g id="%s([^"]+)">' % GID_INTERVALS, svg)
    assert set(groups) == {"topdown_heatmap"}  # the two rows with an interval are both top-down
    draw(rows, "map_vs_gflops", tmp_path, SUBTITLE)
    assert GID_INTERVALS not in (tmp_path / "map_vs_gflops.svg").read_text()


MODERN = [
    row("rtmpose-t", "RTMPose", "0.68", "0.36", "80.0", "12.0"),
    row("rtmo-s", "RTMO", "0.68", "12.1", "5.0", "0.6"),
    row("dekr", "DEKR", "0.69", "45.0", "1.0", ""),  # bs=10 is `/`: its test step takes one image
]


def test_the_combined_figures_put_both_lists_on_one_picture_with_one_front(tmp_path):
    names = plot_names(["cpu"], [1, 10], combined=True)
    assert names[3:] == [COMBINED + "map_vs_fps_cpu_bs1", COMBINED + "map_vs_fps_cpu_bs10"]
    groups = [("modern/table.csv (3 models)", MODERN), ("results/table.csv (7 models)", ROWS)]
    assert draw([], names[3], tmp_path, SUBTITLE, groups) == 3 + 5
    svg = (tmp_path / (names[3] + ".svg")).read_text()
    assert svg_markers(svg) == {"RTMPose": 1, "RTMO": 1, "DEKR": 1, "topdown_heatmap": 3, "DeepPose": 1,
                                "Associative Embedding": 1}
    assert "Both lists" in svg and "modern/table.csv (3 models)" in svg and "results/table.csv (7 models)" in svg
    assert 'id="%s"' % GID_FRONT in svg
    # RTMPose-t is faster than every 2021 model at a better mAP than the fastest of them: it moves the front
    faster_is_better = pareto_front(points(MODERN, "cpu_fps_bs1_mean") + points(ROWS, "cpu_fps_bs1_mean", 1), True)
    assert [point.label for point in faster_is_better][-1] == "rtmpose-t 256x192"
    assert draw([], names[4], tmp_path, SUBTITLE, groups) == 2 + 4


def tick_labels(svg_text, axis):
    """The text matplotlib wrote under one axis's ticks (its SVG keeps each text as a comment)."""
    parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder(insert_comments=True))
    root = ElementTree.fromstring(svg_text, parser=parser)
    ticks = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("id", "").startswith(axis + "tick_")]
    return [node.text.strip() for tick in ticks for node in tick.iter() if node.tag is ElementTree.Comment]


def test_a_log_axis_that_spans_less_than_a_decade_is_labelled_in_plain_numbers(tmp_path):
    narrow = [row("slow", "topdown_heatmap", "0.70", "5.0", "2.1", "0.25"),
              row("slower", "DeepPose", "0.65", "6.0", "2.9", "0.31")]
    draw(narrow, "map_vs_fps_cpu_bs1", tmp_path, SUBTITLE)
    labels = tick_labels((tmp_path / "map_vs_fps_cpu_bs1.svg").read_text(), "x")
    assert labels == ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9"]  # not 2.1×10⁰
    draw(ROWS, "map_vs_fps_cpu_bs10", tmp_path, SUBTITLE)  # 0.2 to 9 FPS: matplotlib labels the decade only
    assert tick_labels((tmp_path / "map_vs_fps_cpu_bs10.svg").read_text(), "x") == ["1"]


def test_the_scenes_plot_labels_its_log_axes_in_plain_numbers(tmp_path):
    scenes = pd.read_csv(REPO / "published" / "modern" / "amd-epyc-2core-vm" / "scenes.csv")  # 0.15 to 11 FPS
    draw_scenes(scenes, "cpu", tmp_path / "scenes.svg", SUBTITLE)
    svg = (tmp_path / "scenes.svg").read_text()
    assert tick_labels(svg, "x") == ["1", "5", "10", "20"]  # the measured N, no minor ticks labelled
    assert tick_labels(svg, "y") == ["0.1", "1", "10"]  # not 10⁻¹, 10⁰, 10¹
