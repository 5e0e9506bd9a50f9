#!/usr/bin/env python3
"""Real workloads for the false-alarm table, under `forktrace --kill`.

tests/workloads/ holds small programs written to look like builds, pools and
test runners; these are the real things: Debian's own sources built the way
a user builds them, a GNU test suite that runs sed thousands of times (many
on purpose to fail), CPython's multiprocessing and concurrent.futures suites.
Each runs contained (pids cap, hard timeout, sweep) under a `--kill` tracer,
and must exit as it does untraced, with no alert of any severity (warnings
included) rooted in its tree or above it, and no signal from forktrace.

    sudo make realworld                  # installs, builds, fetches, runs
    python3 tests/realworld.py [-k SUBSTRING] [--list] [--findings FILE]

Sources come from `apt-get source` through scripts/fetch-sources.sh (a
private apt configuration; cached in build/sources).  Each run's full event
log is kept in build/realworld/NAME.events.jl; every alert, finding and
signal near a workload is written, one JSON line each, to the findings file
(build/realworld/findings.jl).  `make bench` runs the same workloads once
for the `realworld` section of docs/performance.md.  Ends with
"N passed, N failed, N skipped".
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (BUILD, ROOT, Tracer, by_event, contain, hold_live_lock, summary,  # noqa: E402
                 sweep)
from test_containment import signalled_pids  # noqa: E402
from test_detection import WL, above, tree_of  # noqa: E402

# the source cache is one for every build flavour (build-san/ included)
SOURCES = os.path.join(ROOT, "build", "sources")
SCRATCH = os.path.join(BUILD, "realworld")
FETCH = os.path.join(ROOT, "scripts", "fetch-sources.sh")
PY_TESTS = "/usr/lib/python3.11/test"
# builds and test suites run as a user does, not as root: as root some of
# sed's and gnulib's tests skip themselves (permissions), and a build has no
# business being root.  65534 is the uid the other live tests use.
NOBODY = 65534
# contain(1) refuses more than 600 s; each workload here measured well under
# it (the sed suite ~1 min, the CPython suites ~3 min, 2 CPUs)
TIMEOUT = 600
CAP = 2000  # lib.MAX_TASKS; CPython's suites peak near 140, sed's build near 30


class Workload:
    """One real workload: a shell command line run in DIR (a scratch copy
    of a Debian source tree, or an empty scratch directory).

    source: the Debian source package copied into the scratch directory
    (fresh for each run); reuse: run in the scratch tree another workload
    left (sed's check after sed's build), rebuilt by `prepare` untraced if
    it is missing; needs: paths that must exist, else the workload is
    skipped (said so, never silently passed)."""

    def __init__(self, name, cmd, source=None, reuse=None, prepare=None, needs=(),
                 user=NOBODY, cap=CAP, timeout=TIMEOUT, expect_exit=0, what=""):
        self.name, self.cmd, self.source, self.reuse = name, cmd, source, reuse
        self.prepare, self.needs, self.user = prepare, list(needs), user
        self.cap, self.timeout, self.expect_exit, self.what = cap, timeout, expect_exit, what

    def dir(self):
        return os.path.join(SCRATCH, self.reuse or self.source or self.name)

    def missing(self):
        """Why this workload cannot run here, or None."""
        for path in self.needs:
            if not os.path.exists(path):
                return "%s does not exist" % os.path.relpath(path, ROOT)
        return None


CPY_SUITES = ["test_concurrent_futures", "test_multiprocessing_forkserver",
              "test_multiprocessing_fork", "test_multiprocessing_spawn"]

WORKLOADS = [
    Workload("sed_build", "./configure && make -j4", source="sed",
             what="GNU sed 4.9 (Debian's source): `./configure && make -j4`"),
    # compile-errors.sh and friends run sed hundreds of times, failing on
    # purpose; gnulib's tests fork and exec their own helpers
    Workload("sed_check", "make check -j4", reuse="sed",
             prepare="test -x sed/sed || { ./configure >/dev/null && make -j4 >/dev/null; }",
             what="sed's `make check -j4` (its testsuite and gnulib's)"),
    # gzip's Debian patch touches configure.ac, so make re-runs aclocal,
    # automake and autoconf (m4 and perl) before compiling, as it would for
    # anyone building the Debian tree by hand
    Workload("gzip_build", "./configure && make -j4", source="gzip",
             what="gzip 1.12 (Debian's source): `./configure && make -j4`, autotools re-run"),
    # regrtest runs each suite in a worker process; the suites use fork,
    # forkserver and spawn pools, managers, and executors that they start
    # and break on purpose.  --timeout: a hung test fails inside the limit.
    Workload("cpython_mp_suites",
             "/usr/bin/python3 -m test -j4 --timeout %d %s" % (TIMEOUT - 60,
                                                               " ".join(CPY_SUITES)),
             needs=[os.path.join(PY_TESTS, s + ".py") for s in CPY_SUITES],
             what="CPython 3.11's multiprocessing and concurrent.futures suites "
                  "(libpython3.11-testsuite), regrtest -j4"),
    # written by another engineer; until then these are skipped, by name
    Workload("node_cluster", "node %s/node_cluster.js" % WL,
             needs=[os.path.join(WL, "node_cluster.js"), "/usr/bin/node"], cap=500,
             timeout=120, what="a Node.js cluster that forks its workers"),
    Workload("perl_forker", "perl %s/perl_forker.pl" % WL,
             needs=[os.path.join(WL, "perl_forker.pl"), "/usr/bin/perl"], cap=500,
             timeout=120, what="a Perl program that forks legitimately"),
]


def fetch_sources(workloads):
    """Debian sources the chosen workloads build (cached: no network when
    they are unpacked already)."""
    pkgs = sorted({w.source for w in workloads if w.source} |
                  {w.reuse for w in workloads if w.reuse})
    if pkgs:
        subprocess.run([FETCH] + pkgs, check=True, stdout=sys.stdout, stderr=sys.stderr)


def own(path, uid):
    for d, dirs, files in os.walk(path):
        os.lchown(d, uid, uid)
        for n in dirs + files:
            os.lchown(os.path.join(d, n), uid, uid)


def shell_argv(w, cmd, home):
    """The command as a user runs it: a shell in the workload's directory,
    as w.user, with a plain environment.  make's variables are dropped
    (`make realworld` exports MAKEFLAGS with a jobserver the inner
    `make -j4` cannot reach), and so is everything else of the harness."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": home,
           "TMPDIR": os.path.join(home, "tmp"), "LANG": "C.UTF-8", "SHELL": "/bin/sh",
           "USER": "nobody" if w.user == NOBODY else str(w.user), "TERM": "dumb"}
    argv = ["env", "-i"] + ["%s=%s" % kv for kv in sorted(env.items())]
    argv += ["/bin/sh", "-c", "cd '%s' && %s" % (w.dir(), cmd)]
    if w.user:
        argv = ["setpriv", "--reuid=%d" % w.user, "--regid=%d" % w.user,
                "--clear-groups"] + argv
    return argv


def setup(w):
    """A scratch directory for w, owned by its user: a fresh copy of its
    source, or the tree another workload built (rebuilt if missing)."""
    d = w.dir()
    home = os.path.join(SCRATCH, ".home-" + w.name)
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(os.path.join(home, "tmp"))
    own(home, w.user)
    if w.source:
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(os.path.join(SOURCES, w.source), d, symlinks=True)
    elif not w.reuse:
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    own(d, w.user)
    if w.reuse and w.prepare:
        if not os.path.exists(os.path.join(d, "Makefile")):
            shutil.rmtree(d, ignore_errors=True)
            shutil.copytree(os.path.join(SOURCES, w.reuse), d, symlinks=True)
            own(d, w.user)
        # untraced: the tree the traced part needs (make is a no-op when
        # the build before it is already there)
        rep, _ = contain(shell_argv(w, w.prepare, home), max_tasks=w.cap, timeout=w.timeout)
        if rep.get("exit_code") != 0:
            raise RuntimeError("%s: preparing %s failed: %r" % (w.name, d, rep))
    return home


def near_events(events, rep):
    """What matters for a false alarm: every alert (any severity), alert end,
    finding, signal and action whose root or target is in the workload's
    tree or above it (contain, this runner, its ancestors)."""
    tree = tree_of(events, rep["pid"])
    near = tree | above(rep)
    alerts = [e for e in events if e["event"] in ("alert", "alert_end") and e["root"] in near]
    findings = [e for e in by_event(events, "finding") if e["root"] in near]
    signals = [e for e in by_event(events, "signal") if signalled_pids(e) & near]
    actions = [e for e in events if e["event"] in ("action", "action_state", "undecided")
               and e.get("root") in near]
    elsewhere = [e for e in events if e["event"] in ("signal", "action")
                 and e not in signals and e not in actions]
    return tree, alerts, findings, signals, actions, elsewhere


def run_one(w, keep_dir=SCRATCH):
    """Run w once under `forktrace --kill -j`; a result dict."""
    home = setup(w)
    argv = shell_argv(w, w.cmd, home)
    # the recording lets a false alarm be replayed and studied offline
    t = Tracer("--kill", "-w", os.path.join(keep_dir, w.name + ".ftr"))
    try:
        began = time.monotonic()
        rep, out = contain(argv, max_tasks=w.cap, timeout=w.timeout)
        secs = time.monotonic() - began
        events = t.stop()
        stderr = t.stderr()
        shutil.copyfile(t.out.name, os.path.join(keep_dir, w.name + ".events.jl"))
    finally:
        t.cleanup()
    if "pid" not in rep:
        raise RuntimeError("contain failed: %r" % rep)
    forks = [e for e in by_event(events, "fork") if e["pid"] == rep["pid"]]
    rep["contain_pid"] = forks[0]["ppid"] if forks else 0
    tree, alerts, findings, signals, actions, elsewhere = near_events(events, rep)
    s = summary(events) or {}
    with open(os.path.join(keep_dir, w.name + ".out"), "w") as f:
        f.write(out)
        f.write(rep.get("stderr", ""))
    return {"name": w.name, "rep": rep, "secs": secs, "forks": len(tree) - 1,
            "alerts": alerts, "findings": findings, "signals": signals, "actions": actions,
            "elsewhere": elsewhere, "lost": s.get("lost"), "tracer_rc": t.rc,
            "tracer_err": stderr, "tail": (out + rep.get("stderr", ""))[-1500:]}


def alert_text(a, width=None):
    """An alert in one line: pattern, severity, root and launcher (their
    command lines, cut to width for the doc's table), evidence."""
    def cmd(text):
        text = text.replace(ROOT + "/", "").replace("\n", " ")
        return text if not width or len(text) <= width else text[:width] + "..."
    return "%s (%s) root %d `%s`%s: %s" % (
        a["pattern"], a["severity"], a["root"], cmd(a.get("cmdline") or a["root_comm"]),
        " launched by %d `%s`" % (a["launcher"], cmd(a.get("launcher_cmdline") or
                                                     a.get("launcher_comm")))
        if a.get("launcher") else "", a["evidence"])


def first_alerts(r):
    """One line per alert raised (its updates and its end left out)."""
    return [a for a in r["alerts"] if a["event"] == "alert" and not a.get("update")]


def problems(w, r):
    """Why this run fails, one string each (empty: it passed)."""
    rep, bad = r["rep"], []
    if rep.get("timed_out"):
        bad.append("timed out after %d s" % w.timeout)
    if rep.get("exit_code") != w.expect_exit or rep.get("signal"):
        bad.append("exit %s signal %s, want exit %d" % (rep.get("exit_code"),
                                                        rep.get("signal"), w.expect_exit))
    bad += ["alert: " + alert_text(a) for a in first_alerts(r)]
    if r["alerts"] and not first_alerts(r):
        bad.append("%d alert lines (updates or ends) rooted here" % len(r["alerts"]))
    if r["signals"] or r["actions"]:
        bad.append("forktrace acted: %d signals, %d actions, first %s" % (
            len(r["signals"]), len(r["actions"]),
            json.dumps((r["actions"] or r["signals"])[0])))
    if r["tracer_rc"] != 0:
        bad.append("forktrace exited %s: %s" % (r["tracer_rc"], r["tracer_err"][-300:]))
    return bad


def write_findings(f, w, r):
    """The lines that decide the verdict, as forktrace wrote them."""
    for e in r["alerts"] + r["findings"] + r["signals"] + r["actions"]:
        f.write(json.dumps(dict(e, workload=w.name), sort_keys=True) + "\n")
    f.flush()


def run_workloads(workloads, findings_path=None, verbose=True):
    """Each workload once; (workload, result, problems) per workload, None
    for a skipped one's result.  The caller holds the live-run lock."""
    os.makedirs(SCRATCH, exist_ok=True)
    fetch_sources([w for w in workloads if not w.missing()])
    findings = open(findings_path or os.path.join(SCRATCH, "findings.jl"), "w")
    results = []
    with findings:
        for w in workloads:
            why = w.missing()
            if why:
                print("skip %s: %s" % (w.name, why), flush=True)
                results.append((w, None, []))
                continue
            try:
                r = run_one(w)
                bad = problems(w, r)
            except Exception as e:  # noqa: BLE001 - a harness error is a failed workload
                r, bad = None, ["harness: %s" % e]
            if r:
                write_findings(findings, w, r)
            results.append((w, r, bad))
            if verbose:
                print_result(w, r, bad)
    return results


def print_result(w, r, bad):
    if r is None:
        print("FAIL %s: %s" % (w.name, "; ".join(bad)), flush=True)
        return
    print("%s %s (%.1fs): exit %s, %d processes forked, peak %d tasks, %d alerts, "
          "%d signals, %d findings (info), %s records lost" % (
              "FAIL" if bad else "ok  ", w.name, r["secs"], r["rep"].get("exit_code"),
              r["forks"], r["rep"].get("peak", 0), len(first_alerts(r)),
              len(r["signals"]), len(r["findings"]), r["lost"]))
    for p in bad:
        print("       " + p)
    if r["elsewhere"]:
        print("       (forktrace also acted outside this workload: %d lines, first %s)" %
              (len(r["elsewhere"]), json.dumps(r["elsewhere"][0])))
    if r["rep"].get("exit_code") != w.expect_exit:
        print("       output's end:\n" + "\n".join("         " + x for x in
                                                     r["tail"].splitlines()[-15:]))
    sys.stdout.flush()


def report(results):
    """docs/performance.md's `realworld` section (make bench)."""
    lines = ["## False alarms on real workloads", "",
             "tests/realworld.py: real builds and test suites, each run once contained "
             "(pids cap %d, %d s) under `forktrace --kill -j`, as uid %d from `sh -c`.  "
             "Alerts = alerts of any severity (warnings included) rooted in the "
             "workload's tree or above it; signals = forktrace's signals that hit it; "
             "processes = its tree per the fork events; findings "
             "(`fork_while_threaded`, information) are counted, not failed.  "
             "Sources: Debian bookworm's, by `apt-get source` (scripts/fetch-sources.sh)." %
             (CAP, TIMEOUT, NOBODY), "",
             "| workload | what | exit | processes | peak tasks | seconds | alerts | signals "
             "| findings |", "|---|---|---:|---:|---:|---:|---|---:|---:|"]
    notes = []
    for w, r, bad in results:
        if r is None and not bad:
            lines.append("| %s | %s | skipped (%s) | | | | | | |" % (w.name, w.what,
                                                                    w.missing()))
            continue
        if r is None:
            lines.append("| %s | %s | error | | | | | | |" % (w.name, w.what))
            notes.append("- %s: %s" % (w.name, "; ".join(bad)))
            continue
        first = first_alerts(r)
        pats = {}
        for a in first:
            pats[a["pattern"]] = pats.get(a["pattern"], 0) + 1
        lines.append("| %s | %s | %s | %d | %d | %.0f | %s | %d | %d |" % (
            w.name, w.what, r["rep"].get("exit_code"), r["forks"], r["rep"].get("peak", 0),
            r["secs"], ", ".join("%s x%d" % kv for kv in sorted(pats.items())) or "0",
            len(r["signals"]), len(r["findings"])))
        for a in first:
            notes.append("- %s: %s" % (w.name, alert_text(a, 100).replace("|", "\\|")))
    if notes:
        lines += ["", "Alerts and errors, as forktrace worded them:", ""] + notes
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="", help="run workloads whose name contains this")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--findings", help="where to write the alert/finding/signal lines "
                    "(build/realworld/findings.jl)")
    opts = ap.parse_args()
    chosen = [w for w in WORKLOADS if opts.k in w.name]
    if opts.list:
        for w in chosen:
            print("%-18s %s%s" % (w.name, w.what, " (skipped: %s)" % w.missing()
                                  if w.missing() else ""))
        return 0
    if os.geteuid() != 0:
        print("real-world runs need root: sudo make realworld", file=sys.stderr)
        return 1
    lock = hold_live_lock()  # noqa: F841 - held until exit
    sweep()
    try:
        results = run_workloads(chosen, opts.findings)
    finally:
        sweep()
    passed = sum(1 for _, r, bad in results if r and not bad)
    failed = sum(1 for _, r, bad in results if bad)
    skipped = sum(1 for _, r, bad in results if r is None and not bad)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
