"""A row's labels: what the table calls the model (name, algorithm, config) and the mAP it
reports, from the metafile beside the model's config, its authors' page, or the seed. Kept apart
from what defines a measurement (resolve.py): renaming a model, correcting an mAP or editing the
seed table re-runs the table and what reads it, never a measurement."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from posebench.backends import get_backend
from posebench.catalog.metafile import reported_map

LABEL_FIELDS = ("algorithm", "model", "config")


def label_model(entry: Dict[str, str], seed_row: Optional[Dict[str, str]] = None,
                published_maps: Optional[Dict[Tuple[str, str], Dict[str, str]]] = None) -> Dict[str, object]:
    root = get_backend(entry["backend"]).config_root()
    label = {field: entry[field] for field in LABEL_FIELDS}
    published = (published_maps or {}).get((entry["backend"], entry["config"]))
    return dict(label, id=entry["id"], map=reported_map(root, entry["config"], seed_row, published))
