"""Bomb (with sup_pool_worker.py): a process supervisor that starts
`python3 sup_pool_worker.py` (the file next to it) with subprocess.Popen
and restarts it whenever it exits.  The worker's pool tasks open pools of
their own without end.  Run it only under build/contain.

    python3 sup_pool_supervisor.py
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "sup_pool_worker.py")


def log(msg):
    print(f"[supervisor {os.getpid()}] {msg}", file=sys.stderr, flush=True)


def start_worker():
    while True:
        try:
            proc = subprocess.Popen([sys.executable, WORKER, "https://example.test/"],
                                    cwd=HERE)
            log(f"started crawler pid {proc.pid}")
            return proc
        except OSError as e:
            log(f"cannot start crawler: {e}; retrying")
            time.sleep(1)


def main():
    worker = start_worker()
    while True:
        try:
            rc = worker.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            continue
        log(f"crawler exited with {rc}; restarting")
        time.sleep(1)
        worker = start_worker()


if __name__ == "__main__":
    main()
