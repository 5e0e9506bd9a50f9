"""Bomb (with sup_respawn_worker.py): a small process supervisor, the kind
of thing that keeps one background worker alive.  It starts
`python3 sup_respawn_worker.py` (the file next to it) with subprocess.Popen,
polls it, and restarts it whenever it exits.  The supervisor itself is
fine; the worker re-runs itself at import time, so the tree under the
supervisor explodes, and the supervisor restarts it whenever it falls over.
Run it only under build/contain.

    python3 sup_respawn_supervisor.py
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "sup_respawn_worker.py")
POLL_S = 0.5
BACKOFF_S = 1.0


def log(msg):
    print(f"[supervisor {os.getpid()}] {msg}", file=sys.stderr, flush=True)


def start_worker():
    while True:
        try:
            proc = subprocess.Popen([sys.executable, WORKER], cwd=HERE)
            log(f"started worker pid {proc.pid}")
            return proc
        except OSError as e:  # EAGAIN and friends: try again later
            log(f"cannot start worker: {e}; retrying")
            time.sleep(BACKOFF_S)


def main():
    worker = start_worker()
    restarts = 0
    while True:
        rc = worker.poll()
        if rc is not None:
            restarts += 1
            log(f"worker exited with {rc}, restart #{restarts}")
            time.sleep(BACKOFF_S)
            worker = start_worker()
        time.sleep(POLL_S)


if __name__ == "__main__":
    main()
