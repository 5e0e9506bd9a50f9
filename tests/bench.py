#!/usr/bin/env python3
"""forktrace benchmarks (make bench): writes docs/performance.md.

Tracing cost: fork-loop and vfork-loop rates with no tracer and with each
tracer (forktrace, bpftrace printing one line per fork, forkstat), as
paired runs in one session; each pair gives a ratio traced/untraced and the
table reports the median.  Loss: a vfork storm on both CPUs at the
machine's maximum rate, with forktrace's own accounting.
Every workload runs under tests/contain.c.
"""
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (FORKTRACE, ROOT, Tracer, by_event, contain, contain_cmd, summary,  # noqa
                 storm_result, sweep, tool)
from test_detection import BOMBS, WL, tree_of  # noqa: E402

PAIRS = int(os.environ.get("BENCH_PAIRS", "5"))
LOOPS = {"fork": ["2000"], "vfork": ["-v", "30000"]}
BPFTRACE_PROG = ('tracepoint:sched:sched_process_fork '
                 '{ printf("%d %d\\n", args->parent_pid, args->child_pid); }')


class External:
    """A tracer other than forktrace, started before a run and stopped after."""

    def __init__(self, name, cmd, ready_text, ready_in_stdout=True):
        self.name = name
        self.out = tempfile.NamedTemporaryFile("w+", delete=False)
        self.err = tempfile.NamedTemporaryFile("w+", delete=False)
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err)
        watch = self.out.name if ready_in_stdout else self.err.name
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(watch) as f:
                if ready_text in f.read():
                    break
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited: %s" % (name, open(self.err.name).read()))
            time.sleep(0.05)
        time.sleep(0.2)

    def stop(self):
        time.sleep(0.3)
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        text = open(self.out.name).read()
        err = open(self.err.name).read()
        for f in (self.out, self.err):
            f.close()
            os.unlink(f.name)
        return text, err


def start_tracer(name):
    if name == "forktrace":
        return Tracer()
    if name == "forktrace-noop":
        return Tracer("--noop")
    if name == "bpftrace":
        return External(name, ["bpftrace", "-e", BPFTRACE_PROG], "Attaching")
    if name == "forkstat":
        return External(name, ["forkstat", "-e", "fork,exit"], "Time")
    raise ValueError(name)


def stop_tracer(name, t):
    if name.startswith("forktrace"):
        events = t.stop(settle=0.5)
        t.cleanup()
        s = summary(events)
        return {"lost": s["lost"] if s else None}
    text, err = t.stop()
    lost = None
    for line in err.splitlines():
        if "Lost" in line and "events" in line:  # bpftrace's own report
            lost = int("".join(ch for ch in line.split("Lost")[1].split("events")[0]
                               if ch.isdigit()) or 0)
    return {"lost": lost if name == "bpftrace" else None}


def one_run(loop_args, tracer=None):
    t = start_tracer(tracer) if tracer else None
    try:
        rep, out = contain([tool("storm")] + loop_args, max_tasks=100, timeout=120)
        done, failed, secs = storm_result(out)
    finally:
        extra = stop_tracer(tracer, t) if t else {}
    return done / secs, extra


def available(name):
    return subprocess.run(["which", name], stdout=subprocess.DEVNULL).returncode == 0


def bench_cost(tracers):
    rows = []
    for loop, args in LOOPS.items():
        for tracer in tracers:
            ratios, base_rates, traced_rates, lost = [], [], [], []
            for _ in range(PAIRS):
                base, _ = one_run(args)
                traced, extra = one_run(args, tracer)
                base_rates.append(base)
                traced_rates.append(traced)
                ratios.append(traced / base)
                if extra.get("lost") is not None:
                    lost.append(extra["lost"])
            med = statistics.median(ratios)
            rows.append((loop, tracer, statistics.median(base_rates),
                         statistics.median(traced_rates), med, min(ratios), max(ratios),
                         sum(lost) if lost else None))
            print("  %-6s %-10s untraced %8.0f/s traced %8.0f/s ratio %.3f (%.3f..%.3f)"
                  % rows[-1][:7], flush=True)
    return rows


def bench_max_rate():
    """vfork storm on both CPUs: the machine's ceiling; forktrace must keep up."""
    t = Tracer()
    try:
        rep, out = contain([tool("storm"), "-v", "-p", "2", "200000"], max_tasks=100,
                           timeout=300)
        done, failed, secs = storm_result(out)
        events = t.stop(settle=1.0)
    finally:
        t.cleanup()
    s = summary(events)
    return done, secs, s["forks"], s["lost"], s["lost_by_type"]


def tracing_report(cost_rows, max_rate, tracers):
    done, secs, seen, lost, by_type = max_rate
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (tests/bench.py); numbers below are from the last run.",
        "",
        "Machine: %s, %d CPUs, kernel %s.  Date: %s." % (
            platform.machine(), os.cpu_count(), platform.release(),
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
        "",
        "## Tracing cost on fork-heavy workloads",
        "",
        "Each row: %d pairs of runs, the loop alone then the loop under the tracer, "
        "back to back in one session; ratio = traced rate / untraced rate per pair, "
        "median (min..max).  The loop is tests/storm.c (fork or vfork a child that "
        "exits at once, reap it, repeat) on one CPU, contained.  forktrace runs with "
        "its defaults and `-j` into a file; bpftrace prints one line per fork; "
        "forkstat prints forks and exits.  Target for forktrace: cost <= 3 %%, i.e. "
        "ratio >= 0.97." % PAIRS,
        "",
        "| loop | tracer | untraced /s | traced /s | ratio (median) | min..max | cost | "
        "lost |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for loop, tracer, base, traced, med, lo, hi, row_lost in cost_rows:
        lines.append("| %s | %s | %.0f | %.0f | %.3f | %.3f..%.3f | %.1f %% | %s |" % (
            loop, tracer, base, traced, med, lo, hi, (1 - med) * 100,
            "n/a" if row_lost is None else row_lost))
    lines += [
        "",
        "`lost` is what the tracer itself reports: forktrace counts every failed ring "
        "buffer reserve; bpftrace reports lost perf-buffer events; forkstat (proc "
        "connector) has no loss count at all (`n/a`).",
        "",
        "## Loss at the machine's maximum rate",
        "",
        "A vfork storm on both CPUs (tests/storm.c -v -p 2 200000), forktrace tracing "
        "everything with its defaults (16 MiB ring, wakeup batching at 64 KiB):",
        "",
        "| forks performed | seconds | rate /s | forks seen | records lost |",
        "|---:|---:|---:|---:|---:|",
        "| %d | %.2f | %.0f | %d | %d %s|" % (done, secs, done / secs, seen, lost,
                                             "(%r) " % by_type if lost else ""),
        "",
        "Seen can exceed performed by the few forks the rest of the machine did "
        "meanwhile; the exact per-cgroup accounting (seen + lost == performed) is "
        "asserted by `live_storm_200k_seen_or_accounted` in `make test`.",
        "",
        "## Ring buffer sizing and wakeups",
        "",
        "16 MiB holds about 170,000 fork records (88 bytes plus the ring's 8-byte header), four seconds of this machine's vfork ceiling with the reader descheduled.  While observing, records are submitted with BPF_RB_NO_WAKEUP until 64 KiB are queued, then with a forced wakeup, and the reader consumes after each 50 ms poll timeout, so a record is at most ~50 ms late on a quiet host.  With --kill/--stop an idle reader is woken at once.",
        "",
    ]
    lines += ["", "Reading these numbers: ratios within about 5 % of 1 are inside this VM's run-to-run noise (fork-loop ratios above 1, the traced loop faster, have been measured; the cause was not isolated).  The vfork loop is the worst case for any tracer, two records per ~35 us iteration on 2 vCPUs: forktrace's programs take ~0.3 us per record (kernel bpf_stats), yet the vfork loop slows by more than that: the 3 % target holds for the fork loop, not for the vfork loop (table above).  The `forktrace-noop` row (`--noop`: the same programs attached, returning at once) is the floor a tracepoint-based tracer pays here before doing anything; forktrace's record building and ring buffer writes add the rest.  Part of that rest is the ring buffer's shared state moving between the two CPUs (the vfork child exits on the other one); per-CPU buffers would avoid it but lose the cross-CPU order the process table relies on (a fork before its child's exit).", ""]
    if len(tracers) < 4:
        lines.append("Not measured this run: %s (not installed)." %
                     ", ".join(t for t in ("bpftrace", "forkstat") if t not in tracers))
    return lines


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def bench_detection(runs=3):
    """Per bomb: time from the tree's first fork to the alert, tasks then."""
    rows = []
    for name, (cmd, pattern, cap, timeout) in BOMBS.items():
        lat, size, got = [], [], []
        for _ in range(runs):
            t = Tracer()
            try:
                rep, _ = contain(cmd, max_tasks=cap, timeout=timeout, wait_all=True)
                events = t.stop(settle=0.5)
            finally:
                t.cleanup()
            pids = tree_of(events, rep["pid"])
            alerts = [e for e in by_event(events, "alert") if e["root"] in pids
                      and not e["update"]]
            if not alerts:
                got.append("missed")
                continue
            a = alerts[0]
            forks = [e["ts"] for e in by_event(events, "fork") if e["pid"] in pids]
            lat.append((a["ts"] - min(forks or [a["ts"]])) / 1e6)
            size.append(a.get("tasks", a.get("threads", a.get("restarts", 0))))
            got.append(a["pattern"])
        rows.append((name, pattern, got, median(lat), median(size)))
        print("  %-13s %-17s latency %7.1f ms, size %5.0f  %s" %
              (name, pattern, median(lat), median(size), ",".join(got)), flush=True)
    return rows


def timed(cmd):
    began = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - began, r.returncode


def bench_detector_cost(reps=5):
    """Replay one recorded mix with and without the detector, side by side."""
    path = tempfile.mktemp(suffix=".ftr")
    t = Tracer("-w", path)
    try:
        contain([tool("storm"), "-v", "40000"], max_tasks=100, timeout=60)
        contain(["/bin/sh", WL + "/make_many.sh", "120"], max_tasks=200, timeout=120)
        contain([tool("wl_bomb_c")], max_tasks=1000, timeout=2, wait_all=True)
        events = t.stop(settle=0.5)
    finally:
        t.cleanup()
    records = summary(events)["records"]
    with_d, without = [], []
    for _ in range(reps):
        d, _ = timed([FORKTRACE, "-j", "-r", path])
        n, _ = timed([FORKTRACE, "-j", "-r", path, "--no-detect"])
        with_d.append(d)
        without.append(n)
    os.unlink(path)
    cost = (median(with_d) - median(without)) / records * 1e9
    print("  %d records: replay %.3f s with detector, %.3f s without: %.0f ns/record" %
          (records, median(with_d), median(without), cost), flush=True)
    return records, median(with_d), median(without), cost


PROC_KILLER = os.path.join(ROOT, "tests", "proc_killer.py")
CONTAIN_CAP = 500  # 1,000 froze this 2-vCPU VM (and the harness) for seconds


def contain_run(method, bomb_cmd, hold=3):
    """One bomb under one defence; the pids cap (CONTAIN_CAP) is always there."""
    helper = None
    t = None
    if method == "proc_poller":
        helper = subprocess.Popen([sys.executable, PROC_KILLER, "--duration", str(hold + 5)],
                                  stdout=subprocess.PIPE, text=True)
        helper.stdout.readline()  # "ready"
    elif method.startswith("forktrace"):
        t = Tracer(*(["--kill"] + (["--guard", "16"] if "guard" in method else [])))
    try:
        rep, _ = contain(bomb_cmd, max_tasks=CONTAIN_CAP, timeout=hold, wait_all=True)
        events = t.stop(settle=0.3) if t else []
    finally:
        if t:
            t.cleanup()
        if helper:
            helper.kill()
            helper.wait()
    actions = [e for e in by_event(events, "action") if e.get("complete")]
    return {"peak": rep["peak"], "emptied": not rep["timed_out"],
            "empty_ms": rep["elapsed_ms"], "cpu_ms": rep.get("cpu_ns", -1) / 1e6,
            "verdict_ms": actions[0]["ms"] if actions else None}


def bench_containment(runs=3):
    bombs = {"c_bomb": [tool("wl_bomb_c")],
             "shell_bomb": ["/bin/bash", WL + "/shell_bomb.sh"]}
    methods = ["pids_max_only", "proc_poller", "forktrace_kill", "forktrace_kill_guard"]
    rows = []
    for bomb, cmd in bombs.items():
        for m in methods:
            rs = [contain_run(m, cmd) for _ in range(runs)]
            emptied = [r for r in rs if r["emptied"]]
            row = (bomb, m, median([r["peak"] for r in rs]), len(emptied), len(rs),
                   median([r["empty_ms"] for r in emptied]),
                   median([r["cpu_ms"] for r in rs]),
                   median([r["verdict_ms"] for r in rs if r["verdict_ms"] is not None]))
            rows.append(row)
            print("  %-10s %-21s peak %5.0f  emptied %d/%d in %7.0f ms  cpu %7.0f ms  "
                  "verdict->empty %s ms" % (row[:7] + ("%.1f" % row[7],)), flush=True)
    return rows


def detection_report(det_rows, cost):
    records, with_d, without, per = cost
    lines = [
        "",
        "## Detection latency",
        "",
        "Each bomb of tests/workloads run 3 times, contained, forktrace at its defaults; "
        "latency = from the tree's first fork to the alert (kernel timestamps of both), "
        "size = live tasks in the tree when flagged (threads for thread_explosion, "
        "restarts for restart_loop); medians.",
        "",
        "| workload | pattern | detected as (3 runs) | latency ms | tree size at alert |",
        "|---|---|---|---:|---:|",
    ]
    for name, pattern, got, lat, size in det_rows:
        lines.append("| %s | %s | %s | %.1f | %.0f |" % (name, pattern, ", ".join(got), lat,
                                                       size))
    lines += [
        "",
        "## Detector cost",
        "",
        "One recording (a 40,000-vfork storm, a parallel make of 120 files, a C bomb "
        "capped at 1,000) replayed %d times with the detector and %d times with "
        "`--no-detect`, alternating; medians." % (5, 5),
        "",
        "| records | replay with detector | without | detector cost per record |",
        "|---:|---:|---:|---:|",
        "| %d | %.3f s | %.3f s | %.0f ns |" % (records, with_d, without, per),
    ]
    return lines


def containment_report(rows):
    lines = [
        "",
        "## Containment",
        "",
        "The same bombs, 3 runs each, under four defences.  Every run has a pids cgroup "
        "capped at %d tasks (the harness's; `pids_max_only` is that cap alone) and is "
        "ended by the harness after 3 s if still alive.  `proc_poller` is "
        "tests/proc_killer.py, which does what /proc-polling killers do (fork rate from "
        "/proc every 100 ms, kill the most numerous command above 500 forks/s).  "
        "`forktrace_kill` is `forktrace --kill` at defaults; `_guard` adds `--guard 16`.  "
        "Peak = most tasks in the cgroup; empty = time from the workload's start to an "
        "empty tree; CPU = CPU time the bomb's cgroup burnt; verdict->empty is "
        "forktrace's own `action.ms`.  Medians." % CONTAIN_CAP,
        "",
        "| bomb | defence | peak tasks | emptied | time to empty | CPU burnt | "
        "verdict->empty |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for bomb, m, peak, ne, n, empty, cpu, vms in rows:
        lines.append("| %s | %s | %.0f | %d/%d | %s | %.0f ms | %s |" % (
            bomb, m, peak, ne, n, "%.0f ms" % empty if ne else "never (3 s cutoff)", cpu,
            "%.1f ms" % vms if vms == vms else "-"))
    lines += ["", "`-` in verdict->empty: no verdict was needed (the guard emptied the tree before the detector flagged it) or the defence has none.  The /proc poller never emptied the C bomb within 3 s: it runs at normal priority, and 500 processes spinning in fork() leave it little CPU; each kill pass also races the survivors' forks.  The shell bomb's processes exit after forking, so it burns far less CPU under a cap and the poller catches up."]
    return lines


def main():
    if os.geteuid() != 0:
        print("benchmarks need root: sudo make bench", file=sys.stderr)
        return 1
    sweep()
    tracers = ["forktrace", "forktrace-noop"] + [t for t in ("bpftrace", "forkstat")
                                                 if available(t)]
    print("tracing cost (%d pairs per row):" % PAIRS, flush=True)
    cost = bench_cost(tracers)
    print("maximum rate:", flush=True)
    mr = bench_max_rate()
    print("  performed %d in %.2fs, seen %d, lost %d" % mr[:4], flush=True)
    print("detection latency:", flush=True)
    det = bench_detection()
    print("detector cost:", flush=True)
    dcost = bench_detector_cost()
    print("containment:", flush=True)
    cont = bench_containment()
    lines = tracing_report(cost, mr, tracers) + detection_report(det, dcost) + \
        containment_report(cont)
    path = os.path.join(ROOT, "docs", "performance.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", path)
    sweep()
    return 0


if __name__ == "__main__":
    sys.exit(main())
