"""Which rounds each measurement has: rounds 1..min_rounds of the config, any later rounds already
measured, and the extra rounds a re-measurement asks for (read when the Snakefile is parsed,
before any job runs); then, once those are on disk, one more round at a time while the cell's
interval is wider than the target (read again each time a round finishes)."""
from __future__ import annotations

import csv
import datetime
import json
import re
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Set, Tuple

from posebench.stats import relative_half_width

ROUND_FILE = re.compile(r"round(\d+)\.json")
Cell = Tuple[str, str, str]  # model id, device, runtime
# timing settings that are not one round's iteration policy: how many rounds, their target, threads
NOT_THE_POLICY = ("threads", "min_rounds", "max_rounds", "target", "max_cell_s")


def round_policy(timing: Dict[str, object]) -> str:
    """One round's iteration policy as JSON, from the config's `timing`: a change to it re-runs
    the timing jobs, nothing else. The rounds and their target are not in it: raising them times
    only the new rounds."""
    return json.dumps({key: value for key, value in timing.items() if key not in NOT_THE_POLICY}, sort_keys=True)


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
    cells: List[Cell], rounds: int, results: Path, remeasure: int = 0,
    folder: Callable[[Path, Cell], Path] = timing_folder,
) -> Dict[Cell, List[int]]:
    """Per cell, the rounds the table reads: 1..rounds and those on disk (`folder`: where a
    cell keeps its rounds). With remeasure > 0, each cell an earlier run marked unsteady (in
    results/cells.csv) gets that many rounds after the last one it has."""
    unsteady = unsteady_cells(Path(results) / "cells.csv") if remeasure else set()
    planned = {}
    for cell in cells:
        have = set(range(1, rounds + 1)) | rounds_on_disk(folder(results, cell))
        if cell in unsteady:
            last = max(have)
            have |= set(range(last + 1, last + 1 + remeasure))
        planned[cell] = sorted(have)
    return planned


def round_means_by_batch(records: Iterable[Dict[str, object]]) -> Dict[str, List[float]]:
    """Per batch size measured in every round, the rounds' mean FPS. A batch size that failed or
    does not apply in any round asks for no more rounds: its cell stands as that."""
    records = list(records)
    means: Dict[str, List[float]] = {}
    for size in records[0]["batches"] if records else []:
        batches = [record["batches"].get(size, {}) for record in records]
        if all(batch.get("status") == "measured" for batch in batches):
            means[size] = [float(batch["fps_mean"]) for batch in batches]
    return means


def wide_batch_sizes(records: Iterable[Dict[str, object]], target: float) -> List[str]:
    """The batch sizes whose 95% interval over these rounds is wider than target (relative
    half-width): each needs another round."""
    return sorted(
        (size for size, means in round_means_by_batch(records).items() if relative_half_width(means) > target),
        key=int,
    )


def round_wall_seconds(record: Dict[str, object]) -> float:
    """A round's wall time, from its process's start (else its timing's) to its end."""
    start = record.get("process_started_at") or record["started_at"]
    return (datetime.datetime.fromisoformat(str(record["ended_at"]))
            - datetime.datetime.fromisoformat(str(start))).total_seconds()


def wants_another_round(records: List[Dict[str, object]], target: float, max_rounds: int, max_cell_s: float) -> bool:
    """Whether a cell with these rounds (all done) gets another: some batch size's interval is
    wider than the target, it has fewer than max_rounds, and its rounds have taken less than
    max_cell_s of wall time (a slow model's round can take minutes: it keeps min_rounds)."""
    return (len(records) < max_rounds and sum(map(round_wall_seconds, records)) < max_cell_s
            and bool(wide_batch_sizes(records, target)))
