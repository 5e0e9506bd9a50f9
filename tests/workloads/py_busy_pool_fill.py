"""Benign: a test starts 48 sleeping workers one after another, doing work
of its own before each start (CPython's test_many_processes, on a host
where forking the interpreter takes tens of milliseconds: the parent is
busy the whole time it starts them).  The workers sleep until told to go,
then all exit together.

    python3 tests/workloads/py_busy_pool_fill.py [WORKERS] [PREP_MS]

Each worker is started PREP_MS (default 100) of CPU work after the last,
so the pool fills over seconds on any host.  Run it only under build/contain.
"""
import multiprocessing as mp
import sys
import time


def sleeper(go):
    go.wait(60)


def busy_for(ms):
    end = time.perf_counter() + ms / 1000.0
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def main():
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 48
    prep_ms = float(sys.argv[2]) if len(sys.argv) > 2 else 100
    ctx = mp.get_context("fork")
    go = ctx.Event()
    procs = []
    for _ in range(workers):
        busy_for(prep_ms)
        p = ctx.Process(target=sleeper, args=(go,))
        p.start()
        procs.append(p)
    go.set()
    for p in procs:
        p.join(60)
        if p.exitcode != 0:
            sys.exit(1)


if __name__ == "__main__":
    main()
