"""Shared pieces of forktrace's live tests and benchmarks.

Every workload that forks more than a handful of processes goes through
contain() (tests/contain.c): a pids cgroup capped at <= 2000 tasks, a hard
timeout, and a sweep that kills whatever is left in the cgroup.
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
FORKTRACE = os.path.join(ROOT, "forktrace")
CONTAIN = os.path.join(BUILD, "contain")
MAX_TASKS = 2000
TESTS = []


def test(fn):
    """Register a live test (run by tests/run.py in definition order)."""
    TESTS.append(fn)
    return fn


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run_forktrace(*args, timeout=60, user=None):
    cmd = [FORKTRACE] + list(args)
    if user:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on (for --metrics)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    """/proc/<pid>/status as a dict of stripped values."""
    with open("/proc/%d/status" % pid) as f:
        return {k: v.strip() for k, v in (line.split(":", 1) for line in f if ":" in line)}


def tool(name):
    return os.path.join(BUILD, name)


def contain_cmd(cmd, max_tasks=500, timeout=30, mem=None, wait_all=False, go_file=None,
                cgroup_file=None, report=None):
    """The contain(1) command line that runs cmd under a capped pids cgroup."""
    assert 0 < max_tasks <= MAX_TASKS, "workloads never run above 2000 tasks"
    args = [CONTAIN, "-m", str(max_tasks), "-t", str(timeout)]
    if mem:
        args += ["--mem", str(mem)]
    if wait_all:
        args.append("--wait-all")
    if go_file:
        args += ["--go-file", go_file]
    if cgroup_file:
        args += ["--cgroup-file", cgroup_file]
    if report:
        args += ["--report", report]
    return args + ["--"] + list(cmd)


def contain(cmd, **kw):
    """Run cmd contained; returns (report dict, stdout text)."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as rep:
        kw["report"] = rep.name
        timeout = kw.get("timeout", 30)
        out = subprocess.run(contain_cmd(cmd, **kw), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=timeout + 30)
        text = rep.read()
        report = json.loads(text) if text.strip() else {}
        report["rc"] = out.returncode
        report["stderr"] = out.stderr
        return report, out.stdout


def sweep():
    subprocess.run([CONTAIN, "--sweep"], stdout=subprocess.DEVNULL, timeout=60)


class Tracer:
    """forktrace -j running in the background; events are parsed on stop().

    Output goes to a file rather than a pipe so a slow test process never
    back-pressures the tracer (and so the tracer's own cost stays its own).
    """

    def __init__(self, *args, json_out=True):
        self.args = list(args)
        self.json = json_out
        self.out = tempfile.NamedTemporaryFile("w+", suffix=".jl", delete=False)
        self.err = tempfile.NamedTemporaryFile("w+", suffix=".err", delete=False)
        cmd = [FORKTRACE] + (["-j"] if json_out else []) + self.args
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err)
        self.rc = None
        self._wait_started()

    def _wait_started(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("forktrace exited at start: " + self.stderr())
            with open(self.out.name) as f:
                first = f.readline()
            if first.endswith("\n"):
                return
            time.sleep(0.02)
        self.proc.kill()
        raise RuntimeError("forktrace did not start within %ds" % timeout)

    def stderr(self):
        with open(self.err.name) as f:
            return f.read()

    def stop(self, sig=signal.SIGINT, settle=0.3, timeout=60):
        time.sleep(settle)  # let the last records reach the ring buffer reader
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.rc = self.proc.wait(timeout=timeout)
        return self.events()

    def text(self):
        with open(self.out.name) as f:
            return f.read()

    def events(self):
        if not self.json:
            return []
        evs = []
        with open(self.out.name) as f:
            for line in f:
                evs.append(json.loads(line))
        return evs

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.out, self.err):
            f.close()
            os.unlink(f.name)


def by_event(events, name, **match):
    return [e for e in events if e.get("event") == name
            and all(e.get(k) == v for k, v in match.items())]


def summary(events):
    s = by_event(events, "summary")
    return s[-1] if s else None


def subtree_pids(events, root):
    """pids forked (transitively) from root, per the fork events."""
    kids = {}
    for e in by_event(events, "fork"):
        kids.setdefault(e["ppid"], []).append(e["pid"])
    seen, todo = set(), [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return seen


def storm_result(out):
    """(performed, failed, seconds) from tests/storm.c's output line."""
    fields = dict(kv.split("=") for kv in out.split())
    return int(fields["performed"]), int(fields["failed"]), float(fields["seconds"])
