"""The seed table: MMPose's published "Inference Speed" page, parsed into flat records.

The seed is our reference, never our source of measured numbers: the pipeline reads it only to
compare against and for the one number it does not measure (mAP, where no metafile has it).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Dict, List

SEED_COLUMNS = [
    "id", "algorithm", "model", "seed_config", "input_size", "map", "gflops", "params_m",
    "gpu_fps_bs1", "gpu_fps_bs10", "cpu_fps_bs1", "cpu_fps_bs10",
]
ID_PREFIX_BY_METHOD = {"deeppose": "deeppose_", "associative_embedding": "ae_"}
CONFIG_LINK = re.compile(r"\[config\]\(/configs/(?P<path>[^)]+)\)")
SEED_INPUT_SIZE = re.compile(r"\(3, (?P<w>\d+), (?P<h>\d+)\)")


def model_id(seed_config: str) -> str:
    """`body/.../deeppose/coco/res50_coco_256x192.py` -> `deeppose_res50_coco_256x192`."""
    path = Path(seed_config)
    method = path.parent.parent.name
    return ID_PREFIX_BY_METHOD.get(method, "") + path.stem


def input_size_hw(seed_input_size: str) -> str:
    """The seed prints (C, W, H), from 0.x's `image_size = [W, H]`; we write H x W."""
    match = SEED_INPUT_SIZE.fullmatch(seed_input_size.strip())
    if not match:
        raise ValueError("unreadable seed input size: %r" % seed_input_size)
    return "%sx%s" % (match["h"], match["w"])


def parse_row(line: str) -> Dict[str, str]:
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    algorithm, model, link, input_size, map_, gflops, params = cells[:7]
    seed_config = CONFIG_LINK.search(link)["path"]
    return dict(
        zip(
            SEED_COLUMNS,
            [model_id(seed_config), algorithm, model, seed_config, input_size_hw(input_size),
             map_, gflops, params] + cells[7:11],
        )
    )


def parse_seed_markdown(text: str) -> List[Dict[str, str]]:
    return [parse_row(line) for line in text.splitlines() if CONFIG_LINK.search(line)]


def write_seed_csv(rows: List[Dict[str, str]], path: Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SEED_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def read_seed_csv(path: Path) -> Dict[str, Dict[str, str]]:
    """Seed rows keyed by model id."""
    with open(path, newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}
