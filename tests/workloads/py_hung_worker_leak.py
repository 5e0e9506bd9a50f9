"""Leak: the seed's hung workers, without the cascade.

A watchdog process keeps its state behind a threading.Lock that a
background "flusher" thread holds most of the time.  Its main thread forks
(os.fork, no exec) a new worker every 0.2 s.  A worker first takes the lock
it inherited; when the fork happened while the flusher held it (nearly
always), the lock is held by a thread that does not exist in the child and
the worker blocks on it for ever.  The rare worker that gets the lock does
a little work and exits.  The watchdog never waits for its workers, so it
collects hung workers (and a few zombies) at ~5 per second, one level deep:
no worker forks anything.  Runs until killed.

    python3 tests/workloads/py_hung_worker_leak.py [INTERVAL_S [WORK_MS]]

WORK_MS: CPU time the watchdog spends on its own work before each sleep
(0 by default): under a CPU limit, the time it is then held waiting.

Run it only under build/contain.
"""
import os
import sys
import threading
import time

state_lock = threading.Lock()
state = {"flushes": 0, "workers": 0}


def flusher():
    while True:
        with state_lock:
            state["flushes"] += 1
            time.sleep(0.1)  # "writing the state out", under the lock
        time.sleep(0.001)


def worker():
    with state_lock:  # inherited locked: blocks for ever
        state["workers"] += 1
    sum(i * i for i in range(10000))
    os._exit(0)


def main():
    interval = float(sys.argv[1]) if len(sys.argv) > 1 else 0.2
    work = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
    threading.Thread(target=flusher, daemon=True).start()
    while True:
        until = time.thread_time() + work
        while time.thread_time() < until:
            pass
        time.sleep(interval)
        try:
            pid = os.fork()
        except OSError:
            continue
        if pid == 0:
            worker()


if __name__ == "__main__":
    main()
