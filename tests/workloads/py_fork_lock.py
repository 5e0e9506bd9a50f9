"""The seed's hazard: fork while a helper thread holds a lock.  The child
inherits the lock locked by a thread that does not exist in it."""
import os
import threading
import time

lock = threading.Lock()


def holder():
    while True:
        with lock:
            time.sleep(0.01)


threading.Thread(target=holder, daemon=True).start()
time.sleep(0.05)
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        got = lock.acquire(timeout=0.3)
        os._exit(0 if got else 3)
    os.waitpid(pid, 0)
