# A burst, a quiet spell, then ordinary work, in one process tree: the first
# worker forks 24 short children at once, the second (after argv[1] seconds
# of quiet, default 2.5) forks 4.  Prints how each worker ended:
# "burst=<status> later=<status>", where a status is "exit N" or "signal N".
import os
import sys
import time


def worker(n):
    pid = os.fork()
    if pid:
        return pid
    kids = []
    for _ in range(n):
        k = os.fork()
        if k == 0:
            os._exit(0)
        kids.append(k)
    for k in kids:
        os.waitpid(k, 0)
    os._exit(0)


def status(pid):
    _, st = os.waitpid(pid, 0)
    if os.WIFSIGNALED(st):
        return "signal %d" % os.WTERMSIG(st)
    return "exit %d" % os.WEXITSTATUS(st)


burst = status(worker(24))
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 2.5)
later = status(worker(4))
print("burst=%s later=%s" % (burst, later), flush=True)
