"""A warm process per backend: it imports torch and the backend's libraries once, then forks a
fresh child for each job that needs them: a timing or scene round, and the steps before (resolve,
label, complexity, ONNX export, INT8 quantisation), each of which would otherwise spend most of its
seconds importing. Each round number has a server of its own (round 1 of every cell forks from
one, round 2 from another...): a parent can leave its mark on its children's speed (8 rounds of
ResNet-50 at batch 10 from each of four servers: 0.63, 0.62, 0.51 and 0.50 FPS, p = 9e-8;
bench/warm_parents.py), and a cell's rounds from one parent would share that mark, hidden from
their interval. A round then pays neither the interpreter's start-up nor the imports, and stays
a process of its own: its model, allocator, thread pool and oneDNN primitives are made from
nothing in the child, as in a process started for it (the server runs no torch operation, so no
thread pool exists before the fork).

A step's command (time_model.py, count_complexity.py...) connects to the server over a Unix socket
and passes its stdout and stderr (the job's log), its arguments, working folder and environment;
the child runs the step with them, and the command exits with the child's status. A command killed
while its child runs (Snakemake cancelling, the OOM killer) closes the socket, and the server kills
the child. The server runs several children at a time, as Snakemake runs several jobs (a round
takes every core, so none runs beside it). Where no server listens yet the command starts one; a
server ends after IDLE_S seconds with no child and no request. One server serves one interpreter,
one copy of the code and one environment (a change to any of them starts another). Off with
POSEBENCH_WARM=0, and where this cannot work (no fork or Unix sockets): then the command runs the
step itself, as before."""
from __future__ import annotations

import array
import fcntl
import hashlib
import importlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Dict, List, Optional

IDLE_S = 120
PRELOADED = "posebench.measure.timing"
START_TIMEOUT_S = 300
REQUEST_TIMEOUT_S = 30
# read when the libraries load, so a server's children run with the server's values of these
IMPORT_TIME_ENV = ("OMP_", "MKL_", "KMP_", "OPENBLAS_", "GOMP_", "CUDA_", "LD_", "PYTHON", "TORCH", "DNNL_", "ONEDNN_")
EXIT = struct.Struct("!i")
PACKAGE = Path(__file__).resolve().parent
_IN_CHILD = []  # non-empty in a child forked for a round
_SERVER_NAME = [""]  # in a server and its children: which of the backend's servers it is


def in_child() -> bool:
    """Whether this process is a round's child of a warm process (it runs the round itself)."""
    return bool(_IN_CHILD)


def enabled() -> bool:
    """Off when asked (POSEBENCH_WARM=0), where fork or Unix sockets are missing, and inside a
    SLURM job: a server outliving one job would run the next job's rounds outside its
    allocation (its CPUs, its accounting)."""
    return (os.environ.get("POSEBENCH_WARM", "1") != "0" and "SLURM_JOB_ID" not in os.environ
            and hasattr(os, "fork") and hasattr(socket, "AF_UNIX"))


def server_key(backend: str, server: str = "") -> str:
    """What a server was made with: the interpreter, posebench's code, the backend and the
    environment variables the libraries read when they load; and which of the backend's servers
    it is (a round number's, or "" for the steps before the rounds)."""
    digest = hashlib.sha256()
    for part in [sys.executable, backend, server] + sorted(
        "%s=%s" % item for item in os.environ.items() if item[0].startswith(IMPORT_TIME_ENV)
    ):
        digest.update(part.encode() + b"\0")
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


def socket_path(backend: str, server: str = "") -> Path:
    folder = Path(tempfile.gettempdir()) / ("posebench-%d" % os.getuid())
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / ("%s.sock" % server_key(backend, server))


def round_server(number: int) -> str:
    """The server a round forks from: one per round number; with POSEBENCH_WARM_SHARED_ROUNDS=1,
    the steps' server for every round (the test suite's tiny runs, which check what is recorded,
    not how fast, and would otherwise start a server per round number in each run)."""
    return "" if os.environ.get("POSEBENCH_WARM_SHARED_ROUNDS") == "1" else "round %d" % number


def run_in_server(backend: str, script: str, argv: List[str], server: str = "") -> Optional[int]:
    """Run `script argv` as a forked child of the backend's warm server (`server`: which one),
    with this process's stdout, stderr, folder and environment; its exit status, or None where
    no server could be had (the caller then runs it itself)."""
    if not enabled():
        return None
    path = socket_path(backend, server)
    connection = _connect(path) or _start_server(backend, path, server)
    if connection is None:
        return None
    request = json.dumps({"script": script, "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    with connection:
        sys.stdout.flush()
        sys.stderr.flush()
        connection.sendmsg([struct.pack("!I", len(request)) + request],
                           [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [1, 2]))])
        reply = _receive_exactly(connection, EXIT.size)
    if reply is None:
        print("posebench: the warm process ended before the round did", file=sys.stderr)
        return 1
    return EXIT.unpack(reply)[0]


def hand_over(backend: str, script: str, argv: List[str], server: str = "") -> None:
    """In a step's command: run the step in a child of the backend's warm server (`server`:
    which one) and exit with its status. Returns where the step runs in this process: in that
    child, or with no server."""
    if in_child():
        return
    status = run_in_server(backend, script, argv, server)
    if status is not None:
        sys.exit(status)


def how_started(job: str = "round") -> str:
    """A record's `process`: how the process that made it came to be."""
    return "forked from a warm process" if in_child() else "started for the %s" % job


def round_process() -> Dict[str, object]:
    """A round record's `process` (how_started), and the warm server it was forked from:
    `warm_server`, "round N" or "steps" for the one the steps before the rounds share, and its
    pid (both None in a process started for the round)."""
    forked = in_child()
    return {"process": how_started(), "warm_server": (_SERVER_NAME[0] or "steps") if forked else None,
            "warm_server_pid": os.getppid() if forked else None}


def _connect(path: Path) -> Optional[socket.socket]:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
    except OSError:
        connection.close()
        return None
    return connection


def _start_server(backend: str, path: Path, server: str = "") -> Optional[socket.socket]:
    """Start the backend's server (one at a time: a lock beside the socket) and connect once it
    listens; None if it did not come up."""
    with _locked(path):
        connection = _connect(path)
        if connection:
            return connection
        if path.exists():
            path.unlink()  # a server that died without cleaning up
        code = "import sys; sys.path.insert(0, %r); from posebench.warm import serve; serve(%r, %r, %r)" % (
            str(PACKAGE.parent), backend, str(path), server)
        with open(str(path) + ".log", "a") as log:
            process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       start_new_session=True, close_fds=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            connection = _connect(path)
            if connection:
                return connection
            time.sleep(0.05)
        return None


def serve(backend: str, path: str, server: str = "") -> None:
    """Import what every step imports, then fork a child per request, several at a time (two
    counting jobs side by side), until IDLE_S seconds pass with no child running and no request.
    Runs no torch operation before a fork."""
    _SERVER_NAME[0] = server
    from posebench.backends import get_backend

    # the rounds' code, imported once for every child; by name, so that it is no code input of
    # the steps that never time (resolve, label...): the rules derive a step's code from its imports
    importlib.import_module(PRELOADED)
    get_backend(backend).import_libraries()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    socket_inode = os.stat(path).st_ino
    listener.listen(16)
    print("warm process for %s: pid %d, listening on %s" % (backend, os.getpid(), path), flush=True)
    children = []  # type: List[_Child]
    try:
        while _serve_while_asked(listener, children):
            pass
        # idle: no new caller finds this server, and those already queued are still served
        _unlink_own_socket(path, socket_inode)
        socket_inode = None  # no longer listening: nothing of ours at the path
        listener.setblocking(False)
        while _accept(listener, children):
            pass
        while children:
            _serve_while_asked(None, children)
    finally:
        _leave(Path(path), socket_inode)
    # Not the interpreter's own shutdown: freeing the libraries' objects one by one took 1.2 s of
    # a core here, and a round running beside it (every core its own) stalled for as long: one
    # iteration of 0.07-0.3 s read 1.2-1.6 s in four rounds of one 15-cell run (2026-12-03).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _locked(path: Path):
    """The lock beside a server's socket, held (one starter at a time, and a server leaving
    removes its files only while it holds it). Where a leaving server removed the lock file
    between our open and our lock, the one we hold guards nothing: take the new one."""
    lock_path = str(path) + ".lock"
    while True:
        lock = open(lock_path, "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if os.stat(lock_path).st_ino == os.fstat(lock.fileno()).st_ino:
                return lock
        except FileNotFoundError:
            pass
        lock.close()


def _unlink_own_socket(path: str, inode: int) -> None:
    """Remove the socket at `path` where it is still this server's, not one a starter made for a
    server that replaced it."""
    try:
        if os.stat(path).st_ino == inode:
            os.unlink(path)
    except FileNotFoundError:
        pass


def _leave(path: Path, socket_inode: Optional[int]) -> None:
    """On the way out: this server's socket where it still listens (`socket_inode`), then, where
    no other server has taken the path since, the lock and the log beside it, so that the temporary
    folder keeps no files for servers long gone (each change of code or environment makes a new one)."""
    with _locked(path):
        if socket_inode is not None:
            _unlink_own_socket(str(path), socket_inode)
        if not path.exists():
            for leftover in (str(path) + ".log", str(path) + ".lock"):
                try:
                    os.unlink(leftover)
                except FileNotFoundError:
                    pass


class _Child:
    """A child running one request: its caller's connection and the pipe that closes when it exits."""

    def __init__(self, pid: int, connection: socket.socket, done: int):
        self.pid, self.connection, self.done, self.killed = pid, connection, done, False


def _serve_while_asked(listener: Optional[socket.socket], children: List[_Child]) -> bool:
    """Wait for a request, a child's exit or a caller gone; False once IDLE_S pass with neither."""
    waiting_on = ([listener] if listener else []) + [child.done for child in children]
    waiting_on += [child.connection for child in children if not child.killed]
    readable, _, _ = select.select(waiting_on, [], [], None if children else IDLE_S)
    if not readable:
        return False
    for child in list(children):
        if child.connection in readable and not child.killed and _caller_gone(child.connection):
            os.kill(child.pid, signal.SIGKILL)
            child.killed = True
        if child.done in readable:
            children.remove(child)
            _report_exit(child)
    if listener in readable:
        _accept(listener, children)
    return True


def _caller_gone(connection: socket.socket) -> bool:
    """A caller sends nothing after its request: a readable connection is one it closed (its
    command killed) or one that broke."""
    try:
        return not connection.recv(1)
    except OSError:
        return True


def _accept(listener: socket.socket, children: List[_Child]) -> bool:
    """Fork a child for the next caller waiting on the listener; False where none waits."""
    try:
        connection, _ = listener.accept()
    except (BlockingIOError, socket.timeout):
        return False
    connection.settimeout(REQUEST_TIMEOUT_S)  # a caller sends its request as it connects
    try:
        request, fds = _receive_request(connection)
    except OSError:
        request = None
    if request is None:
        connection.close()
        return True
    connection.settimeout(None)
    done_read, done_write = os.pipe()  # closes in the server when the child exits
    pid = os.fork()
    if pid == 0:
        os.close(done_read)
        listener.close()
        connection.close()
        for sibling in children:  # the other callers' sockets and pipes are not this child's
            sibling.connection.close()
            os.close(sibling.done)
        _run_child(request, fds)  # never returns
    os.close(done_write)
    for fd in fds:
        os.close(fd)
    children.append(_Child(pid, connection, done_read))
    return True


def _report_exit(child: _Child) -> None:
    """Reap the child and send its caller the exit status (128 + the signal for a killed one)."""
    os.close(child.done)
    _, status = os.waitpid(child.pid, 0)
    code = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    with child.connection:
        try:
            child.connection.sendall(EXIT.pack(code))
        except OSError:
            pass  # the command is gone


def _run_child(request: Dict[str, object], fds: List[int]) -> None:
    import runpy

    code = 1
    try:
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in fds:
            os.close(fd)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(str(request["cwd"]))
        os.environ.clear()
        os.environ.update(request["env"])
        _IN_CHILD.append(True)
        sys.argv = [str(request["script"])] + list(request["argv"])
        runpy.run_path(str(request["script"]), run_name="__main__")
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        if exit.code is not None and not isinstance(exit.code, int):
            print(exit.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _receive_request(connection: socket.socket):
    fds = array.array("i")
    header, ancillary, _, _ = connection.recvmsg(4, socket.CMSG_SPACE(2 * fds.itemsize))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if header and len(header) < 4:
        header += _receive_exactly(connection, 4 - len(header)) or b""
    if len(header) < 4 or len(fds) != 2:
        for fd in fds:
            os.close(fd)
        return None, []
    body = _receive_exactly(connection, struct.unpack("!I", header)[0])
    return (json.loads(body.decode()) if body is not None else None), list(fds)


def _receive_exactly(connection: socket.socket, size: int) -> Optional[bytes]:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
