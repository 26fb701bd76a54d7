import fcntl
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "workflow" / "scripts"
sys.path.insert(0, str(SCRIPTS))

from posebench.workspace import copy_workflow  # noqa: E402


class Workflow:
    """A copy of the workflow in a temporary folder, run with the real snakemake CLI; from
    `run`, a copy of that earlier run's folder, results and Snakemake's records with them."""

    def __init__(self, root: Path, run: Optional[Path] = None):
        self.root = root
        if run is None:
            copy_workflow(REPO, root)
        else:  # copy2 keeps the mtimes: nothing looks out of date
            shutil.copytree(run, root, symlinks=True)

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
def workflow(request, tmp_path) -> Workflow:
    """A fresh copy of the workflow; for a test marked `prepared`, a copy of the prepared run."""
    run = request.getfixturevalue("prepared") if request.node.get_closest_marker("prepared") else None
    return Workflow(tmp_path / "posebench", run=run)


# The pipeline tests' iteration policy: they check what is recorded, not how fast this machine is.
TINY_POLICY = "iterations: 3, warmup: 1, min_iterations: 1, budget_s: 0.5"


def tiny_timing(rounds: int) -> str:
    return "timing={min_rounds: %d, max_rounds: %d, %s}" % (rounds, rounds, TINY_POLICY)


# What the pipeline tests share, made once per session by a real run that each of them copies
# instead of repeating its jobs: per model list, the models resolved, labelled and counted; those
# exported to ONNX; those with their first eager round on the CPU under the tiny policy.
PREPARED = {
    "config/config.yaml": ["shufflenetv2_coco_256x192", "deeppose_res50_coco_256x192", "ae_hrnet_w32_coco_512x512",
                           "ae_mobilenetv2_coco_512x512", "mobilenetv2_coco_256x192"],
    "config/modern.yaml": ["rtmpose-t_coco_256x192", "dekr_hrnet-w32_coco_512x512"],
}
EXPORTED = ["shufflenetv2_coco_256x192", "deeppose_res50_coco_256x192", "ae_mobilenetv2_coco_512x512",
            "rtmpose-t_coco_256x192", "dekr_hrnet-w32_coco_512x512"]
TIMED = ["shufflenetv2_coco_256x192", "deeppose_res50_coco_256x192", "ae_hrnet_w32_coco_512x512",
         "ae_mobilenetv2_coco_512x512", "rtmpose-t_coco_256x192", "dekr_hrnet-w32_coco_512x512"]


def prepare(folder: Path) -> None:
    workflow = Workflow(folder)
    for configfile, models in PREPARED.items():
        targets = ["results/%s/%s.json" % (step, model) for model in models for step in ("resolved", "labels", "complexity")]
        targets += ["results/onnx/%s" % model for model in models if model in EXPORTED]
        targets += ["results/timing/%s/cpu/eager/round1.json" % model for model in models if model in TIMED]
        run = workflow.snakemake(*targets, "--configfile", configfile, "--config", "select=[%s]" % ",".join(models),
                                 tiny_timing(1))
        assert run.returncode == 0, run.stderr[-3000:]


@pytest.fixture(scope="session")
def prepared(tmp_path_factory) -> Path:
    """The prepared run, made by whichever pytest worker asks first while the others wait."""
    shared = tmp_path_factory.getbasetemp()
    if shared.name.startswith("popen-gw"):  # pytest-xdist: one folder per worker, under a shared one
        shared = shared.parent
    folder = shared / "prepared"
    with open(shared / "prepared.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "prepared.done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            prepare(folder)
            (shared / "prepared.done").touch()
    return folder


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "prepared: the test's workflow starts as a copy of the prepared run (conftest.PREPARED), "
        "so it runs only the jobs that the other tests do not share")
