"""The warm process: a round (or any step that imports the backend) runs in a child forked from a
server that imported the libraries once, with the caller's output, folder, environment and exit
status; two callers' children run side by side; a caller killed mid-round takes its child with it."""
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
if sys.argv[1] == "meet":  # mark this child as running, then wait for the other one's mark
    open(sys.argv[2], "w").close()
    deadline = time.time() + 60
    while not os.path.exists(sys.argv[3]) and time.time() < deadline:
        time.sleep(0.1)
    sys.exit(0 if os.path.exists(sys.argv[3]) else 5)
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


def test_two_callers_children_run_side_by_side(tmp_path):
    """Snakemake runs two counting jobs at once: neither waits for the other's child to end."""
    script = tmp_path / "round.py"
    script.write_text(ROUND)
    callers = [subprocess.Popen([PYTHON, "-c", CALLER, str(script), "meet", mine, theirs], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for mine, theirs in (("a", "b"), ("b", "a"))]
    outputs = [caller.communicate(timeout=300)[0] for caller in callers]
    assert [caller.returncode for caller in callers] == [0, 0], outputs
    assert outputs[0].split()[2] == outputs[1].split()[2]  # one server, two children
    assert outputs[0].split()[1] != outputs[1].split()[1]


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


def test_an_idle_server_serves_its_last_caller_and_ends_by_itself(tmp_path):
    script = tmp_path / "round.py"
    script.write_text(ROUND)
    path = tmp_path / "server.sock"
    server = subprocess.Popen([PYTHON, "-c", "import sys; sys.path.insert(0, %r); from posebench import warm; "
                               "warm.IDLE_S = 2; warm.serve('mmpose1', %r)" % (str(SCRIPTS), str(path))],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not path.exists():
        assert time.time() < deadline and server.poll() is None
        time.sleep(0.1)
    caller = ("import sys; from pathlib import Path; sys.path.insert(0, %r); from posebench import warm; "
              "warm.socket_path = lambda backend, server='': Path(%r); sys.exit(warm.run_in_server('mmpose1', sys.argv[1], sys.argv[2:]))"
              % (str(SCRIPTS), str(path)))
    done = subprocess.run([PYTHON, "-c", caller, str(script), "4"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 4 and done.stdout.split()[2] == str(server.pid), done.stdout + done.stderr
    assert server.wait(timeout=60) == 0 and not path.exists()
    assert sorted(item.name for item in tmp_path.iterdir()) == ["round.py"]  # nor its lock left behind


def test_a_leaving_server_removes_its_own_socket_lock_and_log_and_nothing_of_a_server_after_it(tmp_path):
    sys.path.insert(0, str(SCRIPTS))
    from posebench import warm

    path = tmp_path / "server.sock"
    path.write_text("")
    ours = path.stat().st_ino
    newer = tmp_path / "newer"
    newer.write_text("")
    os.replace(newer, path)  # a starter made a socket for a server that replaced this one
    (tmp_path / "server.sock.log").write_text("warm process for mmpose1\n")
    warm._leave(path, ours)
    assert sorted(item.name for item in tmp_path.iterdir()) == ["server.sock", "server.sock.lock", "server.sock.log"]
    warm._leave(path, path.stat().st_ino)  # the server that listens there now, leaving
    assert list(tmp_path.iterdir()) == []


def test_the_server_key_follows_the_backend_and_the_environment_the_libraries_read(monkeypatch):
    sys.path.insert(0, str(SCRIPTS))
    from posebench import warm

    before = warm.server_key("mmpose1")
    assert warm.server_key("mmpose0") != before
    # each round number has a server of its own, apart from the steps' one
    monkeypatch.delenv("POSEBENCH_WARM_SHARED_ROUNDS", raising=False)
    rounds = {warm.server_key("mmpose1", warm.round_server(number)) for number in (1, 2, 3)}
    assert len(rounds) == 3 and before not in rounds
    monkeypatch.setenv("POSEBENCH_WARM_SHARED_ROUNDS", "1")  # the suite's tiny runs: the steps' server
    assert {warm.round_server(number) for number in (1, 2, 3)} == {""}
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert warm.server_key("mmpose1") != before
