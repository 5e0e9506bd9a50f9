"""A neighbour that runs a short job every 20 ms and, like bash's
`fork: retry`, keeps trying when the kernel refuses the fork (three tries
in a row, then the next round).  It never
blocks on a job: a job starved of CPU must not stop it from trying again.
Prints how many forks were refused when it is terminated, or after SECONDS.

    python3 tests/workloads/py_fork_retrier.py [SECONDS]
"""
import errno
import os
import signal
import sys
import time

refused = 0


def report(signum, frame):
    print("refused %d" % refused, flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, report)
end = time.monotonic() + (float(sys.argv[1]) if len(sys.argv) > 1 else 1e9)
while time.monotonic() < end:
    for attempt in range(3):  # three tries in a row, then wait
        try:
            if os.fork() == 0:
                os._exit(0)
            break
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ENOMEM):
                raise
            refused += 1
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
    time.sleep(0.02)
report(None, None)
