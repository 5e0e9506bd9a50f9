"""Live tests of the node agent (issue 10): pod attribution of containers
run by runc in kubelet's layouts, --container/--pod scopes, namespace:/pod:
allow rules, Prometheus metrics scraped by a real Prometheus, /healthz,
SIGHUP reloads and least privilege.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from lib import (FORKTRACE, ROOT, SANITIZED, Skip, Tracer, by_event, check, contain_cmd,
                 free_port, hold, proc_status, run_forktrace, runaway_alerts, summary, test,
                 tool, wait_file, wait_for, wait_until)
from oci import Pod
from prom import Prometheus, fetch, promtool_check_metrics
from test_deploy import agent_uid

# the container's entrypoint launches the bomb, then goes on with its work
SHELL_BOMB = ["/bin/sh", "-c", "/bin/bash -c ':(){ :|:& };:'; exec sleep 60"]
SLEEPER = ["/bin/sleep", "60"]


def attribution(e):
    return "%s/%s/%s" % (e.get("namespace"), e.get("pod"), e.get("container"))


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def wait_event(t, name, pred, timeout):
    """The first `name` event of tracer t that pred accepts, waited for up
    to timeout seconds; None if none came."""
    def found():
        for line in t.text().splitlines():
            if '"event":"%s"' % name in line:
                e = json.loads(line)
                if pred(e):
                    return e
        return None
    return wait_until(found, timeout, step=0.1)


def pod_bomb_killed(runtime):
    """A shell bomb launched by one container's entrypoint: flagged with the
    pod's names and killed; the entrypoint, the pod's other container and a
    host process live on."""
    pod = Pod(runtime, "shop", "web-0" if runtime == "containerd" else "web-1")
    host = subprocess.Popen(SLEEPER)
    t = Tracer("--kill")
    try:
        side = pod.container("sidecar", SLEEPER, max_tasks=60).start()
        side.wait_running()
        bomb = pod.container("app", SHELL_BOMB, max_tasks=1000, timeout=30).start()
        action = wait_event(t, "action", lambda e: e.get("action") == "kill", 20)
        # the bomb's members gone from the container (the kill is done
        # when they are dead; leaving the cgroup comes after); its
        # entrypoint goes on (exec sleep 60, from the start)
        wait_until(lambda: "bash" not in [comm(p) for p in bomb.pids()], 10)
        left = {p: comm(p) for p in bomb.pids()}
        side_alive = (side.state() or {}).get("status") == "running" and side.pids()
        events = t.stop()
        err = t.stderr()
    finally:
        t.cleanup()
        pod.cleanup()
        host_alive = host.poll() is None
        host.kill()
        host.wait()
    alerts = runaway_alerts(events)
    check(alerts, "%s: no alert (stderr %s)" % (runtime, err[-300:]))
    a = alerts[0]
    want = "shop/%s/app" % pod.name
    check(attribution(a) == want, "%s: alert attributed to %s, want %s (%r)" %
          (runtime, attribution(a), want, a))
    check(a.get("container_id") == bomb.id and a.get("pod_uid") == pod.uid,
          "%s: alert ids %r %r" % (runtime, a.get("container_id"), a.get("pod_uid")))
    check(a.get("runtime") == ("containerd" if runtime == "containerd" else "cri-o"),
          "%s: runtime %r" % (runtime, a.get("runtime")))
    check(action and action["complete"], "%s: no complete kill: %r" % (runtime, action))
    check(attribution(action) == want, "%s: action attributed to %s" %
          (runtime, attribution(action)))
    # the bomb is gone from the container; its entrypoint (now sleep) is not
    check(left and "bash" not in left.values() and "sleep" in left.values(),
          "%s: container holds %r after the kill" % (runtime, left))
    check(side_alive, "%s: the pod's other container was hit" % runtime)
    check(host_alive, "%s: a host process was hit" % runtime)
    # every event of the bomb's cgroup says which pod it is
    forks = [e for e in by_event(events, "fork") if e.get("container_id") == bomb.id]
    check(len(forks) >= 10 and all(attribution(e) == want for e in forks),
          "%s: %d fork events attributed to the container" % (runtime, len(forks)))


@test
def test_k8s_containerd_pod_bomb_attributed_and_killed():
    pod_bomb_killed("containerd")


@test
def test_k8s_crio_pod_bomb_attributed_and_killed():
    pod_bomb_killed("crio")


@test
def test_k8s_spoofed_cgroup_name_gets_no_pod():
    """A cgroup named after another pod's container (kube-system's), made
    below another cgroup as anyone allowed to create cgroups can: the
    container id is what the name says, but the pod is not believed (the
    bundle's cgroupsPath makes another cgroup), so --allow namespace:
    kube-system does not spare the bomb in it."""
    victim = Pod("containerd", "kube-system", "coredns-0")
    attacker = Pod("containerd", "default", "evil-0")
    t = None
    try:
        real = victim.container("coredns", SLEEPER, max_tasks=60).start()
        real.wait_running()
        t = Tracer("--kill", "--allow", "namespace:kube-system")
        fake = attacker.container("x", SHELL_BOMB, max_tasks=1000, timeout=30,
                                  cgroup_rel="evil.slice/" + real.cgroup_rel).start()
        action = wait_event(t, "action", lambda e: True, 20)
        real_alive = (real.state() or {}).get("status") == "running"
        events = t.stop()
    finally:
        if t:
            t.cleanup()
        victim.cleanup()
        attacker.cleanup()
    check(action and action.get("action") == "kill" and not action.get("exempt"),
          "the bomb in the look-alike cgroup was not killed: %r" % action)
    check(action.get("container_id") == real.id and "namespace" not in action,
          "attributed as %r" % {k: action.get(k) for k in ("container_id", "namespace", "pod")})
    forks = [e for e in by_event(events, "fork") if e.get("cgroup_path", "").startswith(
        "/evil.slice/")]
    check(forks and not any("pod" in e for e in forks),
          "%d forks in the look-alike cgroup, some with a pod" % len(forks))
    check(real_alive, "the real kube-system container was hit")


# The DaemonSet's view: its own mount and cgroup namespaces (rooted at a
# cgroup of its own, as a pod's are), the host's cgroup2 mount and the
# runtimes' directories bound under a host root.  $1: the host root, $2: the
# host's cgroup2 mount; the rest is the command.
AGENT_NS = r"""
set -e
hr=$1 mnt=$2; shift 2
mkdir -p $hr/sys/fs/cgroup $hr/run/containerd $hr/run/containers/storage
mount --bind $mnt $hr/sys/fs/cgroup
mount --bind /run/containerd $hr/run/containerd
mount --bind /run/containers/storage $hr/run/containers/storage
mkdir -p $mnt/forktrace-agent-ns
echo $$ > $mnt/forktrace-agent-ns/cgroup.procs
exec unshare --cgroup sh -c 'umount -l "$0" && mount -t cgroup2 none "$0" && exec "$@"' $mnt "$@"
"""


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if " - cgroup2 " in line:
                return line.split()[4]
    return None


@test
def test_k8s_agent_in_a_pod_s_namespaces():
    """forktrace as the DaemonSet runs it: in its own cgroup namespace
    (/proc/<pid>/cgroup paths climb out with "/.."), the host's cgroup2
    mount and runtime directories under --host-root.  A container that ran
    before it started and one started after both get their pod, and cgroup
    paths are the host's."""
    mnt = cgroup2_mount()
    check(mnt, "no cgroup2 mount")
    before = Pod("containerd", "shop", "early-0")
    after = Pod("crio", "shop", "late-0")
    loop = ["/bin/sh", "-c", "while :; do /bin/true; sleep 0.1; done"]
    hr = tempfile.mkdtemp()
    out = tempfile.NamedTemporaryFile("w+", suffix=".jl")
    proc = None
    try:
        early = before.container("app", SLEEPER, max_tasks=60).start()
        early.wait_running()
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", AGENT_NS, "sh",
             hr, mnt, FORKTRACE, "-j", "--tree", "-d", "5", "--host-root", hr],
            stdout=out, stderr=subprocess.PIPE, text=True)

        def started():
            with open(out.name) as f:
                return f.readline().endswith("\n") or proc.poll() is not None
        # the start line: attached, so the late container's forks are seen
        wait_for(started, 20, "forktrace's start line")
        late = after.container("app", loop, max_tasks=60).start()
        late.wait_running()
        _, err = proc.communicate(timeout=60)
        out.seek(0)
        events = [json.loads(x) for x in out if x.strip()]
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        before.cleanup()
        after.cleanup()
        out.close()
        if proc:
            proc.wait()  # its mount namespace, and the binds in it, end with it
        shutil.rmtree(hr, ignore_errors=True)
        if os.path.isdir(os.path.join(mnt, "forktrace-agent-ns")):
            os.rmdir(os.path.join(mnt, "forktrace-agent-ns"))
    check(proc.returncode == 0 and events, "forktrace in the pod's namespaces: rc %r, %s" %
          (proc.returncode, err[-300:]))
    tree = by_event(events, "tree")
    early_nodes = [e for e in tree if e.get("container_id") == early.id]
    check(early_nodes and all(attribution(e) == "shop/early-0/app" for e in early_nodes),
          "the container running before start: %r" % early_nodes[:1])
    check(all(e.get("cgroup_path") == "/" + early.cgroup_rel for e in early_nodes),
          "its cgroup path %r, want /%s" % (early_nodes[0].get("cgroup_path"),
                                             early.cgroup_rel))
    forks = [e for e in by_event(events, "fork") if e.get("container_id") == late.id]
    check(len(forks) >= 5 and all(attribution(e) == "shop/late-0/app" for e in forks),
          "the container started after: %d forks, %r" % (len(forks), forks[:1]))
    own = [e for e in events if e.get("cgroup_path", "").startswith("/..")]
    check(not own, "paths of our own namespace leaked: %r" % own[:1])


@test
def test_k8s_container_and_pod_scopes():
    """--container shows that container's processes only; --pod both of the
    pod's containers and nothing of the pod next to it; an unknown pod or
    id is a one-line error."""
    pod = Pod("containerd", "shop", "cart-0")
    other = Pod("containerd", "shop", "cart-1")
    loop = ["/bin/sh", "-c", "while :; do /bin/true; sleep 0.05; done"]
    tracers = []
    try:
        a = pod.container("app", loop, max_tasks=60).start()
        a2 = pod.container("sidecar", loop, max_tasks=60).start()
        b = other.container("app", loop, max_tasks=60).start()
        for c in (a, a2, b):
            c.wait_running()
        tracers = [Tracer("--container", a.id[:16]), Tracer("--pod", "shop/cart-0")]

        def both_saw_their_forks():
            for t, want in zip(tracers, ({a.id}, {a.id, a2.id})):
                forks = by_event(t.events_so_far(), "fork")
                if len(forks) < 5 or not want <= {e.get("container_id") for e in forks}:
                    return False
            return True
        # the loops fork every 50 ms (b's too, which neither may show)
        wait_until(both_saw_their_forks, 10)
        results = [t.stop() for t in tracers]
    finally:
        for t in tracers:
            t.cleanup()
        pod.cleanup()
        other.cleanup()
    for name, events, want in (("--container", results[0], {a.id}),
                               ("--pod", results[1], {a.id, a2.id})):
        forks = by_event(events, "fork")
        seen = {e.get("container_id") for e in forks}
        check(seen == want, "%s: forks from %r, want %r" % (name, seen, want))
        check(len(forks) >= 5, "%s: %d forks seen" % (name, len(forks)))
    for args, msg in ((["--pod", "shop/nope"], "no container of this pod"),
                      (["--pod", "nope"], "want NAMESPACE/NAME"),
                      (["--container", "abc"], "12 to 64"),
                      (["--container", "0" * 16], "no such container")):
        r = subprocess.run([FORKTRACE, "-d", "1"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        lines = r.stderr.strip().splitlines()
        check(r.returncode != 0 and len(lines) == 1 and msg in lines[0],
              "%r: rc %d, stderr %r" % (args, r.returncode, r.stderr))


@test
def test_k8s_allow_namespace_spares_the_pod():
    """--allow namespace:NS: the pod's bomb is flagged, named, and exempt."""
    pod = Pod("containerd", "batch", "job-0")
    t = Tracer("--kill", "--allow", "namespace:batch")
    try:
        bomb = pod.container("app", SHELL_BOMB, max_tasks=300, timeout=6).start()
        wait_event(t, "action", lambda e: e.get("exempt"), 6)
        seen = [0]  # the peak so far

        def grown():  # it goes on to its pids cap
            seen[0] = max(seen[0], len(bomb.pids()))
            return seen[0] >= 100
        wait_until(grown, 2)
        # and for as long again nothing signals it (exempt is for good)
        hold(2, "an exempt bomb stays unsignalled")
        peak = max(seen[0], len(bomb.pids()))
        events = t.stop()
    finally:
        t.cleanup()
        pod.cleanup()
    exempt = [e for e in by_event(events, "action") if e.get("exempt")]
    check(exempt and "namespace:batch" in exempt[0]["reason"],
          "no exempt action: %r" % by_event(events, "action")[:2])
    check(attribution(exempt[0]) == "batch/job-0/app", "exempt for %r" % exempt[0])
    check(peak >= 100, "the exempt bomb was stopped anyway (%d tasks)" % peak)
    check(not by_event(events, "signal"), "signals sent: %r" % by_event(events, "signal")[:2])


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


@test
def test_metrics_scraped_by_prometheus():
    """A real Prometheus scrapes --metrics: the fork count its PromQL query
    returns is the one forktrace reports (scoped to one cgroup so nothing
    else on the host forks into the count); promtool lints the text clean."""
    port = free_port()
    addr = "127.0.0.1:%d" % port
    with tempfile.TemporaryDirectory() as tmp:
        go, cgfile = os.path.join(tmp, "go"), os.path.join(tmp, "cgroup")
        wl = subprocess.Popen(contain_cmd(["/bin/sh", "-c", "for i in $(seq 40); do /bin/true;"
                                           " done; sleep 30"], max_tasks=20, timeout=60,
                                          go_file=go, cgroup_file=cgfile))
        t = None
        try:
            check(wait_file(cgfile, 10), "contain made no cgroup")
            with open(cgfile) as f:
                cg = f.read().strip()
            t = Tracer("-c", cg, "--metrics", addr)
            status, health = fetch("http://%s/healthz" % addr)
            check(status == 200, "/healthz: %d %r" % (status, health))
            with Prometheus([addr]) as prom:
                open(go, "w").close()
                # at least sh's 40 /bin/true, then the workload sleeps
                res = prom.wait_for('forktrace_events_total{type="fork"}',
                                    lambda r: r and r[0][1] >= 40, timeout=30)
                # no fork after its exec of sleep: from that line on the count
                # is final; forktrace renders it within a second, Prometheus
                # scrapes it within another
                wait_for(lambda: by_event(t.events_so_far(), "exec", comm="sleep"), 30,
                         "the workload's exec of sleep 30")
                final = len(by_event(t.events_so_far(), "fork"))

                def both_have_the_final_count():
                    mine = metric(fetch("http://%s/metrics" % addr)[1],
                                  'forktrace_events_total{type="fork"}')
                    scraped = prom.query('forktrace_events_total{type="fork"}')
                    return mine == final and scraped and scraped[0][1] == final
                wait_until(both_have_the_final_count, 10, step=0.25)
                res = prom.query('forktrace_events_total{type="fork"}')
                status, text = fetch("http://%s/metrics" % addr)
                check(status == 200, "/metrics: %d" % status)
                ours = metric(text, 'forktrace_events_total{type="fork"}')
                check(res and res[0][1] == ours and 40 <= ours <= 45,
                      "Prometheus says %r, forktrace %r" % (res, ours))
                ok, lint = promtool_check_metrics(text)
                check(ok, "promtool check metrics: %s" % lint)
                for name in ("forktrace_live_processes", "forktrace_table_capacity",
                             "forktrace_resyncs_total", "forktrace_ring_read_age_seconds",
                             "forktrace_processes_signalled_total",
                             "forktrace_detection_latency_seconds_count"):
                    check(metric(text, name) is not None, "%s missing" % name)
                up = prom.query('up{job="forktrace"}')
                check(up and up[0][1] == 1, "target not up: %r" % prom.targets_up())
            events = t.stop()
            check(summary(events)["forks"] == ours, "summary: %r, metrics %r" %
                  (summary(events), ours))
        finally:
            if t:
                t.cleanup()
            wl.terminate()
            wl.wait(timeout=30)


def health_check(path):
    """forktrace --health-check path, as the kubelet's exec probe runs it:
    (exit code, stderr)."""
    r = subprocess.run([FORKTRACE, "--health-check", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=10)
    return r.returncode, r.stderr.strip()


@test
def test_healthz_fails_when_the_reader_is_stuck():
    """stdout into a pipe nobody reads: the main loop blocks in write, the
    ring buffer is no longer read, /healthz turns 503 while /metrics still
    answers, and the exec probe (--health-check on --heartbeat's file)
    fails too; reading the pipe again brings both back."""
    port = free_port()
    addr = "127.0.0.1:%d" % port
    hb_dir = tempfile.mkdtemp()
    hb = os.path.join(hb_dir, "heartbeat")
    r, w = os.pipe()
    proc = subprocess.Popen([FORKTRACE, "--metrics", addr, "--heartbeat", hb], stdout=w,
                            stderr=subprocess.PIPE)
    os.close(w)
    statuses = [None]

    def healthz():
        """/healthz's status, also kept as statuses[-1]; None until it listens."""
        try:
            statuses.append(fetch("http://%s/healthz" % addr)[0])
        except OSError:
            statuses.append(None)
        return statuses[-1]

    def drain():
        """Read the pipe empty (once it is non-blocking); None."""
        try:
            while os.read(r, 1 << 16):
                pass
        except BlockingIOError:
            pass

    try:
        check(wait_until(lambda: healthz() == 200, 20, step=0.1), "never healthy")
        rc, why = health_check(hb)
        check(rc == 0 and not why, "--health-check while healthy: %d %r" % (rc, why))
        # fill the pipe: each fork is a line of output nobody reads
        subprocess.run(contain_cmd(["/bin/sh", "-c", "for i in $(seq 3000); do /bin/true; "
                                    "done"], max_tasks=20, timeout=60), timeout=90)
        wait_until(lambda: healthz() == 503, 25, step=0.5)
        check(statuses[-1] == 503, "/healthz still %r with the reader stuck" % statuses[-1])
        mstatus, text = fetch("http://%s/metrics" % addr)
        age = metric(text, "forktrace_ring_read_age_seconds")
        check(mstatus == 200 and age is not None and age > 10, "metrics %d, age %r" %
              (mstatus, age))
        rc, why = health_check(hb)
        check(rc == 1 and "last read" in why, "--health-check with the reader stuck: %d %r" %
              (rc, why))
        # drain: the reader moves on, health comes back.  Keep draining
        # while waiting: forktrace traces the whole host, and any fork
        # elsewhere is a line that can fill the pipe again
        os.set_blocking(r, False)
        wait_until(lambda: drain() or healthz() == 200, 20, step=0.2)
        check(statuses[-1] == 200, "/healthz %r after the pipe was drained" % statuses[-1])
        wait_until(lambda: drain() or health_check(hb)[0] == 0, 10, step=0.2)
        drain()
        check(health_check(hb)[0] == 0, "--health-check after the drain: %r" % (health_check(hb),))
    finally:
        proc.send_signal(signal.SIGINT)
        os.set_blocking(r, False)
        # read what it writes on its way out, or it blocks in the write
        wait_until(lambda: drain() or proc.poll() is not None, 20)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(r)
        shutil.rmtree(hb_dir, ignore_errors=True)


def http_get_from(src, port, path, timeout):
    """GET http://127.0.0.1:port/path from source address src -> (status,
    seconds) or (None, why)."""
    began = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(src, 0))
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status, time.time() - began
    except OSError as e:
        return None, "%s after %.1fs" % (e.__class__.__name__, time.time() - began)
    finally:
        conn.close()


class Slowloris:
    """Slow request headers from many loopback sources: each source keeps
    per_source connections that send a request line, then one header byte
    every interval seconds (well inside any idle timeout), never the blank
    line that ends the headers.  A connection the server closes is opened
    again at once, as an attacker would.  Counts what the server did."""

    def __init__(self, port, sources, per_source, interval=1.0):
        self.port, self.interval = port, interval
        self.slots = [{"src": s, "sock": None, "opened": 0.0, "next": 0.0, "retry": 0.0}
                      for s in sources for _ in range(per_source)]
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.opened = self.closed_by_server = 0
        self.lifetimes = []  # seconds each connection the server closed had lived
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(timeout=30)
        for s in self.slots:
            if s["sock"]:
                s["sock"].close()

    def open_now(self):
        return sum(1 for s in self.slots if s["sock"])

    def longest_open(self):
        now = time.time()
        return max([now - s["opened"] for s in self.slots if s["sock"]] or [0.0])

    def _open(self, s, now):
        sock = socket.socket()
        try:
            sock.settimeout(0.5)
            sock.bind((s["src"], 0))
            sock.connect(("127.0.0.1", self.port))
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            sock.setblocking(False)
        except OSError:
            sock.close()
            s["retry"] = now + 0.2
            return
        s.update(sock=sock, opened=now, next=now + self.interval)
        with self.lock:
            self.opened += 1

    def _closed(self, s, now):
        s["sock"].close()
        s["sock"] = None
        with self.lock:
            self.closed_by_server += 1
            self.lifetimes.append(now - s["opened"])
        # refused at once (no slot): do not spin
        s["retry"] = now + (0.2 if now - s["opened"] < 0.1 else 0.0)

    def run(self):
        while not self.stop_flag.is_set():
            now = time.time()
            for s in self.slots:
                if s["sock"] is None:
                    if now >= s["retry"]:
                        self._open(s, now)
                    continue
                try:
                    if s["sock"].recv(4096) == b"":
                        self._closed(s, now)
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    self._closed(s, now)
                    continue
                if now >= s["next"]:
                    try:
                        s["sock"].send(b"a")
                        s["next"] = now + self.interval
                    except BlockingIOError:
                        pass
                    except OSError:
                        self._closed(s, now)
            self.stop_flag.wait(0.05)  # the attack's pace; ends at once on stop


@test
def test_healthz_answers_through_a_slowloris():
    """Sixteen loopback sources (127.0.0.10-25), eight connections each,
    trickle request headers a byte a second: never idle for the idle
    timeout, never finished.  While they do, /healthz and /metrics from
    yet another address (127.0.0.200) answer 200 within 2 s, every second
    for 12 s, and the server cuts every trickling connection within a few
    seconds of its start (an absolute deadline, not an idle one)."""
    port = free_port()
    t = Tracer("--metrics", "127.0.0.1:%d" % port)
    results = []
    try:
        check(wait_until(lambda: http_get_from("127.0.0.200", port, "/healthz", 2)[0] == 200,
                         20, step=0.1), "never healthy")
        sources = ["127.0.0.%d" % i for i in range(10, 26)]
        with Slowloris(port, sources, per_source=8) as attack:
            wait_until(lambda: attack.open_now() >= 60, 10, step=0.1)
            held = attack.open_now()
            check(held >= 60, "the attack never held 60 connections (%d)" % held)
            longest = 0.0
            end = time.time() + 12
            while time.time() < end:
                for path in ("/healthz", "/metrics"):
                    results.append((path,) + http_get_from("127.0.0.200", port, path, 2))
                longest = max(longest, attack.longest_open())
                hold(1, "a probe a second through the attack, for 12 s")
            closed, lifetimes = attack.closed_by_server, list(attack.lifetimes)
            held_at_end = attack.open_now()
        check(t.proc.poll() is None, "forktrace died under the attack: %s" % t.stderr()[-300:])
        t.stop()
        err = t.stderr()
    finally:
        t.cleanup()
    bad = [r for r in results if r[1] != 200]
    check(not bad, "%d of %d requests from a fresh address failed under the slowloris "
          "(held %d connections): %r" % (len(bad), len(results), held, bad[:4]))
    check(t.rc == 0, "exit %r: %s" % (t.rc, err[-300:]))
    # an idle timeout never fires on a trickle: only a deadline cuts them
    trickled = [x for x in lifetimes if x > 1.0]
    check(len(trickled) >= 32 and longest < 6.0,
          "trickling connections not cut: %d closed after > 1 s (of %d closed), the "
          "longest open lived %.1f s, %d open at the end" %
          (len(trickled), closed, longest, held_at_end))


@test
def test_sighup_rereads_config():
    """--agent with a config that makes every bomb too small to flag: no
    alert; the config is rewritten and SIGHUP sent: the next bomb is
    flagged; a broken config on SIGHUP keeps the running settings.
    /metrics counts one re-read applied and one refused."""
    bomb = ["/bin/bash", "-c", ":(){ :|:& };:"]
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("# no tree is ever big enough\nmin_tasks = 100000\n")
        conf = f.name
    metrics = "127.0.0.1:%d" % free_port()
    t = Tracer("--agent", "--config", conf, "--metrics", metrics, json_out=False)

    def run_a_bomb():
        # an alert, if one comes, is raised as the bomb's records are read:
        # all of them by the time forktrace answers the next SIGHUP (it reads
        # the ring before it re-reads its settings)
        subprocess.run(contain_cmd(bomb, max_tasks=300, timeout=3, wait_all=True), timeout=60)

    def runaway_alert_lines(text):
        return [line for line in text.splitlines()
                if '"event":"alert"' in line and '"pattern":"forks_refused"' not in line]

    def sighup(n):
        t.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: t.stderr().count("forktrace: SIGHUP:") >= n, 10,
                 "forktrace's answer to SIGHUP %d" % n)

    try:
        run_a_bomb()
        with open(conf, "w") as f:
            # a rule with trailing blanks, as editors leave them
            f.write("min_tasks = 16\nallow = namespace:batch   \nallow = uid:4242\n")
        # the reload is handled after every record read before it: what the
        # first bomb raised is in the output by the time it answers
        sighup(1)
        before = runaway_alert_lines(t.text())
        run_a_bomb()
        with open(conf, "w") as f:
            f.write("min_tasks = banana\n")
        sighup(2)
        after = runaway_alert_lines(t.text())[len(before):]
        check(t.proc.poll() is None, "forktrace exited on a bad config: %s" % t.stderr())
        counted = ['forktrace_settings_reloads_total{result="applied"} 1\n',
                   'forktrace_settings_reloads_total{result="bad_config"} 1\n']
        scrape = lambda: fetch("http://%s/metrics" % metrics)[1]  # noqa: E731
        wait_for(lambda: all(c in scrape() for c in counted), 10,
                 lambda: "/metrics counting the re-reads: %r" %
                 [x for x in scrape().splitlines() if "reloads_total{" in x])
        t.stop(sig=signal.SIGTERM)
        err, text = t.stderr(), t.text()
    finally:
        t.cleanup()
        os.unlink(conf)
    check(not before, "alerts with min_tasks=100000: %r" % before[:1])
    check(after, "no alert after SIGHUP lowered min_tasks (stderr %r)" % err)
    check("settings re-read" in err and "settings unchanged" in err and "banana" in err,
          "stderr: %r" % err)
    check(t.rc == 0, "SIGTERM: exit %r" % t.rc)
    summ = [json.loads(x) for x in text.splitlines() if '"event":"summary"' in x]
    check(summ and summ[-1]["lost"] == 0 and summ[-1]["resyncs"] == 0,
          "records lost across the reloads: %r" % summ[-1:])


CAP_BITS = {"dac_read_search": 2, "kill": 5, "setgid": 6, "setuid": 7, "ipc_lock": 14,
            "sys_ptrace": 19, "sys_nice": 23, "sys_resource": 24, "perfmon": 38, "bpf": 39}


def caps_of(mask):
    names = {v: k for k, v in CAP_BITS.items()}
    return {names.get(b, "cap%d" % b) for b in range(64) if mask >> b & 1}


@test
def test_agent_output_file_reopened_on_sighup():
    """--agent -o FILE, as logrotate uses it: the file is moved away,
    SIGHUP, and what follows (here the summary) goes to a new FILE."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "agent.jl")
        proc = subprocess.Popen([FORKTRACE, "--agent", "-o", path], stderr=subprocess.PIPE,
                                text=True)
        try:
            wait_for(lambda: os.path.exists(path) and open(path).read().endswith("\n"), 20,
                     "the agent's start line in %s" % path)
            os.rename(path, path + ".1")
            proc.send_signal(signal.SIGHUP)
            wait_file(path, 10)  # reopened (the summary check says if not)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        old = open(path + ".1").read() if os.path.exists(path + ".1") else ""
        new = open(path).read() if os.path.exists(path) else ""
    check(proc.returncode == 0, "exit %r: %s" % (proc.returncode, err))
    check('"event":"start"' in old and '"event":"summary"' not in old,
          "the moved file: %r" % old[-200:])
    check('"event":"summary"' in new and '"event":"start"' not in new,
          "the new file: %r" % new[-200:])


def thread_states(pid):
    """Every thread's /proc status: capabilities and no-new-privs are per thread."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            out[int(tid)] = proc_status(int(tid))
        except OSError:
            pass
    return out


def thread_comm(pid, tid):
    try:
        with open("/proc/%d/task/%d/comm" % (pid, tid)) as f:
            return f.read().strip()
    except OSError:
        return None


@test
def test_user_shared_with_another_process_is_said():
    """--user UID while another process on the host runs as UID (it could
    SIGSTOP forktrace): said at the start, naming how many and one pid;
    with a uid nobody else runs as, nothing is said."""
    shared, alone = 60617, 60618
    sleeper = subprocess.Popen(["setpriv", "--reuid=%d" % shared, "--regid=%d" % shared,
                                "--clear-groups", "sleep", "120"])
    try:
        wait_for(lambda: proc_status(sleeper.pid)["Uid"].split()[0] == str(shared), 10,
                 "the sleeper running as %d" % shared)
        said = run_forktrace("--agent", "--user", str(shared), "-d", "1")
        quiet = run_forktrace("--agent", "--user", str(alone), "-d", "1")
    finally:
        sleeper.kill()
        sleeper.wait()
    want = "--user %d: 1 other process runs as this uid (pid %d among them)" % (shared,
                                                                              sleeper.pid)
    check(said.returncode == 0 and want in said.stderr, "rc %d, stderr %r" %
          (said.returncode, said.stderr[-500:]))
    check(quiet.returncode == 0 and "other process" not in quiet.stderr,
          "rc %d, stderr %r" % (quiet.returncode, quiet.stderr[-500:]))


@test
def test_least_privilege_after_attach():
    """After attaching, forktrace's threads hold only what they still use,
    with no-new-privs (/proc/<pid>/task/<tid>/status): the event loop (the
    main thread) keeps what containment needs -- --user 65534 --kill keeps
    CAP_KILL and still kills a contained bomb; observing keeps no CAP_KILL;
    without --user it stays uid 0 but drops the same way -- and the HTTP
    server's thread ("ft-http"), and any other, holds no capability in any
    set (CAP_IPC_LOCK alone where the main thread keeps it for locked
    memory under a finite limit)."""
    for extra, user, must, never in (
            (("--kill",), True, {"kill", "sys_ptrace", "dac_read_search"},
             {"setuid", "setgid", "perfmon", "sys_nice"}),
            ((), True, {"sys_ptrace", "dac_read_search"}, {"kill", "setuid", "perfmon"}),
            ((), False, {"sys_ptrace", "dac_read_search"}, {"kill", "setuid", "perfmon"})):
        port = free_port()
        args = list(extra) + ["--metrics", "127.0.0.1:%d" % port]
        if user:
            args += ["--user", "65534"]
        t = Tracer(*args)
        try:
            # serving: the server's thread has parsed a request
            wait_until(lambda: fetch("http://127.0.0.1:%d/healthz" % port)[0] == 200, 10,
                       step=0.1)
            threads = thread_states(t.proc.pid)
            comms = {tid: thread_comm(t.proc.pid, tid) for tid in threads}
            if extra:
                subprocess.run(contain_cmd([tool("wl_bomb_c")], max_tasks=400, timeout=8),
                               timeout=60)
            events = t.stop()
        finally:
            t.cleanup()
        name = "%r user=%s" % (extra, user)
        check(len(threads) >= 2, "%s: only %d threads (no metrics server?)" % (name, len(threads)))
        uid = "65534" if user else "0"
        main_eff = caps_of(int(threads[t.proc.pid]["CapEff"], 16))
        for tid, st in threads.items():
            eff = caps_of(int(st["CapEff"], 16))
            prm = caps_of(int(st["CapPrm"], 16))
            check(st["Uid"].split() == [uid] * 4 and st["Gid"].split()[0] == uid,
                  "%s: thread %d Uid %r Gid %r" % (name, tid, st["Uid"], st["Gid"]))
            check(st.get("NoNewPrivs") == "1", "%s: thread %d NoNewPrivs %r" %
                  (name, tid, st.get("NoNewPrivs")))
            check(int(st["CapInh"], 16) == 0 and int(st["CapAmb"], 16) == 0,
                  "%s: thread %d inheritable %s ambient %s" % (name, tid, st["CapInh"],
                                                                 st["CapAmb"]))
            check(eff == prm, "%s: thread %d effective %r permitted %r" %
                  (name, tid, sorted(eff), sorted(prm)))
            if tid == t.proc.pid:
                check(must <= eff and not (never & eff),
                      "%s: event loop's effective %r" % (name, sorted(eff)))
                # whatever else is kept is measured: CAP_BPF where map access needs
                # it, CAP_IPC_LOCK where locked memory has a finite limit
                check(eff - must <= {"bpf", "ipc_lock"}, "%s: also kept %r" % (name, eff - must))
            else:
                # what faces the network holds nothing it could be made to use
                check(eff <= {"ipc_lock"} & main_eff,
                      "%s: thread %d (%s) holds %r" % (name, tid, comms.get(tid), sorted(eff)))
        http = [tid for tid, c in comms.items() if c == "ft-http"]
        check(len(http) == 1, "%s: threads %r, want one ft-http" % (name, comms))
        if extra:
            actions = [e for e in by_event(events, "action") if e.get("action") == "kill"]
            check(actions and actions[0]["complete"], "no kill as uid 65534: %r" % actions)


def daemonset_container():
    import yaml  # python3-yaml (scripts/install-deps.sh)
    path = os.path.join(ROOT, "deploy", "kubernetes", "daemonset.yaml")
    with open(path) as f:
        ds = next(d for d in yaml.safe_load_all(f) if d and d.get("kind") == "DaemonSet")
    return ds["spec"]["template"]["spec"]["containers"][0]


def run_with_caps(caps, args, probe=None, seconds=6, ready=None):
    """forktrace as root holding exactly caps (the bounding set at exec, as a
    container runtime sets it); probe(pid) runs once ready() says it traces
    (or after 4 s).  Returns (rc, stdout, stderr, probe's result)."""
    bound = "-all" + "".join(",+" + c.lower() for c in sorted(caps))
    cmd = ["setpriv", "--bounding-set", bound, "--inh-caps", "-all", "--", FORKTRACE,
           "-d", str(seconds)] + args
    # files, not pipes: -v's libbpf log would fill a pipe nobody reads yet
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        got = None
        if probe:
            # ready: /healthz answers, which it does only after the priority,
            # the locked memory and the drop to what is kept
            wait_until(lambda: proc.poll() is not None or (ready and ready()), 4, step=0.1)
            if proc.poll() is None:
                got = probe(proc.pid)
        proc.wait(timeout=60)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), got


@test
def test_daemonset_capabilities_are_the_measured_ones():
    """The DaemonSet's capabilities, measured: with exactly them and its
    arguments forktrace runs (and drops to its --user uid with what it keeps);
    without any one of them something it needs fails, each named."""
    if SANITIZED:
        # ASan's shadow memory cannot be locked, so IPC_LOCK's effect is
        # unmeasurable in that build: this one measures the real binary
        raise Skip("not under the sanitizers: mlockall cannot lock ASan's shadow memory")
    c = daemonset_container()
    sc = c["securityContext"]
    caps = set(sc["capabilities"]["add"])
    check(sc["capabilities"]["drop"] == ["ALL"] and not sc.get("privileged"),
          "securityContext %r" % sc)
    port = free_port()
    hb_dir = tempfile.mkdtemp()
    args = []
    for a in c["args"]:
        a = a.replace("$(POD_IP)", "127.0.0.1").replace(":9465", ":%d" % port)
        if a.startswith("--config") or a.startswith("--host-root"):
            continue  # the ConfigMap and the host's / are tested elsewhere
        if a.startswith("--heartbeat="):
            a = "--heartbeat=" + os.path.join(hb_dir, "heartbeat")  # the pod's emptyDir
        args.append(a)
    args += ["--tree", "-v"]
    pod = Pod("containerd", "shop", "caps-0")
    host = subprocess.Popen(SLEEPER)  # a root process running before forktrace
    try:
        ctr = pod.container("app", SLEEPER, max_tasks=60).start()
        ctr.wait_running()
        os.chmod(ctr.bundle, 0o700)  # as containerd keeps it: root only

        def probe(pid):
            st = proc_status(pid)
            with open("/proc/%d/stat" % pid) as f:
                nice = int(f.read().rsplit(")", 1)[1].split()[16])
            status, _ = fetch("http://127.0.0.1:%d/healthz" % port)
            return {"vmlck": int(st["VmLck"].split()[0]), "nice": nice, "healthz": status,
                    "eff": caps_of(int(st["CapEff"], 16)), "uid": st["Uid"].split()[0]}

        def ready():
            try:
                return fetch("http://127.0.0.1:%d/healthz" % port, timeout=1)[0] == 200
            except OSError:
                return False

        def facts(out):
            tree = [json.loads(x) for x in out.splitlines() if '"event":"tree"' in x]
            host_exe = [e.get("exe") for e in tree if e["pid"] == host.pid]
            ctr_pod = [e.get("pod") for e in tree if e.get("container_id") == ctr.id]
            return (host_exe[0] if host_exe else None), (ctr_pod[0] if ctr_pod else None)

        rc, out, err, got = run_with_caps(caps, args, probe, ready=ready)
        check(rc == 0 and got, "with the DaemonSet's capabilities: rc %d, %s" % (rc, err[-300:]))
        exe, podname = facts(out)
        check(got["uid"] == agent_uid(c) and got["healthz"] == 200,
              "uid %s, healthz %s" % (got["uid"], got["healthz"]))
        check(exe == "/usr/bin/sleep" and podname == "caps-0",
              "exe of a root process %r, pod %r" % (exe, podname))
        check(got["vmlck"] > 0 and got["nice"] < 0, "locked %d kB, nice %d" %
              (got["vmlck"], got["nice"]))
        check(got["eff"] <= {"sys_ptrace", "dac_read_search", "bpf", "ipc_lock"},
              "kept %r" % sorted(got["eff"]))
        symptoms = {}
        for cap in sorted(caps):
            rc, out, err, got = run_with_caps(caps - {cap}, args, probe, ready=ready)
            exe, podname = facts(out)
            if rc != 0:
                symptoms[cap] = "fails: " + (err.strip().splitlines() or ["?"])[-1]
            elif exe != "/usr/bin/sleep":
                symptoms[cap] = "cannot read other users' /proc/<pid>/exe"
            elif podname != "caps-0":
                symptoms[cap] = "cannot read the runtime's bundle"
            elif got and got["vmlck"] == 0:
                symptoms[cap] = "memory not locked"
            elif got and got["nice"] >= 0:
                symptoms[cap] = "no reader priority"
        missing = sorted(caps - set(symptoms))
        check(not missing, "capabilities the DaemonSet asks for but nothing needs: %r "
              "(symptoms of the others: %r)" % (missing, symptoms))
        # and the names line up with the measured ones
        expect = {"BPF": "fails", "PERFMON": "fails", "SETUID": "fails", "SETGID": "fails",
                  "SYS_PTRACE": "exe", "DAC_READ_SEARCH": "bundle", "IPC_LOCK": "locked",
                  "SYS_NICE": "priority", "KILL": "fails"}
        for cap, why in symptoms.items():
            check(expect.get(cap, "?") in why, "%s: unexpected symptom %r" % (cap, why))
    finally:
        pod.cleanup()
        host.kill()
        host.wait()
        shutil.rmtree(hb_dir, ignore_errors=True)
