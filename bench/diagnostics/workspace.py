"""A copy of the workflow, without results, in another folder: a complete run from nothing that
shares this checkout's environments (the tests and the repeatability benchmark run in these)."""
from __future__ import annotations

import shutil
from pathlib import Path

WORKFLOW_FILES = ["Snakefile", "workflow", "config", "resources", "envs", "profiles"]


def copy_workflow(repo: Path, folder: Path) -> None:
    folder.mkdir(parents=True)
    for name in WORKFLOW_FILES:
        source = repo / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, folder / name)
    (folder / ".venvs").symlink_to(repo / ".venvs")
