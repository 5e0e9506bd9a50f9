# A script without an `if __name__ == "__main__":` guard that re-invokes
# itself (as subprocess + sys.argv[0] code often does by accident): every
# run starts two more.  Run it only under build/contain.
import subprocess
import sys

children = [subprocess.Popen([sys.executable, sys.argv[0]]) for _ in range(2)]
for c in children:
    c.wait()
