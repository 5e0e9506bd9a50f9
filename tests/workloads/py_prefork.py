"""Benign: a pre-forking server that starts 40 workers at once and
replaces each one when it exits, for three seconds."""
import os
import random
import time

WORKERS = 40


def spawn():
    pid = os.fork()
    if pid == 0:
        time.sleep(random.uniform(0.2, 0.6))  # serve some requests
        os._exit(0)
    return pid


live = {spawn() for _ in range(WORKERS)}
deadline = time.time() + 3
while time.time() < deadline:
    pid, _ = os.wait()
    live.discard(pid)
    live.add(spawn())
while live:
    pid, _ = os.wait()
    live.discard(pid)
