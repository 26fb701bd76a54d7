"""What a measurement holds in memory: on the CPU the process's resident memory (Linux's
/proc/self/status; its peak, VmHWM, reset through /proc/self/clear_refs), on CUDA the caching
allocator's bytes (torch.cuda). In MiB; None where the system does not say."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
RESET_PEAK_RSS = "5"  # proc(5): "5" sets the peak resident set size (VmHWM) to the current one
MIB = 2 ** 20
# timing.allocator: what a round's process does with the memory its model frees
# (posebench/measure/timing.py); rounds recorded before the setting ran with the system's
CACHING_ALLOCATOR, SYSTEM_ALLOCATOR = "caching", "system"
ALLOCATORS = (CACHING_ALLOCATOR, SYSTEM_ALLOCATOR)


def allocator_of(settings: dict) -> str:
    """The allocator a round's policy asks for, or a round's record ran with."""
    return settings.get("allocator", SYSTEM_ALLOCATOR)


def status_mib(field: str) -> Optional[float]:
    """A memory line of /proc/self/status (in kB there), in MiB."""
    try:
        lines = STATUS.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / MIB
    return None


def in_use_mib(device: str) -> Optional[float]:
    """What the process holds now: resident memory, or the CUDA allocator's bytes (the model)."""
    if device == "cuda":
        import torch

        return torch.cuda.memory_allocated() / MIB
    return status_mib("VmRSS")


def reset_peak(device: str) -> bool:
    """Start the high-water mark again from now; whether the system let it."""
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()
        return True
    try:
        CLEAR_REFS.write_text(RESET_PEAK_RSS)
    except OSError:
        return False
    return True


def peak_mib(device: str, was_reset: bool) -> Optional[float]:
    """The high-water mark since the reset: peak resident memory, or the CUDA allocator's peak.
    Without a reset, VmHWM would hold the model's build and import peaks: none then."""
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / MIB
    return status_mib("VmHWM") if was_reset else None
