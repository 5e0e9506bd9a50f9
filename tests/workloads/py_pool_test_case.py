"""Benign (run by py_pool_tests_runner.py): one test file.  Opens a
multiprocessing.Pool(4), maps some work over it and checks the results.

    python3 py_pool_test_case.py K
"""
import hashlib
import multiprocessing as mp
import sys


def digest(i):
    h = hashlib.sha256()
    for j in range(200):
        h.update(f"{i}:{j}".encode())
    return i, h.hexdigest()


def test_parallel_digests(k):
    items = range(k * 100, k * 100 + 400)
    with mp.Pool(4) as pool:
        got = dict(pool.map(digest, items, chunksize=20))
    assert got == dict(map(digest, items)), "pool results differ"
    assert len(got) == 400


if __name__ == "__main__":
    test_parallel_digests(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print("ok")
