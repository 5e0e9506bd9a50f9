"""Benign: a pre-forking server that grows its pool of spare workers
exponentially as load rises, Apache-style: every tick it forks twice as
many new workers as the tick before (1, 2, 4, 8, 16, 32, ... up to a cap of
64 workers), all from the master.  A load generator thread in the master
connects to the workers at a rising rate.  After holding the full pool for
a few seconds the master stops the workers (SIGTERM), reaps them and exits
0.  Takes about 8 s.

    python3 prefork_grow.py
"""
import os
import signal
import socket
import sys
import threading
import time

MAX_WORKERS = 64
TICK_S = 0.5
HOLD_S = 3.0

stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


def worker(listener):
    signal.signal(signal.SIGTERM, on_term)
    listener.settimeout(0.2)
    served = 0
    while not stopping:
        try:
            conn, _ = listener.accept()
        except (socket.timeout, InterruptedError):
            continue
        with conn:
            conn.settimeout(1.0)
            try:
                req = conn.recv(256)
                conn.sendall(b"200 " + str(os.getpid()).encode() + b" " + req)
                served += 1
            except OSError:
                pass
    os._exit(0)


def spawn(listener):
    pid = os.fork()
    if pid == 0:
        worker(listener)
    return pid


def load(port, stop, rate):
    """Client: connect at the rate the master publishes in rate[0]."""
    n = 0
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(f"GET /{n}\n".encode())
                s.recv(256)
                n += 1
        except OSError:
            pass
        time.sleep(1.0 / rate[0])
    return n


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]

    workers = [spawn(listener)]
    rate = [5.0]
    stop = threading.Event()
    client = threading.Thread(target=load, args=(port, stop, rate))
    client.start()

    batch = 1
    while len(workers) < MAX_WORKERS:  # load rises: grow the spare pool
        time.sleep(TICK_S)
        batch = min(batch * 2, MAX_WORKERS - len(workers))
        workers += [spawn(listener) for _ in range(batch)]
        rate[0] = min(rate[0] * 2, 200.0)
    time.sleep(HOLD_S)

    stop.set()
    client.join()
    for pid in workers:
        os.kill(pid, signal.SIGTERM)
    bad = 0
    for pid in workers:
        _, status = os.waitpid(pid, 0)
        bad += os.waitstatus_to_exitcode(status) != 0
    listener.close()
    print(f"prefork_grow: {len(workers)} workers, {bad} exited badly")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
