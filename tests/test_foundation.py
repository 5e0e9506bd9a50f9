"""Live tests of the foundation: tracing, process table, record/replay,
JSON, bad input, loss accounting."""
import json
import os
import signal
import subprocess
import tempfile
import time

from lib import (FORKTRACE, FORKTRACE_BENCH, ROOT, Fail, Tracer, by_event, check, contain, contain_cmd,
                 proc_status, run_forktrace, storm_result, subtree_pids, summary, test, tool,
                 wait_file, wait_for, wait_until)

# --- the known three-level tree ----------------------------------------------

def run_tree3(*tracer_args):
    t = Tracer(*tracer_args)
    try:
        rep, out = contain([tool("tree3")], max_tasks=50, timeout=20)
        check(rep.get("exit_code") == 0, "tree3 failed: %r" % rep)
        manifest = json.loads(out)
        return manifest, t.stop(), t
    finally:
        t.cleanup()


def check_tree3(manifest, events):
    root = manifest["root"]
    for p in manifest["procs"]:
        forks = by_event(events, "fork", pid=p["pid"])
        check(len(forks) == 1, "%s: want one fork event for pid %d, got %r" %
              (p["name"], p["pid"], forks))
        check(forks[0]["ppid"] == p["ppid"], "%s: ppid %d, want %d" %
              (p["name"], forks[0]["ppid"], p["ppid"]))
        exits = by_event(events, "exit", pid=p["pid"])
        check(len(exits) == 1, "%s: want one exit event, got %r" % (p["name"], exits))
        check(exits[0]["exit_code"] == p["exit_code"] and exits[0]["signal"] == p["signal"],
              "%s: exit %r, want code %d signal %d" %
              (p["name"], exits[0], p["exit_code"], p["signal"]))
        execs = by_event(events, "exec", pid=p["pid"])
        if p["exec"]:
            check(len(execs) == 1 and execs[0]["filename"] == p["exec"],
                  "%s: want exec of %s, got %r" % (p["name"], p["exec"], execs))
        else:
            check(not execs, "%s: unexpected exec %r" % (p["name"], execs))
    want = {p["pid"] for p in manifest["procs"]}
    check(subtree_pids(events, root) == want,
          "subtree of %d is %r, want %r" % (root, subtree_pids(events, root), want))
    check(by_event(events, "exit", pid=root, exit_code=0), "root's exit missing")
    s = summary(events)
    check(s is not None, "no summary line")
    check(s["lost"] == 0, "lost records in a quiet run: %r" % s)


@test
def live_tree3_parentage_exit_codes_signal():
    manifest, events, _ = run_tree3()
    check_tree3(manifest, events)
    start = events[0]
    check(start["event"] == "start", "first line is not start: %r" % start)
    check(start["attach"]["fork"] == "tp_btf", "tp_btf expected here: %r" % start)
    # threads are counted, not emitted, without -T
    root = manifest["root"]
    check(not by_event(events, "thread_start"), "thread events without -T")
    check(summary(events)["threads_started"] >= manifest["threads"], "threads not counted")
    check(all(e["parent_threads"] == 1 for e in by_event(events, "fork", ppid=root)),
          "tree3 forks after its threads exit: parent_threads must be 1")


@test
def live_threads_reported_as_threads():
    manifest, events, _ = run_tree3("-T")
    check_tree3(manifest, events)
    root = manifest["root"]
    starts = by_event(events, "thread_start", pid=root)
    exits = by_event(events, "thread_exit", pid=root)
    check(len(starts) == 3 and len(exits) == 3,
          "want 3 thread starts and exits in %d, got %d/%d" % (root, len(starts), len(exits)))
    check(all(e["tid"] != root for e in starts), "thread tid equals the tgid")
    check({e["tid"] for e in starts} == {e["tid"] for e in exits}, "thread tids differ")


@test
def live_raw_tp_fallback_same_tree():
    manifest, events, _ = run_tree3("--attach", "raw_tp")
    check(events[0]["attach"]["fork"] == "raw_tp", "raw_tp not used: %r" % events[0])
    check(events[0]["attach"]["oom"] == "tracepoint", "oom fallback: %r" % events[0])
    check_tree3(manifest, events)


SPAWN_AND_FORK = """
import os, sys
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
spawned = os.posix_spawn("/bin/true", ["true"], os.environ)
os.waitpid(spawned, 0)
print(pid, spawned)
"""


@test
def live_spawned_children_share_their_parents_memory():
    """posix_spawn's child (CLONE_VM|CLONE_VFORK) is marked shared_vm, a
    plain fork's is not: the detector counts only the latter as a copy that
    forks on its own.  Both attach modes read it."""
    for attach in ("tp_btf", "raw_tp"):
        t = Tracer("--attach", attach)
        try:
            rep, out = contain(["python3", "-c", SPAWN_AND_FORK], max_tasks=20, timeout=20)
            events = t.stop()
        finally:
            t.cleanup()
        check(rep.get("exit_code") == 0, "workload failed: %r" % rep)
        forked, spawned = (int(x) for x in out.split())
        f = by_event(events, "fork", pid=forked)
        s = by_event(events, "fork", pid=spawned)
        check(len(f) == 1 and len(s) == 1, "%s: forks %r %r" % (attach, f, s))
        check("shared_vm" not in f[0], "%s: a plain fork marked shared_vm: %r" % (attach, f[0]))
        check(s[0].get("shared_vm") is True, "%s: posix_spawn not marked: %r" % (attach, s[0]))


@test
def live_preexisting_process_in_tree():
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        # forktrace's snapshot names it by its command: once it has exec'd
        wait_for(lambda: open("/proc/%d/comm" % sleeper.pid).read() == "sleep\n", 10,
                 "the sleeper's exec of sleep")
        r = run_forktrace("-d", "0.5", "--tree")
        check(r.returncode == 0, "forktrace failed: " + r.stderr)
        check("sleep(%d)" % sleeper.pid in r.stdout,
              "sleep(%d) missing from --tree:\n%s" % (sleeper.pid, r.stdout[-3000:]))
        # the human output: header, tree, summary
        check(r.stdout.splitlines()[0].split()[:5] == ["TIME", "EVENT", "PID", "PPID", "COMM"],
              "bad header: " + r.stdout.splitlines()[0])
        # -p of this shell's subtree in JSON: the sleeper is its child
        r = run_forktrace("-j", "-d", "0.5", "--tree", "-p", str(os.getpid()))
        tree = [json.loads(l) for l in r.stdout.splitlines() if '"event":"tree"' in l]
        pids = {e["pid"] for e in tree}
        check(os.getpid() in pids and sleeper.pid in pids and len(pids) <= 4,
              "-p tree wrong: %r" % tree)
    finally:
        sleeper.kill()
        sleeper.wait()


@test
def live_oom_kill_attributed_to_victim():
    t = Tracer()
    try:
        rep, out = contain([tool("oomhog")], max_tasks=10, timeout=30, mem=64 << 20)
        victim = int(out.split()[0])
        check(rep["signal"] == 9, "oomhog was not killed: %r" % rep)
        events = t.stop()
    finally:
        t.cleanup()
    ooms = by_event(events, "oom")
    check(len(ooms) == 1 and ooms[0]["pid"] == victim,
          "want one oom event for %d, got %r" % (victim, ooms))
    check(ooms[0]["comm"] == "oomhog", "oom comm: %r" % ooms[0])
    check(ooms[0]["anon_rss_kb"] > 32 * 1024, "rss not reported: %r" % ooms[0])
    check(summary(events)["ooms"] == 1, "summary ooms: %r" % summary(events))


@test
def record_then_replay_gives_same_events():
    path = tempfile.mktemp(suffix=".ftr")
    try:
        manifest, live, _ = run_tree3("-w", path)
        r = run_forktrace("-j", "-r", path)
        check(r.returncode == 0, "replay failed: " + r.stderr)
        replay = [json.loads(l) for l in r.stdout.splitlines()]
        strip = lambda evs: [e for e in evs if e["event"] not in ("start",)]
        check(strip(live) == strip(replay),
              "replay differs: %d vs %d events" % (len(strip(live)), len(strip(replay))))
        check(replay[0]["source"] == "replay" and replay[0]["kernel"] == live[0]["kernel"]
              and replay[0]["attach"] == live[0]["attach"], "start differs: %r" % replay[0])
        check_tree3(manifest, replay)
        # replay as a non-root user works: no BPF involved
        os.chmod(path, 0o644)
        r = run_forktrace("-r", path, user=65534)
        check(r.returncode == 0 and "EXIT" in r.stdout, "non-root replay: " + r.stderr)
    finally:
        if os.path.exists(path):
            os.unlink(path)


@test
def malformed_recordings_give_one_line_errors():
    path = tempfile.mktemp(suffix=".ftr")
    try:
        t = Tracer("-w", path)
        subprocess.run(["true"])
        t.stop()
        t.cleanup()
        size = os.path.getsize(path)
        data = open(path, "rb").read()
        cases = {
            "truncated": (data[:size - 5], "truncated record at offset"),
            "corrupt": (data[:300] + bytes([data[300] ^ 0xff]) + data[301:], "offset"),
            "foreign": (b'{"event":"start"}\n' * 20, "not a forktrace recording"),
            "empty": (b"", "not a forktrace recording"),
            "header": (data[:30], "truncated header"),
        }
        for name, (blob, want) in cases.items():
            with open(path, "wb") as f:
                f.write(blob)
            r = run_forktrace("-j", "-r", path)
            err = r.stderr.strip().splitlines()
            check(r.returncode != 0, "%s: exit code 0" % name)
            check(len(err) == 1 and want in err[0] and err[0].startswith("forktrace: "),
                  "%s: stderr %r, want one line with %r" % (name, r.stderr, want))
            check(r.returncode < 128, "%s: crashed (%d)" % (name, r.returncode))
        r = run_forktrace("-r", "/nonexistent/x.ftr")
        check(r.returncode == 1 and "cannot open recording" in r.stderr, r.stderr)
    finally:
        if os.path.exists(path):
            os.unlink(path)


@test
def bad_input_one_line_errors():
    cases = [
        (["-d", "abc"], "invalid duration"),
        (["-d", "-1"], "invalid duration"),
        (["-p", "0"], "invalid pid"),
        (["-p", "999999"], "no such process"),
        (["--ring-mb", "3"], "power of two"),
        (["--table-size", "10"], "table-size"),
        (["--attach", "kprobe"], "invalid --attach"),
        (["-c", "/tmp"], "not in a cgroup filesystem"),
        (["-c", "/nonexistent"], "not a directory"),
        (["--btf", "/nonexistent"], "kernel BTF not available"),
        (["-r", "x", "-w", "y"], "cannot be combined"),
        (["extra"], "unexpected argument"),
    ]
    for args, want in cases:
        r = run_forktrace(*args)
        err = r.stderr.strip().splitlines()
        check(r.returncode not in (0,) and r.returncode < 128, "%r: rc %d" % (args, r.returncode))
        check(len(err) == 1 and want in err[0], "%r: stderr %r, want %r" % (args, r.stderr, want))
    r = run_forktrace("-d", "1", user=65534)
    check(r.returncode == 1 and "need root" in r.stderr, "non-root: %r" % r.stderr)
    r = run_forktrace("--help")
    check(r.returncode == 0 and "USAGE:" in r.stdout and "EXAMPLES:" in r.stdout, "--help")
    r = run_forktrace("--version")
    check(r.returncode == 0 and r.stdout.startswith("forktrace "), "--version")


@test
def sigterm_and_duration_end_cleanly():
    t = Tracer()
    try:
        events = t.stop(sig=signal.SIGTERM)
        check(t.rc == 0, "rc %d after SIGTERM: %s" % (t.rc, t.stderr()))
        check(events[-1]["event"] == "summary", "no summary after SIGTERM")
    finally:
        t.cleanup()
    began = time.time()
    r = run_forktrace("-j", "-d", "0.5")
    took = time.time() - began
    check(r.returncode == 0 and '"event":"summary"' in r.stdout.splitlines()[-1],
          "-d run: %r" % r.stderr)
    check(took < 10, "-d 0.5 took %.1fs" % took)
    check(not r.stderr, "stderr without -v: %r" % r.stderr)
    # a shell starts background jobs with SIGINT ignored; a SIGINT that
    # arrives while the programs load must still end the run cleanly
    p = subprocess.Popen([FORKTRACE, "-j"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                     signal.SIG_IGN))

    def handler_in():
        if p.poll() is not None:
            return True
        try:
            return int(proc_status(p.pid)["SigCgt"], 16) & (1 << (signal.SIGINT - 1))
        except (OSError, KeyError):
            return False
    # as soon as its handler is in (before the programs load): a signal
    # sent earlier still meets the ignored disposition it inherited
    wait_until(handler_in, 10, step=0.001)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise Fail("a SIGINT during start-up was lost: still running after 20 s")
    check(p.returncode == 0 and out.splitlines()[-1].startswith('{"event":"summary"'),
          "early SIGINT: rc %d, %r" % (p.returncode, err))


@test
def live_noop_modes_for_benchmarks():
    """--noop attaches and records nothing; --noop=record writes one bare
    record per fork and exit, which the reader counts and drops.  Both are
    in the benchmark build only: the production binary refuses them."""
    for mode in ("--noop", "--noop=record"):
        r = subprocess.run([FORKTRACE, mode, "-d", "1"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        check(r.returncode != 0 and "benchmark build only" in r.stderr
              and len(r.stderr.strip().splitlines()) == 1,
              "production %s: rc %d, %r" % (mode, r.returncode, r.stderr))
    for mode, probes in (("--noop", False), ("--noop=record", True)):
        t = Tracer(mode, binary=FORKTRACE_BENCH)
        try:
            contain([tool("storm"), "-v", "1000"], max_tasks=50, timeout=60)
            events = t.stop()
            s = summary(events)
            check(s and s["forks"] == 0 and s["exits"] == 0 and s["lost"] == 0,
                  "%s: forks/exits reached the table: %r" % (mode, s))
            line = [ln for ln in t.stderr().splitlines() if "probe records read" in ln]
            if probes:
                n = int(line[0].split(":")[-1].split()[0]) if line else 0
                check(n >= 2000, "%s: %d probe records for 1000 vforks" % (mode, n))
            else:
                check(not line, "%s: probe records without =record" % mode)
        finally:
            t.cleanup()


def cgroup_run(cmd, tracer_args=(), max_tasks=200, timeout=60, pause_tracer=None):
    """Run cmd contained, with forktrace filtering on its cgroup (-c).

    The workload waits on a go-file until the tracer is attached.  With
    pause_tracer=seconds, the tracer is SIGSTOPped while the workload runs
    (so the ring buffer overflows) and continued afterwards."""
    tmp = tempfile.mkdtemp()
    go, cgf, rep = (os.path.join(tmp, n) for n in ("go", "cgroup", "report.json"))
    proc = subprocess.Popen(contain_cmd(cmd, max_tasks=max_tasks, timeout=timeout,
                                        go_file=go, cgroup_file=cgf, report=rep),
                            stdout=subprocess.PIPE, text=True)
    t = None
    try:
        check(wait_file(cgf, 10), "contain made no cgroup")
        cgroup = open(cgf).read().strip()
        t = Tracer("-c", cgroup, *tracer_args)
        if pause_tracer:
            t.proc.send_signal(signal.SIGSTOP)
        open(go, "w").close()
        out, _ = proc.communicate(timeout=timeout + 30)
        if pause_tracer:
            t.proc.send_signal(signal.SIGCONT)
        events = t.stop()
        report = json.load(open(rep))
        return events, out, report
    finally:
        if proc.poll() is None:
            proc.kill()
        if t:
            t.cleanup()


@test
def live_cgroup_filter_sees_only_that_cgroup():
    outsider = subprocess.Popen(["sh", "-c", "for i in 1 2 3 4 5; do /bin/true; done"])
    events, out, rep = cgroup_run([tool("storm"), "300"])
    outsider.wait()
    done, failed = storm_result(out)[:2]
    check(done == 300 and failed == 0, "storm: %s" % out)
    forks = by_event(events, "fork")
    check(len(forks) == 300, "want exactly 300 forks in the cgroup, got %d" % len(forks))
    check(not any(e["comm"] in ("sh", "true") for e in events if "comm" in e
                  and e["event"] in ("fork", "exec")),
          "events from outside the cgroup leaked in")


@test
def live_storm_200k_seen_or_accounted():
    events, out, rep = cgroup_run([tool("storm"), "-v", "-p", "2", "200000"], timeout=300)
    done, failed = storm_result(out)[:2]
    s = summary(events)
    lost_forks = s["lost_by_type"].get("fork", 0)
    check(done >= 200000, "storm performed only %d (%d failed)" % (done, failed))
    check(s["forks"] <= done, "more forks seen (%d) than performed (%d)" % (s["forks"], done))
    check(s["forks"] + lost_forks == done,
          "seen %d + lost %d != performed %d" % (s["forks"], lost_forks, done))
    print("    storm: performed %d, seen %d, lost %d" % (done, s["forks"], lost_forks))


@test
def live_losses_counted_and_resynced():
    # a 1 MiB ring and a stopped reader: the kernel must drop records
    events, out, rep = cgroup_run([tool("storm"), "-v", "30000"],
                                  tracer_args=("--ring-mb", "1"), pause_tracer=True)
    done, _ = storm_result(out)[:2]
    s = summary(events)
    lost = by_event(events, "lost")
    check(lost and s["lost"] > 0, "no loss with a stopped reader: %r" % s)
    check(sum(e["count"] for e in lost) == s["lost"], "lost events disagree with summary")
    lost_forks = s["lost_by_type"].get("fork", 0)
    check(s["forks"] + lost_forks == done,
          "seen %d + lost %d != performed %d" % (s["forks"], lost_forks, done))
    check(by_event(events, "resync"), "no resync after losses")
    check(s["resyncs"] >= 1, "summary resyncs: %r" % s)


@test
def man_page_matches_help():
    """docs/forktrace.8 describes every long option --help (and report's
    --help) lists, names the build's version, and renders without a warning."""
    import re
    page_path = os.path.join(ROOT, "docs", "forktrace.8")
    helptext = subprocess.run([FORKTRACE, "--help"], stdout=subprocess.PIPE, text=True).stdout
    helptext += subprocess.run([FORKTRACE, "report", "--help"], stdout=subprocess.PIPE,
                               text=True).stdout
    check("--folded" in helptext, "forktrace report --help lists no --folded")
    version = subprocess.run([FORKTRACE, "--version"], stdout=subprocess.PIPE,
                             text=True).stdout.split()[-1]
    with open(page_path) as f:
        page = f.read()
    options = set(re.findall(r"--([a-z][a-z-]*)", helptext))
    check(len(options) > 30, "--help lists only %d long options?" % len(options))
    missing = sorted(o for o in options if "\\-\\-" + o.replace("-", "\\-") not in page)
    check(not missing, "options in --help but not in docs/forktrace.8: %r" % missing)
    check('"forktrace %s"' % version in page, "the page does not name version %s" % version)
    r = subprocess.run(["man", "--warnings", "-l", page_path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=dict(os.environ, MANWIDTH="80"))
    check(r.returncode == 0 and not r.stderr.strip() and "runaway" in r.stdout,
          "man -l: rc %d, warnings %r" % (r.returncode, r.stderr[:300]))


@test
def make_install_puts_binary_man_page_and_unit():
    """make install (into a DESTDIR): the binary runs, the man page and the
    systemd unit are where man and systemd look."""
    with tempfile.TemporaryDirectory() as dest:
        r = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        check(r.returncode == 0, "make install: %s" % r.stdout[-300:])
        binary = os.path.join(dest, "usr/local/sbin/forktrace")
        v = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, text=True)
        check(v.returncode == 0 and v.stdout.startswith("forktrace "), "installed binary: %r" %
              v.stdout)
        for rel in ("usr/local/share/man/man8/forktrace.8",
                    "etc/systemd/system/forktrace.service"):
            check(os.path.isfile(os.path.join(dest, rel)), "%s not installed" % rel)
