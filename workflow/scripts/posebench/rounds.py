"""Which rounds each measurement has: rounds 1..N of the config, any later rounds already measured
(a re-measurement of unsteady cells), and the extra rounds a re-measurement asks for. Read when
the Snakefile is parsed, before any job runs."""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

ROUND_FILE = re.compile(r"round(\d+)\.json")
Cell = Tuple[str, str, str]  # model id, device, runtime


def timing_folder(results: Path, cell: Cell) -> Path:
    return Path(results) / "timing" / cell[0] / cell[1] / cell[2]


def rounds_on_disk(folder: Path) -> Set[int]:
    found = set()
    for path in Path(folder).glob("round*.json"):
        match = ROUND_FILE.fullmatch(path.name)
        if match:
            found.add(int(match.group(1)))
    return found


def unsteady_cells(cells_csv: Path) -> Set[Cell]:
    """The (model, device, runtime) measurements with any batch size marked unsteady in an
    earlier run's results/cells.csv; none when there is no such file yet."""
    try:
        with open(cells_csv, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        return set()
    return {(row["id"], row["device"], row["runtime"]) for row in rows if row.get("unsteady")}


def planned_rounds(
    cells: List[Cell], rounds: int, results: Path, remeasure: int = 0
) -> Dict[Cell, List[int]]:
    """Per cell, the rounds the table reads. With remeasure > 0, each cell an earlier run marked
    unsteady gets that many rounds after the last one it has."""
    unsteady = unsteady_cells(Path(results) / "cells.csv") if remeasure else set()
    planned = {}
    for cell in cells:
        have = set(range(1, rounds + 1)) | rounds_on_disk(timing_folder(results, cell))
        if cell in unsteady:
            last = max(have)
            have |= set(range(last + 1, last + 1 + remeasure))
        planned[cell] = sorted(have)
    return planned
