"""A pre-fork server shared by tenants (php-fpm, gunicorn, celery): the
master forks 8 workers that wait for requests.  After 4 s a tenant's request
crashes worker 7 and the master forks a replacement; a moment later another
request makes worker 0 fork without end (while True: os.fork()).  The
master keeps running until killed.

    python3 prefork_tenant.py PIDFILE

PIDFILE gets one line: "master=PID workers=PID,PID,... bomber=PID".
"""
import os
import signal
import sys
import time

WORKERS = 8


def worker(r):
    while True:
        req = os.read(r, 16)
        if req == b"crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        if req == b"bomb":
            while True:
                try:
                    os.fork()
                except OSError:
                    time.sleep(0.01)
        if not req:
            os._exit(0)


def spawn():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        worker(r)
    os.close(r)
    return pid, w


def main():
    pool = [spawn() for _ in range(WORKERS)]
    time.sleep(4)  # the workers are idle, long past any "recent fork"
    os.write(pool[7][1], b"crash")
    os.waitpid(pool[7][0], 0)
    pool[7] = spawn()  # the master respawns the crashed worker
    time.sleep(0.2)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("master=%d workers=%s bomber=%d\n" % (
            os.getpid(), ",".join(str(p) for p, _ in pool), pool[0][0]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    os.write(pool[0][1], b"bomb")
    while True:
        try:
            os.wait()
        except ChildProcessError:
            time.sleep(0.1)


main()
