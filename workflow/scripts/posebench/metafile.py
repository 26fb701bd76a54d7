"""The reported mAP, the one number posebench does not measure: MMPose's model-index metafiles
(the *.yml beside the configs), else the seed table."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

import yaml


def metafile_map(config_root: Path, config: str) -> Optional[Dict[str, object]]:
    """COCO AP of the first metafile entry whose Config is this config, or None."""
    wanted = "configs/" + config
    directory = (config_root / config).parent
    for metafile in sorted(directory.glob("*.yml")):
        with open(metafile) as handle:
            index = yaml.safe_load(handle) or {}
        for entry in index.get("Models") or []:
            if entry.get("Config") != wanted:
                continue
            for result in entry.get("Results") or []:
                ap = (result.get("Metrics") or {}).get("AP")
                if result.get("Dataset") == "COCO" and ap is not None:
                    return {"value": float(ap), "source": "metafile",
                            "file": str(metafile.relative_to(config_root))}
    return None


def reported_map(config_root: Path, config: str, seed_row: Optional[Dict[str, str]]) -> Dict[str, object]:
    found = metafile_map(config_root, config)
    if found:
        return found
    if seed_row and seed_row.get("map"):
        return {"value": float(seed_row["map"]), "source": "seed"}
    return {"value": None, "source": "none"}
