"""Benign: a parallel test runner.  A pool of workers runs 'test files',
each of which starts a few short subprocesses.  tests/workloads/nested_runner.mk
runs two of these at once under make -j2."""
import multiprocessing as mp
import subprocess
import sys


def run_test(i):
    for _ in range(3):
        subprocess.run(["/bin/sh", "-c", "true; /bin/true"], check=True)
    return i


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with mp.get_context("fork").Pool(4) as pool:
        assert len(pool.map(run_test, range(n), chunksize=1)) == n
