"""The backends: one adapter each (MMPose 1.x, MMPose 0.x, Ultralytics), behind the interface in
`base.py`.

Nothing outside this package imports mmpose or ultralytics. `get_backend` imports an adapter only
when asked, since each lives in its own virtual environment; what is here is plain Python, for the
driver that checks the model list without any of them.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

from .base import Backend

BACKEND_MODULES = {"mmpose1": "mmpose1", "mmpose0": "mmpose0", "ultralytics": "ultralytics"}
# where each backend's packaged configs lie: its package, and the folder inside it
CONFIG_TREES = {
    "mmpose1": ("mmpose", ".mim/configs"),
    "mmpose0": ("mmpose", ".mim/configs"),
    "ultralytics": ("ultralytics", "cfg/models"),
}
# Ultralytics names a scale in the file name: yolo11n-pose.yaml is yolo11-pose.yaml at scale n
# (the pattern of its own ultralytics.nn.tasks.yaml_model_load)
SCALED_NAME = re.compile(r"(\d+)([nslmx])(.+)?$")


def get_backend(name: str) -> Backend:
    if name not in BACKEND_MODULES:
        raise ValueError("unknown backend %r (known: %s)" % (name, ", ".join(sorted(BACKEND_MODULES))))
    module = importlib.import_module("." + BACKEND_MODULES[name], __name__)
    return module.BACKEND


def config_on_disk(backend: str, path: Path) -> Path:
    """The file a config path names: itself, or for Ultralytics the unscaled yaml it loads."""
    if backend != "ultralytics" or path.is_file():
        return path
    return path.with_name(SCALED_NAME.sub(r"\1\3", path.stem) + path.suffix)
