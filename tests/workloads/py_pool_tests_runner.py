"""Benign: a small test runner.  Runs N test files as subprocesses
(`python3 py_pool_test_case.py K`), 4 at a time, the way a CI test runner
does; each test opens a multiprocessing.Pool(4) and maps some work over it.
Prints a summary and exits 0 when every test passed.  Finishes in seconds.

    python3 py_pool_tests_runner.py [N]
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CASE = os.path.join(HERE, "py_pool_test_case.py")
PARALLEL = 4


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    pending = list(range(n))
    running = {}
    failed = []
    start = time.monotonic()
    while pending or running:
        while pending and len(running) < PARALLEL:
            k = pending.pop(0)
            running[k] = subprocess.Popen([sys.executable, CASE, str(k)],
                                          stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True)
        pid, status = os.wait()
        for k, p in list(running.items()):
            if p.pid == pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                out = p.stdout.read()
                p.stdout.close()
                del running[k]
                if p.returncode != 0:
                    failed.append(k)
                    sys.stdout.write(out)
                break
    print(f"{n - len(failed)} passed, {len(failed)} failed "
          f"in {time.monotonic() - start:.1f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
