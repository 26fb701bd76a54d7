from pathlib import Path

import pytest
from conftest import REPO
from posebench.catalog import models as catalog
from posebench.catalog.models import CatalogError
from posebench.catalog.seed import read_seed_csv

MODELS_YAML = REPO / "config" / "models.yaml"


def write_models(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    return path


GOOD_ENTRY = """
  - id: res50_coco_256x192
    algorithm: topdown_heatmap
    model: ResNet-50
    backend: mmpose1
    config: body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py
    input_size: 256x192
"""


def test_model_list_has_every_seed_row_in_seed_order():
    models = catalog.load_models(MODELS_YAML)
    seed = read_seed_csv(REPO / "resources" / "seed_table.csv")
    assert [m["id"] for m in models] == list(seed)
    assert {m["backend"] for m in models if m["backend"] == "mmpose0"} == {"mmpose0"}
    assert sum(m["backend"] == "mmpose0" for m in models) == 10
    for entry in models:
        assert entry["seed_config"] == seed[entry["id"]]["seed_config"]
        assert entry["input_size"] == seed[entry["id"]]["input_size"]


def test_the_seeds_mislabelled_row_is_named_after_what_it_measures():
    entry = {m["id"]: m for m in catalog.load_models(MODELS_YAML)}["ae_res152_coco_512x512"]
    assert entry["model"] == "ResNet-152"
    assert "seed labels this row" in MODELS_YAML.read_text()


@pytest.mark.parametrize(
    "text, message",
    [
        ("models: [\n  - id: x\n", "models.yaml: line 2: malformed YAML: expected the node content"),
        ("models:" + GOOD_ENTRY.replace("    backend: mmpose1\n", ""),
         "model 'res50_coco_256x192': field entry: missing required field: backend"),
        ("models:" + GOOD_ENTRY.replace("backend: mmpose1", "backend: mmpose2"),
         "model 'res50_coco_256x192': field backend: 'mmpose2' is not one of ['mmpose0', 'mmpose1', 'ultralytics']"),
        ("models:" + GOOD_ENTRY + GOOD_ENTRY, "model 'res50_coco_256x192': field id: duplicate id"),
        ("models:" + GOOD_ENTRY.replace("id: res50_coco_256x192", "id: 'a;rm -rf x'"),
         "model 'a;rm -rf x': field id: 'a;rm -rf x' has characters that are not allowed"),
        ("models:" + GOOD_ENTRY.replace("input_size: 256x192", "input_size: 256 by 192"),
         "model 'res50_coco_256x192': field input_size: '256 by 192' has characters that are not allowed"),
        ("models:" + GOOD_ENTRY.replace("    model: ResNet-50\n", "    model: ResNet-50\n    speed: 3\n"),
         "model 'res50_coco_256x192': field entry: unknown field: speed"),
    ],
)
def test_bad_model_list_is_one_line_naming_file_model_and_field(tmp_path, text, message):
    with pytest.raises(CatalogError) as raised:
        catalog.load_models(write_models(tmp_path, text))
    assert message in str(raised.value)
    assert str(raised.value).startswith(str(tmp_path / "models.yaml"))
    assert "\n" not in str(raised.value)


def test_select_naming_no_model_is_an_error(tmp_path):
    models = catalog.load_models(write_models(tmp_path, "models:" + GOOD_ENTRY))
    with pytest.raises(CatalogError, match="field select: no model with id 'nope'"):
        catalog.select_models(models, ["nope"], tmp_path / "models.yaml")
    assert catalog.select_models(models, [], tmp_path / "models.yaml") == models


def test_backend_override_runs_every_row_from_its_seed_config():
    models = catalog.load_models(MODELS_YAML)
    overridden = catalog.apply_backend_override(models, "mmpose0", MODELS_YAML)
    assert {m["backend"] for m in overridden} == {"mmpose0"}
    assert all(m["config"] == m["seed_config"] for m in overridden)
    assert models[0]["backend"] == "mmpose1"  # the loaded list is left as it was


def test_backend_override_needs_a_seed_config(tmp_path):
    models = catalog.load_models(write_models(tmp_path, "models:" + GOOD_ENTRY))
    with pytest.raises(CatalogError, match="model 'res50_coco_256x192': field seed_config"):
        catalog.apply_backend_override(models, "mmpose0", tmp_path / "models.yaml")


def test_config_outside_the_backend_tree_is_an_error(tmp_path):
    models = catalog.load_models(write_models(tmp_path, "models:" + GOOD_ENTRY))
    with pytest.raises(CatalogError, match="field config: .* is not a config file of backend mmpose1"):
        catalog.check_config_files(models, {"mmpose1": tmp_path}, tmp_path, tmp_path / "models.yaml")


def test_comparison_reports_params_and_flops_that_stray_from_the_seed():
    from posebench.report.compare import complexity_mismatches

    seed = {"a": {"params_m": "34", "gflops": "5.46"}, "b": {"params_m": "7.55", "gflops": "1.37"}}
    ours = {"a": {"params_m": "33.999697", "gflops": "5.4615"}, "b": {"params_m": "7.546", "gflops": "1.41"}}
    problems = complexity_mismatches(ours, seed)
    assert problems == ["b: 1.410 GFLOPs, seed 1.37 (+2.9%)"]
    assert complexity_mismatches({"a": ours["a"]}, seed, require_all=True) == ["b: missing from our table"]
    ours["a"]["params_m"] = "33.994"
    assert complexity_mismatches({"a": ours["a"]}, seed) == ["a: params 33.99 M, seed 34 M"]


def test_devices_are_checked_only_where_they_can_be():
    assert catalog.timing_devices("auto", True) == ["cpu", "cuda"]
    assert catalog.timing_devices("auto", False) == ["cpu"]
    assert catalog.timing_devices(["cpu", "cuda"], None) == ["cpu", "cuda"]  # a cluster's nodes
    with pytest.raises(CatalogError, match="field devices: cuda asked for, but this machine has no CUDA device"):
        catalog.timing_devices(["cuda"], False)
    with pytest.raises(CatalogError, match="field devices: auto needs check_devices"):
        catalog.timing_devices("auto", None)


def test_the_map_follows_the_config_path_even_where_the_metafile_names_the_wrong_dataset(tmp_path):
    from posebench.catalog.metafile import metafile_map

    folder = tmp_path / "body_2d_keypoint" / "rtmo" / "coco"
    folder.mkdir(parents=True)
    (folder / "rtmo_coco.yml").write_text("""
Models:
- Config: configs/body_2d_keypoint/rtmo/coco/rtmo-s.py
  Results:
  - Dataset: CrowdPose
    Metrics: {AP: 0.673}
- Config: configs/body_2d_keypoint/rtmo/coco/both.py
  Results:
  - Dataset: CrowdPose
    Metrics: {AP: 0.5}
  - Dataset: COCO
    Metrics: {AP: 0.7}
""")
    found = metafile_map(tmp_path, "body_2d_keypoint/rtmo/coco/rtmo-s.py")
    assert found["value"] == 0.673 and found["dataset_named"] == "CrowdPose"
    assert metafile_map(tmp_path, "body_2d_keypoint/rtmo/coco/both.py")["value"] == 0.7
    assert metafile_map(tmp_path, "body_2d_keypoint/rtmo/coco/other.py") is None
