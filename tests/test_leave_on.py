"""Live tests of containment that can be left on (issue: a kill path that
nothing switches off and nothing aims at an innocent).

Each one runs a workload contained (tests/contain.c) under a --kill or
--stop tracer and checks what happened to the tree and to everything
around it.  Workloads that a hostile neighbour would run go through a
second uid (TEST_UID), so "everything of that user" never reaches the host.
"""
import contextlib
import json
import os
import shutil
import subprocess
import tempfile

from lib import (Tracer, by_event, check, contain_cmd, fuse_mount, proc_state, sweep, test,
                 tool, wait_for)
from test_containment import NO_DETECTOR, check_signals
from test_detection import PY, WL, run_workload, tree_of

TEST_UID = 4242  # no account: a neighbour with nothing but a uid
FUSE_UID = 65534  # fusermount3 wants an account: nobody


def as_uid(cmd, uid=TEST_UID):
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"] + list(cmd)


def tracer_events(t):
    with open(t.out.name) as f:
        return [json.loads(line) for line in f if line.endswith("}\n")]


def cgroup_tasks(cgroup_file):
    with open(cgroup_file) as f:
        path = f.read().strip()
    with open(os.path.join(path, "cgroup.procs")) as f:
        return [int(x) for x in f.read().split()]


def end_run(proc, t):
    """End a contained workload started with Popen (contain's own cleanup
    would wait for its timeout: kill it, then sweep its cgroup) and its
    tracer."""
    proc.kill()
    proc.wait()
    sweep()
    t.stop()
    t.cleanup()


def states(pids):
    return {p: proc_state(p) for p in pids if proc_state(p) is not None}


@test
def held_stop_is_stopped_again_after_cont_from_outside():
    """--stop freezes a bomb; a process of the same uid outside the tree
    sends kill -CONT -1: the tree is stopped again (in the kernel at its
    next fork, by the sweep otherwise) and does not grow."""
    tmp = tempfile.mkdtemp()
    cg = os.path.join(tmp, "cgroup")
    t = Tracer("--stop")
    proc = subprocess.Popen(contain_cmd(as_uid([tool("wl_bomb_c")]), max_tasks=600, timeout=20,
                                        cgroup_file=cg), stdout=subprocess.DEVNULL)
    try:
        held = wait_for(lambda: [e for e in by_event(tracer_events(t), "action")
                                 if e["action"] == "stop" and e["complete"]], 10,
                        "a completed stop")[0]
        wait_for(lambda: os.path.exists(cg), 5, "contain's cgroup file")
        before = cgroup_tasks(cg)
        check(before and all(s in "Tt" for s in states(before).values()),
              "not all stopped before the CONT: %r" % states(before))
        signals_before = len(by_event(tracer_events(t), "signal"))
        r = subprocess.run(as_uid(["/bin/kill", "-CONT", "--", "-1"]), timeout=10)
        check(r.returncode == 0, "kill -CONT -1 as uid %d failed" % TEST_UID)

        def stopped_again():
            # stopped again: by the kernel at the next fork of each member,
            # by the sweep (RECHECK_NS) otherwise; signals say which
            evs = tracer_events(t)
            tasks = cgroup_tasks(cg)
            st = states(tasks)
            if len(by_event(evs, "signal")) > signals_before and \
                    all(x in "Tt" for x in st.values()):
                return tasks, evs
            return None

        after, evs = wait_for(stopped_again, 10, "the tree stopped again after kill -CONT -1")
        # each member could fork at most once before its fork was stopped
        check(len(after) <= 2 * len(before) + 16,
              "the tree grew from %d to %d tasks after kill -CONT" % (len(before), len(after)))
        check(not [e for e in by_event(evs, "action_state") if e["state"] == "emptied"] and
              not [e for e in by_event(evs, "action") if e["root"] == held["root"] and
                   e is not held and e.get("action") == "stop" and not e.get("complete")],
              "the stop ended while its tree lived")
        again = [e for e in by_event(evs, "signal")[signals_before:]]
        print("    held %d tasks; kill -CONT -1; stopped again at %d tasks (%d signals: %d "
              "in the kernel)" % (len(before), len(after), len(again),
                                  len([e for e in again if e.get("via") == "kernel"])))
    finally:
        end_run(proc, t)


@test
def thread_explosion_kills_the_process_not_its_children():
    """A containerd-like daemon with five shims and their containers, whose
    threads explode: --kill signals the daemon (and what it forks from
    then on), never the shims and containers it ran before."""
    t = Tracer("--kill")
    proc = subprocess.Popen(contain_cmd([tool("wl_thread_daemon")], max_tasks=700, timeout=10,
                                        wait_all=True),
                            stdout=subprocess.DEVNULL)
    try:
        alert = wait_for(lambda: [e for e in by_event(tracer_events(t), "alert")
                                  if e["pattern"] == "thread_explosion"], 9,
                         "a thread_explosion alert")[0]
        daemon = alert["root"]
        wait_for(lambda: proc_state(daemon) in (None, "Z"), 5, "the daemon killed")
        evs = tracer_events(t)
        below = tree_of(evs, daemon) - {daemon}
        check(len(below) >= 10, "the daemon's shims and containers not seen: %r" % below)
        alive = {p: proc_state(p) for p in below}
        check(all(s not in (None, "Z") for s in alive.values()),
              "shims or containers died with the daemon: %r" % alive)
        hit = set()
        for e in by_event(evs, "signal"):
            hit.add(e["pid"])
            if e.get("via") == "kernel" and e.get("forker_result") == 0:
                hit.add(e["ppid"])
        check(not hit & below, "signalled the daemon's children: %r" % sorted(hit & below))
        print("    daemon %d killed; its %d shims and containers alive, none signalled" %
              (daemon, len(below)))
    finally:
        end_run(proc, t)


@test
def prefork_master_is_never_the_root_when_a_worker_bombs():
    """A shared pre-fork master respawns a crashed worker; 0.2 s later
    another worker bombs.  The alert's root is the worker; the master and
    the other workers are alive and were never signalled."""
    tmp = tempfile.mkdtemp()
    pidfile = os.path.join(tmp, "pids")
    t = Tracer("--kill")
    proc = subprocess.Popen(contain_cmd([PY, WL + "/prefork_tenant.py", pidfile],
                                        max_tasks=400, timeout=15), stdout=subprocess.DEVNULL)
    try:
        line = wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read(), 10,
                        "the workload's pids")
        fields = dict(kv.split("=") for kv in line.split())
        master, bomber = int(fields["master"]), int(fields["bomber"])
        workers = [int(p) for p in fields["workers"].split(",")]
        done = wait_for(lambda: [e for e in by_event(tracer_events(t), "action")
                                 if e.get("complete")], 10, "a completed kill")[0]
        evs = tracer_events(t)
        alert = [e for e in by_event(evs, "alert") if e["root"] == done["root"]][0]
        check(alert["root"] == bomber, "root %d (%s), want the bombing worker %d; master %d "
              "(%s at %s tasks: %s)" % (alert["root"], alert.get("cmdline"), bomber, master,
                                        alert["pattern"], alert.get("tasks"),
                                        alert.get("evidence")))
        spared = [master] + [w for w in workers if w != bomber]
        gone = {p: proc_state(p) for p in spared if proc_state(p) in (None, "Z")}
        check(not gone, "the master or an idle worker died: %r" % gone)
        rep = {"pid": master, "contain_pid": proc.pid}
        check_signals("prefork_tenant", rep, evs, bomber, set(spared))
        print("    worker %d emptied in %.1f ms; master %d and %d workers alive" %
              (bomber, done["ms"], master, len(spared) - 1))
    finally:
        end_run(proc, t)


UNIFIED = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") \
    else "/sys/fs/cgroup"


def in_cgroup2_dir(rel, cmd):
    """A shell that moves itself into the cgroup2 directory rel (made if
    needed) and then runs cmd."""
    return ["/bin/sh", "-c", 'echo $$ > "%s/%s/cgroup.procs" && exec "$@"' % (UNIFIED, rel),
            "sh"] + list(cmd)


def remove_cgroup2(rel):
    parts = rel.split("/")
    for i in range(len(parts), 0, -1):
        try:
            os.rmdir(os.path.join(UNIFIED, *parts[:i]))
        except OSError:
            pass


# a cgroup a user named after a unit below their own systemd
# (systemd-run --user --unit=ftprobe.service), and the system unit itself
SPOOFED_UNIT = "user.slice/user-%d.slice/user@%d.service/app.slice/ftprobe.service" % (
    TEST_UID, TEST_UID)
SYSTEM_UNIT = "ftprobe-test.slice/ftprobe.service"


@contextlib.contextmanager
def unit_cgroups():
    for rel in (SPOOFED_UNIT, SYSTEM_UNIT):
        os.makedirs(os.path.join(UNIFIED, rel), exist_ok=True)
    try:
        yield
    finally:
        for rel in (SPOOFED_UNIT, SYSTEM_UNIT):
            remove_cgroup2(rel)


def first_action(events, what):
    actions = [e for e in by_event(events, "action") if not e.get("dry_run")]
    check(actions, "%s: no action" % what)
    return actions[0]


@test
def unit_rule_cannot_be_spoofed_by_a_user_unit():
    """`--allow unit:NAME` spares a system unit, and never a cgroup a user
    named NAME below their own systemd (systemd-run --user --unit=NAME):
    the spoofed bomb is killed, the real unit's is exempt."""
    with unit_cgroups():
        for rel, want_kill in ((SPOOFED_UNIT, True), (SYSTEM_UNIT, False)):
            _, evs = run_workload(in_cgroup2_dir(rel, as_uid([tool("wl_bomb_c")])), 400, 3,
                                  tracer_args=("--kill", "--allow", "unit:ftprobe.service"),
                                  wait_all=False)
            a = first_action(evs, rel)
            if want_kill:
                check(a["action"] == "kill" and a.get("complete"),
                      "a user unit named ftprobe.service was spared: %r" % a)
            else:
                check(a.get("exempt") and "unit:ftprobe.service" in a["reason"],
                      "the system unit was not exempt: %r" % a)
                check(not by_event(evs, "signal"),
                      "a process of the allowed system unit was signalled")
    print("    spoofed user unit killed; the system unit of the same name exempt")


def kill_from_fuse(bomb, hang, cap, timeout, uid=FUSE_UID):
    """Run bomb as uid from a FUSE mount that uid made (a user mount has
    no allow_other: root's stat of /proc/PID/exe gets EACCES; uid None:
    root's own mount, which root may stat) under --kill, with the default
    exe: rules in force; with hang, the FUSE daemon stops answering once
    the bomb runs.  Returns (completed action, events, contain's peak)."""
    tmp = tempfile.mkdtemp()
    rep_path = os.path.join(tmp, "report.json")
    with fuse_mount(bomb, uid=uid) as exe:
        t = Tracer("--kill")
        cmd = as_uid([exe], uid) if uid is not None else [exe]
        proc = subprocess.Popen(contain_cmd(cmd, max_tasks=cap, timeout=timeout,
                                            report=rep_path), stdout=subprocess.DEVNULL)
        try:
            if hang:
                wait_for(lambda: [e for e in by_event(tracer_events(t), "exec")
                                  if e.get("filename") == exe], 5, "the bomb's exec")
                exe.hang()
            done = wait_for(lambda: [e for e in by_event(tracer_events(t), "action")
                                     if e.get("complete")], timeout - 1,
                            "a completed kill of a bomb run from FUSE")[0]
            proc.wait(timeout=timeout + 30)
            evs = t.stop()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            # a forktrace stuck in a request the daemon never answers waits
            # uninterruptibly until the connection is gone: end it first
            if t.proc.poll() is None:
                exe.daemon.kill()
            t.cleanup()
    with open(rep_path) as f:
        rep = json.load(f)
    return done, evs, rep


@test
def kill_a_bomb_whose_binary_root_cannot_stat():
    """1(a): the bomb's binary is on a FUSE mount that refuses root.  Its
    members are decided from the kernel's records (no /proc/PID/exe stat):
    the tree is emptied, nothing is left undecided, nothing gives up."""
    done, evs, rep = kill_from_fuse(tool("wl_bomb_c"), False, 400, 8)
    check(done["action"] == "kill" and done["ms"] < 1000, "kill %r" % done)
    check(not by_event(evs, "undecided"), "undecided members: %r" %
          by_event(evs, "undecided")[:2])
    check(rep["peak"] < 200, "the bomb reached %d tasks" % rep["peak"])
    print("    FUSE (EACCES) bomb: peak %d, empty %.1f ms after the verdict" %
          (rep["peak"], done["ms"]))


@test
def kill_a_bomb_whose_fuse_daemon_never_answers():
    """The bomb runs from root's FUSE mount whose daemon stops answering
    once the bomb runs: a stat of its exe would block forktrace's loop for
    good.  The slow bomb is still flagged and emptied."""
    done, evs, rep = kill_from_fuse(tool("wl_c_slow_doubling"), True, 400, 16, uid=None)
    check(done["action"] == "kill", "kill %r" % done)
    check(rep["peak"] < 100, "the bomb reached %d tasks" % rep["peak"])
    print("    FUSE (hung) slow bomb: peak %d, empty %.1f ms after the verdict" %
          (rep["peak"], done["ms"]))


@test
def default_protections_resolve_under_host_root():
    """The DaemonSet runs forktrace with --host-root=/host in an image that
    has none of the node's programs: the default exe: rules (containerd,
    its shims, kubelet, sshd, ...) name the node's files.  A node root
    whose /usr/bin/containerd (and, through an absolute symlink resolved
    inside that root, /usr/sbin/sshd) runs a bomb: exempt, never signalled.
    The same bytes at another path of the node: killed."""
    hr = tempfile.mkdtemp(prefix="ft-host-root-")
    try:
        for d in ("usr/bin", "usr/sbin", "opt/bin"):
            os.makedirs(os.path.join(hr, d))
        for rel in ("usr/bin/containerd", "opt/bin/sshd-real", "opt/bin/other"):
            shutil.copy(tool("wl_bomb_c"), os.path.join(hr, rel))
        # absolute: resolved in the node's root, not the agent's
        os.symlink("/opt/bin/sshd-real", os.path.join(hr, "usr/sbin/sshd"))
        check(not os.path.exists("/usr/bin/containerd") and
              not os.path.exists("/opt/bin/sshd-real"),
              "this host has the test's paths itself; the test would prove nothing")
        for rel, spared in (("usr/bin/containerd", True), ("opt/bin/sshd-real", True),
                            ("opt/bin/other", False)):
            _, evs = run_workload([os.path.join(hr, rel)], 300, 2,
                                  tracer_args=("--kill", "--host-root", hr), wait_all=False)
            a = first_action(evs, rel)
            if spared:
                check(a.get("exempt") and "exe:/usr/" in a["reason"],
                      "/%s under --host-root was not protected: %r" % (rel, a))
                check(not by_event(evs, "signal"), "/%s was signalled" % rel)
            else:
                check(a["action"] == "kill" and a.get("complete"), "/%s: %r" % (rel, a))
        print("    /usr/bin/containerd and /usr/sbin/sshd of the node root protected; "
              "the same bytes elsewhere killed")
    finally:
        shutil.rmtree(hr, ignore_errors=True)


@test
def guard_unit_rule_only_system_units():
    """The kernel's half of the unit rule: the in-kernel fork budget (the
    detector kept out) spares a bomb in a system unit named by --allow
    unit:, and not one in a cgroup of that name below a user's systemd."""
    with unit_cgroups():
        for rel, want_signals in ((SPOOFED_UNIT, True), (SYSTEM_UNIT, False)):
            _, evs = run_workload(in_cgroup2_dir(rel, [tool("wl_bomb_c")]), 300, 2,
                                  tracer_args=("--kill", "--guard", "16", "--set",
                                               "min_tasks=1000000", "--allow",
                                               "unit:ftprobe.service"), wait_all=False)
            sent = [e for e in by_event(evs, "signal") if e.get("guard") and
                    (e.get("forker_result") == 0 or e.get("child_result") == 0)]
            if want_signals:
                check(sent, "%s: the kernel spared a user unit named ftprobe.service" % rel)
            else:
                check(not sent, "%s: the kernel signalled the allowed system unit: %r" %
                      (rel, sent[:2]))
    print("    guard: user unit signalled in the kernel, system unit spared")


CHURN = r"""
import os, subprocess, sys, time
base, seconds = sys.argv[1], float(sys.argv[2])
end, n = time.time() + seconds, 0
while time.time() < end:
    d = os.path.join(base, "c%d" % n)
    os.mkdir(d)
    # a process in the new cgroup: its records carry an id forktrace has
    # never seen, asked about after the cgroup is gone
    subprocess.run(["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec /bin/true', d])
    os.rmdir(d)
    n += 1
print("churned=%d" % n)
"""


@test
def cgroup_churn_does_not_blind_detection():
    """A neighbour with a delegated cgroup subtree churns short-lived
    cgroups (each holding one short process) beside 20,000 idle ones,
    while a C bomb starts: forktrace keeps up (no records lost), kills the
    bomb early, and its event loop is never stalled by cgroup look-ups."""
    idle = os.path.join(UNIFIED, "ft-churn-idle")
    churn = os.path.join(UNIFIED, "ft-churn")
    os.makedirs(churn, exist_ok=True)
    for i in range(20000):
        os.makedirs(os.path.join(idle, "i%d" % i), exist_ok=True)
    t = Tracer("--kill")
    churner = None
    try:
        churner = subprocess.Popen([PY, "-c", CHURN, churn, "8"], stdout=subprocess.PIPE,
                                   text=True)
        wait_for(lambda: len([e for e in by_event(tracer_events(t), "exec")
                              if e.get("filename") == "/bin/true"]) >= 20, 8,
                 "the churn under way")
        tmp = tempfile.mkdtemp()
        rep_path = os.path.join(tmp, "report.json")
        subprocess.run(contain_cmd([tool("wl_bomb_c")], max_tasks=400, timeout=3,
                                   report=rep_path), stdout=subprocess.DEVNULL, timeout=40)
        out = churner.communicate(timeout=30)[0]
        evs = t.stop()
        with open(rep_path) as f:
            rep = json.load(f)
        done = [e for e in by_event(evs, "action") if e.get("complete")]
        check(done and done[0]["action"] == "kill", "no kill under churn: %r" %
              by_event(evs, "action")[:1])
        check(rep["peak"] < 200, "the bomb reached %d tasks under churn" % rep["peak"])
        s = by_event(evs, "summary")[-1]
        check(s["lost"] == 0, "records lost under cgroup churn: %r" % s["lost_by_type"])
        print("    %s cgroups churned beside 20,000 idle; bomb peak %d, killed %.1f ms after "
              "the verdict, nothing lost" % (out.strip().split("=")[-1], rep["peak"],
                                             done[0]["ms"]))
    finally:
        if churner and churner.poll() is None:
            churner.kill()
            churner.wait()
        t.cleanup()
        for d in ([os.path.join(churn, x) for x in os.listdir(churn)] + [churn] +
                  [os.path.join(idle, x) for x in os.listdir(idle)] + [idle]):
            try:
                os.rmdir(d)
            except OSError:
                pass


@test
def exe_rule_spares_nothing_in_a_user_namespace():
    """In a user namespace of its own a process holds the capabilities to
    point its exe_file at any file (prctl(PR_SET_MM_MAP)), so exe: rules
    spare only processes of the initial one.  The allowed bomb run with
    `unshare -U` is killed; run as it is, it is exempt.  Each half is
    checked twice: user space's action, and the kernel's own check, through
    the guard with the detector kept out (a signal armed at the verdict
    meets a fork only if the sweep has not emptied the tree first)."""
    bomb = tool("wl_bomb_c")
    allow = ("--kill", "--allow", "exe:" + bomb)
    for cmd, spared in ((["unshare", "--user", "--map-root-user", bomb], False), ([bomb], True)):
        _, evs = run_workload(cmd, 300, 2, tracer_args=allow, wait_all=False)
        a = first_action(evs, " ".join(cmd))
        if spared:
            check(a.get("exempt"), "%r: not exempt: %r" % (cmd, a))
        else:
            check(a["action"] == "kill" and a.get("complete") and not a.get("exempt"),
                  "an exe: rule spared a process in its own user namespace: %r" % a)
        _, evs = run_workload(cmd, 300, 2, tracer_args=allow + ("--guard", "4") + NO_DETECTOR,
                              wait_all=False)
        # a fork whose forker and child are both spared leaves no record
        guard = [e for e in by_event(evs, "signal") if e.get("guard")]
        hit = [e for e in guard if e.get("child_result") == 0 or e.get("forker_result") == 0]
        if spared:
            check(not hit, "the kernel signalled the allowed bomb: %r" % hit[:1])
        else:
            check(hit, "the kernel spared every fork of the user-namespace bomb: %r" % guard[:1])
    print("    exe: rule: spared in the initial user namespace, killed in its own")
