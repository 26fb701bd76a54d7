"""Reading what another run kept beside its table, whatever posebench version wrote it."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

from posebench.records import read_json


def read_environments(path: Path) -> List[Dict]:
    """A run's environment.json as a list of environments. An older run's is a dict per backend
    and device, of which it kept the first environment."""
    environments = read_json(path)
    if isinstance(environments, dict):
        environments = [dict(env, device=device) for devices in environments.values() for device, env in devices.items()]
    return environments
