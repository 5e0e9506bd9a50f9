"""Hardening (docs/testing.md): the fuzzers' corpora and every input that
once crashed them, replayed through the harnesses (tests/fuzz/); forced
faults (a ring too small for a storm, full kernel and user-space tables
under --kill, a starved reader, forktrace SIGKILLed while a tree is
frozen); and bad input of every kind: one line, non-zero, never a crash."""
import errno
import json
import os
import shutil
import signal
import subprocess
import tempfile

from lib import (BUILD, FORKTRACE, ROOT, Tracer, by_event, check, children, contain,
                 contain_cmd, fuse_mount, fuse_mounted, peak_rss_through_resync, proc_state,
                 run_forktrace, storm_result, summary, test, tool, wait_file, wait_for,
                 wait_until)
from test_containment import KILLABLE, check_signals, kill_run

FUZZERS = ("recording", "record", "config", "procfs", "json")


@test
def fuzz_corpora_and_regressions_replay_clean():
    """Each harness over its seed corpus and tests/fuzz/regress/NAME/ (the
    inputs that crashed it once): all run to the end."""
    for name in FUZZERS:
        dirs = [os.path.join(ROOT, "tests", "fuzz", d, name) for d in ("corpus", "regress")]
        r = subprocess.run([os.path.join(BUILD, "regress_" + name)] + dirs,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=300)
        check(r.returncode == 0, "%s: exit %d: %s" % (name, r.returncode, r.stderr[-500:]))
        n = int(r.stdout.split()[0])
        check(n >= 2, "%s: only %d inputs replayed" % (name, n))


def run_contained_with_tracer(script, tracer_args, done_name="done", cap=200, timeout=90):
    """sh -c script in a contain cgroup, forktrace -c on that cgroup started
    before it runs; returns (tracer, contain process, cgroup dir, done file)
    once the script touched $DONE.  The caller stops both."""
    tmp = tempfile.mkdtemp(prefix="ft-fault-")
    go, cgf, done = (os.path.join(tmp, n) for n in ("go", "cgroup", done_name))
    proc = subprocess.Popen(contain_cmd(["sh", "-c", script.replace("$DONE", done)],
                                        max_tasks=cap, timeout=timeout, go_file=go,
                                        cgroup_file=cgf),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    check(wait_file(cgf, 10), "contain made no cgroup")
    with open(cgf) as f:
        cgroup = f.read().strip()
    t = Tracer("-c", cgroup, *tracer_args)
    open(go, "w").close()
    check(wait_file(done, timeout), "the workload never finished its storm")
    return t, proc, cgroup, done


def end_contained(t, proc):
    """Stop the tracer (its events), then the workload."""
    try:
        events = t.stop()
    finally:
        t.cleanup()
        proc.send_signal(signal.SIGTERM)  # contain kills every member
        proc.wait(timeout=60)
    return events


@test
def fault_tiny_ring_losses_counted_and_table_repaired():
    """A 16 KiB ring under a vfork storm with a running reader: records are
    lost, each type counted; re-syncs repair the table, so the live
    processes it ends with in the storm's cgroup are /proc's, neither more
    nor fewer (12 sleepers forked during the storm, and their shell)."""
    storm_out = tempfile.NamedTemporaryFile("r", suffix=".out")
    script = ("%s -v 40000 > %s & P=$!; for i in $(seq 12); do sleep 120 & done; wait $P; "
              "touch $DONE; sleep 120" % (tool("storm"), storm_out.name))
    t, proc, cgroup, done = run_contained_with_tracer(script, ("--ring-kb", "16", "--tree"))

    def pids_at_rest():
        """The cgroup's pids once the storm and touch are gone and all 13
        sleep 120 run (the 12 and the shell's last command): nothing forks
        after that.  No wait for the reader: at SIGINT forktrace drains the
        ring and re-syncs after the losses before it prints the table."""
        try:
            with open(os.path.join(cgroup, "cgroup.procs")) as f:
                procs = {int(p) for p in f.read().split()}
            argvs = [open("/proc/%d/cmdline" % p).read().split("\0")[:2] for p in procs]
        except OSError:
            return None
        sleeps = argvs.count(["sleep", "120"])
        shells = argvs.count(["sh", "-c"])
        return procs if sleeps == 13 and shells <= 1 and sleeps + shells == len(procs) else None
    in_proc = wait_for(pids_at_rest, 30, "the workload at rest after its storm (13 sleep 120)")
    shell = [p for p in in_proc if open("/proc/%d/cmdline" % p).read().startswith("sh\0-c")]
    events = end_contained(t, proc)
    performed = storm_result(storm_out.read())[0]
    s = summary(events)
    check(s["lost"] > 0, "a 16 KiB ring lost nothing under a storm: %r" % s)
    check(sum(s["lost_by_type"].values()) == s["lost"], "lost by type: %r" % s)
    check(sum(e["count"] for e in by_event(events, "lost")) == s["lost"],
          "lost events disagree with the summary")
    check(s["resyncs"] >= 1 and by_event(events, "resync"), "no re-sync after losses")
    forks = s["forks"] + s["lost_by_type"].get("fork", 0)
    check(performed + 13 <= forks <= performed + 20,
          "forks seen %d + lost %d, storm performed %d (+13 by the shell)" %
          (s["forks"], s["lost_by_type"].get("fork", 0), performed))
    # the table's live processes below the shell, against /proc's
    check(len(shell) == 1, "the workload's shell is not in its cgroup: %r" % in_proc)
    nodes = by_event(events, "tree")
    kids = {}
    for n in nodes:
        kids.setdefault(n["ppid"], []).append(n)
    table_live, todo = set(), [shell[0]]
    root = [n for n in nodes if n["pid"] == shell[0]]
    check(root and root[0]["alive"], "the table lost the live shell")
    table_live.add(shell[0])
    while todo:
        for n in kids.get(todo.pop(), []):
            if n["alive"]:
                table_live.add(n["pid"])
            todo.append(n["pid"])
    check(table_live == in_proc, "table %d live, /proc %d: only table %r, only /proc %r" %
          (len(table_live), len(in_proc), sorted(table_live - in_proc)[:5],
           sorted(in_proc - table_live)[:5]))


@test
def fault_full_members_map_and_table_under_kill():
    """--kill with a 16-entry kernel members map and a process table 60
    slots above the host's own processes, keeping the dead 30 s, filled
    with 120 exited processes just before a C fork bomb starts: the table
    is full when the bomb grows and while it is killed, the map overflows;
    both are counted, the bomb is emptied (evicting the dead makes room,
    the sweeps reach what the map could not hold), the launcher and its
    other child live."""
    host = len([d for d in os.listdir("/proc") if d.isdigit()])
    # the launcher runs the 120 first: the bomb's own tree holds only the bomb
    bomb = "for i in $(seq 120); do /bin/true; done; %s" % KILLABLE["c_bomb"]
    # flagged at 32 tasks or more: a 16-entry map cannot hold the tree it
    # is armed with (at the default 16, a quick kill left it just full)
    rep, out, events = kill_run(bomb, extra=(
        "--members", "16", "--table-size", str(host + 60), "--grace", "30",
        "--set", "min_tasks=32"))
    actions = [e for e in by_event(events, "action") if not e.get("dry_run")]
    check(actions and actions[0]["action"] == "kill" and actions[0]["complete"],
          "the bomb was not emptied: %r" % actions[:1])
    check("sibling-alive" in out and "shell-alive" in out, "collateral damage: %r" % out)
    # with the table evicting, still: only the flagged tree was signalled
    check_signals("c_bomb, full tables", rep, events, actions[0]["root"],
                  {rep["pid"], int(out.split("sibling=")[1].split()[0])})
    s = summary(events)
    check(s["member_map_full"] > 0 or s["policy_failures"] > 0,
          "a 16-entry members map never overflowed: %r" % s)
    table = s["table"]
    check(table["evicted"] > 0, "the table never evicted: %r" % table)
    print("    members map full %d, policy failures %d, evicted %d, dropped %d, %.0f ms" %
          (s["member_map_full"], s["policy_failures"], table["evicted"], table["dropped"],
           actions[0]["ms"]))


@test
def fault_starved_reader_loses_nothing_unaccounted():
    """forktrace at SCHED_IDLE, pinned to the CPU three busy loops hold, a
    storm on that CPU in a cgroup it filters on (-c): the reader falls
    behind and the small ring overflows, and every fork is seen or counted
    lost (the storm's, and the few of its start); it ends cleanly once it gets the CPU back."""
    tmp = tempfile.mkdtemp(prefix="ft-starved-")
    out, go, cgf = (os.path.join(tmp, n) for n in ("out.jl", "go", "cgroup"))
    busy = tr = storm = None
    try:
        storm = subprocess.Popen(contain_cmd([tool("storm"), "-v", "-c", "0", "20000"],
                                             max_tasks=50, timeout=120, go_file=go,
                                             cgroup_file=cgf),
                                 stdout=subprocess.PIPE, text=True)
        check(wait_file(cgf, 10), "contain made no cgroup")
        with open(cgf) as f:
            cgroup = f.read().strip()
        with open(out, "w") as f:
            tr = subprocess.Popen(["taskset", "-c", "0", "chrt", "--idle", "0", FORKTRACE,
                                   "-j", "-c", cgroup, "--ring-kb", "64"], stdout=f,
                                  stderr=subprocess.PIPE, text=True)
        wait_until(lambda: os.path.getsize(out) > 0 or tr.poll() is not None, 60)
        check(os.path.getsize(out) > 0, "forktrace did not start")
        # attached: now the CPU goes to the busy loops, then the storm runs
        busy = subprocess.Popen(contain_cmd(
            ["taskset", "-c", "0", "sh", "-c",
             "for i in 1 2 3; do (while :; do :; done) & done; wait"],
            max_tasks=20, timeout=120))

        def looping():
            # contain's child is the shell (taskset exec'd it); its children the loops
            loops = [k for c in children(busy.pid) for k in children(c)]
            return len(loops) == 3 and all(proc_state(k) == "R" for k in loops)
        wait_for(looping, 10, "the three busy loops running on CPU 0")
        open(go, "w").close()
        performed = storm_result(storm.communicate(timeout=150)[0])[0]
        # the CPU back, then the end: starved, it could not even exit
        busy.send_signal(signal.SIGTERM)
        busy.wait(timeout=60)  # contain has emptied and removed the loops' cgroup
        busy = None
        tr.send_signal(signal.SIGINT)
        try:
            err = tr.communicate(timeout=120)[1]
        except subprocess.TimeoutExpired:
            tr.kill()
            tr.communicate()
            raise
        check(tr.returncode == 0, "starved forktrace exited %d: %s" % (tr.returncode, err))
        with open(out) as f:
            events = [json.loads(line) for line in f]
        s = summary(events)
        check(s, "no summary from the starved reader")
        lost = s["lost_by_type"].get("fork", 0)
        check(lost > 0, "the starved reader kept up: the fault did not happen (%r)" % s)
        # the storm's own, plus the few of its start in the cgroup (contain's child)
        check(performed <= s["forks"] + lost <= performed + 8,
              "storm performed %d, seen %d + lost %d" % (performed, s["forks"], lost))
        print("    storm %d vforks: seen %d, lost %d (counted)" % (performed, s["forks"], lost))
    finally:
        for p in (busy, storm):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=60)
        if tr and tr.poll() is None:
            tr.kill()
            tr.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def bpf_ids(kind):
    """The ids of the kernel's BPF programs or maps ("prog", "map")."""
    r = subprocess.run(["bpftool", "-j", kind, "show"], stdout=subprocess.PIPE, text=True)
    return {x["id"] for x in json.loads(r.stdout or "[]")}


@test
def fault_sigkill_leaves_no_bpf_and_a_frozen_tree_resumable():
    """SIGKILL forktrace while --stop holds a frozen bomb: no program, link
    or map of its is left in the kernel (bpftool), the tree stays stopped (as
    docs/containment.md says), and kill -CONT resumes it."""
    before = {k: bpf_ids(k) for k in ("prog", "map", "link")}
    tmp = tempfile.mkdtemp(prefix="ft-kill9-")
    cgf = os.path.join(tmp, "cgroup")
    t = Tracer("--stop")
    bomb = subprocess.Popen(contain_cmd([tool("wl_bomb_c")], max_tasks=200, timeout=60,
                                        cgroup_file=cgf))
    try:
        check(wait_until(lambda: '"event":"action"' in t.text(), 20, step=0.1),
              "--stop never stopped the bomb")
        ours = {k: bpf_ids(k) - before[k] for k in before}
        check(all(ours.values()), "no programs, maps or links of forktrace's: %r" % ours)
        t.proc.send_signal(signal.SIGKILL)
        t.proc.wait(timeout=30)

        def left_in_kernel():
            return {k: bpf_ids(k) & ours[k] for k in ours}
        # the kernel frees what the last fd held, after an RCU grace period
        wait_until(lambda: not any(left_in_kernel().values()), 10, step=0.1)
        left = left_in_kernel()
        check(not any(left.values()), "left in the kernel: %r" % left)
        with open(cgf) as f:
            members = [int(p) for p in open(os.path.join(f.read().strip(),
                                                          "cgroup.procs")).read().split()]
        check(members and all(proc_state(p) == "T" for p in members),
              "the frozen tree did not stay frozen: %r" %
              [proc_state(p) for p in members][:10])
        for p in members:
            os.kill(p, signal.SIGCONT)
        check(wait_until(lambda: any(proc_state(p) in ("R", "S") for p in members), 10),
              "kill -CONT did not resume")
    finally:
        t.cleanup()
        bomb.send_signal(signal.SIGTERM)
        bomb.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


@test
def fault_bad_input_one_line_never_a_crash():
    """Every flag with a bad value, configs of binary junk and of a 1 MB
    line, a recording cut at every offset of a short file: one line on
    stderr, a non-zero exit (2 for the command line), never a signal."""
    bad_flags = [["-d", "0"], ["-d", "x"], ["-p", "0"], ["-p", "-1"], ["--ring-mb", "3"],
                 ["--ring-kb", "3"], ["--ring-kb", "1"], ["--table-size", "1"],
                 ["--members", "2"], ["--grace", "-1"], ["--attach", "foo"],
                 ["--set", "nosuch=1"], ["--set", "min_tasks=-4"], ["--allow", "bogus"],
                 ["--allow", "exe:relative"], ["--act-on", "nope"], ["--guard", "5"],
                 ["--wakeup-kb", "x"], ["--user", "nobody-such"], ["--noop=x"],
                 ["--bogus"], ["extra"], ["--guard", "x", "--kill"], ["--pod", "x/"], ["--kill", "--stop"], ["--dry-run"],
                 ["-r", "x", "-w", "y"], ["--top", "-j"], ["--pod", "x"],
                 ["report"], ["report", "x"], ["report", "x", "-o", "y", "--format", "pdf"]]
    for args in bad_flags:
        r = run_forktrace(*args, timeout=30)
        # argp adds its "Try --help" line to an unknown option only
        lines = 2 if args == ["--bogus"] else 1
        check(r.returncode == 2 and r.stderr.count("\n") == lines,
              "%r: rc %d, stderr %r" % (args, r.returncode, r.stderr[:300]))
    # values only the running system can judge: exit 1, one line
    for args in (["-c", "/nonexistent"], ["--container", "zz"],
                 ["-o", "/nonexistent/dir/x", "-d", "1"], ["-w", "/nonexistent/dir/x", "-d", "1"],
                 ["--btf", "/nonexistent", "-d", "1"], ["--metrics", "bad", "-d", "1"],
                 ["--host-root", "/nonexistent", "-d", "1"],
                 ["--config", "/nonexistent", "-r", "/dev/null"]):
        r = run_forktrace(*args, timeout=60)
        check(r.returncode in (1, 2) and r.stderr.count("\n") == 1,
              "%r: rc %d, stderr %r" % (args, r.returncode, r.stderr[:300]))
    with tempfile.TemporaryDirectory() as tmp:
        junk, long_line = os.path.join(tmp, "junk.conf"), os.path.join(tmp, "long.conf")
        with open(junk, "wb") as f:
            f.write(b"min_tasks = 8\n\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 16)
        with open(long_line, "w") as f:
            f.write("allow = comm:" + "x" * (1 << 20) + "\nmin_tasks = 2\n")
        for path, why in ((junk, "not text"), (long_line, "line longer than")):
            r = run_forktrace("--config", path, "-r", "/dev/null", timeout=30)
            check(r.returncode == 2 and r.stderr.count("\n") == 1 and why in r.stderr,
                  "%s: rc %d %r" % (why, r.returncode, r.stderr[:200]))
            check(all(c.isprintable() or c == "\n" for c in r.stderr),
                  "the error echoes unprintable bytes: %r" % r.stderr[:200])
        # a short recording, cut at every offset
        with open(os.path.join(ROOT, "tests", "fuzz", "corpus", "recording",
                               "sixty-records.ftr"), "rb") as f:
            data = f.read()[:1600]  # the header and the first records
        cut = os.path.join(tmp, "cut.ftr")
        for n in range(len(data)):
            with open(cut, "wb") as f:
                f.write(data[:n])
            r = subprocess.run([FORKTRACE, "-r", cut, "-j"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, timeout=30)
            # a cut inside a record or the header is an error; at a record's
            # end (or before any byte of one) the file is whole
            check((r.returncode == 0 and not r.stderr) or
                  (r.returncode == 1 and r.stderr.count("\n") == 1),
                  "cut at %d: rc %d %r" % (n, r.returncode, r.stderr[:200]))


NOBODY = 65534


def as_user(uid, cmd):
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"] + cmd


@test
def fuse_fixture_refuses_root_and_hangs():
    """tests/fusefs.c through lib.fuse_mount: a user mount (uid 65534, made
    by fusermount3, no allow_other) runs its one file for that user, and
    root's stat of that process's /proc/PID/exe fails with EACCES; a daemon
    that never answers (hang=True) holds a stat in a child past 1 s, and
    ending the fixture (the daemon killed: the connection aborted, the
    mount detached) releases it."""
    with fuse_mount("/bin/sleep", uid=NOBODY) as f:
        check(fuse_mounted(f.mountpoint) and "user_id=%d" % NOBODY in fuse_mounted(f.mountpoint),
              "not a user mount: %r" % fuse_mounted(f.mountpoint))
        r = subprocess.run(as_user(NOBODY, [f, "0"]), timeout=30)
        check(r.returncode == 0, "uid %d could not run %s: %d" % (NOBODY, f, r.returncode))
        sleeper = subprocess.Popen(as_user(NOBODY, [f, "60"]))
        try:
            exe = "/proc/%d/exe" % sleeper.pid
            check(wait_until(lambda: os.readlink(exe) == f, 10),
                  "the sleeper does not run %s" % f)
            try:
                os.stat(exe)
                check(False, "root could stat a file of a user's FUSE mount")
            except OSError as e:
                check(e.errno == errno.EACCES, "root's stat: %s, not EACCES" % e)
        finally:
            sleeper.kill()
            sleeper.wait()
    check(not fuse_mounted(f.mountpoint) and not os.path.exists(f.mountpoint),
          "the user mount outlived its fixture")
    stuck = None
    with fuse_mount("/bin/sleep", hang=True) as f:
        stuck = subprocess.Popen(["python3", "-c", "import os, sys; os.stat(sys.argv[1])", f],
                                 stderr=subprocess.PIPE, text=True)
        try:
            stuck.wait(timeout=1)
            check(False, "a stat on a daemon that never answers returned: %r" %
                  stuck.stderr.read())
        except subprocess.TimeoutExpired:
            pass
    # the fixture's end aborted the connection: the stat fails, it does not hang
    try:
        stuck.wait(timeout=10)
    finally:
        if stuck.poll() is None:
            stuck.kill()
            stuck.wait()
            check(False, "ending the fixture did not release the stuck stat")
    check(stuck.returncode != 0 and not fuse_mounted(f.mountpoint),
          "the stuck stat ended %d: %r" % (stuck.returncode, stuck.stderr.read()[-200:]))


@test
def fuse_hung_cwd_and_exe_do_not_stall_the_loop():
    """A process runs from a FUSE mount and has its cwd there, then the
    daemon stops answering (tests/fusefs.c, SIGUSR1): forktrace's snapshot
    of that process (and its re-syncs) must not wait on the mount.  It
    reports a workload's forks promptly (a stat of /proc/PID/cwd, a
    GETATTR, would block it for good), re-syncs after losses, and exits
    cleanly."""
    with fuse_mount("/bin/sleep") as f:
        held = subprocess.Popen(["sh", "-c", "cd %s && exec %s 120" % (f.mountpoint, f)])
        t = None
        try:
            check(wait_until(lambda: os.readlink("/proc/%d/exe" % held.pid) == f, 10),
                  "the process does not run from the mount")
            f.hang()
            # the daemon hangs: a stat of the process's cwd would never return
            probe = subprocess.Popen(["stat", "-L", "/proc/%d/cwd" % held.pid],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                probe.wait(timeout=1)
                check(False, "the hung mount answered a stat")
            except subprocess.TimeoutExpired:
                probe.kill()
            # a tiny ring: the storm below makes losses, so re-syncs run too
            t = Tracer("--ring-kb", "16")
            rep, out = contain([tool("tree3")], max_tasks=20, timeout=30)
            check(rep["rc"] == 0, "tree3 failed: %r" % rep)
            seen = wait_until(lambda: '"event":"fork"' in t.text() and
                              '"comm":"tree3"' in t.text(), 10)
            check(seen, "forktrace reported no fork of the workload within 10 s: "
                  "its loop is stuck on the hung mount")
            contain([tool("storm"), "-v", "5000"], max_tasks=20, timeout=60)
            check(wait_until(lambda: '"event":"resync"' in t.text(), 10),
                  "no re-sync after the storm's losses")
            t.stop(timeout=20)
            check(t.rc == 0, "forktrace exited %r: %s" % (t.rc, t.stderr()[-300:]))
        finally:
            held.kill()
            held.wait()
            if t:
                t.cleanup()


@test
def resync_memory_bounded_on_a_synthetic_30k_proc():
    """The start's snapshot and a re-sync of 30,000 processes stream them:
    forktrace's peak RSS from attach on (VmHWM, reset then) on a synthetic
    /proc of 30,000 (--proc, a tmpfs) exceeds that on 100 by far less than
    the array the old snapshot built (608 bytes a process, 18 MiB here).
    The process table is held to 4,096 slots, so what it holds is the same
    in both runs."""
    args = ("--table-size", "4096")
    small, _, s0 = peak_rss_through_resync(100, args)
    big, _, s = peak_rss_through_resync(30000, args)
    check(s0["resyncs"] >= 1 and s["resyncs"] >= 1, "no re-sync: %r" % s)
    check(s["table"]["peak"] == 4096 and s["table"]["dropped"] > 25000,
          "the 30,000 synthetic processes were not read: %r" % s["table"])
    grown = (big - small) / 1024
    print("    peak RSS after attach: 100 processes %.1f MiB, 30,000 %.1f MiB (+%.1f MiB; "
          "the old array alone: %.1f MiB), %d re-syncs" %
          (small / 1024, big / 1024, grown, 30000 * 616 / 2**20, s["resyncs"]))
    check(grown < 6, "peak RSS grew %.1f MiB from 100 to 30,000 processes" % grown)
