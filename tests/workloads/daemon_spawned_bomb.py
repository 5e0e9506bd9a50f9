"""Bomb: jobs that ask a local job-runner daemon to start more jobs.

A tiny job runner daemon, like `at`, `systemd-run` or a container runtime:
it listens on a unix socket in a temp directory and runs whatever command
line it is sent as its own child (subprocess.Popen, fork+exec), never
waiting for a job (it reaps finished ones in the background).  The bomb is
the job: when it runs it connects to the socket, asks the daemon to run two
more copies of itself, then sleeps forever.  Every copy is a direct child
of the daemon: there is no parent->child chain of copies, the daemon just
gets more and more children.

    python3 tests/workloads/daemon_spawned_bomb.py [MAX_COPIES [IDLE_EXIT]]

The first process is the daemon; it starts the first job itself.
MAX_COPIES (default 0 = unlimited, contain caps it) makes the daemon
refuse requests past that many jobs started.  IDLE_EXIT (seconds, default
0 = never) makes the daemon exit once no request has come for that long,
as socket-activated runners do: a run then ends when its jobs stop asking,
at whatever pace the host gave it.  The daemon removes its temp directory
on SIGTERM/SIGINT or normal exit (contain's SIGKILL leaves it).
Run it only under build/contain.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def job(sock_path):
    """The bomb: ask the runner for two more of me, then stay around."""
    me = [sys.executable, os.path.abspath(__file__), "--job", sock_path]
    for _ in range(2):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(sock_path)
                s.sendall(json.dumps({"argv": me}).encode() + b"\n")
                s.recv(64)  # "ok" / "refused" / "error"
        except OSError:
            pass
    while True:
        time.sleep(3600)


def daemon(max_copies, idle_exit):
    tmp = tempfile.mkdtemp(prefix="jobrunner.")
    sock_path = os.path.join(tmp, "runner.sock")
    jobs = []
    started = 0

    def cleanup(*_):
        shutil.rmtree(tmp, ignore_errors=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, cleanup)
    signal.signal(signal.SIGINT, cleanup)

    def run(argv):
        nonlocal started
        if max_copies and started >= max_copies:
            return b"refused\n"
        try:
            jobs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL))
        except OSError:
            return b"error\n"
        started += 1
        return b"ok\n"

    try:
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(sock_path)
        srv.listen(128)
        if idle_exit:
            srv.settimeout(idle_exit)
        # the first job: the runner starts it like any other
        run([sys.executable, os.path.abspath(__file__), "--job", sock_path])
        while True:
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                return  # idle: nobody asks any more
            with conn:
                conn.settimeout(5)
                try:
                    line = conn.makefile("rb").readline()
                    argv = json.loads(line)["argv"]
                    conn.sendall(run([str(a) for a in argv]))
                except (OSError, ValueError, KeyError, TypeError):
                    pass
            # reap finished jobs without ever blocking on one
            jobs = [j for j in jobs if j.poll() is None]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--job":
        job(sys.argv[2])
    else:
        daemon(int(sys.argv[1]) if len(sys.argv) > 1 else 0,
               float(sys.argv[2]) if len(sys.argv) > 2 else 0)


if __name__ == "__main__":
    main()
