"""Step 1: resolve one model entry into the merged config every later step reads: only what
defines a measurement (the config, its input size, the backend and its versions). The labels and
the mAP are labels.py's, so they can change without re-running any measurement."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

from posebench.backends import get_backend
from posebench.backends.base import ConfigError
from posebench.backends.names import config_on_disk
from posebench.catalog.models import config_file, parse_input_size
from posebench.records import content_hash


class ResolveError(Exception):
    pass


# the fields of a model entry that change what is measured; the others are labels
MEASURED_FIELDS = ("id", "backend", "config", "input_size")


def measured_entry(entry: Dict[str, str]) -> Dict[str, str]:
    return {field: entry[field] for field in MEASURED_FIELDS}


def resolve_model(entry: Dict[str, str], workdir: Path) -> Dict[str, object]:
    backend = get_backend(entry["backend"])
    root = backend.config_root()
    path = config_file(entry, root, workdir)
    if not config_on_disk(backend.name, path).is_file():
        raise ResolveError("model %r: field config: %s is not a config file of backend %s"
                           % (entry["id"], entry["config"], backend.name))
    try:
        loaded = backend.load_config(path)
    except ConfigError as error:
        raise ResolveError("model %r: field config: %s" % (entry["id"], error))
    input_size = parse_input_size(entry["input_size"])
    if loaded["input_size"] not in (None, input_size):
        raise ResolveError("model %r: field input_size: %s, but its config says %dx%d"
                           % (entry["id"], entry["input_size"], *loaded["input_size"]))
    resolved = {
        "id": entry["id"],
        "entry": measured_entry(entry),
        "backend": backend.name,
        "config_file": str(path),
        "input_size": input_size,
        "flip_indices": loaded["flip_indices"],
        "model_cfg": loaded["model"],
        "config_hash": content_hash(loaded["model"]),
        "single_image_test_step": backend.single_image_test_step(loaded["model"]),
        "versions": backend.versions(),
    }
    return resolved
