#!/usr/bin/env python3
"""The live tests inside a `make test-kernels` guest (tests/kernels/README.md).

Runs the selected tests of tests/run.py's registry (the same functions, by
exact name), and prints a machine-readable report for the host to parse:

  FT-BEGIN {"kernel": ..., "btf": ..., "cpus": ..., "mem_kb": ..., "cgroup": ...}
  FT-ATTACH {"default": <start event>, "raw_tp": <start event of --attach raw_tp>}
  FT-TEST name                    a test starts
  FT-LOG name: text               what the test printed (and tracebacks)
  FT-RESULT {"test", "status": "ok"|"FAIL", "secs", "message", "figures"}
  FT-DONE {"passed": N, "failed": N, "secs": S}

Environment (set on the kernel command line by tests/kernels/run.py):
  FT_TESTS         comma-separated test names (default: DEFAULT_TESTS), or "all"
  FT_TEST_TIMEOUT  seconds one test may take before it is failed (default 900)
  FT_EXEC          debugging: a command (words joined by commas) run before the
                   tests, its output printed as "FT-LOG exec: ..."
"""
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/

import lib  # noqa: E402

DEFAULT_TESTS = [
    "live_tree3_parentage_exit_codes_signal",
    "live_threads_reported_as_threads",
    "live_preexisting_process_in_tree",
    "live_oom_kill_attributed_to_victim",
    "record_then_replay_gives_same_events",
    "live_storm_200k_seen_or_accounted",
    "live_raw_tp_fallback_same_tree",
    "kill_c_bomb",
    "kill_shell_bomb",
]

# --- observe what the tests see, without changing them -------------------------
# Every contain() report and every tracer's events during the current test, for
# the per-kernel figures (peak, time to empty, fallbacks).  Installed before the
# test modules import these names from lib.
SEEN = {"reports": [], "events": []}


def load_tests():
    """Register tests/run.py's tests, with contain() and Tracer.events observed."""
    contain, events = lib.contain, lib.Tracer.events

    def seen_contain(cmd, **kw):
        rep, out = contain(cmd, **kw)
        SEEN["reports"].append(dict(rep, cmd=" ".join(cmd)))
        return rep, out

    def seen_events(self):
        evs = events(self)
        SEEN["events"].append(evs)
        return evs

    lib.contain = seen_contain
    lib.Tracer.events = seen_events
    import test_foundation  # noqa: F401  (registers tests)
    import test_detection  # noqa: F401
    import test_containment  # noqa: F401
    return {t.__name__: t for t in lib.TESTS}


def emit(tag, obj):
    print("%s %s" % (tag, json.dumps(obj, sort_keys=True)), flush=True)


def start_event(*args):
    r = subprocess.run([lib.FORKTRACE, "-j", "-d", "0.2"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300)
    for line in r.stdout.splitlines():
        if '"event":"start"' in line:
            return json.loads(line)
    return {"error": "rc %d: %s" % (r.returncode, r.stderr.strip()[-300:])}


def guest_info():
    info = {"kernel": os.uname().release, "btf": os.path.exists("/sys/kernel/btf/vmlinux"),
            "cpus": os.cpu_count()}
    with open("/proc/meminfo") as f:
        info["mem_kb"] = int(f.readline().split()[1])
    mounts = open("/proc/self/mounts").read()
    info["cgroup"] = "v1 (hybrid)" if " cgroup " in mounts else "v2"
    try:
        with open("/sys/kernel/btf/vmlinux", "rb") as f:
            info["btf_has_bpf_send_signal_task"] = b"\0bpf_send_signal_task\0" in f.read()
    except OSError:
        pass
    return info


def containment_figures():
    """Peak, alert and time to empty of the bomb a --kill test contained."""
    figs = {}
    reps = [r for r in SEEN["reports"] if "peak" in r]
    if reps:
        figs["peak"] = reps[-1]["peak"]
        figs["contain_elapsed_ms"] = reps[-1].get("elapsed_ms")
    for evs in SEEN["events"]:
        actions = [e for e in evs if e.get("event") == "action" and not e.get("dry_run")
                   and not e.get("exempt")]
        if not actions:
            continue
        a = actions[0]
        alert = [e for e in evs if e.get("event") == "alert" and e.get("root") == a["root"]]
        figs.update(action=a["action"], complete=a.get("complete"), root_comm=a.get("comm"),
                    verdict_to_empty_ms=round(a["ms"], 1), signalled=a.get("signalled"),
                    kernel_signalled=a.get("kernel_signalled"))
        born = [e["ts"] for e in evs if e.get("event") in ("fork", "exec")
                and e.get("pid") == a["root"]]
        if alert:
            figs["pattern"] = alert[0].get("pattern")
            figs["alert_tasks"] = alert[0].get("tasks")
            if born:
                figs["start_to_alert_ms"] = round((alert[0]["ts"] - min(born)) / 1e6, 1)
        if born:
            # the action is reported when the tree is found empty: its ts is that moment
            figs["start_to_empty_ms"] = round((a["ts"] - min(born)) / 1e6, 1)
        ksig = [e for e in evs if e.get("event") == "signal" and e.get("via") == "kernel"]
        figs["kernel_signal_events"] = len(ksig)
        figs["child_signal_unavailable"] = len([e for e in ksig if e.get("child_result") is None])
        break
    return figs


def test_figures(name, printed):
    if name.startswith("kill_"):
        return containment_figures()
    figs = {}
    if name.startswith("live_storm"):
        for evs in SEEN["events"]:
            s = lib.summary(evs)
            if s:
                figs.update(seen=s["forks"], lost=s["lost_by_type"].get("fork", 0))
        for line in printed.splitlines():  # "    storm: performed N, seen N, lost N"
            if "storm: performed" in line:
                figs["performed"] = int(line.split("performed")[1].split(",")[0])
    if name.startswith("live_oom"):
        for evs in SEEN["events"]:
            figs["oom"] = [{k: e.get(k) for k in ("pid", "comm", "anon_rss_kb")}
                           for e in lib.by_event(evs, "oom")]
    for evs in SEEN["events"][:1]:
        if evs and evs[0].get("event") == "start":
            figs["attach"] = evs[0].get("attach")
    return figs


def memory_figures():
    """The guest's memory after a test: the runner keeps every event of a
    test in memory (the storm's are hundreds of thousands), and a guest short
    of memory ends with its runner killed, not with a failed test."""
    def kb(path, field):
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return None
    return {"mem_available_kb": kb("/proc/meminfo", "MemAvailable"),
            "runner_rss_kb": kb("/proc/self/status", "VmRSS"),
            "runner_peak_rss_kb": kb("/proc/self/status", "VmHWM")}


class Timeout(Exception):
    pass


def on_alarm(sig, frame):
    raise Timeout("no result after %s s (FT_TEST_TIMEOUT)" % os.environ.get(
        "FT_TEST_TIMEOUT", "900"))


def run_one(fn, limit):
    name = fn.__name__
    print("FT-TEST %s" % name, flush=True)
    SEEN["reports"].clear()
    SEEN["events"].clear()
    buf = io.StringIO()
    status, message = "ok", ""
    began = time.time()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit)
    try:
        with contextlib.redirect_stdout(buf):
            fn()
    except BaseException as e:  # noqa: BLE001 - a test's crash is its failure
        # BaseException too: a stray SIGINT (KeyboardInterrupt) or a
        # sys.exit() in a test must end as a failed test with its traceback,
        # not as a guest that ends without a result (nothing outside the
        # guest sends the runner a SIGINT: qemu is stopped by its handle)
        status, message = "FAIL", str(e) or type(e).__name__
        if not isinstance(e, lib.Fail):
            buf.write(traceback.format_exc())
    finally:
        signal.alarm(0)
    secs = time.time() - began
    for line in buf.getvalue().splitlines():
        print("FT-LOG %s: %s" % (name, line), flush=True)
    try:
        figs = test_figures(name, buf.getvalue())
    except Exception as e:  # noqa: BLE001 - figures are a report, never a failure
        figs = {"error": repr(e)}
    try:
        figs.update(memory_figures())
    except Exception as e:  # noqa: BLE001
        figs["memory_error"] = repr(e)
    emit("FT-RESULT", {"test": name, "status": status, "secs": round(secs, 1),
                       "message": message[:2000], "figures": figs})
    return status == "ok"


def main():
    began = time.time()
    names = [n for n in os.environ.get("FT_TESTS", "").split(",") if n] or DEFAULT_TESTS
    limit = int(os.environ.get("FT_TEST_TIMEOUT", "900"))
    emit("FT-BEGIN", guest_info())
    emit("FT-ATTACH", {"default": start_event(), "raw_tp": start_event("--attach", "raw_tp")})
    if os.environ.get("FT_EXEC"):  # debugging: one command, its words joined by commas
        r = subprocess.run(os.environ["FT_EXEC"].split(","), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
        for line in r.stdout.splitlines() + ["rc=%d" % r.returncode]:
            print("FT-LOG exec: " + line, flush=True)
    by_name = load_tests()
    if names == ["all"]:
        names = list(by_name)
    lib.sweep()
    passed = failed = 0
    for name in names:
        fn = by_name.get(name)
        if fn is None:
            emit("FT-RESULT", {"test": name, "status": "FAIL", "secs": 0,
                               "message": "no such test in tests/run.py", "figures": {}})
            failed += 1
            continue
        if run_one(fn, limit):
            passed += 1
        else:
            failed += 1
        lib.sweep()
    emit("FT-DONE", {"passed": passed, "failed": failed, "secs": round(time.time() - began, 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
