"""The warm process: a round runs in a child forked from a server that imported the libraries
once, with the caller's output, folder, environment and exit status; a caller killed mid-round
takes its child with it."""
import os
import signal
import subprocess
import sys
import time

import psutil
from conftest import REPO, SCRIPTS

PYTHON = str(REPO / ".venvs" / "mmpose1" / "bin" / "python")
ROUND = """import os, sys, time
from posebench import warm
print("child", os.getpid(), os.getppid(), warm.in_child(), os.getcwd(), os.environ.get("PROBE_VALUE"), sys.argv[1:])
if sys.argv[1] == "sleep":
    time.sleep(600)
sys.exit(int(sys.argv[1]))
"""
CALLER = """import sys
sys.path.insert(0, %r)
from posebench import warm
status = warm.run_in_server("mmpose1", sys.argv[1], sys.argv[2:])
sys.exit(99 if status is None else status)
""" % str(SCRIPTS)


def call(tmp_path, *args, env=None):
    script = tmp_path / "round.py"
    script.write_text(ROUND)
    out = tmp_path / "out.txt"
    with open(out, "w") as handle:
        done = subprocess.run([PYTHON, "-c", CALLER, str(script), *args], cwd=tmp_path, stdout=handle,
                              stderr=subprocess.STDOUT, env=dict(os.environ, PROBE_VALUE="seen", **(env or {})),
                              timeout=300)
    return done.returncode, out.read_text()


def test_a_round_runs_in_a_forked_child_with_the_callers_output_folder_environment_and_status(tmp_path):
    status, output = call(tmp_path, "3", "--flag")
    assert status == 3, output
    _, pid, parent, in_child, cwd, value, argv = output.strip().split(maxsplit=6)
    assert in_child == "True" and cwd == str(tmp_path) and value == "seen" and argv == "['3', '--flag']"
    server = psutil.Process(int(parent))
    assert "posebench.warm import serve" in " ".join(server.cmdline())
    # the next round: the same warm server, a new child
    status, again = call(tmp_path, "0")
    assert status == 0 and again.split()[2] == parent and again.split()[1] != pid
    # warm processes off, or inside a SLURM job: the caller is told to run the round itself
    assert call(tmp_path, "0", env={"POSEBENCH_WARM": "0"}) == (99, "")
    assert call(tmp_path, "0", env={"SLURM_JOB_ID": "7"}) == (99, "")


def test_a_caller_killed_mid_round_takes_its_child_with_it(tmp_path):
    script = tmp_path / "round.py"
    script.write_text(ROUND)
    out = tmp_path / "out.txt"
    with open(out, "w") as handle:
        caller = subprocess.Popen([PYTHON, "-c", CALLER, str(script), "sleep"], cwd=tmp_path, stdout=handle,
                                  stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while not out.read_text():
        assert time.time() < deadline and caller.poll() is None, out.read_text()
        time.sleep(0.2)
    child = psutil.Process(int(out.read_text().split()[1]))
    caller.send_signal(signal.SIGKILL)
    caller.wait()
    child.wait(timeout=30)  # killed by the server once the caller's socket closed
    assert not child.is_running()


def test_the_server_key_follows_the_backend_and_the_environment_the_libraries_read(monkeypatch):
    sys.path.insert(0, str(SCRIPTS))
    from posebench import warm

    before = warm.server_key("mmpose1")
    assert warm.server_key("mmpose0") != before
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert warm.server_key("mmpose1") != before
