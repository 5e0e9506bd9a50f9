"""Bomb: a script without an `if __name__ == "__main__":` guard that starts
two more copies of itself through the shell (subprocess.Popen(cmd,
shell=True), as scripts that build a command string often do), so the tree
alternates python -> sh -> python -> sh ...  Run it only under build/contain.
"""
import os
import shlex
import subprocess
import sys

script = os.path.abspath(sys.argv[0])
cmd = f"{shlex.quote(sys.executable)} {shlex.quote(script)} --part"

parts = [subprocess.Popen(cmd, shell=True) for _ in range(2)]
for p in parts:
    p.wait()
