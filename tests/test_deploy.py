"""Tests of the deployment in deploy/: the Kubernetes manifests (schema
validation offline with kubernetes-models, and the security settings that
matter, by name), the PrometheusRule (promtool check and unit tests), the
container image (built with scripts/build-image.sh and run with podman) and
the systemd unit.

The capabilities forktrace needs are listed in ONE place, the DaemonSet
(deploy/kubernetes/daemonset.yaml); daemonset_capabilities() reads them for
these tests and any other, and the systemd unit, deploy/README.md and the
podman runs here are checked against it.
"""
import copy
import json
import os
import re
import shutil
import subprocess
import tempfile

import yaml

from lib import FORKTRACE, ROOT, Fail, check, free_port, proc_status, test, wait_until
from prom import fetch

DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "kubernetes")
UNIT = os.path.join(DEPLOY, "forktrace.service")
SECCOMP_DIR = os.path.join(DEPLOY, "seccomp")
NODE_DIR = os.path.join(ROOT, "tests", "deploy")
VALIDATE = os.path.join(NODE_DIR, "validate.mjs")
RULES_TEST = os.path.join(NODE_DIR, "rules_test.yaml")
BUILD_IMAGE = os.path.join(ROOT, "scripts", "build-image.sh")
PODMAN = os.path.join(ROOT, "scripts", "podman.sh")

# the metric names forktrace exports (user/present/metrics.c); every name a rule
# uses must be one of them
METRICS = {
    "forktrace_alerts_total", "forktrace_records_lost_total", "forktrace_events_total",
    "forktrace_live_processes", "forktrace_table_used", "forktrace_table_capacity",
    "forktrace_table_evictions_total", "forktrace_table_dropped_total",
    "forktrace_actions_total", "forktrace_processes_signalled_total",
    "forktrace_detection_latency_seconds", "forktrace_tree_live_tasks",
    "forktrace_tree_births_per_second", "forktrace_ring_read_age_seconds",
    "forktrace_settings_reloads_total", "forktrace_kernel_allow_rules_stale",
    "forktrace_build_info", "forktrace_resyncs_total", "forktrace_container_cache_entries",
    "forktrace_container_cache_evictions_total",
}
# capabilities the agent must never be given, whatever the list grows to
NEVER = {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_MODULE", "SYS_RAWIO", "SYS_BOOT", "MAC_ADMIN",
         "MAC_OVERRIDE", "SETFCAP", "SETPCAP", "DAC_OVERRIDE", "FOWNER", "CHOWN", "MKNOD",
         "NET_RAW", "SYS_CHROOT", "SYS_RESOURCE", "SYS_TIME", "SYSLOG", "BLOCK_SUSPEND"}


# --- the manifests ----------------------------------------------------------

def load_manifests():
    """{filename: [documents]} for every YAML file in deploy/kubernetes."""
    out = {}
    for name in sorted(os.listdir(K8S)):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(K8S, name)) as f:
                out[name] = [d for d in yaml.safe_load_all(f) if d is not None]
    return out


def manifest(kind):
    found = [d for docs in load_manifests().values() for d in docs if d.get("kind") == kind]
    check(len(found) == 1, "want one %s in deploy/kubernetes, found %d" % (kind, len(found)))
    return found[0]


def agent_container(ds=None):
    ds = ds or manifest("DaemonSet")
    cs = [c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == "forktrace"]
    check(len(cs) == 1, "the DaemonSet has no container named forktrace")
    return cs[0]


def agent_uid(c=None):
    """The uid the DaemonSet's --user switches forktrace to: its own, shared
    with no one (any process of that uid could signal it), so neither root
    nor nobody, whom other hostPID agents run as."""
    users = [a for a in (c or agent_container())["args"] if a.startswith("--user=")]
    check(len(users) == 1, "want one --user=UID argument, got %r" % users)
    uid = users[0][len("--user="):].split(":")[0]
    check(uid.isdigit() and int(uid) not in (0, 65534),
          "--user=%s: a number, neither root's nor nobody's" % uid)
    return uid


def daemonset_capabilities():
    """The capabilities the forktrace container adds (deploy/kubernetes/
    daemonset.yaml, the one place they are listed), as a set of names
    without the CAP_ prefix: {"BPF", "PERFMON", ...}."""
    try:
        caps = agent_container()["securityContext"]["capabilities"]["add"]
    except (KeyError, TypeError) as e:
        raise Fail("daemonset.yaml: no securityContext.capabilities.add (%s)" % e) from e
    names = [c.upper().removeprefix("CAP_") for c in caps]
    check(len(names) == len(set(names)), "a capability is listed twice: %r" % caps)
    return set(names)


# --- node and validate.mjs ---------------------------------------------------

def npm_ci():
    """node_modules from package-lock.json, once (npm ci when it is missing)."""
    check(shutil.which("node") and shutil.which("npm"),
          "node and npm are needed (scripts/install-deps.sh test installs them)")
    if os.path.exists(os.path.join(NODE_DIR, "node_modules", ".package-lock.json")):
        return
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    check(r.returncode == 0, "npm ci in tests/deploy failed:\n" + r.stdout[-3000:])


def validate(*targets):
    return subprocess.run(["node", VALIDATE] + list(targets), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120)


@test
def deploy_manifests_validate():
    npm_ci()
    r = validate()
    check(r.returncode == 0, "validate.mjs failed:\n" + r.stdout)
    lines = [l for l in r.stdout.splitlines() if l.startswith(("ok", "FAIL"))]
    check(lines and all(l.startswith("ok ") for l in lines), "not all ok:\n" + r.stdout)
    kinds = {docs[0]["kind"] for docs in load_manifests().values()}
    want = {"Namespace", "ServiceAccount", "ConfigMap", "DaemonSet", "PodMonitor",
            "PrometheusRule", "NetworkPolicy", "Kustomization"}
    check(kinds == want, "deploy/kubernetes holds %r, want %r" % (sorted(kinds), sorted(want)))
    for kind in want:
        check(any(" %s" % kind in l for l in lines), "validate.mjs did not check the " + kind)


@test
def deploy_validator_rejects_broken_manifests():
    """A validator that cannot fail proves nothing: a schema error, an
    unknown kind and a dangling reference each fail it."""
    npm_ci()
    tmp = tempfile.mkdtemp(prefix="ft-k8s-")
    try:
        bad = os.path.join(tmp, "kubernetes")
        shutil.copytree(K8S, bad)
        ds_path = os.path.join(bad, "daemonset.yaml")
        ds = manifest("DaemonSet")

        broken = copy.deepcopy(ds)
        broken["spec"]["template"]["spec"]["containers"] = "x"
        with open(ds_path, "w") as f:
            yaml.safe_dump(broken, f)
        r = validate(bad)
        check(r.returncode == 1, "containers: \"x\" passed validation:\n" + r.stdout)
        check(re.search(r"^FAIL .*daemonset\.yaml: apps/v1 DaemonSet .*containers must be array",
                        r.stdout, re.M), "no FAIL line for the DaemonSet:\n" + r.stdout)

        broken = copy.deepcopy(ds)
        broken["spec"]["template"]["spec"]["serviceAccountName"] = "nobody-here"
        with open(ds_path, "w") as f:
            yaml.safe_dump(broken, f)
        r = validate(bad)
        check(r.returncode == 1 and "service account nobody-here not found" in r.stdout,
              "a dangling service account passed:\n" + r.stdout)

        # a policy that selects no pod of ours protects nothing
        with open(ds_path, "w") as f:
            yaml.safe_dump(ds, f)
        np_path = os.path.join(bad, "networkpolicy.yaml")
        policy = manifest("NetworkPolicy")
        broken = copy.deepcopy(policy)
        broken["spec"]["podSelector"]["matchLabels"] = {"app.kubernetes.io/name": "nothing"}
        with open(np_path, "w") as f:
            yaml.safe_dump(broken, f)
        r = validate(bad)
        check(r.returncode == 1 and "podSelector matches no pod template" in r.stdout,
              "a NetworkPolicy selecting nothing passed:\n" + r.stdout)
        broken = copy.deepcopy(policy)
        broken["spec"]["ingress"][0]["ports"][0]["port"] = "metricz"
        with open(np_path, "w") as f:
            yaml.safe_dump(broken, f)
        r = validate(bad)
        check(r.returncode == 1 and "port named metricz" in r.stdout,
              "a NetworkPolicy on an unknown port passed:\n" + r.stdout)

        unknown = os.path.join(tmp, "widget.yaml")
        with open(unknown, "w") as f:
            f.write("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n")
        r = validate(unknown)
        check(r.returncode == 1 and "unknown apiVersion/kind" in r.stdout,
              "an unknown kind passed:\n" + r.stdout)

        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        r = validate(empty)
        check(r.returncode == 2, "an empty directory passed (rc %d):\n%s" % (r.returncode, r.stdout))
    finally:
        shutil.rmtree(tmp)


# --- the PrometheusRule -------------------------------------------------------

def write_rules(dirname, groups):
    path = os.path.join(dirname, "forktrace-rules.yaml")
    with open(path, "w") as f:
        yaml.safe_dump({"groups": groups}, f, sort_keys=False)
    return path


def promtool(*args, cwd=None):
    check(shutil.which("promtool"), "promtool is needed (Debian package prometheus)")
    return subprocess.run(["promtool"] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120)


def rules_unit_test(groups):
    """promtool test rules tests/deploy/rules_test.yaml against these groups."""
    tmp = tempfile.mkdtemp(prefix="ft-rules-")
    try:
        write_rules(tmp, groups)
        shutil.copy(RULES_TEST, tmp)
        return promtool("test", "rules", "rules_test.yaml", cwd=tmp)
    finally:
        shutil.rmtree(tmp)


@test
def deploy_prometheus_rules():
    groups = manifest("PrometheusRule")["spec"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    names = {r.get("alert") for r in rules}
    for want in ("ForktraceRunawayProcessTree", "ForktraceRecordsLost", "ForktraceRestartLoop",
                 "ForktraceTargetDown", "ForktraceRingReadStalled",
                 "ForktraceKernelAllowRulesStale", "ForktraceConfigRefused"):
        check(want in names, "no %s alert" % want)
    for r in rules:
        check(r.get("labels", {}).get("severity") in ("critical", "warning"),
              "%s: severity label must be critical or warning" % r.get("alert"))
        used = set(re.findall(r"\bforktrace_[a-z_]+", r["expr"]))
        check(used <= METRICS, "%s uses unknown metrics %r" % (r["alert"], used - METRICS))
    pages = {r["alert"] for r in rules if r["labels"]["severity"] == "critical"}
    check(pages == {"ForktraceRunawayProcessTree", "ForktraceRecordsLost"},
          "pages: %r" % sorted(pages))

    tmp = tempfile.mkdtemp(prefix="ft-rules-")
    try:
        r = promtool("check", "rules", write_rules(tmp, groups))
        check(r.returncode == 0, "promtool check rules:\n" + r.stdout)
        # and promtool does reject a broken rule
        broken = copy.deepcopy(groups)
        broken[0]["rules"][0]["expr"] = "increase(forktrace_alerts_total[5m] > 0"
        r = promtool("check", "rules", write_rules(tmp, broken))
        check(r.returncode != 0, "promtool accepted a broken expression")
    finally:
        shutil.rmtree(tmp)

    r = rules_unit_test(groups)
    check(r.returncode == 0 and "SUCCESS" in r.stdout, "promtool test rules:\n" + r.stdout)

    # The unit tests can fail: a page on any severity pages for node-b's
    # warning, and without the up guard node-d's old alert pages at once.
    loose = copy.deepcopy(groups)
    page = next(r for g in loose for r in g["rules"] if r["alert"] == "ForktraceRunawayProcessTree")
    page["expr"] = page["expr"].replace(',severity="critical"', "")
    check(page["expr"] != groups[0]["rules"][0]["expr"], "could not loosen the page rule")
    r = rules_unit_test(loose)
    check(r.returncode != 0 and "node-b" in r.stdout,
          "the unit tests pass a page on warnings:\n" + r.stdout)
    unguarded = copy.deepcopy(groups)
    page = next(r for g in unguarded for r in g["rules"]
                if r["alert"] == "ForktraceRunawayProcessTree")
    page["expr"] = re.sub(r"\s*and on \(job, instance\)\s*\(up\{[^}]*\} offset 5m\)", "",
                          page["expr"])
    check("and on" not in page["expr"], "could not drop the up guard")
    r = rules_unit_test(unguarded)
    check(r.returncode != 0 and "node-d" in r.stdout,
          "the unit tests pass a page for an old alert:\n" + r.stdout)


# --- the DaemonSet's security settings ----------------------------------------

@test
def deploy_daemonset_security():
    ds = manifest("DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    c = agent_container(ds)
    sc = c["securityContext"]

    caps = daemonset_capabilities()
    check(caps, "the DaemonSet adds no capabilities")
    check(all(re.fullmatch(r"[A-Z_]+", n) for n in caps), "odd capability names: %r" % caps)
    check(not caps & NEVER, "capabilities the agent must never hold: %r" % (caps & NEVER))
    check(sc["capabilities"].get("drop") == ["ALL"], "capabilities.drop must be [ALL]")
    check(sc.get("privileged") is False, "privileged must be false")
    check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation must be false")
    check(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem must be true")
    check(sc.get("runAsUser") == 0 and sc.get("runAsNonRoot") is not True,
          "the container starts as uid 0 (forktrace drops to --user itself)")
    check(pod.get("hostPID") is True, "hostPID must be true")
    check(not pod.get("hostNetwork") and not pod.get("hostIPC"), "no hostNetwork or hostIPC")
    check(pod.get("automountServiceAccountToken") is False, "the API token must not be mounted")
    check(pod.get("priorityClassName") == "system-node-critical", "priorityClassName")
    check({"operator": "Exists"} in pod.get("tolerations", []), "no toleration for every taint")

    args = c["args"]
    for a in ("--agent", "--metrics=$(POD_IP):9465", "--config=/etc/forktrace/forktrace.conf",
              "--host-root=/host"):
        check(a in args, "missing argument %s" % a)
    agent_uid(c)
    check(not any(a in args for a in ("--kill", "--stop")) and
          not any(a.startswith("--guard") for a in args), "the agent must only observe")
    env = {e["name"]: e for e in c.get("env", [])}
    check(env.get("POD_IP", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
          == "status.podIP", "POD_IP must come from status.podIP")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    check(ports.get("metrics") == 9465, "no container port metrics: 9465")
    # liveness through no port (no client can starve it): the heartbeat
    # the agent writes, read by --health-check; readiness over HTTP
    heartbeat = [a.split("=", 1)[1] for a in args if a.startswith("--heartbeat=")]
    check(len(heartbeat) == 1, "the agent must write a --heartbeat file: %r" % args)
    live = c.get("livenessProbe", {})
    check(live.get("exec", {}).get("command") ==
          ["/usr/local/sbin/forktrace", "--health-check=" + heartbeat[0]] and
          "httpGet" not in live, "livenessProbe must exec --health-check on %s: %r" %
          (heartbeat[0], live))
    check(live.get("timeoutSeconds", 1) >= 2 and live.get("failureThreshold", 3) >= 3,
          "livenessProbe too quick to kill: %r" % live)
    get = c.get("readinessProbe", {}).get("httpGet", {})
    check(get.get("path") == "/healthz" and get.get("port") in (9465, "metrics"),
          "readinessProbe must GET /healthz on 9465: %r" % get)
    res = c["resources"]
    check(res["requests"] == {"cpu": "50m", "memory": "32Mi"} and
          res["limits"] == {"cpu": "1", "memory": "128Mi"}, "resources: %r" % res)

    # host paths: read-only, never created, at /host/... for --host-root
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    want = {"/sys/kernel/btf": ("/sys/kernel/btf", "Directory"),
            "/sys/fs/cgroup": ("/host/sys/fs/cgroup", "Directory"),
            "/run/containerd": ("/host/run/containerd", ""),
            "/run/containers/storage": ("/host/run/containers/storage", "")}
    # the heartbeat's directory: the one writable mount, in memory, tiny
    run = [m for m in c["volumeMounts"] if heartbeat[0].startswith(m["mountPath"] + "/")]
    check(len(run) == 1 and "emptyDir" in volumes.get(run[0]["name"], {}),
          "the heartbeat file's directory is not an emptyDir mount: %r" % run)
    ed = volumes[run[0]["name"]]["emptyDir"]
    check(ed.get("medium") == "Memory" and quantity(ed.get("sizeLimit", "1Gi")) <= 2**20,
          "heartbeat emptyDir %r" % ed)
    seen = set()
    for name, v in volumes.items():
        if "hostPath" not in v:
            continue
        hp = v["hostPath"]
        m = mounts.get(name)
        check(m is not None, "host path %s is not mounted" % hp["path"])
        check(m.get("readOnly") is True, "host path %s mounted writable" % hp["path"])
        check(m.get("mountPropagation") in (None, "None", "HostToContainer"),
              "%s: propagation %s" % (hp["path"], m.get("mountPropagation")))
        check(hp["path"] in want, "unexpected host path %s" % hp["path"])
        at, kind = want[hp["path"]]
        check(m["mountPath"] == at, "%s mounted at %s, want %s" % (hp["path"], m["mountPath"], at))
        check(hp.get("type", "") == kind, "%s: hostPath type %r, want %r" %
              (hp["path"], hp.get("type"), kind))
        seen.add(hp["path"])
    check(seen == set(want), "host paths %r, want %r" % (sorted(seen), sorted(want)))
    for m in c["volumeMounts"]:
        check(m is run[0] or m.get("readOnly") is True, "%s mounted writable" % m["mountPath"])

    # seccomp: our allowlist, not Unconfined (RuntimeDefault blocks bpf(2):
    # deploy_image_builds_and_runs shows it)
    sp = sc.get("seccompProfile", {})
    check(sp.get("type") == "Localhost" and sp.get("localhostProfile") ==
          "forktrace/forktrace.json", "seccompProfile %r" % sp)
    prof = seccomp_profile()
    allowed = seccomp_allowed(prof)
    check(prof["defaultAction"] == "SCMP_ACT_ERRNO", "the profile must deny by default")
    for name in ("bpf", "perf_event_open", "pidfd_open", "pidfd_send_signal", "kill",
                 "mlockall", "capset", "prctl", "setresuid", "sched_setscheduler",
                 "setpriority", "prlimit64", "accept4", "epoll_wait", "epoll_ctl", "socket",
                 "bind", "listen", "readlinkat", "openat", "pwrite64", "ftruncate", "futex",
                 "rt_sigaction", "clock_nanosleep"):
        check(name in allowed, "the seccomp profile denies %s, which forktrace uses" % name)
    for name in ("open_by_handle_at", "name_to_handle_at", "mount", "umount2", "unshare",
                 "setns", "ptrace", "process_vm_readv", "process_vm_writev", "keyctl",
                 "io_uring_setup", "kexec_load", "init_module", "finit_module", "userfaultfd",
                 "pidfd_getfd", "clone3", "pivot_root", "chroot"):
        check(name not in allowed, "the seccomp profile allows %s" % name)
    clone = [r for r in prof["syscalls"] if "clone" in r["names"]]
    check(len(clone) == 1 and clone[0]["args"][0]["op"] == "SCMP_CMP_MASKED_EQ" and
          clone[0]["args"][0]["value"] & 0x10000000 and clone[0]["args"][0]["valueTwo"] == 0,
          "clone must be allowed without namespace flags only: %r" % clone)

    # only Prometheus reaches the port, and the agent reaches no one
    policy = manifest("NetworkPolicy")
    ps = policy["spec"]
    check(policy["metadata"]["namespace"] == ds["metadata"]["namespace"] and
          ps["podSelector"]["matchLabels"].items() <=
          ds["spec"]["template"]["metadata"]["labels"].items(),
          "the NetworkPolicy does not select the agent's pods: %r" % ps["podSelector"])
    check(sorted(ps.get("policyTypes", [])) == ["Egress", "Ingress"],
          "policyTypes %r: both directions" % ps.get("policyTypes"))
    check(ps.get("egress") == [], "egress must be empty (forktrace connects nowhere): %r" %
          ps.get("egress"))
    check(len(ps["ingress"]) == 1, "one ingress rule: %r" % ps["ingress"])
    rule = ps["ingress"][0]
    check(rule.get("ports") == [{"port": "metrics", "protocol": "TCP"}],
          "ingress ports %r" % rule.get("ports"))
    check(rule.get("from") and all(
        "namespaceSelector" in f and "podSelector" in f and "ipBlock" not in f and
        f["namespaceSelector"].get("matchLabels") and f["podSelector"].get("matchLabels")
        for f in rule["from"]), "ingress from must name a namespace and its pods: %r" %
        rule.get("from"))

    # the config: the ConfigMap's forktrace.conf at --config's path
    cm = manifest("ConfigMap")
    check(volumes["config"]["configMap"]["name"] == cm["metadata"]["name"], "config volume")
    check(mounts["config"]["mountPath"] == "/etc/forktrace", "config mounted elsewhere")
    conf = cm["data"]["forktrace.conf"]
    check(conf.lstrip().startswith("#"), "forktrace.conf has no comment header")
    check(re.search(r"^#\s*allow = namespace:kube-system$", conf, re.M),
          "no commented-out allow = namespace:kube-system example")
    for line in conf.splitlines():
        s = line.strip()
        check(not s or s.startswith("#") or re.fullmatch(r"[a-z_]+\s*=\s*\S.*", s),
              "forktrace.conf: not a key = value line: %r" % line)

    # Pod Security Admission lets such a pod into the namespace
    ns = manifest("Namespace")
    check(ns["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "privileged",
          "namespace forktrace must allow privileged-level pods")
    check(ds["metadata"]["namespace"] == ns["metadata"]["name"], "DaemonSet namespace")


@test
def deploy_readme_lists_the_capabilities():
    caps = daemonset_capabilities()
    with open(os.path.join(DEPLOY, "README.md")) as f:
        text = f.read()
    # the table's first column: | `CAP_BPF` | ... |
    listed = set(re.findall(r"^\|\s*`CAP_([A-Z_]+)`\s*\|", text, re.M))
    check(listed == caps, "deploy/README.md's capability table lists %r, the DaemonSet %r" %
          (sorted(listed), sorted(caps)))
    with open(os.path.join(K8S, "daemonset.yaml")) as f:
        header = f.read().split("apiVersion:")[0]
    for cap in caps:
        check(re.search(r"\b%s\b" % cap, header), "daemonset.yaml's header does not say what "
              "%s is for" % cap)


def seccomp_profile():
    """deploy/seccomp/forktrace.json, the Localhost profile the DaemonSet names."""
    with open(os.path.join(SECCOMP_DIR, "forktrace.json")) as f:
        return json.load(f)


def seccomp_allowed(prof):
    """Syscall names the profile allows with no condition on arguments."""
    return {n for r in prof["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" and not r.get("args")
            for n in r["names"]}


# --- the image -----------------------------------------------------------------

def podman(*args, timeout=120):
    return subprocess.run([PODMAN] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def quantity(q):
    """A Kubernetes quantity ("64Mi", "500m", "1") as a number."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9, "m": 1e-3}
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(q))
    check(m and (not m.group(2) or m.group(2) in units), "quantity %r" % q)
    return float(m.group(1)) * units.get(m.group(2), 1)


def pod_like_run_args(conf_dir, caps, network="none"):
    """podman run options that give the container what the DaemonSet's pod
    gets: only its capabilities, the host's pids, a read-only root, no new
    privileges, its seccomp profile, its memory and CPU limits, and its host
    paths (those this host has), read-only at the same places."""
    ds = manifest("DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    c = agent_container(ds)
    sc = c["securityContext"]
    limits = c["resources"]["limits"]
    opts = ["--rm", "--network=" + network, "--pid=host", "--read-only",
            "--user=%d" % sc["runAsUser"],
            "--cap-drop=all", "--cap-add=" + ",".join("CAP_" + n for n in sorted(caps)),
            "--security-opt=no-new-privileges",
            "--memory=%d" % quantity(limits["memory"]), "--cpus=%g" % quantity(limits["cpu"])]
    sp = sc.get("seccompProfile", {})
    if sp.get("type") == "Unconfined":
        opts.append("--security-opt=seccomp=unconfined")
    elif sp.get("type") == "Localhost":
        # the kubelet's <root>/seccomp/forktrace/forktrace.json is deploy/seccomp's
        opts.append("--security-opt=seccomp=" +
                    os.path.join(SECCOMP_DIR, os.path.basename(sp["localhostProfile"])))
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    for v in pod["volumes"]:
        m = mounts[v["name"]]
        if "hostPath" in v:
            if os.path.isdir(v["hostPath"]["path"]):
                prop = ",rslave" if m.get("mountPropagation") == "HostToContainer" else ""
                opts.append("--volume=%s:%s:ro%s" % (v["hostPath"]["path"], m["mountPath"], prop))
        elif "configMap" in v:
            opts.append("--volume=%s:%s:ro" % (conf_dir, m["mountPath"]))
        elif "emptyDir" in v:
            opts.append("--tmpfs=%s:rw,size=%d,mode=0755" %
                        (m["mountPath"], quantity(v["emptyDir"].get("sizeLimit", "1Mi"))))
    return opts


@test
def deploy_image_builds_and_runs():
    check(shutil.which("podman"), "podman is needed (Debian package podman)")
    check(shutil.which("runc"), "runc is needed (Debian package runc)")
    check(os.access(FORKTRACE, os.X_OK), "build forktrace first (make)")
    r = subprocess.run([BUILD_IMAGE], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    check(r.returncode == 0, "scripts/build-image.sh failed:\n" + r.stdout[-4000:])
    tag = subprocess.run([BUILD_IMAGE, "--print-tag"], cwd=ROOT, stdout=subprocess.PIPE,
                         text=True, timeout=30).stdout.strip()
    check(re.fullmatch(r"localhost/forktrace:\S+", tag), "odd image tag %r" % tag)
    version = tag.split(":", 1)[1]
    check(agent_container()["image"] == tag, "the DaemonSet runs %s, the build tags %s: "
          "update deploy/kubernetes/daemonset.yaml" % (agent_container()["image"], tag))

    r = podman("image", "inspect", tag)
    check(r.returncode == 0, "no image %s: %s" % (tag, r.stderr))
    cfg = json.loads(r.stdout)[0]["Config"]
    check(cfg.get("Entrypoint") == ["/usr/local/sbin/forktrace"], "entrypoint %r" %
          cfg.get("Entrypoint"))
    check(cfg.get("User") in ("0", "0:0", "root"), "image user %r" % cfg.get("User"))

    caps = daemonset_capabilities()
    cm = manifest("ConfigMap")
    conf_dir = tempfile.mkdtemp(prefix="ft-conf-")
    try:
        for name, text in cm["data"].items():
            with open(os.path.join(conf_dir, name), "w") as f:
                f.write(text)
        opts = pod_like_run_args(conf_dir, caps)

        r = podman("run", *opts, tag, "--version")
        check(r.returncode == 0, "podman run --version failed (%d): %s" % (r.returncode, r.stderr))
        check(r.stdout.strip() == "forktrace " + version,
              "--version printed %r, want forktrace %s" % (r.stdout, version))

        # a short live trace, observe only
        r = podman("run", *opts, tag, "-d", "2", "-j", timeout=120)
        check(r.returncode == 0, "the live trace failed (%d): %s" % (r.returncode, r.stderr))
        events = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        check(events, "the live trace printed no JSON line")
        start = events[0]
        check(start.get("event") == "start" and start.get("version") == version,
              "first line is not start: %r" % start)
        check(start["attach"]["fork"] == "tp_btf" and start["attach"]["oom"] != "none",
              "with the DaemonSet's capabilities every probe should attach: %r" % start["attach"])
        check(events[-1].get("event") == "summary", "no summary line: %r" % events[-1])

        # the runtime's default seccomp profile (here containers-common's, as
        # CRI-O applies it) lets bpf(2) through to CAP_SYS_ADMIN only: why the
        # DaemonSet ships a profile of its own (docs/kubernetes.md)
        default = [o for o in opts if not o.startswith("--security-opt=seccomp=")]
        r = podman("run", *default, tag, "-d", "1", "-j", timeout=120)
        check(r.returncode != 0 and "Operation not permitted" in r.stderr,
              "under the runtime's default seccomp profile: rc %d, %s" %
              (r.returncode, r.stderr[-300:]))

        # and one capability fewer is not enough: the list is not decoration
        fewer = pod_like_run_args(conf_dir, caps - {"BPF"})
        r = podman("run", *fewer, tag, "-d", "1", "-j", timeout=120)
        check(r.returncode != 0, "forktrace ran without CAP_BPF: %s" % r.stdout[:300])
    finally:
        shutil.rmtree(conf_dir)


def http_get(url, timeout=2):
    try:
        return fetch(url, timeout=timeout)
    except OSError:
        return None, ""


@test
def deploy_image_runs_as_the_daemonset_does():
    """The DaemonSet's own arguments in the image, with its capabilities,
    mounts and limits: /healthz answers 200 and /metrics serves, forktrace
    has switched to its --user uid without SETUID/SETGID, SIGHUP re-reads the
    ConfigMap's file and SIGTERM ends it cleanly.  The metrics address is
    the host's loopback on a free port instead of the pod IP."""
    r = subprocess.run([BUILD_IMAGE, "--print-tag"], cwd=ROOT, stdout=subprocess.PIPE,
                       text=True, timeout=30)
    tag = r.stdout.strip()
    if podman("image", "exists", tag).returncode != 0:
        r = subprocess.run([BUILD_IMAGE], cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
        check(r.returncode == 0, "scripts/build-image.sh failed:\n" + r.stdout[-4000:])
    c = agent_container()
    port = free_port()
    args = []
    for a in c["args"]:
        if a.startswith("--metrics="):
            check(a == "--metrics=$(POD_IP):9465", "unexpected %s" % a)
            a = "--metrics=127.0.0.1:%d" % port
        check("$(" not in a, "an argument this test cannot expand: %s" % a)
        args.append(a)
    name = "forktrace-deploy-test-%d" % os.getpid()
    conf_dir = tempfile.mkdtemp(prefix="ft-conf-")
    try:
        for fname, text in manifest("ConfigMap")["data"].items():
            with open(os.path.join(conf_dir, fname), "w") as f:
                f.write(text)
        opts = pod_like_run_args(conf_dir, daemonset_capabilities(), network="host")
        opts.remove("--rm")
        r = podman("run", "--detach", "--name", name, *opts, tag, *args)
        check(r.returncode == 0, "podman run failed: %s" % r.stderr)

        codes = [None]

        def healthy():
            codes.append(http_get("http://127.0.0.1:%d/healthz" % port)[0])
            if codes[-1] == 200:
                return True
            check(podman("container", "exists", name).returncode == 0 and
                  "running" in podman("inspect", name, "--format", "{{.State.Status}}").stdout,
                  "the agent exited: %s" % podman("logs", name).stderr[-2000:])
            return False
        wait_until(healthy, 30, step=0.2)
        code = codes[-1]
        check(code == 200, "/healthz answered %r within 30 s" % code)
        # the liveness probe, as the kubelet runs it: exec in the container
        live = c["livenessProbe"]["exec"]["command"]
        r = podman("exec", name, *live)
        check(r.returncode == 0, "the liveness probe %r failed (%d): %s" %
              (live, r.returncode, r.stderr))
        code, text = http_get("http://127.0.0.1:%d/metrics" % port)
        check(code == 200 and "forktrace_build_info{" in text and
              "forktrace_ring_read_age_seconds " in text, "/metrics: %r %r" % (code, text[:300]))

        pid = int(podman("inspect", name, "--format", "{{.State.Pid}}").stdout.strip())
        st = proc_status(pid)
        uid = agent_uid(c)
        check(st["Uid"].split() == [uid] * 4 and st["Gid"].split() == [uid] * 4,
              "forktrace did not switch to %s: Uid %s Gid %s" % (uid, st["Uid"], st["Gid"]))
        eff = int(st["CapEff"], 16)
        for bit, cap in ((6, "SETGID"), (7, "SETUID")):
            check(not eff & (1 << bit), "CAP_%s still effective after --user" % cap)

        check(podman("kill", "--signal", "HUP", name).returncode == 0, "podman kill -s HUP")
        # its answer: "forktrace: SIGHUP: settings re-read from ..."
        check(wait_until(lambda: "re-read" in podman("logs", name).stderr, 10, step=0.2),
              "no config reload on SIGHUP")

        r = podman("stop", "--time", "15", name, timeout=60)
        check(r.returncode == 0, "podman stop: %s" % r.stderr)
        rc = podman("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip()
        check(rc == "0", "forktrace exited %s on SIGTERM" % rc)
        out = podman("logs", name).stdout.splitlines()
        events = [json.loads(l) for l in out if l.startswith("{")]
        check(events and events[0].get("event") == "start", "no start line: %r" % out[:2])
    finally:
        podman("rm", "--force", "--time", "0", name, timeout=60)
        shutil.rmtree(conf_dir)


# --- the systemd unit -----------------------------------------------------------

def parse_unit(path):
    """{section: {key: [values]}} of a systemd unit file (enough for ours:
    no line continuations)."""
    sections, cur = {}, None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if not s or s[0] in "#;":
                continue
            if s.startswith("[") and s.endswith("]"):
                cur = sections.setdefault(s[1:-1], {})
                continue
            check(cur is not None and "=" in s and not s.endswith("\\"),
                  "%s:%d: not a key=value line in a section: %r" % (path, n, line))
            k, v = s.split("=", 1)
            cur.setdefault(k.strip(), []).append(v.strip())
    return sections


def systemd_verify(unit_text):
    """systemd-analyze verify of a copy (its ExecStart binary at ./forktrace,
    which exists here); (rc, output).  Warnings exit 0, so output counts."""
    tmp = tempfile.mkdtemp(prefix="ft-unit-")
    try:
        path = os.path.join(tmp, "forktrace.service")
        with open(path, "w") as f:
            f.write(unit_text.replace("/usr/local/sbin/forktrace", FORKTRACE))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        return r.returncode, r.stdout.strip()
    finally:
        shutil.rmtree(tmp)


@test
def deploy_systemd_unit():
    unit = parse_unit(UNIT)
    svc = unit.get("Service", {})
    check("Install" in unit and unit["Install"].get("WantedBy") == ["multi-user.target"],
          "[Install] WantedBy=multi-user.target")

    def one(key):
        v = svc.get(key, [])
        check(len(v) == 1, "[Service] %s: want one value, got %r" % (key, v))
        return v[0]

    exec_start = one("ExecStart").split()
    check(exec_start[:2] == ["/usr/local/sbin/forktrace", "--agent"], "ExecStart %r" % exec_start)
    for a in ("--metrics=127.0.0.1:9465", "--config=/etc/forktrace/forktrace.conf"):
        check(a in exec_start, "ExecStart lacks %s" % a)
    metrics = [a for a in exec_start if a.startswith("--metrics=")]
    check(len(metrics) == 1 and metrics[0].split("=", 1)[1].startswith("127."),
          "metrics must listen on loopback: %r" % metrics)
    check(not {"--kill", "--stop"} & set(exec_start), "the agent must only observe")
    caps = {"CAP_" + c for c in daemonset_capabilities()}
    for key in ("CapabilityBoundingSet", "AmbientCapabilities"):
        check(set(one(key).split()) == caps, "%s %r, want the DaemonSet's %r" %
              (key, one(key), sorted(caps)))
    for key, want in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                      ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                      ("Restart", "on-failure"), ("ExecReload", "/bin/kill -HUP $MAINPID"),
                      ("StandardOutput", "journal")):
        check(one(key) == want, "[Service] %s=%s, want %s" % (key, one(key), want))

    if shutil.which("systemd-analyze"):
        with open(UNIT) as f:
            text = f.read()
        rc, out = systemd_verify(text)
        check(rc == 0 and not out, "systemd-analyze verify: rc %d\n%s" % (rc, out))
        # and it does complain about a bad unit
        rc, out = systemd_verify(text.replace("ProtectHome=yes", "ProtectHome=yess"))
        check(rc != 0 or out, "systemd-analyze verify passed ProtectHome=yess")
