"""Bomb: the "fork while a thread holds a lock" cascade.

A small service keeps its stats in a dict guarded by a lock; a background
flusher thread holds that lock most of the time while it "writes" the stats
out, and a request thread takes it briefly for every request.  A watchdog
checks its worker's heartbeat every 2 s and, when it looks stale, forks a
replacement worker (os.fork, no exec).  Two bugs:

  * the heartbeats live in a plain dict that each worker updates in its own
    copy of memory, so the watchdog never sees one: it forks a replacement
    every 2 s, forever;
  * the forked worker, after registering itself and starting its threads,
    falls back into the watchdog loop it was forked from instead of only
    serving, so every worker is a watchdog too.

A worker forked while the flusher held the lock inherits it locked by a
thread that does not exist in the child: it blocks for ever on its first
acquire and stays around.  The others start their own flusher, request
thread and watchdog, and fork replacements of their own, so the number of
processes grows exponentially, doubling every few seconds.
Run it only under build/contain.
"""
import os
import random
import threading
import time

WATCHDOG_PERIOD_S = 2.0
HEARTBEAT_STALE_S = 1.5

stats_lock = threading.Lock()
stats = {"requests": 0, "workers": [], "flushes": 0}
heartbeats = {}  # pid -> time of last request served ("shared" with workers: it isn't)
worker_pid = None


def flusher():
    """Serialize the stats and write them out: slow, done under the lock."""
    while True:
        with stats_lock:
            snapshot = repr(stats)
            time.sleep(random.uniform(0.08, 0.12))  # "disk write"
            stats["flushes"] += 1
            del snapshot
        time.sleep(random.uniform(0.06, 0.10))


def serve():
    while True:
        time.sleep(0.05)  # "a request"
        with stats_lock:
            stats["requests"] += 1
        heartbeats[os.getpid()] = time.monotonic()


def start_threads():
    threading.Thread(target=flusher, daemon=True).start()
    threading.Thread(target=serve, daemon=True).start()


def become_worker():
    global worker_pid
    worker_pid = None
    with stats_lock:  # blocks for ever if the flusher held it at fork time
        stats["workers"].append(os.getpid())
    start_threads()


def worker_alive():
    if worker_pid is None:
        return False
    return time.monotonic() - heartbeats.get(worker_pid, 0.0) < HEARTBEAT_STALE_S


def watchdog():
    global worker_pid
    while True:
        time.sleep(WATCHDOG_PERIOD_S)
        if worker_alive():
            continue
        try:
            pid = os.fork()
        except OSError:
            continue  # try again on the next round
        if pid == 0:
            become_worker()
            continue  # BUG: should serve and never return here
        worker_pid = pid


if __name__ == "__main__":
    start_threads()
    watchdog()
