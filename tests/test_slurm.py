"""The SLURM profile, for real: a one-node Slurm cluster on this machine runs a tiny pipeline.

Needs Debian's slurm-wlm and munge (`make test` installs them when it runs as root) and root, to
start the daemons; it writes /etc/slurm/slurm.conf only where none exists, and removes it after.
"""
import csv
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, tiny_timing

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# written by posebench's tests/test_slurm.py"
STATE = Path("/tmp/posebench-slurm")
TINY_TIMING = tiny_timing(1)


def slurm_conf() -> str:
    node = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    host = socket.gethostname()
    return "\n".join([
        MARKER,
        "ClusterName=posebench",
        "SlurmctldHost=%s" % host,
        "SlurmUser=root",
        "AuthType=auth/munge",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory",
        "ReturnToService=2",
        "MinJobAge=300",  # squeue, our status command, must still see finished jobs
        "StateSaveLocation=%s/ctld" % STATE,
        "SlurmdSpoolDir=%s/d" % STATE,
        "SlurmctldPidFile=%s/slurmctld.pid" % STATE,
        "SlurmdPidFile=%s/slurmd.pid" % STATE,
        "SlurmctldLogFile=%s/slurmctld.log" % STATE,
        "SlurmdLogFile=%s/slurmd.log" % STATE,
        "JobCompType=jobcomp/filetxt",  # the scheduler's own record of every finished job
        "JobCompLoc=%s/jobcomp.log" % STATE,
        "AccountingStorageType=accounting_storage/none",
        node,
        "PartitionName=posebench Nodes=%s Default=YES MaxTime=INFINITE State=UP" % host,
        "",
    ])


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def slurm_cluster():
    if not shutil.which("slurmctld") or not shutil.which("munged"):
        pytest.skip("Debian's slurm-wlm and munge are not installed (make test installs them as root)")
    if os.geteuid() != 0:
        pytest.skip("starting Slurm's daemons needs root")
    if SLURM_CONF.exists() and MARKER not in SLURM_CONF.read_text():
        pytest.skip("%s belongs to a real cluster; not touching it" % SLURM_CONF)
    shutil.rmtree(STATE, ignore_errors=True)
    for folder in ("ctld", "d"):
        (STATE / folder).mkdir(parents=True)
    SLURM_CONF.write_text(slurm_conf())
    munge_pid = Path("/run/munge/munged.pid")
    started_munge = not munge_pid.exists()
    try:
        if started_munge:
            Path("/run/munge").mkdir(exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            run("runuser", "-u", "munge", "--", "munged")
        run("slurmctld")
        run("slurmd")
        deadline = time.time() + 60
        while "idle" not in subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True).stdout:
            assert time.time() < deadline, "the Slurm node never came up: see %s" % STATE
            time.sleep(0.5)
        yield STATE
    finally:
        subprocess.run(["scontrol", "shutdown"], capture_output=True, timeout=60)
        if started_munge and munge_pid.exists():
            subprocess.run(["kill", munge_pid.read_text().strip()], capture_output=True)
        SLURM_CONF.unlink()


def test_the_slurm_profile_runs_the_pipeline_through_sbatch(workflow, slurm_cluster):
    model = "shufflenetv2_coco_256x192"
    result = subprocess.run(
        [str(REPO / ".venvs" / "driver" / "bin" / "snakemake"), "--profile", "profiles/slurm",
         "--slurm-init-seconds-before-status-checks", "5",
         "results/table.md", "--config", "select=[%s]" % model, "devices=[cpu]", "check_devices=false", TINY_TIMING,
         # one CPU per timing job: fewer than the node has, so threads that followed the node (or
         # the submitting machine) instead of the job's allocation would show
         "--set-threads", "timing=1"],
        cwd=workflow.root, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = [line for line in (workflow.root / "results" / "table.md").read_text().splitlines() if "[config]" in line]
    assert len(rows) == 1 and "| 1.37 | 7.55 |" in rows[0]
    # each round records the node it ran on
    with open(workflow.root / "results" / "measurements.csv") as handle:
        rounds = list(csv.DictReader(handle))
    assert {row["host"] for row in rounds} == {socket.gethostname()}
    # each timing job timed with the CPUs SLURM gave it on the node, in its own process (no warm
    # process outlives a SLURM job)
    assert {row["threads"] for row in rounds} == {"1"}
    timing = workflow.root / "results" / "timing" / model / "cpu" / "eager" / "round1.json"
    record = json.loads(timing.read_text())
    assert record["process"] == "started for the round"
    assert record["warm_server_pid"] is None and record["warm_server"] is None
    complexity = workflow.root / "results" / "complexity" / ("%s.json" % model)
    assert json.loads(complexity.read_text())["process"] == "started for the count"

    # every job went through sbatch: the scheduler's completion log lists them, finished well
    completed = (slurm_cluster / "jobcomp.log").read_text().splitlines()
    assert len(completed) >= 5, completed  # resolve, complexity, timing, measurements, table
    assert all("JobState=COMPLETED" in line for line in completed), completed
    assert "has been submitted with SLURM jobid" in result.stdout + result.stderr

