import fcntl
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "workflow" / "scripts"
sys.path.insert(0, str(SCRIPTS))
# bench/'s own modules (bench/diagnostics), for the tests of the machine check and the pairs
sys.path.insert(0, str(REPO / "bench"))

from diagnostics.workspace import copy_workflow  # noqa: E402

# The suite's workers run side by side on few cores, and OpenMP threads that spin while they wait
# take the cores from the other worker's jobs: two 2-thread rounds on 2 cores read 0.9 FPS each,
# against 4.1 alone and 2.7 each with passive waits. The tests check what is recorded, never a speed.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# One warm server for all rounds of a test's run, not one per round number (4-9 s each): the
# tests check what is recorded. The table test runs without it and checks the servers apart.
os.environ.setdefault("POSEBENCH_WARM_SHARED_ROUNDS", "1")


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

    def snakemake(self, *args: str, timeout: float = 900, env: Optional[dict] = None,
                  inside: Sequence[str] = ()) -> subprocess.CompletedProcess:
        """`inside`: a command that runs it (`unshare --net`, say)."""
        return subprocess.run([*inside, *self.command(args)], cwd=self.root, capture_output=True, text=True,
                              timeout=timeout, env=env)

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
TIMED = ["shufflenetv2_coco_256x192", "deeppose_res50_coco_256x192", "ae_mobilenetv2_coco_512x512",
         "rtmpose-t_coco_256x192", "dekr_hrnet-w32_coco_512x512"]


def prepare(folder: Path) -> None:
    workflow = Workflow(folder)
    for configfile, models in PREPARED.items():
        targets = ["results/%s/%s.json" % (step, model) for model in models for step in ("resolved", "labels", "complexity")]
        targets += ["results/onnx/%s" % model for model in models if model in EXPORTED]
        targets += ["results/timing/%s/cpu/eager/round1.json" % model for model in models if model in TIMED]
        run = workflow.snakemake(*targets, "--configfile", configfile, "--config", "select=[%s]" % ",".join(models),
                                 tiny_timing(1))
        if run.returncode != 0:
            raise RuntimeError("the prepared run failed:\n" + run.stderr[-3000:])


def shared_folder(config) -> Path:
    """The session's temporary folder that every pytest-xdist worker sees (each has its own under it)."""
    shared = config._tmp_path_factory.getbasetemp()
    return shared.parent if shared.name.startswith("popen-gw") else shared


class PreparedRun:
    """The prepared run, made once per session in a background thread of the first worker whose tests
    need it, from the end of collection: the workers run the tests that need no prepared run
    meanwhile (they come first, pytest_collection_modifyitems), and a test that needs it waits on
    its lock. The thread holds `prepared.lock` until `prepared.done` (or `prepared.failed`) is
    written, so a held lock is a run being made."""

    thread = None

    def __init__(self, shared: Path):
        self.shared = shared
        self.folder = shared / "prepared"

    def finished(self) -> bool:
        return (self.shared / "prepared.done").exists() or (self.shared / "prepared.failed").exists()

    def start(self) -> None:
        lock = open(self.shared / "prepared.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another worker is making it
            lock.close()
            return
        if self.finished():
            lock.close()
            return
        PreparedRun.thread = threading.Thread(target=self.build, args=(lock,), daemon=True)
        PreparedRun.thread.start()

    def build(self, lock) -> None:
        try:
            self.make()
        finally:
            lock.close()

    def make(self) -> None:
        try:
            shutil.rmtree(self.folder, ignore_errors=True)
            prepare(self.folder)
            (self.shared / "prepared.done").touch()
        except Exception as error:  # the tests that need it fail with this, not the whole session
            (self.shared / "prepared.failed").write_text(str(error))

    def wait(self) -> Path:
        with open(self.shared / "prepared.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.finished():
                self.make()  # its builder died before it finished: made here
        failed = self.shared / "prepared.failed"
        if failed.exists():
            pytest.fail(failed.read_text(), pytrace=False)
        return self.folder


@pytest.fixture(scope="session")
def prepared(request) -> Path:
    return PreparedRun(shared_folder(request.config)).wait()


def needs_prepared(item) -> bool:
    return item.get_closest_marker("prepared") is not None


# the modules whose prepared tests run the most jobs: first among those, so that neither worker is
# left with a long one at the end
LONGEST_FIRST = ["test_pipeline.py", "test_modern.py"]


def run_order(item) -> tuple:
    if not needs_prepared(item):
        return (0, 0)
    module = item.path.name
    return (1, LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST))


def pytest_collection_modifyitems(items):
    # the tests that need no prepared run first, in file order, while it is being made
    items.sort(key=run_order)


def pytest_collection_finish(session):
    if any(needs_prepared(item) for item in session.items):
        PreparedRun(shared_folder(session.config)).start()


def pytest_sessionfinish(session):
    # a worker whose own tests are done still finishes the run the others are waiting for
    if PreparedRun.thread is not None:
        PreparedRun.thread.join()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "prepared: the test's workflow starts as a copy of the prepared run (conftest.PREPARED), "
        "so it runs only the jobs that the other tests do not share")
