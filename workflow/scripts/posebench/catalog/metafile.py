"""The reported mAP, the one number posebench does not measure: MMPose's model-index metafiles
(the *.yml beside the configs), else the figure its authors published where they keep no metafile
(resources/published_map.csv: Ultralytics' pages), else the seed table."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Dict, Optional, Tuple

import yaml


def metafile_map(config_root: Path, config: str) -> Optional[Dict[str, object]]:
    """The AP of the first metafile entry whose Config is this config, or None: its COCO result,
    else its first result with an AP. The config path decides, not the dataset a result names:
    some metafiles name the wrong one (RTMO's COCO models list their COCO AP as CrowdPose's)."""
    wanted = "configs/" + config
    directory = (config_root / config).parent
    for metafile in sorted(directory.glob("*.yml")):
        with open(metafile) as handle:
            index = yaml.safe_load(handle) or {}
        for entry in index.get("Models") or []:
            if entry.get("Config") != wanted:
                continue
            results = [result for result in entry.get("Results") or [] if (result.get("Metrics") or {}).get("AP") is not None]
            results.sort(key=lambda result: result.get("Dataset") != "COCO")
            if results:
                found = {"value": float(results[0]["Metrics"]["AP"]), "source": "metafile",
                         "file": str(metafile.relative_to(config_root))}
                if results[0].get("Dataset") != "COCO":
                    found["dataset_named"] = results[0].get("Dataset")
                return found
    return None


def read_published_maps(path: Path) -> Dict[Tuple[str, str], Dict[str, str]]:
    """(backend, config) -> its row of resources/published_map.csv."""
    with open(path, newline="") as handle:
        return {(row["backend"], row["config"]): row for row in csv.DictReader(handle)}


def reported_map(config_root: Path, config: str, seed_row: Optional[Dict[str, str]],
                 published_row: Optional[Dict[str, str]] = None) -> Dict[str, object]:
    found = metafile_map(config_root, config)
    if found:
        return found
    if published_row:
        return {"value": float(published_row["map"]), "source": "published", "file": published_row["source"]}
    if seed_row and seed_row.get("map"):
        return {"value": float(seed_row["map"]), "source": "seed"}
    return {"value": None, "source": "none"}
