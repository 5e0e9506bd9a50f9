#!/usr/bin/env python3
"""forktrace's test runner: the C unit tests, then live tests that load the
BPF programs, fork real processes and compare.  Ends with "N passed, N failed,
N skipped" (a test that cannot measure its subject here skips, never passes).

    python3 tests/run.py [-k SUBSTRING] [--list]
"""
import argparse
import os
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import TESTS, Fail, Skip, hold_live_lock, sweep, tool  # noqa: E402
import test_foundation  # noqa: E402,F401  (registers tests)
import test_detection  # noqa: E402,F401
import test_containment  # noqa: E402,F401
import test_k8s  # noqa: E402,F401
import test_deploy  # noqa: E402,F401
import test_views  # noqa: E402,F401
import test_hardening  # noqa: E402,F401
import test_leave_on  # noqa: E402,F401
import test_hiding  # noqa: E402,F401


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="",
                    help="run tests whose name contains this (several: comma-separated)")
    ap.add_argument("--list", action="store_true")
    opts = ap.parse_args()
    if opts.list:
        print("\n".join(["unit"] + [t.__name__ for t in TESTS]))
        return 0
    if os.geteuid() != 0:
        print("tests need root: sudo make test", file=sys.stderr)
        return 1
    os.makedirs("/sys/fs/bpf", exist_ok=True)
    lock = hold_live_lock()  # noqa: F841 - held until exit
    sweep()
    passed = failed = skipped = 0
    wanted = [k for k in opts.k.split(",") if k] or [""]
    if any(k in "unit" for k in wanted):
        r = subprocess.run([tool("test_units")], stdout=subprocess.PIPE, text=True)
        print(r.stdout, end="")
        lines = r.stdout.strip().splitlines()
        last = lines[-1].split() if lines else []
        if len(last) >= 4 and last[1] == "passed," and last[3] == "failed":
            passed += int(last[0])
            failed += int(last[2])
            if r.returncode and not int(last[2]):
                failed += 1
        else:  # it crashed before its summary: that is a failure
            failed += 1
            print("FAIL unit: test_units ended with status %d before its summary" %
                  r.returncode)
    for t in TESTS:
        if not any(k in t.__name__ for k in wanted):
            continue
        began = time.time()
        try:
            t()
            passed += 1
            print("ok   %s (%.1fs)" % (t.__name__, time.time() - began))
        except Skip as e:
            skipped += 1
            print("skip %s (%.1fs): %s" % (t.__name__, time.time() - began, e))
        except Exception as e:  # noqa: BLE001 - a test's crash is its failure
            failed += 1
            print("FAIL %s (%.1fs): %s" % (t.__name__, time.time() - began, e))
            if not isinstance(e, Fail):
                traceback.print_exc()
        sys.stdout.flush()
    sweep()
    # make test SANITIZE=...: any report any forktrace wrote is a failure
    logs = os.path.join(os.environ.get("FORKTRACE_BUILD", ""), "sanitizer")
    if os.environ.get("FORKTRACE_SANITIZE") and os.path.isdir(logs):
        for name in sorted(os.listdir(logs)):
            failed += 1
            with open(os.path.join(logs, name)) as f:
                print("FAIL sanitizer report %s:\n%s" % (name, f.read()[:3000]))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
