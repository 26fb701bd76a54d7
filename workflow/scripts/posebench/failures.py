"""A model that fails at run time is a finding, not a crash: its record says how it failed, and
the table says so in its cells, like the seed's "/". Errors outside the model's own build, count
and test step are ours, and still fail the job with their traceback in its log."""
from __future__ import annotations

import contextlib
import sys
import traceback
from typing import Dict, Iterator

OOM = "OOM"
ERROR = "error"


class ModelFailure(Exception):
    def __init__(self, stage: str, error: BaseException):
        super().__init__("%s failed: %s" % (stage, error))
        self.record = failure_record(stage, error)


def failure_kind(error: BaseException) -> str:
    if isinstance(error, MemoryError) or "out of memory" in str(error).lower():
        return OOM
    return ERROR


def failure_record(stage: str, error: BaseException) -> Dict[str, str]:
    first_line = (str(error).strip().splitlines() or [""])[0]
    return {
        "status": "failed",
        "stage": stage,
        "kind": failure_kind(error),
        "message": "%s: %s" % (type(error).__name__, first_line),
    }


@contextlib.contextmanager
def model_stage(stage: str) -> Iterator[None]:
    """Turn an exception raised by the model in this stage into a ModelFailure; the traceback
    still goes to the job's log."""
    try:
        yield
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        raise ModelFailure(stage, error) from error
