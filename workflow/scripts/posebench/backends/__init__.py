"""The MMPose adapters: one per backend, behind the interface in `base.py`.

Nothing outside this package imports mmpose. `get_backend` imports an adapter only when asked,
since each lives in its own virtual environment.
"""
from __future__ import annotations

import importlib

from .base import Backend

BACKEND_MODULES = {"mmpose1": "mmpose1", "mmpose0": "mmpose0"}


def get_backend(name: str) -> Backend:
    if name not in BACKEND_MODULES:
        raise ValueError("unknown backend %r (known: %s)" % (name, ", ".join(sorted(BACKEND_MODULES))))
    module = importlib.import_module("." + BACKEND_MODULES[name], __name__)
    return module.BACKEND
