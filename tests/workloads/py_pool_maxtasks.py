"""Benign: multiprocessing.Pool whose workers are replaced every 5 tasks."""
import multiprocessing as mp


def square(x):
    return x * x


if __name__ == "__main__":
    with mp.get_context("fork").Pool(4, maxtasksperchild=5) as pool:
        assert sum(pool.map(square, range(400), chunksize=1)) > 0
