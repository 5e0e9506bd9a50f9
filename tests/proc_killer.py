#!/usr/bin/env python3
"""A /proc-polling fork-bomb killer, for comparison in `make bench`.

It does what the existing userspace killers do (hakavlad/fork-bomb-killer
among them): poll the system's fork rate from /proc, and when it exceeds a
threshold, kill the processes of the most numerous command name, repeating
until the rate falls.  Not part of forktrace.

    proc_killer.py [--interval MS] [--rate FORKS_PER_S] [--duration S]
"""
import argparse
import collections
import os
import signal
import time


def last_pid():
    with open("/proc/loadavg") as f:
        return int(f.read().split()[-1])


def processes():
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        yield int(name), comm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--interval", type=float, default=100, help="poll period, ms")
    ap.add_argument("--rate", type=float, default=500, help="new pids per second")
    ap.add_argument("--duration", type=float, default=10)
    opts = ap.parse_args()
    me, end = os.getpid(), time.time() + opts.duration
    prev, prev_t = last_pid(), time.time()
    print("ready", flush=True)
    while time.time() < end:
        time.sleep(opts.interval / 1000)
        cur, now = last_pid(), time.time()
        rate = (cur - prev) / (now - prev_t)
        prev, prev_t = cur, now
        if rate < opts.rate:
            continue
        procs = [(p, c) for p, c in processes() if p > 1 and p != me]
        worst, count = collections.Counter(c for _, c in procs).most_common(1)[0]
        if count < 20:
            continue
        for pid, comm in procs:
            if comm == worst:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        print("killed %d x %s at %.0f forks/s" % (count, worst, rate), flush=True)


if __name__ == "__main__":
    main()
