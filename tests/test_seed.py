import pytest
from conftest import REPO
from posebench.catalog.seed import input_size_hw, model_id, parse_seed_markdown, read_seed_csv

SEED_PAGE = REPO.parent / "shared" / "seed" / "inference_speed_summary.md"


def test_model_id_prefixes_deeppose_and_associative_embedding():
    assert model_id("body/2d_kpt_sview_rgb_img/topdown_heatmap/coco/res50_coco_256x192.py") == "res50_coco_256x192"
    assert model_id("body/2d_kpt_sview_rgb_img/deeppose/coco/res50_coco_256x192.py") == "deeppose_res50_coco_256x192"
    assert (
        model_id("body/2d_kpt_sview_rgb_img/associative_embedding/coco/higherhrnet_w32_coco_512x512.py")
        == "ae_higherhrnet_w32_coco_512x512"
    )


def test_seed_input_size_is_channels_width_height():
    assert input_size_hw("(3, 192, 256)") == "256x192"
    with pytest.raises(ValueError):
        input_size_hw("(3, 192)")


@pytest.mark.skipif(not SEED_PAGE.exists(), reason="the seed page lives in ../shared")
def test_committed_seed_csv_is_the_parsed_seed_page():
    parsed = {row["id"]: row for row in parse_seed_markdown(SEED_PAGE.read_text())}
    assert parsed == read_seed_csv(REPO / "resources" / "seed_table.csv")


def test_seed_csv_has_78_unique_rows_with_published_numbers():
    seed = read_seed_csv(REPO / "resources" / "seed_table.csv")
    assert len(seed) == 78
    assert seed["res50_coco_256x192"]["gflops"] == "5.46"
    assert seed["res50_coco_256x192"]["cpu_fps_bs1"] == "4.00 ± 0.10"
    assert seed["ae_res152_coco_512x512"]["model"] == "ResNet-101"  # the seed's label quirk
    assert seed["deeppose_res152_coco_256x192"]["cpu_fps_bs10"] == "/"
