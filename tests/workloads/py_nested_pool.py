"""Pool workers that open pools of their own, without end.
Run it only under build/contain."""
import concurrent.futures as cf
import multiprocessing as mp


def work(depth):
    ctx = mp.get_context("fork")
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as ex:
        futures = [ex.submit(work, depth + 1) for _ in range(2)]
        return sum(f.result() for f in futures)


if __name__ == "__main__":
    work(0)
