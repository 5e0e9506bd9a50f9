"""Shared pieces of forktrace's live tests and benchmarks.

Every workload that forks more than a handful of processes goes through
contain() (tests/contain.c): a pids cgroup capped at <= 2000 tasks, a hard
timeout, and a sweep that kills whatever is left in the cgroup.
"""
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# make exports these (make test SANITIZE=... runs build-san/'s binaries)
BUILD = os.environ.get("FORKTRACE_BUILD", os.path.join(ROOT, "build"))
FORKTRACE = os.environ.get("FORKTRACE_BIN", os.path.join(ROOT, "forktrace"))
# the benchmark build: the same binary with --noop (bpf/bench.bpf.h)
FORKTRACE_BENCH = os.path.join(BUILD, "forktrace-bench")
# the sanitizers built in (make test SANITIZE=...): what ASan cannot do is not tested
SANITIZED = bool(os.environ.get("FORKTRACE_SANITIZE"))
CONTAIN = os.path.join(BUILD, "contain")
MAX_TASKS = 2000
TESTS = []


def test(fn):
    """Register a live test (run by tests/run.py in definition order)."""
    TESTS.append(fn)
    return fn


class Fail(Exception):
    pass


class Skip(Exception):
    """Raised by a test that cannot measure what it is about here: reported
    as skipped, never as passed."""


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


def proc_state(pid):
    """The state letter of /proc/<pid>/stat, or None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def wait_until(pred, timeout, step=0.05):
    """pred()'s first true value, polled until timeout seconds have
    passed; then its last value (false)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def wait_file(path, timeout):
    """True once path exists, False after timeout seconds."""
    return wait_until(lambda: os.path.exists(path), timeout)


def wait_for(pred, timeout, what, step=0.05):
    """wait_until, failing the test (naming what was awaited) when pred()
    stays false: events, files and process states are awaited, never
    slept for.  what may be a function: the failure then says what it
    returns at the deadline, not at the call."""
    got = wait_until(pred, timeout, step)
    if not got:
        raise Fail("waited %.1fs for %s" % (timeout, what() if callable(what) else what))
    return got


def hold(seconds, why):
    """Let seconds pass, for a span of time that is itself the thing under
    test: quiet held to show that nothing happens, a measurement's window,
    a workload's pace.  Never to wait for something to have happened: that
    is an event, awaited with wait_for or wait_until.  why names the span."""
    assert why, "hold() needs the reason for the span"
    time.sleep(seconds)


def children(pid):
    """The pids of pid's children (/proc/<pid>/task/<pid>/children), [] when gone."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def descendants(pid):
    """Every pid below pid, children first."""
    out, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        out += kids
        todo += kids
    return out


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


# A --kill tracer acts host-wide: two live runs at once (two checkouts, a
# bench beside a test run) would signal each other's workloads and count
# each other's signals.  Every run that loads the programs holds this lock.
LIVE_LOCK = "/run/lock/forktrace-live.lock"


def hold_live_lock():
    """Block until no other live run on this host holds the lock; the
    returned file keeps it until the process exits."""
    import fcntl
    os.makedirs(os.path.dirname(LIVE_LOCK), exist_ok=True)
    f = open(LIVE_LOCK, "a")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("waiting for another live run on this host (%s)" % LIVE_LOCK, flush=True)
        fcntl.flock(f, fcntl.LOCK_EX)
    return f


class Tracer:
    """forktrace -j running in the background; events are parsed on stop().

    Output goes to a file rather than a pipe so a slow test process never
    back-pressures the tracer (and so the tracer's own cost stays its own).
    """

    def __init__(self, *args, json_out=True, binary=FORKTRACE):
        self.args = list(args)
        self.json = json_out
        self.out = tempfile.NamedTemporaryFile("w+", suffix=".jl", delete=False)
        self.err = tempfile.NamedTemporaryFile("w+", suffix=".err", delete=False)
        cmd = [binary] + (["-j"] if json_out else []) + self.args
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err)
        self.rc = None
        self._wait_started()

    def _wait_started(self, timeout=20):
        """Until the start line (written once every program is attached)."""
        def started():
            if self.proc.poll() is not None:
                raise RuntimeError("forktrace exited at start: " + self.stderr())
            with open(self.out.name) as f:
                return f.readline().endswith("\n")
        if not wait_until(started, timeout, step=0.02):
            self.proc.kill()
            raise RuntimeError("forktrace did not start within %ds" % timeout)

    def stderr(self):
        with open(self.err.name) as f:
            return f.read()

    def stop(self, sig=signal.SIGINT, timeout=60):
        """No grace period: every fork, exec and exit that happened before
        this call is in the ring already (the hooks write synchronously),
        and at SIGINT forktrace drains the ring, re-syncs after any loss and
        runs its policy once more before it exits.  A reap's record comes
        after an RCU grace period, and what that last sweep signals may
        still be exiting: a test asserting on either waits for it first."""
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

    def events_so_far(self):
        """The events of a tracer still running: whole lines only (the last
        may be half written)."""
        if not self.json:
            return []
        with open(self.out.name) as f:
            return [json.loads(line) for line in f if line.endswith("}\n")]

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.out, self.err):
            f.close()
            os.unlink(f.name)


def bpf_maps_of(pid):
    """The BPF maps process pid holds open, as bpftool shows them (name,
    type, max_entries, bytes_memlock...): its fds' map ids (fdinfo) joined
    with `bpftool map show` (Debian's bpftool cannot list a map's holders)."""
    ids = set()
    fds = "/proc/%d/fd" % pid
    for fd in os.listdir(fds):
        try:
            if os.readlink(os.path.join(fds, fd)) != "anon_inode:bpf-map":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                ids |= {int(line.split()[1]) for line in f if line.startswith("map_id:")}
        except OSError:
            continue  # closed meanwhile
    r = subprocess.run(["bpftool", "-j", "map", "show"], stdout=subprocess.PIPE, text=True,
                       check=True)
    return [m for m in json.loads(r.stdout or "[]") if m["id"] in ids]


def by_event(events, name, **match):
    return [e for e in events if e.get("event") == name
            and all(e.get(k) == v for k, v in match.items())]


def runaway_alerts(events):
    """Alerts that are verdicts on a tree's growth: not the forks_refused
    warning, which a capped bomb draws whether or not it is flagged."""
    return [e for e in by_event(events, "alert") if e.get("pattern") != "forks_refused"]


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


# ---- pictures: a real browser renders pages, the test reads its pixels ----

ARTIFACTS = os.path.join(BUILD, "artifacts")  # screenshots the README shows


def chromium_png(html_path, png_path, width=1100, height=1400):
    """Render a local file with Debian's headless Chromium; no network."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               "--user-data-dir=" + profile, "--window-size=%d,%d" % (width, height),
               "--screenshot=" + png_path, "file://" + os.path.abspath(html_path)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=120)
    check(r.returncode == 0 and os.path.exists(png_path),
          "chromium could not render %s: %s" % (html_path, r.stderr[-500:]))
    return png_path


def png_pixels(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB/RGBA PNG."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "%s is no PNG" % path)
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            check(depth == 8 and ctype in (2, 6) and not interlace,
                  "unexpected PNG layout depth=%d type=%d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def count_color(rows, rgb, tolerance=24):
    """Pixels within tolerance of rgb (per channel)."""
    return sum(1 for row in rows for px in row
               if all(abs(px[k] - rgb[k]) <= tolerance for k in range(3)))


ANSI_COLORS = ["#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd",
               "#e5e5e5"]


def ansi_to_html(text, title):
    """tmux capture-pane -e output as a page: a picture of the terminal."""
    import html
    import re
    out, fg, bg, bold, rev = [], None, None, False, False
    for part in re.split(r"(\x1b\[[0-9;]*m)", text):
        if part.startswith("\x1b["):
            codes = [int(c) if c else 0 for c in part[2:-1].split(";")]
            i = 0
            while i < len(codes):
                c = codes[i]
                if c == 0:
                    fg, bg, bold, rev = None, None, False, False
                elif c == 1:
                    bold = True
                elif c == 22:
                    bold = False
                elif c == 7:
                    rev = True
                elif c == 27:
                    rev = False
                elif 30 <= c <= 37:
                    fg = ANSI_COLORS[c - 30]
                elif c == 39:
                    fg = None
                elif 40 <= c <= 47:
                    bg = ANSI_COLORS[c - 40]
                elif c == 49:
                    bg = None
                elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                    i += 2
                i += 1
            continue
        if not part:
            continue
        f, b = fg or "#d4d4d4", bg
        if rev:
            f, b = b or "#1e1e1e", f
        # a background only where the terminal has one: a painted box would
        # cover the underscores of the line above
        out.append('<span style="color:%s;%s%s">%s</span>'
                   % (f, "background:%s;" % b if b else "",
                      "font-weight:bold" if bold else "", html.escape(part)))
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title><style>"
            "body{margin:0;background:#1e1e1e}pre{margin:8px;font:14px/1.4 'DejaVu Sans Mono',"
            "monospace;color:#d4d4d4}</style></head><body><pre>%s</pre></body></html>"
            % (html.escape(title), "".join(out)))


def has_color_codes(ansi):
    """Whether captured terminal text sets a foreground or background colour."""
    import re
    for seq in re.findall(r"\x1b\[([0-9;]*)m", ansi):
        codes = [int(c) for c in seq.split(";") if c]
        if any(30 <= c <= 37 or 40 <= c <= 47 or c in (38, 48) or 90 <= c <= 107
               for c in codes):
            return True
    return False


@contextlib.contextmanager
def cpu_limited_cgroup(quota_us, period_us=100000):
    """A fresh CPU cgroup held to quota_us of CPU time each period, in
    cgroup v1's cpu hierarchy; yields its cgroup.procs path, for a process
    inside contain to join.  v1 only: on cgroup2 a process is in one cgroup,
    and joining this one would take it out of contain's pids cgroup, its
    cap; there, and without a cpu hierarchy, it skips."""
    v1 = "/sys/fs/cgroup/cpu"
    path = None
    if not os.path.exists(os.path.join(v1, "cpu.cfs_quota_us")):
        raise Skip("no cgroup v1 cpu hierarchy beside contain's pids cgroup")
    try:
        path = tempfile.mkdtemp(prefix="forktrace-test-", dir=v1)
        with open(os.path.join(path, "cpu.cfs_period_us"), "w") as f:
            f.write(str(period_us))
        with open(os.path.join(path, "cpu.cfs_quota_us"), "w") as f:
            f.write(str(quota_us))
    except OSError as e:
        if path:
            os.rmdir(path)
        raise Skip("cannot make a CPU-limited cgroup: %s" % e)
    try:
        yield os.path.join(path, "cgroup.procs")
    finally:
        os.rmdir(path)  # contain has killed every member by now


# ---- a real FUSE filesystem (tests/fusefs.c) ----

def fuse_mounted(mnt):
    """mnt's line in /proc/self/mountinfo, if a fusefs is mounted there."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == mnt and " - fuse.ft-fusefs " in line:
                return line
    return None


class FuseFile(str):
    """The path of fusefs's one file; .mountpoint, .daemon (its Popen) and
    .hang(), which leaves every request from then on unanswered."""

    def hang(self, timeout=5):
        self.daemon.send_signal(signal.SIGUSR1)
        check(wait_until(lambda: "hanging" in open(self.daemon_out).read(), timeout),
              "fusefs did not switch to hanging")


@contextlib.contextmanager
def fuse_mount(src, uid=None, hang=False):
    """Mount tests/fusefs.c, one executable file with src's content, on a
    new directory, and yield the file's path (a FuseFile).  With uid: the
    directory is that user's and the daemon runs as that user, so the mount
    is a user mount made by fusermount3 without allow_other (any other
    user, root included, gets EACCES on its files).  hang: every request
    after the mount is left unanswered.  On exit the daemon is killed
    (which aborts the connection: a request stuck in it fails), the mount
    detached and the directory removed."""
    # a user mount needs /dev/fuse open to all, as udev's rule makes it on
    # every Debian host (50-udev-default.rules); a host without udev keeps
    # the kernel's 0600
    if uid is not None and os.stat("/dev/fuse").st_mode & 0o666 != 0o666:
        os.chmod("/dev/fuse", 0o666)
    mnt = tempfile.mkdtemp(prefix="ft-fuse-")
    out = os.path.join(tempfile.mkdtemp(prefix="ft-fuse-log-"), "out")
    cmd = [tool("fusefs"), mnt, "--file", src] + (["--hang"] if hang else [])
    if uid is not None:
        os.chown(mnt, uid, uid)
        cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"] + cmd
    with open(out, "w") as o:
        daemon = subprocess.Popen(cmd, stdout=o, stderr=subprocess.STDOUT)
    try:
        up = wait_until(lambda: fuse_mounted(mnt) or daemon.poll() is not None, 10)
        check(up and fuse_mounted(mnt),
              "fusefs did not mount on %s: %s" % (mnt, open(out).read()[-500:]))
        f = FuseFile(os.path.join(mnt, os.path.basename(src)))
        f.mountpoint, f.daemon, f.daemon_out = mnt, daemon, out
        yield f
    finally:
        if daemon.poll() is None:
            daemon.kill()
        daemon.wait(timeout=10)
        if fuse_mounted(mnt):
            subprocess.run(["umount", "-l", mnt], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        wait_until(lambda: not fuse_mounted(mnt), 10)
        os.rmdir(mnt)
        shutil.rmtree(os.path.dirname(out), ignore_errors=True)


# ---- a synthetic /proc (forktrace --proc DIR): memory through a re-sync ----

def synthetic_proc(root, n):
    """n fake processes under root, as forktrace's snapshot reads them
    (stat, status, cgroup, exe and cwd links): one tree, most parents at
    lower pids, every 7th at a higher one (a wrapped pid: its parent must
    still be emitted first)."""
    os.makedirs(root, exist_ok=True)
    first = 100
    for i in range(n):
        pid = first + i
        if i == 0:
            ppid = 1
        elif i % 7 == 0 and i + 1 < n:
            ppid = pid + 1
        else:
            ppid = first + (i - 1) // 2
        d = os.path.join(root, str(pid))
        os.mkdir(d)
        with open(os.path.join(d, "stat"), "w") as f:
            f.write("%d (sleep) S %d %d %d 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 %d 3133440 "
                    "412 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n" %
                    (pid, ppid, pid, pid, 1000 + i))
        with open(os.path.join(d, "status"), "w") as f:
            f.write("Name:\tsleep\nUid:\t65534\t65534\t65534\t65534\n")
        with open(os.path.join(d, "cgroup"), "w") as f:
            f.write("0::/\n")
        os.symlink("/usr/bin/sleep", os.path.join(d, "exe"))
        os.symlink("/", os.path.join(d, "cwd"))


def peak_rss_through_resync(n, extra=(), storm=5000):
    """forktrace --proc on a synthetic /proc of n processes (on a tmpfs),
    a 16 KiB ring and a contained storm so that losses make it re-sync.
    Once attached (the start line; loading the BPF object and the kernel's
    BTF peaks higher than anything after) its high-water mark is reset
    (clear_refs 5), so it then covers the start's snapshot and the
    re-syncs.  Returns (that peak, VmHWM KiB; the whole run's peak,
    ru_maxrss KiB from wait4; the summary)."""
    tmp = tempfile.mkdtemp(prefix="ft-synproc-", dir="/dev/shm")
    out = os.path.join(tmp, "out.jl")
    try:
        synthetic_proc(os.path.join(tmp, "proc"), n)
        with open(out, "w") as f:
            p = subprocess.Popen([FORKTRACE, "-j", "--proc", os.path.join(tmp, "proc"),
                                  "--ring-kb", "16"] + list(extra), stdout=f,
                                 stderr=subprocess.DEVNULL)
        try:
            check(wait_until(lambda: os.path.getsize(out) > 0 or p.poll() is not None, 60)
                  and p.poll() is None, "forktrace --proc did not start")
            with open("/proc/%d/clear_refs" % p.pid, "w") as f:
                f.write("5")
            contain([tool("storm"), "-v", str(storm)], max_tasks=20, timeout=120)
            check(wait_until(lambda: '"event":"resync"' in open(out).read(), 30),
                  "no re-sync after the storm's losses")
            hwm = int(proc_status(p.pid)["VmHWM"].split()[0])
            p.send_signal(signal.SIGINT)
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if p.returncode is None:
                p.kill()
                p.wait()
        with open(out) as f:
            events = [json.loads(line) for line in f]
        s = summary(events)
        check(p.returncode == 0 and s, "forktrace --proc exited %r" % p.returncode)
        return hwm, usage.ru_maxrss, s
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
