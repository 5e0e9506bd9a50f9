"""Live tests of runaway detection on the workload corpus (tests/workloads).

Every workload runs under contain (pids cap, timeout, cleanup).  Bombs must
be flagged with their pattern before their tree reaches 200 tasks; benign
workloads, each run three times at the detector's defaults, must raise no
alert (fork_while_threaded findings are information, not alerts).
"""
import json
import os
import tempfile

from lib import (ROOT, Tracer, by_event, check, contain, run_forktrace, runaway_alerts, test,
                 tool)

WL = os.path.join(ROOT, "tests", "workloads")
PY = "/usr/bin/python3"

# name: (command, expected pattern, pids cap, timeout s, root): root None means
# the workload's first process; otherwise a string in the root's command line,
# the workload's first process being the launcher (a supervisor or a shell
# of the bomb's own interpreter), which must not be blamed.
BOMBS = {
    "c_bomb": ([tool("wl_bomb_c")], "fork_bomb", 400, 3, None),
    "shell_bomb": (["/bin/bash", WL + "/shell_bomb.sh"], "fork_bomb", 400, 4, None),
    "slow_bomb": ([tool("wl_slow_bomb")], "fork_bomb", 400, 6, None),
    "py_respawn": ([PY, WL + "/py_respawn.py"], "recursive_spawn", 300, 8, None),
    "nested_pool": ([PY, WL + "/py_nested_pool.py"], "nested_pool", 300, 10, None),
    "thread_bomb": ([tool("wl_thread_bomb")], "thread_explosion", 600, 3, None),
    "restart_loop": (["/bin/sh", WL + "/restart_loop.sh"], "restart_loop", 50, 2, None),
    "renamed_c_bomb": ([tool("wl_c_renamed_bomb")], "fork_bomb", 400, 3, None),
    "supervised_respawn": ([PY, WL + "/sup_respawn_supervisor.py"], "recursive_spawn", 400, 8,
                           "sup_respawn_worker.py"),
    "supervised_nested_pool": ([PY, WL + "/sup_pool_supervisor.py"], "nested_pool", 400, 8,
                               "sup_pool_worker.py"),
    "bash_launched_bomb": (["/bin/bash", WL + "/bash_launcher.sh"], "fork_bomb", 400, 6,
                           "bash_script_bomb.sh"),
    "py_shell_true_respawn": ([PY, WL + "/py_shell_respawn.py"], "recursive_spawn", 400, 10,
                              None),
    "make_shell_bomb": (["/usr/bin/make", "-f", WL + "/make_shell_bomb.mk"], "recursive_spawn",
                        400, 10, None),
    "seed_cascade": ([PY, WL + "/py_seed_cascade.py"], "fork_bomb", 1000, 40, None),
    "c_doubling_2s": ([tool("wl_c_slow_doubling")], "fork_bomb", 400, 16, None),
    # a new program every generation: copies by kin (tests/test_hiding.py
    # has the chdir bombs, whose directories need a scratch to clean)
    "copy_bomb": (["env", "FT_UNLINK_COPIES=1", "FT_RETRY=1", tool("wl_copy_bomb")],
                  "recursive_spawn", 400, 4, None),
    "varying_c_bomb": ([PY, WL + "/py_varying_c_bomb.py", "counter"], "recursive_spawn", 400,
                       10, "GEN ="),
}

BENIGN = {
    "make_j8": (["/bin/sh", WL + "/make_many.sh", "240"], 200, 120),
    "shell_loop": (["/bin/sh", WL + "/shell_loop.sh", "3000"], 50, 60),
    "xargs_p16": (["/bin/sh", WL + "/xargs_parallel.sh", "2000"], 100, 60),
    "pool_maxtasks": ([PY, WL + "/py_pool_maxtasks.py"], 50, 60),
    "prefork_server": ([PY, WL + "/py_prefork.py"], 100, 30),
    "nested_test_runner": (["make", "-s", "-j2", "-f", WL + "/nested_runner.mk"], 100, 120),
    "burst_64": ([tool("wl_burst"), "64"], 100, 30),
    "recursive_make_j64": (["/bin/sh", WL + "/recursive_make.sh", "64"], 1000, 90),
    "recursive_make_j8": (["/bin/sh", WL + "/recursive_make.sh", "8"], 1000, 90),
    # 12,800 forks and execs: seconds on a quick host, far longer where a
    # fork is slow (the timeout is a hang detector, not a pace)
    "ci_parallel_scripts": (["/bin/bash", WL + "/ci_parallel.sh"], 1000, 120),
    "build_forktrace_j8": (["/bin/sh", WL + "/build_self.sh", "8"], 1000, 180),
    "py_tests_with_pools": ([PY, WL + "/py_pool_tests_runner.py", "40"], 1000, 40),
    "prefork_grows_to_cap": ([PY, WL + "/prefork_grow.py"], 1000, 30),
    "regression_suite": ([PY, WL + "/regress_suite.py"], 1000, 40),
    "build_driver_copies": ([PY, WL + "/build_driver.py"], 1000, 60),
    "node_cluster": (["node", WL + "/node_cluster.js", "8"], 300, 30),
    "perl_fork_rounds": (["perl", WL + "/perl_forker.pl"], 200, 30),
    # 48 idle workers started 100 ms of work apart: a slow pool, busy, no leak
    "busy_pool_fill": ([PY, WL + "/py_busy_pool_fill.py", "48", "100"], 200, 60),
}


# bombs whose first process can look like a pre-fork master: the seed's
# watchdog, when its first workers all hung on the inherited lock, keeps
# them idle beside the later worker that runs away (docs/detection.md, Root
# and launcher).  Then each branch is flagged on its own, rooted below the
# watchdog, and the watchdog too once the growing branches it keeps starting
# outnumber its hung ones; otherwise the one alert is rooted at the watchdog.
BRANCH_ROOTED = {"seed_cascade"}


def tree_of(events, root):
    """pids in root's tree per the fork events, root included."""
    kids = {}
    for e in by_event(events, "fork"):
        kids.setdefault(e["ppid"], []).append(e["pid"])
    seen, todo = {root}, [root]
    while todo:
        for c in kids.get(todo.pop(), []):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return seen


def above(rep):
    """The processes above a contained workload: contain, this test runner and
    its ancestors.  Nothing here may ever be blamed or signalled."""
    pids, pid = {rep.get("contain_pid", 0)}, os.getpid()
    while pid > 1:
        pids.add(pid)
        with open("/proc/%d/stat" % pid) as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
    return pids - {0}


def run_workload(cmd, cap, timeout, tracer_args=(), wait_all=True, mem=None):
    """Run cmd contained under a tracer; contain's report (with the command's
    stdout under "stdout") and the tracer's events."""
    t = Tracer(*tracer_args)
    try:
        rep, out = contain(cmd, max_tasks=cap, timeout=timeout, wait_all=wait_all, mem=mem)
        events = t.stop()
    finally:
        t.cleanup()
    check("pid" in rep, "contain failed: %r" % rep)
    rep["stdout"] = out
    forks = [e for e in by_event(events, "fork") if e["pid"] == rep["pid"]]
    rep["contain_pid"] = forks[0]["ppid"] if forks else 0
    return rep, events


def alerts_in(events, pids):
    return [e for e in events if e["event"] in ("alert", "alert_end") and e["root"] in pids]


def check_bomb(name):
    cmd, pattern, cap, timeout, root_mark = BOMBS[name]
    rep, events = run_workload(cmd, cap, timeout)
    pids = tree_of(events, rep["pid"])
    blamed = alerts_in(events, above(rep))
    check(not blamed, "%s: alert rooted above the workload: %r" % (name, blamed[:1]))
    # a bomb that reaches its cap also has its refused forks reported: a
    # warning beside its alert, not a second verdict on the tree
    first = [e for e in alerts_in(events, pids) if e["event"] == "alert" and not e["update"]
             and e["pattern"] != "forks_refused"]
    check(first, "%s: no alert (tree of %d processes)" % (name, len(pids)))
    a = first[0]
    # branch-rooted: the first alert is below the workload's first process,
    # and every alert is in its tree (the watchdog itself once the branches
    # it keeps starting outnumber its hung ones)
    by_branch = name in BRANCH_ROOTED and first[0]["root"] != rep["pid"] and \
        all(e["root"] in pids for e in first)
    check(len(first) == 1 or root_mark or by_branch, "%s: %d alerts for one tree: %r" %
          (name, len(first), first))
    check(a["pattern"] == pattern, "%s: pattern %s, want %s (%s)" %
          (name, a["pattern"], pattern, a["evidence"]))
    if by_branch:
        check(all(e["pattern"] == pattern for e in first), "%s: %r" % (name, first))
    elif root_mark is None:
        check(a["root"] == rep["pid"], "%s: root %d, want the workload's first process %d" %
              (name, a["root"], rep["pid"]))
    else:
        # the launcher's own forks may be refused once the bomb fills the
        # cap: a warning, which never blames the launcher itself
        at_launcher = [e for e in alerts_in(events, {rep["pid"]})
                       if e["pattern"] != "forks_refused" or
                       e.get("culprit", {}).get("root") == rep["pid"]]
        check(not at_launcher, "%s: alert rooted at the launcher: %r" % (name, at_launcher[:1]))
        check(a["root"] != rep["pid"] and root_mark in a.get("cmdline", ""),
              "%s: root %d (%s), want a %s below the launcher %d" %
              (name, a["root"], a.get("cmdline"), root_mark, rep["pid"]))
        check(a.get("launcher") and a["launcher"] in pids,
              "%s: launcher %r not reported" % (name, a.get("launcher")))
    if pattern not in ("thread_explosion", "restart_loop"):
        check(a["tasks"] < 200, "%s: flagged only at %d tasks" % (name, a["tasks"]))
    forks = [e for e in by_event(events, "fork") if e["pid"] in pids]
    first_ts = min([e["ts"] for e in forks] or [a["ts"]])
    return a, (a["ts"] - first_ts) / 1e6


def make_bomb_test(name):
    def fn():
        a, latency = check_bomb(name)
        print("    %s: %s at %s tasks, %.0f ms after the tree's first fork%s" %
              (name, a["pattern"], a.get("tasks", a.get("threads", a.get("restarts"))),
               latency, ", doubling every %.1f s" % (a["doubling_ms"] / 1e3)
               if a.get("doubling_ms") else ""))
    fn.__name__ = "detect_" + name
    return test(fn)


for _name in BOMBS:
    make_bomb_test(_name)


def make_benign_test(name):
    def fn():
        cmd, cap, timeout = BENIGN[name]
        for attempt in range(3):
            rep, events = run_workload(cmd, cap, timeout, wait_all=False)
            check(rep["exit_code"] == 0, "%s: workload failed: %r" % (name, rep))
            pids = tree_of(events, rep["pid"])
            bad = alerts_in(events, pids | above(rep))
            check(not bad, "%s run %d: false alert %r" % (name, attempt + 1, bad[:1]))
            check(len(pids) > 5, "%s: saw only %d processes" % (name, len(pids)))
    fn.__name__ = "benign_" + name
    return test(fn)


for _name in BENIGN:
    make_benign_test(_name)


@test
def finding_fork_while_threaded():
    rep, events = run_workload([PY, WL + "/py_fork_lock.py"], 20, 20, wait_all=False)
    pids = tree_of(events, rep["pid"])
    found = [e for e in by_event(events, "finding") if e["pid"] in pids]
    check(found and found[0]["pattern"] == "fork_while_threaded",
          "no fork_while_threaded finding: %r" % found)
    check(found[0]["pid"] == rep["pid"] and found[0]["parent_threads"] >= 2,
          "finding: %r" % found[0])
    check(len(found) == 1, "one finding per process, got %d" % len(found))
    check(not alerts_in(events, pids), "the lock hazard is a finding, not an alert")


@test
def oom_kill_attributed_to_runaway_tree():
    rep, events = run_workload([tool("wl_mem_bomb")], 300, 10, mem=192 << 20)
    pids = tree_of(events, rep["pid"])
    ooms = [e for e in by_event(events, "oom") if e["pid"] in pids]
    check(ooms, "no OOM kill in the memory bomb's tree")
    flagged = [e for e in ooms if e.get("tree", {}).get("flagged")]
    check(flagged, "OOM not attributed to the flagged tree: %r" % ooms[0])
    check(flagged[0]["tree"]["root"] == rep["pid"] and
          flagged[0]["tree"]["pattern"] == "fork_bomb", "tree: %r" % flagged[0]["tree"])


@test
def replay_of_recorded_bomb_gives_same_alerts():
    path = tempfile.mktemp(suffix=".ftr")
    try:
        cmd, _, cap, timeout, _ = BOMBS["slow_bomb"]
        rep, live = run_workload(cmd, cap, timeout, tracer_args=("-w", path))
        r = run_forktrace("-j", "--alerts", "-r", path)
        check(r.returncode == 0, "replay failed: " + r.stderr)
        replay = [json.loads(line) for line in r.stdout.splitlines()]
        # the host limits the run read for its alerts are in the recording
        # (limits records): a replay's alerts are the run's, limits included
        verdicts = lambda evs: [e for e in evs  # noqa: E731
                                if e["event"] in ("alert", "alert_end", "finding")]
        check(any("limit" in e for e in verdicts(live)),
              "no alert of the live run named a host limit: %r" % verdicts(live)[:1])
        check(verdicts(live) and verdicts(live) == verdicts(replay),
              "alerts differ: live %d, replay %d; first live %r, first replay %r" %
              (len(verdicts(live)), len(verdicts(replay)), verdicts(live)[:1],
               verdicts(replay)[:1]))
        check(all(e["event"] in ("alert", "alert_end", "finding") for e in replay),
              "--alerts printed other events")
    finally:
        if os.path.exists(path):
            os.unlink(path)


@test
def thresholds_are_configurable():
    cmd, _, cap, timeout, _ = BOMBS["c_bomb"]
    path = tempfile.mktemp(suffix=".ftr")
    try:
        rep, events = run_workload(cmd, cap, timeout,
                                   tracer_args=("--set", "min_tasks=1000", "-w", path))
        pids = tree_of(events, rep["pid"])
        check(not [e for e in runaway_alerts(events) if e["root"] in pids],
              "min_tasks=1000 still flagged a 400-task tree")
        # the recording carries the run's settings: its replay is as quiet,
        # unless the replay sets its own
        for args, want in ((), False), (("--set", "min_tasks=16"), True):
            r = run_forktrace("-j", "--alerts", "-r", path, *args)
            got = [json.loads(line) for line in r.stdout.splitlines()]
            flagged = [e for e in runaway_alerts(got) if e["root"] in pids]
            check(r.returncode == 0 and bool(flagged) == want,
                  "replay %s: %d alerts in the bomb (%s)" % (args, len(flagged), r.stderr))
    finally:
        if os.path.exists(path):
            os.unlink(path)
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write("# test\nmin_tasks = 8\nwindow_ms = 3000\nbogus = 1\n")
    conf.close()
    try:
        r = run_forktrace("--config", conf.name, "-d", "0.1")
        check(r.returncode == 2 and ("%s:4:" % conf.name) in r.stderr and
              "unknown setting 'bogus'" in r.stderr and len(r.stderr.splitlines()) == 1,
              "bad config: %r" % r.stderr)
    finally:
        os.unlink(conf.name)
    for bad in ("min_tasks=abc", "window_ms=-5", "nothing"):
        r = run_forktrace("--set", bad, "-d", "0.1")
        check(r.returncode == 2 and len(r.stderr.splitlines()) == 1, "--set %s: %r" %
              (bad, r.stderr))
