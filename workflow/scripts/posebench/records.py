"""Flat JSON records between steps, written atomically: a killed job leaves no file behind."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_json(path: Path, data: object) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=str(path.parent), prefix="." + path.name + ".")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, str(path))
    except BaseException:
        os.unlink(temporary)
        raise


def read_json(path: Path) -> dict:
    with open(path) as handle:
        return json.load(handle)
