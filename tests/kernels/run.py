#!/usr/bin/env python3
"""`make test-kernels`: forktrace's live tests on other kernels, under qemu.

For each kernel (Debian's cloud kernels, 6.1 and 6.12 by default):
fetch the package (apt-get download, cached in build/kernels/debs), extract
it, boot it under qemu-system-x86_64 with TCG (2 vCPUs) from the initramfs
that tests/kernels/mkroot.py builds, let tests/kernels/guest.py run the live
tests inside, and read its report from the guest's second serial port.
With --arch arm64 (make test-kernels ARCH=arm64): the cloud-arm64 kernels,
the build-arm64/ binaries and an arm64 guest root, under build-arm64/kernels,
booted by qemu-system-aarch64 (-M virt) with the report on a PCI serial port.
Writes docs/kernels.md (this architecture's part: the other's stays) and
ends with "N passed, N failed"; exits non-zero if a test failed or a guest
did not finish in time.

    python3 tests/kernels/run.py [--arch x86|arm64] [--kernels 6.1,6.12] [--tests a,b] [--no-doc]

Environment (each overrides the default of the option it names):
  FT_ARCH          x86 or arm64 (make's ARCH; default: this host's)
  FT_KERNELS       series (6.1, 6.12) or exact package names, comma-separated
  FT_TESTS         test names, comma-separated (guest.py's DEFAULT_TESTS)
  FT_GUEST_TIMEOUT   seconds one kernel's whole run may take (default 3600; arm64 7200)
  FT_TEST_TIMEOUT  seconds one test may take inside the guest (default 900; arm64 1800)
  FT_CGROUP        v1 (default: hybrid, as on this project's machines) or v2
  FT_QEMU_MEM      guest memory in MiB (default 2048)
  FT_EXEC          debugging: a command run in the guest before the tests, its
                   words joined by commas (results.log has its output)
  FT_APPEND        debugging: words added to the guest kernel's command line
                   (rdinit=/none shows what a guest that dies before /init gives)
"""
import argparse
import datetime
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DOC = os.path.join(ROOT, "docs", "kernels.md")
sys.path.insert(0, HERE)
from guest import DEFAULT_TESTS  # noqa: E402  (importing guest.py loads no test)
from mkroot import ARCHES, HOST_ARCH, build_dir  # noqa: E402

DEFAULT_KERNELS = "6.1,6.12"
# How many times a kernel is booted again when it ended before running /init.
BOOT_RETRIES = 2
OUT = os.path.join(build_dir(HOST_ARCH), "kernels")  # main() sets it, and ARCH, for --arch
ARCH = HOST_ARCH


# How each architecture's guest boots.  x86: the PC's two 16550 UARTs, the
# kernel's console on the first and the report on the second.  arm64: qemu's
# virt machine has one UART (the PL011, ttyAMA0: the console), so the report
# goes to a 16550 on PCI (pci-serial), which both arm64 cloud kernels drive
# with built-in code (SERIAL_8250_PCI=y) where a virtio console would need
# modules on 6.1 (VIRTIO_CONSOLE=m); it is the 8250 driver's first port,
# ttyS0, and /init writes to what FT_RESULTS names.  -cpu max's pointer
# authentication is emulated with QARMA, costly in TCG for a kernel built
# with it on every function return: pauth-impdef=on keeps the feature and
# uses qemu's cheaper hash.  The longer default limits for arm64 are a
# safety net for an emulated foreign architecture on a busy host (the
# tests' own timeouts are the same on both).  x86's two vCPUs share one
# host thread (thread=single): x86 kernels switch static keys (a tracepoint
# enabled by perf_event_open, jump labels at boot) by patching live code
# with int3 breakpoints, and under multi-threaded TCG a vCPU can still hit
# the int3 after the patch is done.  Debian's 6.12 then oopses ("Oops:
# int3" in syscall_exit_to_user_mode_prepare, "Fatal exception in
# interrupt"): once at boot in CI, once here while forktrace attached its
# syscall tracepoints.  arm64 patches one instruction at a time, with no
# breakpoint to hit, and keeps a thread per vCPU.
QEMU = {
    "x86": {"qemu": "qemu-system-x86_64", "machine": [], "accel": "tcg,thread=single",
            "cpu": "max", "console": "ttyS0",
            "results": lambda path: ["-serial", "file:" + path], "append": "",
            "guest_timeout": 3600, "test_timeout": 900},
    "arm64": {"qemu": "qemu-system-aarch64",
              "machine": ["-M", "virt"], "accel": "tcg", "cpu": "max,pauth-impdef=on",
              "console": "ttyAMA0",
              "results": lambda path: ["-chardev", "file,id=results,path=" + path,
                                       "-device", "pci-serial,chardev=results"],
              "append": " FT_RESULTS=/dev/ttyS0", "guest_timeout": 7200, "test_timeout": 1800},
}


def flavour():
    """The kernel packages' flavour for this architecture: cloud-amd64, cloud-arm64."""
    return "cloud-" + ARCHES[ARCH][0]


def log(msg):
    print("test-kernels: " + msg, flush=True)


# --- kernels ----------------------------------------------------------------------

def newest_package(series):
    """The newest linux-image-<series>...-cloud-<arch>-unsigned apt knows."""
    pat = r"^linux-image-%s[.-].*-%s-unsigned$" % (re.escape(series), flavour())
    r = subprocess.run(["apt-cache", "search", "--names-only", pat], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    names = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    if not names:
        return None
    key = lambda n: [int(x) for x in re.findall(r"\d+", n)]  # noqa: E731
    return max(names, key=key)


def cached_package(series):
    """A package of this series fetched by an earlier run (offline runs)."""
    dirs = [os.path.basename(d) for d in glob.glob(os.path.join(OUT, "linux-image-*"))
            if re.match(r"linux-image-%s[.-].*-%s-unsigned$" % (re.escape(series), flavour()),
                        os.path.basename(d))]
    return sorted(dirs)[-1] if dirs else None


def fetch_kernel(spec):
    """(package, version, vmlinuz path) for a series or an exact package name."""
    pkg = spec if spec.startswith("linux-image-") else newest_package(spec)
    if not pkg:
        pkg = cached_package(spec)
    if not pkg:  # a fresh box: apt's lists may never have been fetched
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        pkg = newest_package(spec)
        if not pkg:
            sys.exit("test-kernels: no package for kernel %s (apt-get update?)" % spec)
    dest = os.path.join(OUT, pkg)
    vmlinuz = glob.glob(os.path.join(dest, "boot", "vmlinuz-*"))
    if not vmlinuz:
        debs = os.path.join(OUT, "debs")
        os.makedirs(debs, exist_ok=True)
        have = glob.glob(os.path.join(debs, pkg + "_*.deb"))
        if not have:
            log("fetching %s" % pkg)
            # pkg:arch, for the architecture is not always the host's (multiarch)
            r = subprocess.run(["apt-get", "download", "-q", "%s:%s" % (pkg, ARCHES[ARCH][0])],
                               cwd=debs,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode:
                sys.exit("test-kernels: apt-get download %s failed: %s" % (pkg, r.stderr))
            have = glob.glob(os.path.join(debs, pkg + "_*.deb"))
        shutil.rmtree(dest + ".tmp", ignore_errors=True)
        subprocess.run(["dpkg-deb", "-x", have[0], dest + ".tmp"], check=True)
        os.rename(dest + ".tmp", dest)
        vmlinuz = glob.glob(os.path.join(dest, "boot", "vmlinuz-*"))
    deb = glob.glob(os.path.join(OUT, "debs", pkg + "_*.deb"))
    version = os.path.basename(deb[0]).split("_")[1] if deb else "?"
    return pkg, version, vmlinuz[0]


# --- one guest ----------------------------------------------------------------------

def parse(lines):
    """The guest's report: begin, attach, results (in order), logs, done."""
    rep = {"begin": None, "attach": None, "results": [], "logs": {}, "done": None,
           "started": []}
    for line in lines:
        line = line.rstrip("\r\n")
        tag, _, rest = line.partition(" ")
        try:
            if tag == "FT-BEGIN":
                rep["begin"] = json.loads(rest)
            elif tag == "FT-ATTACH":
                rep["attach"] = json.loads(rest)
            elif tag == "FT-RESULT":
                rep["results"].append(json.loads(rest))
            elif tag == "FT-DONE":
                rep["done"] = json.loads(rest)
            elif tag == "FT-TEST":
                rep["started"].append(rest)
            elif tag == "FT-LOG":
                name, _, text = rest.partition(": ")
                rep["logs"].setdefault(name, []).append(text)
        except ValueError:
            pass  # a line cut by the guest's end: the test it belongs to has no result
    return rep


def boot(pkg, vmlinuz, initrd, tests, timeout, test_timeout, cgroup, mem):
    """Run one guest; its parsed report plus timings and the log paths."""
    rundir = os.path.join(OUT, "runs", pkg)
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    console, results = os.path.join(rundir, "console.log"), os.path.join(rundir, "results.log")
    q = QEMU[ARCH]
    append = ("console=%s panic=-1 quiet loglevel=4 FT_TESTS=%s FT_TEST_TIMEOUT=%d "
              "FT_CGROUP=%s%s" % (q["console"], ",".join(tests), test_timeout, cgroup, q["append"]))
    if os.environ.get("FT_EXEC"):
        append += " FT_EXEC=" + os.environ["FT_EXEC"]
    if os.environ.get("FT_APPEND"):
        append += " " + os.environ["FT_APPEND"]
    cmd = ["nice", "-n", "19", q["qemu"]] + q["machine"] + ["-accel", q["accel"], "-cpu", q["cpu"],
                                                          "-smp", "2", "-m", str(mem),
                                                          "-nodefaults", "-display", "none",
                                                          "-no-reboot", "-serial",
                                                          "file:" + console] + \
        q["results"](results) + ["-kernel", vmlinuz, "-initrd", initrd, "-append", append]
    with open(os.path.join(rundir, "qemu.cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    began = time.time()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(rundir, "qemu.err"), "w"))
    shown, first, timed_out = 0, None, False
    while True:
        try:
            proc.wait(timeout=2)
            ended = True
        except subprocess.TimeoutExpired:
            ended = False
        except BaseException:  # ^C: take our qemu down with us
            proc.kill()
            proc.wait()
            raise
        lines = open(results, errors="replace").readlines() if os.path.exists(results) else []
        if first is None and lines:
            first = time.time() - began
        rep = parse(lines)
        for r in rep["results"][shown:]:
            log("[%s] %-4s %s (%.1fs)%s" % (pkg_short(pkg), r["status"], r["test"], r["secs"],
                                           ": " + r["message"] if r["status"] != "ok" else ""))
        shown = len(rep["results"])
        if ended:
            break
        if time.time() - began > timeout:
            timed_out = True
            proc.kill()  # the qemu we started, by its own handle
            proc.wait()
            break
    rep["wall"] = time.time() - began
    rep["first_line"] = first
    rep["timed_out"] = timed_out
    rep["qemu_status"] = proc.returncode  # negative: qemu itself was killed by that signal
    rep["rundir"] = rundir
    return rep


# The first line of a kernel's own report of a fault: what an excerpt of the
# console starts from, for the lines after a panic are its register dump and
# the cause is in the lines before (the BUG or Oops line, RIP, the call trace).
OOPS_MARKERS = ("BUG:", "Oops:", "general protection fault", "kernel BUG at",
                "Unable to handle kernel", "Internal error:", "WARNING:", "Kernel panic")


def console_excerpt(rundir, lines=12, oops_lines=60):
    """The console lines that say why a guest ended: from the kernel's first
    fault report if it made one (up to oops_lines), else the last lines."""
    try:
        with open(os.path.join(rundir, "console.log"), errors="replace") as f:
            text = [line.rstrip("\r\n") for line in f.readlines()]
    except OSError as e:
        return ["(no console log: %s)" % e.strerror]
    first = next((i for i, line in enumerate(text) if any(m in line for m in OOPS_MARKERS)),
                 None)
    if first is None:
        return text[-lines:]
    return text[max(0, first - 2):first + oops_lines]


def died_before_init(rep):
    """True when the kernel ended the guest before it ran the root's /init,
    which says FT-GUEST-INIT first: nothing of forktrace's, nor of the tests',
    had run (a panic while the kernel booted under TCG, seen once in CI)."""
    if rep["timed_out"] or rep["begin"] or rep["started"]:
        return False
    try:
        with open(os.path.join(rep["rundir"], "console.log"), errors="replace") as f:
            return not any(line.startswith("FT-GUEST-INIT ") for line in f)
    except OSError:
        return True


def pkg_short(pkg):
    return pkg.replace("linux-image-", "").replace("-%s-unsigned" % flavour(), "")


def failures(pkg, tests, rep):
    """One line per failure, naming the kernel and the test."""
    out, got = [], {r["test"]: r for r in rep["results"]}
    for t in tests:
        r = got.get(t)
        if r and r["status"] != "ok":
            out.append("%s: %s: %s" % (pkg_short(pkg), t, r["message"]))
        elif not r:
            why = "timed out after %d s" % rep["wall"] if rep["timed_out"] else \
                "guest ended without a result, qemu exit status %s" % rep["qemu_status"]
            out.append("%s: %s: no result (%s%s)" % (
                pkg_short(pkg), t, why, ", it was running" if rep["started"] and
                rep["started"][-1] == t else ""))
    if not rep["done"] and not out:
        out.append("%s: the guest did not finish (%s)" % (pkg_short(pkg), rep["rundir"]))
    return out


# --- docs/kernels.md ------------------------------------------------------------------

HOOKS = ("fork", "exec", "exit", "oom")


def fallbacks(rep):
    """What forktrace fell back to on this kernel, from its start event and the
    kill tests' signal events."""
    out = []
    att = ((rep["attach"] or {}).get("default") or {}).get("attach") or {}
    if not att:
        return ["(no start event: %s)" % ((rep["attach"] or {}).get("default") or {})]
    sched = [h for h in ("fork", "exec") if att.get(h) != "tp_btf"]
    if sched:
        out.append("sched hooks attached as %s, not tp_btf" % att.get("fork"))
    else:
        out.append("none for fork/exec: tp_btf")
    ex = att.get("exit", "")
    if "+gd" not in ex:
        out.append("exit: `sched_process_exit` has no `group_dead` argument (before 6.16): "
                   "a process's end is its group leader's exit")
    oom = att.get("oom", "")
    if oom == "tp_btf":
        out.append("oom: `mark_victim` has the (task, uid) prototype (72ba14deb40a or its "
                   "stable backport): no fallback")
    elif oom == "tp_btf_pid":
        out.append("oom: `mark_victim(int pid)`, the old prototype: `tp_btf_pid` program")
    else:
        out.append("oom: attached as `%s`" % oom)
    has_kfunc = (rep["begin"] or {}).get("btf_has_bpf_send_signal_task")
    unavailable = sum(r["figures"].get("child_signal_unavailable", 0) for r in rep["results"])
    if has_kfunc is False or unavailable:
        out.append("containment: no `bpf_send_signal_task` kfunc (6.13+): at a flagged fork the "
                   "kernel signals only the forker; a child forked between the verdict and the "
                   "sweep is killed by the pidfd sweep, not at birth (%d kernel signal events "
                   "with `child_result: null` in the kill tests)" % unavailable)
    elif has_kfunc:
        out.append("containment: `bpf_send_signal_task` available: the kernel signals the new "
                   "child too")
    return out


def md_kernel(pkg, version, rep, tests):
    b = rep["begin"] or {}
    got = {r["test"]: r for r in rep["results"]}
    passed = sum(1 for r in rep["results"] if r["status"] == "ok")
    failed = len(tests) - passed
    lines = ["### %s" % b.get("kernel", pkg_short(pkg)), "",
             "Package `%s` %s. Guest: %s vCPUs, %d MiB, cgroup %s, BTF %s." % (
                 pkg, version, b.get("cpus", "?"), b.get("mem_kb", 0) // 1024,
                 b.get("cgroup", "?"), "yes" if b.get("btf") else "no"),
             "Run: %.0f s wall (boot to the guest's first report line %.0f s); %d passed, "
             "%d failed%s.%s" % (rep["wall"], rep["first_line"] or 0, passed, failed,
                                 ", timed out" if rep["timed_out"] else "",
                                 "".join(" An earlier boot ended before /init ran: `%s`." % c
                                         for c in rep.get("early_boots", []))), "",
             "| hook | attach mode | with `--attach raw_tp` |", "|---|---|---|"]
    att = rep["attach"] or {}
    d = (att.get("default") or {}).get("attach") or {}
    r = (att.get("raw_tp") or {}).get("attach") or {}
    for h in HOOKS:
        lines.append("| %s | %s | %s |" % (h, d.get(h, "?"), r.get(h, "?")))
    lines += ["", "Fallbacks taken:", ""] + ["- " + f for f in fallbacks(rep)]
    lines += ["", "| test | result | time |", "|---|---|---|"]
    for t in tests:
        res = got.get(t)
        if not res:
            lines.append("| %s | no result | - |" % t)
            continue
        note = res["status"]
        if res["status"] != "ok":
            note += ": " + res["message"].replace("|", "\\|").replace("\n", " ")[:300]
        extra = ""
        f = res["figures"]
        if "seen" in f:
            extra = " (performed %s, seen %d + lost %d)" % (f.get("performed", "?"), f["seen"],
                                                           f["lost"])
        lines.append("| %s | %s%s | %.1f s |" % (t, note, extra, res["secs"]))
    kills = [got[t] for t in tests if t.startswith("kill_") and t in got]
    if kills:
        lines += ["", "Containment (`--kill`; each bomb under `build/contain`, pids cap 400; "
                  "start = the bomb's first fork, verdict = the alert):", "",
                  "| bomb | peak tasks | alert at tasks | start → alert | verdict → empty | "
                  "start → empty | pidfd signals | kernel signals at fork |",
                  "|---|---|---|---|---|---|---|---|"]
        for res in kills:
            f = res["figures"]
            ms = lambda k: "%.0f ms" % f[k] if f.get(k) is not None else "?"  # noqa: E731
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                res["test"][len("kill_"):], f.get("peak", "?"), f.get("alert_tasks", "?"),
                ms("start_to_alert_ms"), ms("verdict_to_empty_ms"), ms("start_to_empty_ms"),
                f.get("signalled", "?"), f.get("kernel_signal_events", "?")))
    return lines


# docs/kernels.md holds every architecture's last run: one summary table with
# an arch column, then one section per architecture between these markers.
# A run rewrites its own rows and section and keeps the others' as they are.
ARCH_NAMES = {"x86": "x86_64", "arm64": "arm64"}
SECTION = "<!-- test-kernels %s: written by make test-kernels%s, kept by the other arch's run -->"
SECTION_END = "<!-- /test-kernels %s -->"


def read_doc():
    """(summary rows by arch, section lines by arch) of the current doc.  A
    doc from before the arch column (no markers) is x86's alone."""
    try:
        with open(DOC) as f:
            text = f.read().splitlines()
    except OSError:
        return {}, {}
    rows, sections = {}, {}
    if not any(line.startswith("<!-- test-kernels ") for line in text):
        first = next((i for i, line in enumerate(text) if line.startswith("## ")), len(text))
        head = text[:first]
        rows["x86"] = ["| x86_64 " + line for line in head
                       if line.startswith("| ") and not line.startswith("| kernel |")]
        sections["x86"] = [SECTION % ("x86", ""), "", "## x86_64", ""] + \
            [line for line in head if line.startswith("Written by")] + [""] + \
            ["#" + line if line.startswith("## ") else line for line in text[first:]] + \
            ["", SECTION_END % "x86"]
        return rows, sections
    names = {v: k for k, v in ARCH_NAMES.items()}
    cur = None
    for line in text:
        m = re.match(r"<!-- test-kernels (\w+):", line)
        if m:
            cur = m.group(1)
            sections[cur] = []
        if cur:
            sections[cur].append(line)
            if line == SECTION_END % cur:
                cur = None
        elif line.startswith("| ") and not line.startswith("| arch |"):
            name = line.split("|")[1].strip()
            rows.setdefault(names.get(name, name), []).append(line)
    return rows, sections


def write_doc(kernels, settings):
    q = QEMU[ARCH]["qemu"]
    qemu = subprocess.run([q, "--version"], stdout=subprocess.PIPE,
                          text=True).stdout.splitlines()[0]
    rows, sections = read_doc()
    rows[ARCH] = []
    for pkg, version, rep in kernels:
        passed = sum(1 for r in rep["results"] if r["status"] == "ok")
        rows[ARCH].append("| %s | %s | %d | %d | %.0f s%s |" % (
            ARCH_NAMES[ARCH], (rep["begin"] or {}).get("kernel", pkg_short(pkg)), passed,
            len(rep["tests"]) - passed, rep["wall"], ", timed out" if rep["timed_out"] else ""))
    total = sum(rep["wall"] for _, _, rep in kernels)
    sec = [SECTION % (ARCH, "" if ARCH == HOST_ARCH else " ARCH=" + ARCH), "",
           "## %s" % ARCH_NAMES[ARCH], "",
           "Written by `make test-kernels%s` on %s (%s, %s guest%s): %.0f s of guests in all. %s" % (
               "" if ARCH == "x86" else " ARCH=" + ARCH,
               datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), qemu, q,
               ", -accel " + QEMU[ARCH]["accel"] +
               (", -M virt -cpu " + QEMU[ARCH]["cpu"] if ARCH != "x86" else ""), total, settings)]
    for pkg, version, rep in kernels:
        sec += [""] + md_kernel(pkg, version, rep, rep["tests"])
    sec += ["", SECTION_END % ARCH]
    sections[ARCH] = sec
    known = list(ARCH_NAMES)
    order = sorted(set(rows) | set(sections),
                   key=lambda a: (known.index(a) if a in known else len(known), a))
    lines = ["# forktrace on other kernels", "",
             "Written by `make test-kernels` and `make test-kernels ARCH=arm64` "
             "(tests/kernels/README.md), each rewriting its own architecture's rows and section: "
             "the live tests inside Debian's cloud kernels booted under qemu with TCG "
             "(no KVM): emulated, so times are the emulator's, not hardware's "
             "(fork+exec is far slower; the bombs and forktrace slow down alike), and arm64's "
             "on an x86_64 host.", "",
             "| arch | kernel | passed | failed | run |", "|---|---|---|---|---|"]
    for a in order:
        lines += rows.get(a, [])
    for a in order:
        if a in sections:
            lines += [""] + sections[a]
    with open(DOC, "w") as f:
        f.write("\n".join(lines) + "\n")


# --- main ---------------------------------------------------------------------------

def main():
    global ARCH, OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default=os.environ.get("FT_ARCH", HOST_ARCH), choices=sorted(QEMU))
    ap.add_argument("--kernels", default=os.environ.get("FT_KERNELS", DEFAULT_KERNELS))
    ap.add_argument("--tests", default=os.environ.get("FT_TESTS", ""))
    ap.add_argument("--timeout", type=int, default=os.environ.get("FT_GUEST_TIMEOUT"))
    ap.add_argument("--test-timeout", type=int, default=os.environ.get("FT_TEST_TIMEOUT"))
    ap.add_argument("--cgroup", default=os.environ.get("FT_CGROUP", "v1"), choices=("v1", "v2"))
    ap.add_argument("--mem", type=int, default=int(os.environ.get("FT_QEMU_MEM", 2048)))
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/kernels.md")
    opts = ap.parse_args()
    ARCH = opts.arch
    OUT = os.path.join(build_dir(ARCH), "kernels")
    q = QEMU[ARCH]
    timeout = int(opts.timeout or q["guest_timeout"])
    test_timeout = int(opts.test_timeout or q["test_timeout"])
    tests = [t for t in opts.tests.split(",") if t] or DEFAULT_TESTS
    if not shutil.which(q["qemu"]):
        sys.exit("test-kernels: %s missing (scripts/install-deps.sh %s)" % (
            q["qemu"], "kernels" if ARCH == "x86" else ARCH))
    os.makedirs(OUT, exist_ok=True)
    specs = [k for k in opts.kernels.split(",") if k]
    fetched = [fetch_kernel(k) for k in specs]
    r = subprocess.run([sys.executable, os.path.join(HERE, "mkroot.py"), "--arch", ARCH],
                       stdout=subprocess.PIPE, text=True)
    if r.returncode:
        sys.exit("test-kernels: building the guest root failed")
    initrd = r.stdout.strip().splitlines()[-1]
    # what was tested: the binary mkroot.py copied and the checkout it came from
    binary_path = os.path.join(ROOT, "forktrace") if ARCH == HOST_ARCH else \
        os.path.join(build_dir(ARCH), "forktrace")
    with open(binary_path, "rb") as f:
        binary = hashlib.sha256(f.read()).hexdigest()[:12]
    head = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    tested = "`%s` sha256 %s…, checkout %s." % (
        "./forktrace" if ARCH == HOST_ARCH else os.path.relpath(binary_path, ROOT), binary,
        head.stdout.strip() or "?")
    done, fails = [], []
    for pkg, version, vmlinuz in fetched:
        log("booting %s (%s) under TCG: %s" % (pkg, version, ", ".join(tests)))
        rep, early = None, []
        for attempt in range(1 + BOOT_RETRIES):
            rep = boot(pkg, vmlinuz, initrd, tests, timeout, test_timeout, opts.cgroup, opts.mem)
            if not died_before_init(rep) or attempt == BOOT_RETRIES:
                break
            # a boot that never reached /init is the emulated kernel's, not a
            # test's: boot it again, keep its console, and say so here and in
            # docs/kernels.md.  A guest that ran /init is never booted again.
            kept = os.path.join(rep["rundir"], os.pardir, "%s.boot%d.console.log" % (
                pkg, attempt + 1))
            try:
                shutil.copyfile(os.path.join(rep["rundir"], "console.log"), kept)
            except OSError as e:  # qemu never wrote one: the excerpt says so
                kept = "(none: %s)" % e.strerror
            excerpt = console_excerpt(rep["rundir"])
            cause = next((line for line in excerpt if any(m in line for m in OOPS_MARKERS)),
                         excerpt[-1] if excerpt else "no console output")
            early.append(cause.strip())
            log("%s: boot %d ended before /init ran (%s); console kept in %s; booting again" % (
                pkg_short(pkg), attempt + 1, cause.strip(), os.path.normpath(kept)))
            for text in excerpt:
                print("    %s boot %d console | %s" % (pkg_short(pkg), attempt + 1, text))
        rep["early_boots"] = early
        # FT_TESTS=all: the tests the guest started
        rep["tests"] = rep["started"] if tests == ["all"] else tests
        f = failures(pkg, rep["tests"], rep)
        passed = sum(1 for x in rep["results"] if x["status"] == "ok")
        log("%s: %d passed, %d failed in %.0f s (logs: %s)" % (
            pkg_short(pkg), passed, len(rep["tests"]) - passed, rep["wall"], rep["rundir"]))
        for r in rep["results"]:
            if r["status"] != "ok":
                for text in rep["logs"].get(r["test"], [])[-40:]:
                    print("    %s | %s" % (r["test"], text))
        fails += f
        done.append((pkg, version, rep))
    if not opts.no_doc:
        write_doc(done, "Guest: %d MiB, cgroup %s; per-test limit %d s. Tested: %s" % (
            opts.mem, opts.cgroup, test_timeout, tested))
        log("wrote %s" % os.path.relpath(DOC, ROOT))
    for f in fails:
        print("FAIL " + f)
    for pkg, _, rep in done:
        if len(rep["results"]) < len(rep["tests"]):
            # a test without a result: the kernel's messages say why (an OOM
            # kill of the runner, a panic, the init's "FT-GUEST-END rc=")
            for text in console_excerpt(rep["rundir"]):
                print("    %s console | %s" % (pkg_short(pkg), text))
    passed = sum(1 for _, _, rep in done for x in rep["results"] if x["status"] == "ok")
    failed = sum(len(rep["tests"]) for _, _, rep in done) - passed
    failed += sum(1 for _, _, rep in done if not rep["done"] and
                  len(rep["results"]) == len(rep["tests"]))  # finished the tests, then hung
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or fails else 0


if __name__ == "__main__":
    sys.exit(main())
