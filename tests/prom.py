"""Check a Prometheus /metrics endpoint with a real Prometheus server.

Python 3.11 stdlib only; needs Debian's prometheus package
(/usr/bin/prometheus, /usr/bin/promtool).

    with Prometheus(["127.0.0.1:9464"]) as p:
        r = p.wait_for("forktrace_events_total{type="fork"}", lambda r: r and r[0][1] > 0)
        ok, out = promtool_check_metrics(fetch("http://127.0.0.1:9464/metrics")[1])

Prometheus(targets, scrape_interval="1s")  context manager: a private server
    in a temp dir scraping `targets` ("host:port") as job "forktrace"; killed
    and the temp dir removed on exit, even if the with-body raises.
  .query(expr)            -> [(labels dict, float)] (instant vector or scalar)
  .wait_for(expr, pred, timeout=20) -> the first query() result pred accepts;
                             TimeoutError (with the last result) otherwise
  .targets_up()           -> [(scrapeUrl, health, lastError)] of active targets
promtool_check_metrics(text) -> (ok, promtool's output); lint problems also
                             make it not ok, so show the output in failures
fetch(url, timeout=5)     -> (HTTP status, body str); no raise on 4xx/5xx
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from lib import wait_until

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def fetch(url, timeout=5):
    """GET url -> (status, body); HTTP errors are returned, not raised."""
    # straight to the address, whatever *_proxy says
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def promtool_check_metrics(text):
    """Pipe an exposition into `promtool check metrics` -> (ok, output)."""
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return r.returncode == 0, r.stdout


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, targets, scrape_interval="1s"):
        self.targets = list(targets)
        self.scrape_interval = scrape_interval
        self.proc = self.url = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="forktrace-prom-")
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *exc):
        self._stop()

    def _start(self):
        conf = os.path.join(self.dir, "prometheus.yml")
        q = json.dumps  # a JSON string is a valid YAML scalar
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: %s\nscrape_configs:\n"
                    "  - job_name: forktrace\n    metrics_path: /metrics\n"
                    "    static_configs:\n      - targets: [%s]\n"
                    % (q(self.scrape_interval), ", ".join(map(q, self.targets))))
        addr = "127.0.0.1:%d" % _free_port()
        self.url = "http://" + addr
        self.log = os.path.join(self.dir, "prometheus.log")
        with open(self.log, "wb") as logf:
            self.proc = subprocess.Popen(
                [PROMETHEUS, "--config.file=" + conf,
                 "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
                 "--web.listen-address=" + addr, "--web.enable-lifecycle"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited %d:\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                return fetch(self.url + "/-/ready", timeout=1)[0] == 200
            except OSError:
                return False
        if not wait_until(ready, 20, step=0.1):
            raise RuntimeError("prometheus not ready in 20s:\n" + self.log_tail())

    def _stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=20):
        with open(self.log, errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def _api(self, path, **params):
        url = self.url + "/api/v1/" + path
        url += "?" + urllib.parse.urlencode(params)
        body = fetch(url)[1]
        doc = json.loads(body)  # the API answers errors in JSON too
        if doc.get("status") != "success":
            raise RuntimeError("%s: %s: %s" % (path, doc.get("errorType"), doc.get("error")))
        return doc["data"]

    def query(self, expr):
        """Instant query -> [(labels, value)]; a scalar gives [({}, value)]."""
        data = self._api("query", query=expr)
        kind, res = data["resultType"], data["result"]
        if kind == "vector":
            return [(s["metric"], float(s["value"][1])) for s in res]
        if kind == "scalar":
            return [({}, float(res[1]))]
        raise ValueError("query %r gave a %s, not a vector or scalar" % (expr, kind))

    def wait_for(self, expr, pred, timeout=20):
        """query(expr) once pred accepts it (lib.wait_until, an empty
        result wrapped so it counts); TimeoutError after timeout seconds."""
        last = []

        def accepted():
            last[:] = [self.query(expr)]
            return last if pred(last[0]) else None
        got = wait_until(accepted, timeout, step=0.25)
        if not got:
            raise TimeoutError("%r after %gs: %r; targets %r"
                               % (expr, timeout, last[0] if last else None, self.targets_up()))
        return got[0]

    def targets_up(self):
        """[(scrapeUrl, health, lastError)] for the active targets."""
        return [(t.get("scrapeUrl"), t.get("health"), t.get("lastError"))
                for t in self._api("targets", state="active")["activeTargets"]]
