"""Bomb (started by sup_pool_supervisor.py): a parallel site crawler.  Each
page is crawled in a pool task, and each task crawls the page's links in a
process pool of its own (ProcessPoolExecutor, default 'fork' context on
Linux).  The site is a crawler trap -- every page links to two pages that
were never seen before (think "next day" / "next month" calendar links) --
and there is neither a visited set nor a depth limit, so pools open pools
without end.  Run it only under build/contain.
"""
import concurrent.futures as cf
import sys


def fetch_links(url):
    # stand-in for an HTTP fetch + HTML parse of a calendar page
    return [url + "next-day/", url + "next-month/"]


def crawl(url):
    links = fetch_links(url)
    with cf.ProcessPoolExecutor(max_workers=len(links)) as pool:
        return 1 + sum(pool.map(crawl, links))


if __name__ == "__main__":
    start = sys.argv[1] if len(sys.argv) > 1 else "https://example.test/"
    print("crawled", crawl(start), "pages")
