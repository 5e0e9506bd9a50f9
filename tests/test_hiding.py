"""Live tests of runaways that hide (issue: identity games, slow leaks,
zombies and failed forks).

Each workload (tests/workloads, written without sight of the detector)
runs contained (tests/contain.c) under a tracer, launched from a shell the
way a user starts it.  Bombs that change their program every generation
must be flagged by kin and emptied under --kill with their launcher alive;
leaks and zombies must be named with their parent, rate and time to the
limit within 10 s; refused forks must be reported with the tree and errno.
"""
import re
import shutil
import tempfile

from lib import by_event, check, cpu_limited_cgroup, summary, test, tool
from test_containment import check_signals, signalled_pids
from test_detection import PY, WL, run_workload, tree_of

# name: the bomb's command; each copy runs a program of its own: a fresh
# copy of the binary, new -c text, or a relative path from a new directory
KIN_BOMBS = {
    "copy_bomb": ["env", "FT_UNLINK_COPIES=1", "FT_RETRY=1", tool("wl_copy_bomb")],
    "varying_c_counter": [PY, WL + "/py_varying_c_bomb.py", "counter"],
    "varying_c_comment": [PY, WL + "/py_varying_c_bomb.py", "comment"],
    "chdir_script_copies": ["/bin/sh", WL + "/chdir_bomb.sh", "copy"],
    "chdir_binary_up": ["env", "FT_RETRY=1", tool("wl_chdir_bomb_c"), "up"],
}

# bombs whose copies run in directories they have just made
FRESH_DIR_BOMBS = ("chdir_script_copies",)


def launched_from_a_shell(cmd, scratch):
    """sh runs cmd with TMPDIR in scratch, then says it is still alive."""
    return ["/bin/sh", "-c", '"$@"; echo launcher-alive', "sh",
            "env", "TMPDIR=" + scratch, "FT_SCRATCH=" + scratch] + list(cmd)


def first_alerts(events, pids, pattern=None):
    return [e for e in by_event(events, "alert") if not e.get("update") and e["root"] in pids
            and (pattern is None or e["pattern"] == pattern)]


def make_kin_test(name):
    def fn():
        scratch = tempfile.mkdtemp(prefix="ft-kin-")
        try:
            rep, events = run_workload(launched_from_a_shell(KIN_BOMBS[name], scratch), 600, 20,
                                       tracer_args=("--kill",), wait_all=False)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        pids = tree_of(events, rep["pid"])
        alerts = first_alerts(events, pids)
        check(alerts, "%s: no alert (tree of %d processes)" % (name, len(pids)))
        a = alerts[0]
        # by kin, or by program when the varying part fell past the argv
        # bytes the kernel's record carries
        check(a["pattern"] == "recursive_spawn", "%s: %s: %s" %
              (name, a["pattern"], a["evidence"]))
        check(a["tasks"] < 200, "%s: flagged only at %d tasks" % (name, a["tasks"]))
        done = [e for e in by_event(events, "action")
                if e["root"] == a["root"] and e.get("complete")]
        check(done, "%s: the tree of %d was never emptied (%r)" %
              (name, a["root"], by_event(events, "action")[:2]))
        check("launcher-alive" in rep["stdout"], "%s: the launcher shell died" % name)
        check_signals(name, rep, events, a["root"], {rep["pid"]})
        if name in FRESH_DIR_BOMBS:
            # the kernel's half: each copy's exec says how new its directory
            # is (kernels before 6.1 say nothing: the exec bar, as before)
            execs = [e for e in by_event(events, "exec") if e["pid"] in pids
                     and e["filename"] == "./chdir_bomb.sh"]
            aged = [e for e in execs if "cwd_age_ms" in e]
            if aged:
                fresh = [e for e in aged if e["cwd_age_ms"] < 1000]
                check(len(fresh) * 4 >= len(execs) * 3,
                      "%s: %d of %d copies' execs ran in a directory made just before" %
                      (name, len(fresh), len(execs)))
                # the detector's half: by those places, before the exec bar
                m = re.search(r"(\d+) of \d+ forking copies ran in a directory made for them",
                              a["evidence"])
                g = re.search(r"for (\d+) generations in a row", a["evidence"])
                check(m and int(m.group(1)) > 0 and g and int(g.group(1)) < 6,
                      "%s: not flagged by its new directories: %s" % (name, a["evidence"]))
            else:
                print("    %s: this kernel gives no directory ages" % name)
        print("    %s: flagged%s at %d tasks, emptied %.0f ms after" %
              (name, " by kin" if "kin" in a["evidence"] else "", a["tasks"], done[0]["ms"]))
    fn.__name__ = "kin_bomb_" + name
    return test(fn)


for _name in KIN_BOMBS:
    make_kin_test(_name)


def pile_alert(cmd, pattern, cap=600, timeout=12, args=("--kill",)):
    """Run cmd (which piles children up under its first process) and return
    the pile's first alert, the run's report and events."""
    rep, events = run_workload(cmd, cap, timeout, tracer_args=args, wait_all=False)
    pids = tree_of(events, rep["pid"])
    alerts = first_alerts(events, pids, pattern)
    check(alerts, "%s: no %s alert (tree of %d processes; alerts %r)" %
          (cmd[-1], pattern, len(pids), first_alerts(events, pids)[:2]))
    forks = [e for e in by_event(events, "fork") if e["pid"] in pids]
    a = alerts[0]
    return a, rep, events, (a["ts"] - min(e["ts"] for e in forks)) / 1e9


def check_pile(name, a, rep, events, after_s, what):
    check(a["root"] == rep["pid"], "%s: named %d (%s), want the parent %d" %
          (name, a["root"], a.get("cmdline"), rep["pid"]))
    check(after_s <= 10, "%s: named only %.1f s after it started" % (name, after_s))
    check(a["per_minute"] > 0 and a[what] >= 32, "%s: %r" % (name, a))
    check(a.get("limit") and a.get("limit_seconds", -1) >= 0,
          "%s: no time to the nearest limit: %r" % (name, a))
    check(not by_event(events, "action"), "%s: acted on a warning: %r" %
          (name, by_event(events, "action")[:1]))
    check_signals(name, rep, events, 0, {rep["pid"]})
    print("    %s: %d %s after %.1f s, %.0f a minute, %s in %.0f s" %
          (name, a[what], what, after_s, a["per_minute"], a["limit"], a["limit_seconds"]))


@test
def hung_worker_leak_is_named():
    """The seed's watchdog forks a worker every 0.2 s while a thread holds a
    lock; each worker deadlocks and nobody reaps: process_leak, naming the
    watchdog, its rate and the time to the contain cgroup's pids.max."""
    a, rep, events, after = pile_alert([PY, WL + "/py_hung_worker_leak.py"], "process_leak")
    check("py_hung_worker_leak" in a["evidence"], "evidence names no program: %s" %
          a["evidence"])
    check_pile("hung_worker_leak", a, rep, events, after, "children")


@test
def hung_worker_leak_at_its_cpu_limit_is_named():
    """The watchdog in a cgroup held to a tenth of a CPU (a pod at its
    limit), doing 40 ms of its own work before each 50 ms sleep and fork:
    held waiting most of the time, but by its own limit, not a busy host;
    named as a leak at leak_min, not at eight times it."""
    with cpu_limited_cgroup(10000) as procs:
        cmd = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', procs,
               PY, WL + "/py_hung_worker_leak.py", "0.05", "40"]
        a, rep, events, after = pile_alert(cmd, "process_leak", timeout=30)
    check(a["root"] == rep["pid"] and a["children"] < 64,
          "hung_worker_throttled: %r" % a)
    print("    hung_worker_throttled: %d children after %.1f s, %.0f a minute" %
          (a["children"], after, a["per_minute"]))


@test
def zombie_leak_is_named():
    """A parent that forks a child every 0.1 s and never waits (C and
    Python): zombie_leak, naming the parent."""
    for name, cmd in (("zombie_leak_c", [tool("wl_zombie_leak")]),
                      ("zombie_leak_py", [PY, WL + "/py_zombie_leak.py"])):
        a, rep, events, after = pile_alert(cmd, "zombie_leak")
        check_pile(name, a, rep, events, after, "zombies")


DAEMON_BOMB = [PY, WL + "/daemon_spawned_bomb.py"]


def storm_alert(args, max_jobs):
    """The daemon-spawned bomb's first spawn_storm alert: rooted at the
    daemon, before 500 jobs, naming the jobs' program; the daemon is never
    signalled.  The daemon starts at most max_jobs (0: as many as it is
    asked for) and exits once asked for nothing for 6 s, so a run lasts as
    long as the host's pace needs, not a fixed time (the timeout is only a
    hang detector)."""
    a, rep, events, after = pile_alert(DAEMON_BOMB + [str(max_jobs), "6"], "spawn_storm",
                                       cap=600, timeout=90, args=args)
    check(a["root"] == rep["pid"], "named %d, want the daemon %d" % (a["root"], rep["pid"]))
    check(a["children"] < 500, "named only at %d jobs" % a["children"])
    check("--job" in a["evidence"], "the jobs' program is not named: %s" % a["evidence"])
    check_signals("daemon_spawned_bomb", rep, events, rep["pid"], {rep["pid"]})
    return a, rep, events, after


@test
def daemon_spawned_bomb_is_named_toward_its_limit():
    """Each job asks a local job runner for two more: every copy is the
    daemon's child, no chain of copies.  Observed: a spawn_storm names the
    daemon and the jobs' program before 500 jobs, with the time to the
    contain cgroup's pids.max; nothing is signalled."""
    # the alert comes at 128 jobs; 160 leave room for it at any pace
    a, rep, events, after = storm_alert((), 160)
    check(a.get("limit") == "pids.max" and 0 <= a.get("limit_seconds", -1) < 120,
          "no time to the pids.max: %r" % a)
    check(not by_event(events, "action") and not by_event(events, "signal"),
          "acted while observing: %r" % (by_event(events, "action")[:1],))
    print("    daemon_spawned_bomb: spawn_storm at %d jobs after %.1f s, %.0f a minute, "
          "pids.max in %.0f s" % (a["children"], after, a["per_minute"], a["limit_seconds"]))


@test
def daemon_spawned_bomb_jobs_are_emptied_daemon_spared():
    """The same under --kill: once the jobs near the cgroup's pids.max (within
    two doublings), they are killed, those the daemon starts afterwards (its
    queue still holds requests of jobs killed mid-way) as they come, until
    the daemon starts no more; the daemon is never signalled, and lives on
    until it has been asked for nothing for 6 s (its idle exit)."""
    a, rep, events, after = storm_alert(("--kill",), 0)
    daemon = rep["pid"]
    done = [e for e in by_event(events, "action") if e["tree"] == a["tree"] and e.get("complete")]
    check(done and done[0]["state"] == "emptied", "jobs never emptied: %r" %
          by_event(events, "action")[:2])
    jobs = [e for e in by_event(events, "fork") if e["ppid"] == daemon]
    signals = by_event(events, "signal")
    check(signals, "no job was signalled")
    start = min(e["ts"] for e in signals)
    late = [e for e in jobs if e["ts"] > start + 3e9]
    check(not late, "the daemon still started %d jobs more than 3 s after the first kill" %
          len(late))
    check(not by_event(events, "fork_failed"), "the jobs filled the cgroup's pids.max")
    hit = set()
    for e in signals:
        hit |= signalled_pids(e)
    check(hit and hit <= {e["pid"] for e in jobs}, "signalled beyond the jobs: %r" %
          sorted(hit - {e["pid"] for e in jobs})[:5])
    ends = [e["ts"] for e in by_event(events, "exit") if e["pid"] == daemon]
    check(not ends or min(ends) > a["ts"] + 5e9, "the daemon died %.1f s after the alert" %
          ((min(ends) - a["ts"]) / 1e9 if ends else 0))
    print("    daemon_spawned_bomb: %d jobs at the alert, %d jobs in all, %d signalled, the "
          "daemon alive" % (a["children"], len(jobs), len(hit)))


@test
def refused_forks_are_reported():
    """A C bomb under a pids cap of 100 (observed, not killed): the kernel
    refuses its forks; fork_failed records carry the caller and errno, and
    a forks_refused warning names the refused tree and the tree that used
    the limit up (the flagged bomb, itself)."""
    rep, events = run_workload([tool("wl_bomb_c")], 100, 4, wait_all=False)
    pids = tree_of(events, rep["pid"])
    failed = [e for e in by_event(events, "fork_failed") if e["pid"] in pids]
    check(failed, "no fork_failed records from the bomb's tree")
    # a pids limit is EAGAIN; the kernel may also run short of memory for
    # the new task beside a bomb
    errnos = {e["errno"] for e in failed}
    check("EAGAIN" in errnos and errnos <= {"EAGAIN", "ENOMEM"}, "errnos %r" % sorted(errnos))
    refused = first_alerts(events, pids, "forks_refused")
    check(refused, "no forks_refused warning")
    r = refused[0]
    bomb = first_alerts(events, pids, "fork_bomb")
    check(bomb and r["root"] == bomb[0]["root"], "refused tree %d, the bomb's %r" %
          (r["root"], bomb[:1]))
    # the first refusal may come before the bomb is flagged; once it is,
    # the reports (updates at each doubling) name it as the culprit
    reports = [e for e in by_event(events, "alert")
               if e["pattern"] == "forks_refused" and e["root"] == r["root"]]
    check(any(e.get("culprit", {}).get("root") == r["root"] for e in reports),
          "culprits %r" % [e.get("culprit") for e in reports])
    # cross-checked with the kernel's own count: its pids controller refused
    # them (pids.events), so the limit was the cgroup's pids.max
    check(all(e.get("pids_events_max", 0) > 0 for e in refused),
          "pids.events not cross-checked: %r" % [e.get("pids_events_max") for e in refused])
    # and the kernel's records say which limit was full: the cap
    limits = {e.get("pids_limit") for e in failed} - {None}
    check(limits == {100}, "fork_failed pids_limit %r, want the cap 100" % sorted(limits))
    print("    %d fork_failed records (%d forks refused, pids.max 100 full); pids.events: %d; %s" %
          (len(failed), sum(e["count"] for e in failed), r["pids_events_max"],
           r["evidence"][:100]))


@test
def refused_forks_by_rlimit_nproc_are_not_pinned_on_pids_max():
    """The same bomb as a second uid under RLIMIT_NPROC 40, in a pids cgroup
    of 200: the kernel refuses its forks for the uid's limit, and
    pids.events, cross-checked, counts none of them: the warning says
    another limit was hit, not the cgroup's pids.max."""
    cmd = ["prlimit", "--nproc=40:40", "--", "setpriv", "--reuid=65534", "--regid=65534",
           "--clear-groups", tool("wl_bomb_c")]
    rep, events = run_workload(cmd, 200, 4, wait_all=False)
    pids = tree_of(events, rep["pid"])
    refused = first_alerts(events, pids, "forks_refused")
    check(refused, "no forks_refused warning (tree of %d)" % len(pids))
    r = refused[0]
    check(r.get("errno") == "EAGAIN", "errno %r" % r.get("errno"))
    check(r.get("pids_events_max") == 0, "pids.events says %r: %s" %
          (r.get("pids_events_max"), r["evidence"]))
    failed = [e for e in by_event(events, "fork_failed") if e["pid"] in pids]
    check(failed and not [e for e in failed if e.get("pids_limit")],
          "a pids.max was said to be full: %r" % [e.get("pids_limit") for e in failed][:5])
    print("    %d fork_failed records, none by a full pids.max; pids.events: 0" % len(failed))



@test
def refused_forks_in_a_capped_cgroup_name_the_neighbour():
    """Two trees in one pids cgroup: a bomb uses the cap up, a service beside
    it (started first, forking a job every 20 ms and retrying when refused)
    has its forks refused.  The service's refusal names the bomb's flagged
    tree as the one that used the limit."""
    # nothing after the bomb starts may need a fork of the launching shell
    script = ('%s %s/py_fork_retrier.py 3.5 & svc=$!; sleep 0.5; %s & wait $svc' %
              (PY, WL, tool("wl_bomb_c")))
    # a cap the bomb grows into over a few doublings (a cap it filled in
    # one burst would leave it too shallow to flag: refusals are no
    # growth); the service still gets a CPU to try and to report on
    rep, events = run_workload(["/bin/sh", "-c", script], 300, 20, wait_all=False)
    pids = tree_of(events, rep["pid"])
    bomb = first_alerts(events, pids, "fork_bomb")
    check(bomb, "the bomb was not flagged")
    said = [l for l in rep["stdout"].splitlines() if l.startswith("refused ")]
    check(said and said[-1] != "refused 0",
          "the service's forks were never refused: %r" % rep["stdout"][-200:])
    svc = [e for e in by_event(events, "exec") if e.get("filename") == PY and
           e["pid"] in pids]
    counted = sum(e["count"] for e in by_event(events, "fork_failed")
                  if svc and e["pid"] == svc[0]["pid"])
    # one record per process per 100 ms counts the failures in between; the
    # count since its last record is said as it exits (none lost on the way)
    check(summary(events)["lost"] == 0, "records lost: %r" % summary(events))
    check(counted == int(said[-1].split()[1]), "the service saw %s, the records count %d" %
          (said[-1], counted))
    others = [e for e in first_alerts(events, pids, "forks_refused")
              if e["root"] != bomb[0]["root"]]
    check(others, "no refusal outside the bomb's tree was reported: %r" %
          first_alerts(events, pids, "forks_refused")[:2])
    check(all(e.get("culprit", {}).get("root") == bomb[0]["root"] for e in others),
          "culprits %r, want the bomb %d" % ([e.get("culprit") for e in others],
                                            bomb[0]["root"]))
