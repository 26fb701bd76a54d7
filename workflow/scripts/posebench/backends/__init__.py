"""The backends: one adapter each (MMPose 1.x, MMPose 0.x, Ultralytics), behind the interface in
`base.py`.

Nothing outside this package imports mmpose or ultralytics. `get_backend` imports an adapter only
when asked, since each lives in its own virtual environment. How each names its configs is in
`names.py`: plain Python, for the driver that checks the model list without any of them.
"""
from __future__ import annotations

import importlib

from .base import Backend

BACKEND_MODULES = {"mmpose1": "mmpose1", "mmpose0": "mmpose0", "ultralytics": "ultralytics"}


def get_backend(name: str) -> Backend:
    if name not in BACKEND_MODULES:
        raise ValueError("unknown backend %r (known: %s)" % (name, ", ".join(sorted(BACKEND_MODULES))))
    module = importlib.import_module("." + BACKEND_MODULES[name], __name__)
    return module.BACKEND
