"""Bomb (started by sup_respawn_supervisor.py): a worker meant to start two
"shard" helpers, each being this same file run with --shard N.  The helper
start-up sits at module level, with no `if __name__ == "__main__":` guard
and above the --shard check, so every helper starts two helpers of its own:
python -> 2 x python -> 4 x python ...  Run it only under build/contain.
"""
import os
import subprocess
import sys
import time

SELF = os.path.abspath(__file__)
SHARDS = 2


def start_shards():
    return [subprocess.Popen([sys.executable, SELF, "--shard", str(i)])
            for i in range(SHARDS)]


def process_shard(n):
    # stand-in for reading shard n of the queue
    total = 0
    for i in range(10000):
        total += (i * (n + 1)) % 7
    return total


helpers = start_shards()

if "--shard" in sys.argv:
    process_shard(int(sys.argv[sys.argv.index("--shard") + 1]))
    time.sleep(1)

for h in helpers:
    h.wait()
