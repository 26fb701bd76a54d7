"""Where a measurement ran: the seed's Hardware and Software sections, for our machine."""
from __future__ import annotations

import os
import platform
import socket
import subprocess
from typing import Dict, Optional


def cpu_model() -> str:
    for line in _cpuinfo_lines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def physical_cores() -> int:
    """Cores this process may use, counting hyper-threads once (the default timing threads)."""
    cores = set()
    physical_id = None
    for line in _cpuinfo_lines():
        key, _, value = line.partition(":")
        if key.strip() == "physical id":
            physical_id = value.strip()
        elif key.strip() == "core id":
            cores.add((physical_id, value.strip()))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(len(cores) or usable, usable))


def allocated_cpus() -> Optional[int]:
    """The CPUs a SLURM job was given per task on its node, when this runs inside one."""
    value = os.environ.get("SLURM_CPUS_PER_TASK", "")
    return int(value) if value.isdigit() else None


def default_threads() -> int:
    """Timing threads when the config sets none: the job's own allocation on a cluster node,
    else the physical cores."""
    return allocated_cpus() or physical_cores()


def _cpuinfo_lines():
    try:
        with open("/proc/cpuinfo") as handle:
            return handle.read().splitlines()
    except OSError:
        return []


def gpu_driver() -> Optional[str]:
    try:
        found = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip().splitlines()[0] if found.returncode == 0 and found.stdout.strip() else None


def describe_environment(backend, device: str, threads: int) -> Dict[str, object]:
    import torch

    cuda = device == "cuda"
    return dict(
        backend.versions(),
        backend=backend.name,
        host=socket.gethostname(),
        cpu=cpu_model(),
        cpu_physical_cores=physical_cores(),
        cpu_logical=os.cpu_count(),
        threads=threads,
        gpu=torch.cuda.get_device_name() if cuda else None,
        gpu_driver=gpu_driver() if cuda else None,
        cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version() if cuda else None,
    )


def cuda_visible() -> bool:
    """Whether this machine has an NVIDIA GPU, asked of nvidia-smi (no torch import needed)."""
    try:
        found = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 0 and "GPU" in found.stdout
