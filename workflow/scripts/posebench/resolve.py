"""Step 1: resolve one model entry into the merged config every later step reads."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Dict, Optional

from .backends import get_backend
from .catalog import config_file, parse_input_size
from .metafile import reported_map


class ResolveError(Exception):
    pass


def content_hash(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def resolve_model(entry: Dict[str, str], workdir: Path, seed_row: Optional[Dict[str, str]] = None) -> Dict[str, object]:
    backend = get_backend(entry["backend"])
    root = backend.config_root()
    path = config_file(entry, root, workdir)
    if not path.is_file():
        raise ResolveError("model %r: field config: %s is not a config file of backend %s"
                           % (entry["id"], entry["config"], backend.name))
    loaded = backend.load_config(path)
    input_size = parse_input_size(entry["input_size"])
    if loaded["input_size"] not in (None, input_size):
        raise ResolveError("model %r: field input_size: %s, but its config says %dx%d"
                           % (entry["id"], entry["input_size"], *loaded["input_size"]))
    resolved = {
        "id": entry["id"],
        "entry": entry,
        "backend": backend.name,
        "config_file": str(path),
        "input_size": input_size,
        "flip_indices": loaded["flip_indices"],
        "model_cfg": loaded["model"],
        "config_hash": content_hash(loaded["model"]),
        "single_image_test_step": backend.single_image_test_step(loaded["model"]),
        "map": reported_map(root, entry["config"], seed_row),
        "versions": backend.versions(),
    }
    return resolved
