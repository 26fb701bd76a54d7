"""Flat JSON records between steps, written atomically: a killed job leaves no file behind."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Dict


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


def content_hash(data: object) -> str:
    """A short name for JSON-able data: equal data, equal names."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def read_json(path: Path) -> dict:
    with open(path) as handle:
        return json.load(handle)


def records_by_id(paths) -> Dict[str, dict]:
    """Per-model JSON records (one file each), by their id."""
    return {record["id"]: record for record in map(read_json, paths)}


def read_table_csv(path: Path) -> Dict[str, Dict[str, str]]:
    """A table.csv (ours, or another run's) as text, by model id."""
    with open(path, newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}
