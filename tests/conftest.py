import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "workflow" / "scripts"
sys.path.insert(0, str(SCRIPTS))

from posebench.workspace import copy_workflow  # noqa: E402


class Workflow:
    """A copy of the workflow in a temporary folder, run with the real snakemake CLI."""

    def __init__(self, root: Path):
        self.root = root
        copy_workflow(REPO, root)

    def command(self, args) -> list:
        return [str(REPO / ".venvs" / "driver" / "bin" / "snakemake"), "--cores", "2", *args]

    def snakemake(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(args), cwd=self.root, capture_output=True, text=True, timeout=timeout)

    def start_snakemake(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(args), cwd=self.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def write(self, relative: str, text: str) -> None:
        (self.root / relative).write_text(text)

    def results(self) -> list:
        folder = self.root / "results"
        return sorted(str(p.relative_to(self.root)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def workflow(tmp_path) -> Workflow:
    return Workflow(tmp_path / "posebench")

