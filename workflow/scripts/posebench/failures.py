"""A model that fails at run time is a finding, not a crash: its record says how it failed, and
the table says so in its cells, like the seed's "/". An error raised in posebench's own code is a
bug of ours, not a finding: it fails the job with its traceback in the log, even inside a model's
stage, so a bug never ships as a table of `error` cells."""
from __future__ import annotations

import contextlib
import re
import sys
import traceback
from pathlib import Path
from typing import Dict, Iterator

OOM = "OOM"
ERROR = "error"
# how torch, CUDA and the C allocator word running out of memory
OUT_OF_MEMORY = ("out of memory", "can't allocate memory", "cannot allocate memory")
OUR_CODE = Path(__file__).resolve().parent
SOURCE_LOCATION = re.compile(r"Exception from \S+:\d+:")


class ModelFailure(Exception):
    def __init__(self, stage: str, error: BaseException):
        super().__init__("%s failed: %s" % (stage, error))
        self.record = failure_record(stage, error)


def failure_kind(error: BaseException) -> str:
    message = str(error).lower()
    if isinstance(error, MemoryError) or any(words in message for words in OUT_OF_MEMORY):
        return OOM
    return ERROR


def failure_record(stage: str, error: BaseException) -> Dict[str, str]:
    # OpenVINO leads its messages with one "Exception from src/...cpp:84:" line per C++ frame
    said = [line for line in str(error).strip().splitlines() if not SOURCE_LOCATION.fullmatch(line.strip())]
    first_line = (said or [""])[0]
    return {
        "status": "failed",
        "stage": stage,
        "kind": failure_kind(error),
        "message": "%s: %s" % (type(error).__name__, first_line),
    }


def raised_in_our_code(error: BaseException) -> bool:
    """Whether the innermost frame of the error's traceback is in posebench's own package, and
    the error is Python's or ours (an extension's own error class, as `cv2.error`, raised where
    we call into it, is the library's)."""
    frames = traceback.extract_tb(error.__traceback__)
    python_or_ours = type(error).__module__.split(".")[0] in ("builtins", __name__.split(".")[0])
    return bool(frames) and OUR_CODE in Path(frames[-1].filename).resolve().parents and python_or_ours


@contextlib.contextmanager
def model_stage(stage: str) -> Iterator[None]:
    """Turn an exception raised by the model or its libraries in this stage into a
    ModelFailure; the traceback still goes to the job's log. One raised in our own code passes
    through, and fails the job; running out of memory is always the model's."""
    try:
        yield
    except ModelFailure:
        raise
    except Exception as error:
        if raised_in_our_code(error) and failure_kind(error) != OOM:
            raise
        traceback.print_exc(file=sys.stderr)
        raise ModelFailure(stage, error) from error
