"""Leak: zombies from Python.  A service runs a short helper command every
100 ms and keeps the subprocess.Popen objects in a list "for later" but
never calls wait()/poll() on them, so every finished helper stays a zombie
(Popen only reaps in __del__, and the list keeps them alive).  Or the same
with os.fork() + os._exit(0) and no waitpid.  One parent, no cascade.
Runs until killed.

    python3 tests/workloads/py_zombie_leak.py [INTERVAL_MS] [popen|fork]

popen (default) runs /bin/true (fork+exec); fork only forks.
Run it only under build/contain.
"""
import os
import subprocess
import sys
import time


def main():
    interval = (float(sys.argv[1]) if len(sys.argv) > 1 else 100.0) / 1000.0
    mode = sys.argv[2] if len(sys.argv) > 2 else "popen"
    if mode not in ("popen", "fork"):
        sys.exit("usage: py_zombie_leak.py [INTERVAL_MS] [popen|fork]")
    helpers = []  # kept "to check their status later"; never checked
    while True:
        try:
            if mode == "popen":
                helpers.append(subprocess.Popen(["/bin/true"]))
            elif os.fork() == 0:
                os._exit(0)
        except OSError:
            pass
        time.sleep(interval)


if __name__ == "__main__":
    main()
