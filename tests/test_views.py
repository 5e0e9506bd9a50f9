"""Live tests of what a person looks at: the live view (driven in tmux, as
over ssh) and the incident report (rendered by headless Chromium).

Screenshots for the README land in build/artifacts/.
"""
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

from lib import (ARTIFACTS, FORKTRACE, Tracer, ansi_to_html, bpf_maps_of, by_event, check,
                 chromium_png,
                 contain_cmd, count_color, descendants, has_color_codes, hold, png_pixels,
                 proc_state, run_forktrace, test, tool, wait_file, wait_for, wait_until)

TMUX = ["tmux", "-L", "forktrace-test"]  # a server of our own, not the user's


class View:
    """forktrace --top in a tmux pane; the shell around it notes how it ended."""

    def __init__(self, workdir, cols=120, rows=32, env="", stderr_file=None):
        self.dir = workdir
        self.exit_file = os.path.join(workdir, "exit")
        self.stty_file = os.path.join(workdir, "stty")
        # each file appears whole (written aside, then renamed)
        inner = ("cd %s && %s TERM=screen-256color %s --top%s; echo exit=$? > %s.tmp; "
                 "stty -a > %s.tmp; mv %s.tmp %s; mv %s.tmp %s; sleep 600" %
                 (shlex.quote(workdir), env, FORKTRACE,
                  " 2>" + shlex.quote(stderr_file) if stderr_file else "", self.exit_file,
                  self.stty_file,
                  self.exit_file, self.exit_file, self.stty_file, self.stty_file))
        subprocess.run(TMUX + ["kill-server"], stderr=subprocess.DEVNULL)
        subprocess.run(TMUX + ["new-session", "-d", "-s", "view", "-x", str(cols), "-y",
                               str(rows), "sh -c " + shlex.quote(inner)], check=True)
        self.wait_for(lambda s: "mode: observe" in s, 30, "the view never started")

    def screen(self, escapes=False):
        r = subprocess.run(TMUX + ["capture-pane", "-p", "-t", "view"] +
                           (["-e"] if escapes else []), stdout=subprocess.PIPE, text=True)
        return r.stdout

    def keys(self, *keys):
        subprocess.run(TMUX + ["send-keys", "-t", "view"] + list(keys), check=True)

    def pid(self):
        """This view's forktrace: the pane shell's child, nothing else on the host."""
        r = subprocess.run(TMUX + ["display-message", "-p", "-t", "view", "#{pane_pid}"],
                           stdout=subprocess.PIPE, text=True, check=True)
        shell = int(r.stdout.strip())
        with open("/proc/%d/task/%d/children" % (shell, shell)) as f:
            kids = [int(p) for p in f.read().split()]
        mine = [p for p in kids if open("/proc/%d/comm" % p).read().strip() == "forktrace"]
        check(len(mine) == 1, "the view's forktrace among %r" % kids)
        return mine[0]

    def signal(self, sig):
        """Signal this view's forktrace."""
        os.kill(self.pid(), sig)

    def wait_for(self, pred, timeout, msg, step=0.05):
        """The screen once pred accepts it (lib.wait_until); fails naming
        msg, with the last screen, after timeout seconds."""
        s = wait_until(lambda: (lambda scr: scr if pred(scr) else None)(self.screen()), timeout,
                       step)
        if not s:
            raise AssertionError("%s; screen:\n%s" % (msg, self.screen()))
        return s

    def rows(self, screen=None):
        """The tree rows: the lines after the column header, up to a blank."""
        lines = (screen or self.screen()).splitlines()
        for i, line in enumerate(lines):
            if " PID " in line and "STATE" in line:
                out = []
                for row in lines[i + 1:]:
                    if not row.strip():
                        break
                    out.append(row)
                return out
        return []

    def ended(self, status, how):
        """forktrace ended with exit status `status` and left the terminal
        as it found it: cooked modes with echo, the normal screen."""
        check(wait_file(self.stty_file, 10), "forktrace did not end after %s" % how)
        with open(self.exit_file) as f:
            got = f.read().strip()
        check(got == "exit=%d" % status, "after %s: %s, not exit=%d" % (how, got, status))
        with open(self.stty_file) as f:
            modes = f.read().split()
        check("icanon" in modes and "echo" in modes, "terminal left raw after %s: %s" % (how, modes))
        alt, cursor = subprocess.run(
            TMUX + ["display", "-p", "-t", "view", "#{alternate_on} #{cursor_flag}"],
            stdout=subprocess.PIPE, text=True).stdout.split()
        check(alt == "0", "the alternate screen is still on after %s" % how)
        check(cursor == "1", "the cursor is still hidden after %s" % how)

    def close(self):
        subprocess.run(TMUX + ["kill-server"], stderr=subprocess.DEVNULL)


def cgroup_procs(cgroup_file):
    try:
        with open(cgroup_file) as f:
            path = f.read().strip()
        with open(os.path.join(path, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def screenshot(ansi, name, cols, rows):
    """The terminal as a picture: build/artifacts/NAME.png."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    page = os.path.join(ARTIFACTS, name + ".html")
    with open(page, "w") as f:
        f.write(ansi_to_html(ansi, "forktrace live view"))
    png = chromium_png(page, os.path.join(ARTIFACTS, name + ".png"), width=cols * 9 + 24,
                       height=rows * 20 + 24)
    w, h, px = png_pixels(png)
    # the terminal's text, not an empty dark page
    check(count_color(px, (0xd4, 0xd4, 0xd4), 40) > 500, "the screenshot shows no text")
    return png


@test
def live_view_shows_expands_kills_and_quits():
    """A contained bomb, launched from bash, as a person sees it: the top tree
    within a second, expanded, killed with k + y (the launcher lives), a
    recording toggled with w, a resize to 80x24, q restores the terminal."""
    work = tempfile.mkdtemp(prefix="ft-view-")
    alive = os.path.join(work, "launcher-alive")
    cgf = os.path.join(work, "cgroup")
    view = View(work)
    wl = None
    try:
        # the launcher also runs a sibling of the bomb: both must outlive the kill
        launcher = ("sleep 120 & S=$!; %s & wait $!; kill -0 $S && echo yes > %s; kill $S; "
                    "sleep 2" % (tool("wl_c_slow_doubling"), alive))
        wl = subprocess.Popen(contain_cmd(["bash", "-c", launcher], max_tasks=400, timeout=90,
                                          cgroup_file=cgf))
        # the bomb has 4 live copies (the view lists trees from 4): t0
        wait_until(lambda: len(cgroup_procs(cgf)) >= 6, 30, step=0.02)
        t0 = time.time()
        check(len(cgroup_procs(cgf)) >= 6, "the bomb never reached 4 copies")
        s = view.wait_for(lambda s: view.rows(s) and "wl_c_slow_doubl" in view.rows(s)[0],
                          10, "the bomb never became the top tree")
        shown_after = time.time() - t0
        check(shown_after <= 1.0, "the bomb took %.2f s to top the list" % shown_after)
        top = view.rows(s)[0].split()
        root = int(top[0])
        check("suspect" in view.rows(s)[0], "an unflagged tree is a suspect: %r" % top)
        with open("/proc/%d/comm" % root) as f:
            check(f.read().strip() == "wl_c_slow_doubl", "row's pid %d is not the bomb" % root)

        # expand: its fork tree, indented, counts per subtree
        view.keys("Enter")
        s = view.wait_for(lambda s: "tree %d, expanded" % root in s, 3, "no expanded tree")
        check(re.search(r"^%d wl_c_slow_doubl\s+\[\d+ live\]" % root, s, re.M),
              "the root's line is missing:\n" + s)
        check(re.search(r"^  \d+ wl_c_slow_doubl\s+\[\d+ live\]", s, re.M),
              "no indented child:\n" + s)
        # a few doublings more, for a picture worth a look
        view.wait_for(lambda s: any(int(r.split()[-6]) >= 16 for r in view.rows(s)
                                    if r.split()[0] == str(root)), 20,
                      "the bomb stopped growing", step=0.2)

        # record what follows
        view.keys("w")
        s = view.wait_for(lambda s: "recording to forktrace-" in s, 3, "w did not record")
        colours = has_color_codes(view.screen(escapes=True))

        # 80x24 over ssh: every line fits, the columns and keys stay
        subprocess.run(TMUX + ["resize-window", "-t", "view", "-x", "80", "-y", "24"],
                       check=True)
        s = view.wait_for(lambda s: len(s.splitlines()) <= 24 and view.rows(s)
                          and "STATE" in s, 3, "no redraw after the resize")
        # the old frame, cut by tmux, until forktrace draws at 80x24: its
        # key line on the last row (if it never is, the checks below say how)
        wait_until(lambda: "q:quit" in (view.screen().splitlines() or [""])[-1], 3)
        s = view.screen()
        check(all(len(line) <= 80 for line in s.splitlines()), "a line is wider than 80")
        check(s.splitlines()[0].startswith("forktrace "), "no title line at 80x24")
        check(view.rows(s) and str(root) in view.rows(s)[0], "the bomb left the list at 80x24")
        check("q:quit" in s.splitlines()[-1], "the key line is cut at 80x24:\n" + s)
        screenshot(view.screen(escapes=True), "live-view", 80, 24)
        with open(os.path.join(ARTIFACTS, "live-view.txt"), "w") as f:
            f.write(view.screen())

        # k names the tree; y kills it through the policy
        view.keys("k")
        view.wait_for(lambda s: re.search(r"KILL tree %d \(wl_c_slow_doubling, \d+ live\)\? y/N"
                                          % root, s), 3, "no confirmation naming the tree")
        check(len(cgroup_procs(cgf)) > 3, "the bomb died before the confirmation")
        view.keys("y")
        check(wait_file(alive, 10), "the launcher did not see its bomb end, or it or the "
              "bomb's sibling died:\n" + view.screen())
        view.wait_for(lambda s: re.search(r"^\s*%d .* killed\s*$" % root, s, re.M), 5,
                      "the row never said killed")
        # killed: none left running (a zombie waits for its reaper, harmlessly)
        left = [p for p in cgroup_procs(cgf) if proc_state(p) not in (None, "Z") and
                open("/proc/%d/comm" % p).read().strip() == "wl_c_slow_doubl"]
        check(not left, "%d copies survived the kill" % len(left))
        view.keys("w")
        view.wait_for(lambda s: "recorded to forktrace-" in s, 3, "w did not stop recording")

        # q: the terminal as it was
        view.keys("q")
        view.ended(0, "q")
        check(colours, "no colours on the screen without NO_COLOR")

        # the recording holds the operator's alert and kill
        recs = [f for f in os.listdir(work) if f.startswith("forktrace-")]
        check(len(recs) == 1, "one recording expected, found %r" % recs)
        r = run_forktrace("-r", os.path.join(work, recs[0]), "-j", "--alerts")
        check(r.returncode == 0, "replay of the view's recording failed: " + r.stderr)
        r = run_forktrace("-r", os.path.join(work, recs[0]), "-j")
        evs = [json.loads(line) for line in r.stdout.splitlines()]
        acts = [e for e in by_event(evs, "action") if e.get("root") == root]
        check(acts and acts[-1].get("operator") is True and acts[-1]["complete"],
              "the recording lacks the operator's kill: %r" % acts)
        alerts = [e for e in by_event(evs, "alert") if e.get("root") == root]
        # flagged by the detector (16 live copies) or, if k came first, by k
        check(alerts, "the recording has no alert for tree %d" % root)
    finally:
        view.close()
        if wl:
            wl.wait(timeout=120)
        shutil.rmtree(work, ignore_errors=True)


# bpf/contain.bpf.c's maps: the view holds none of them until k or s
CONTAIN_MAPS = {"members", "trees", "protected_ids", "guard_of", "guard_counts"}


@test
def live_view_loads_containment_at_k():
    """Observing in the view loads no containment: none of its maps is the
    view's (bpftool, by the view's fds).  The first action loads it: s + y
    on a C bomb at its pids cap (100, started from a shell) stops every
    member; given room for one fork, a member continued from outside is
    stopped by the kernel at that fork (a kernel signal, forker and child,
    in the view's recording); k + y then kills the tree.  The load's time
    is what forktrace says as it exits."""
    work = tempfile.mkdtemp(prefix="ft-view-k-")
    cgf = os.path.join(work, "cgroup")
    err = os.path.join(work, "stderr")
    view = View(work, stderr_file=err)
    wl = None
    try:
        pid = view.pid()
        maps = {m["name"] for m in bpf_maps_of(pid)}
        check("events" in maps and not maps & CONTAIN_MAPS,
              "observing, the view holds containment maps: %r" % sorted(maps))
        wl = subprocess.Popen(contain_cmd(["bash", "-c", "%s; sleep 1" % tool("wl_bomb_c")],
                                          max_tasks=100, timeout=90, cgroup_file=cgf))
        s = view.wait_for(lambda s: view.rows(s) and "wl_bomb_c" in view.rows(s)[0], 20,
                          "the bomb never became the top tree")
        root = int(view.rows(s)[0].split()[0])
        with open(cgf) as f:
            cgroup = f.read().strip()

        def tasks():
            with open(os.path.join(cgroup, "pids.current")) as f:
                return int(f.read())
        wait_for(lambda: tasks() >= 100, 20, "the bomb at its cap")
        view.keys("w")
        view.wait_for(lambda s: "recording to forktrace-" in s, 3, "w did not record")
        check(not {m["name"] for m in bpf_maps_of(pid)} & CONTAIN_MAPS,
              "containment loaded before any action")
        view.keys("s")
        view.wait_for(lambda s: "STOP tree %d (wl_bomb_c" % root in s, 3,
                      "no stop confirmation naming the tree")
        view.keys("y")
        view.wait_for(lambda s: re.search(r"^\s*%d .* stopped\s*$" % root, s, re.M), 20,
                      "the row never said stopped")
        loaded = {m["name"]: m for m in bpf_maps_of(pid)}
        check(CONTAIN_MAPS <= set(loaded), "s loaded no containment: %r" % sorted(loaded))
        bomb = [p for p in cgroup_procs(cgf) if p != wl.pid and proc_state(p) is not None and
                open("/proc/%d/comm" % p).read().strip() == "wl_bomb_c"]
        check(bomb and all(proc_state(p) == "T" for p in bomb), "not every member stopped")
        # room for one fork, and one member going again: its next fork is the kernel's
        with open(os.path.join(cgroup, "pids.max"), "w") as f:
            f.write("102")
        forker = bomb[-1]

        def forked_and_stopped():
            if tasks() > 100:
                return proc_state(forker) == "T"
            # the view's sweep may stop it again before it forks: once more
            os.kill(forker, signal.SIGCONT)
            return False
        wait_for(forked_and_stopped, 10, "the continued member's fork, stopped", step=0.2)
        view.keys("k")
        view.wait_for(lambda s: re.search(r"KILL tree %d \(wl_bomb_c, \d+ live\)\? y/N" % root,
                                          s), 3, "no kill confirmation naming the tree")
        view.keys("y")
        view.wait_for(lambda s: re.search(r"^\s*%d .* killed\s*$" % root, s, re.M), 20,
                      "the row never said killed")
        view.keys("w")
        view.wait_for(lambda s: "recorded to forktrace-" in s, 3, "w did not stop recording")
        view.keys("q")
        view.ended(0, "q")
        with open(err) as f:
            said = f.read()
        m = re.search(r"containment loaded on demand in ([\d.]+) ms", said)
        check(m, "forktrace did not say what the load took: %r" % said)
        recs = [f for f in os.listdir(work) if f.startswith("forktrace-")]
        check(len(recs) == 1, "one recording expected, found %r" % recs)
        r = run_forktrace("-r", os.path.join(work, recs[0]), "-j")
        evs = [json.loads(line) for line in r.stdout.splitlines()]
        acts = [e for e in by_event(evs, "action") if e.get("root") == root and
                e.get("operator")]
        check([a for a in acts if a["action"] == "stop"] and
              [a for a in acts if a["action"] == "kill" and a["complete"]],
              "the recording lacks the operator's stop and kill: %r" % acts)
        kernel = [e for e in by_event(evs, "signal") if e.get("via") == "kernel"]
        at_fork = [e for e in kernel if e["ppid"] == forker and e.get("forker_result") == 0]
        check(at_fork, "the kernel did not stop the continued member's fork: %r" % kernel[:3])
        known = set(bomb) | {e["pid"] for e in by_event(evs, "fork") if e["ppid"] in bomb}
        stray = [e for e in kernel if e["ppid"] not in known]
        check(not stray, "kernel signals outside the bomb: %r" % stray[:3])
        print("    loaded on demand in %s ms; containment maps %d KiB (memlock); %d kernel "
              "signals" % (m.group(1), sum(loaded[n]["bytes_memlock"] for n in CONTAIN_MAPS)
                           // 1024, len(kernel)))
    finally:
        view.close()
        if wl:
            wl.wait(timeout=120)
        shutil.rmtree(work, ignore_errors=True)


@test
def live_view_crash_restores_terminal():
    """A crash (SIGSEGV) still gives the terminal back: modes, cursor, screen."""
    work = tempfile.mkdtemp(prefix="ft-view-")
    view = View(work)
    try:
        view.signal(signal.SIGSEGV)
        view.ended(128 + signal.SIGSEGV, "a crash")
    finally:
        view.close()
        shutil.rmtree(work, ignore_errors=True)


@test
def live_view_stop_continue_no_color_and_bad_use():
    """NO_COLOR: no colours.  s on a tree no verdict flagged stops every
    member (the operator flags it), c continues them and the work finishes
    as it would have.  The view ends on SIGTERM with the terminal restored;
    --top needs a terminal and is not for lines."""
    work = tempfile.mkdtemp(prefix="ft-view-")
    done = os.path.join(work, "done")
    view = View(work, env="NO_COLOR=1")
    wl = None
    try:
        wl = subprocess.Popen(contain_cmd(
            ["bash", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait; echo ok > %s"
             % done], max_tasks=60, timeout=40))
        s = view.wait_for(lambda s: any("suspect" in r for r in view.rows(s)), 10,
                          "the parallel sleeps never showed")
        check(not has_color_codes(view.screen(escapes=True)), "colours despite NO_COLOR")
        row = [r for r in view.rows(s) if "suspect" in r][0]
        root = int(row.split()[0])
        # filter and sort: what the list shows, the header says
        view.keys("/", *"comm:nosuch", "Enter")
        view.wait_for(lambda s: "filter: comm:nosuch" in s and "no tree is growing" in s, 3,
                      "the filter did not empty the list")
        view.keys("/", *"uid:0", "Enter")
        view.wait_for(lambda s: "filter: uid:0" in s and
                      any(str(root) in r for r in view.rows(s)), 3, "uid:0 lost the tree")
        view.keys("o")
        view.wait_for(lambda s: "sort: live" in s, 3, "o did not change the sort")
        check(proc_state(root) is not None and open("/proc/%d/comm" % root).read().strip() ==
              "bash", "the suspect row is not the launching bash: %r" % row)
        members = [root] + [int(p) for p in open(
            "/proc/%d/task/%d/children" % (root, root)).read().split()]
        check(len(members) == 9, "bash and its 8 sleeps expected: %r" % members)
        view.keys("s")
        view.wait_for(lambda s: "STOP tree %d (bash" % root in s, 3, "no stop confirmation")
        view.keys("y")
        view.wait_for(lambda s: re.search(r"^\s*%d .* stopped\s*$" % root, s, re.M), 5,
                      "the row never said stopped")
        check(all(proc_state(p) == "T" for p in members),
              "not all stopped: %r" % [proc_state(p) for p in members])
        hold(1, "stopped members stay stopped")
        check(all(proc_state(p) == "T" for p in members), "a member woke up")
        view.keys("c")
        view.wait_for(lambda s: "CONTINUE tree %d" % root in s, 3, "no continue confirmation")
        view.keys("y")
        view.wait_for(lambda s: re.search(r"^\s*%d .* resumed\s*$" % root, s, re.M), 5,
                      "the row never said resumed")
        check(all(proc_state(p) in ("S", "R") for p in members),
              "not all running: %r" % [proc_state(p) for p in members])
        check(wait_file(done, 20), "the work did not finish after c")
        view.signal(signal.SIGTERM)
        view.ended(0, "SIGTERM")
    finally:
        view.close()
        if wl:
            wl.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    r = subprocess.run([FORKTRACE, "--top", "-d", "1"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    check(r.returncode == 2 and "--top needs a terminal" in r.stderr,
          "--top without a terminal: %r" % r.stderr)
    for flag in ("-j", "--agent"):
        r = run_forktrace("--top", flag)
        check(r.returncode == 2 and "--top is a live screen" in r.stderr,
              "--top %s: %r" % (flag, r.stderr))


NETWORK_REFS = ("http:", "https:", "//", "<script", " src=", " href=", "url(", "@import")


@test
def report_of_a_recorded_bomb_and_kill():
    """forktrace report on a recording of --kill stopping a bomb next to
    benign parallel work: the page renders in Chromium, the plot holds the
    bomb's series and the kill, the HTML validates and reaches for nothing."""
    work = tempfile.mkdtemp(prefix="ft-report-")
    rec = os.path.join(work, "incident.ftr")
    done = os.path.join(work, "launcher-done")
    t = Tracer("--kill", "-w", rec)
    try:
        benign = subprocess.Popen(contain_cmd(
            ["bash", "-c", "seq 24 | xargs -P 6 -n 1 sh -c 'sleep 0.4' sh"],
            max_tasks=60, timeout=30))

        def parallel_sleeps():
            comms = []
            for p in descendants(benign.pid):
                try:
                    with open("/proc/%d/comm" % p) as f:
                        comms.append(f.read().strip())
                except OSError:
                    pass
            return comms.count("sleep") >= 6
        # the bomb starts next to the benign work: once xargs runs its six
        check(wait_until(parallel_sleeps, 10), "xargs never ran its six sleeps")
        subprocess.run(contain_cmd(["bash", "-c", "%s & wait; echo $? > %s; sleep 1" %
                                    (tool("wl_bomb_c"), done)], max_tasks=400, timeout=20),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        benign.wait(timeout=60)
        evs = t.stop()
    finally:
        t.cleanup()
    try:
        alerts = by_event(evs, "alert")
        check(alerts and alerts[0]["pattern"] == "fork_bomb", "no fork_bomb alert: %r" % alerts)
        root = alerts[0]["root"]
        acts = [e for e in by_event(evs, "action") if e["root"] == root]
        check(acts and acts[0]["complete"], "the bomb was not killed: %r" % acts)
        check(os.path.exists(done), "the bomb's launcher did not live on")

        html_path = os.path.join(work, "incident.html")
        folded = os.path.join(work, "trees.folded")
        r = run_forktrace("report", rec, "-o", html_path, "--folded", folded)
        check(r.returncode == 0 and not r.stderr, "report failed: %r" % r.stderr)
        svg_path = os.path.join(work, "plot.svg")
        check(run_forktrace("report", rec, "-o", svg_path, "--format", "svg").returncode == 0,
              "--format svg failed")
        r = run_forktrace("report", rec, "-o", "-", "--format", "json")
        check(r.returncode == 0, "--format json failed: " + r.stderr)
        doc = json.loads(r.stdout)

        # the plot: the bomb's series rises and falls, the kill is marked after the alert
        ns = {"s": "http://www.w3.org/2000/svg"}
        svg = ET.parse(svg_path).getroot()
        line = svg.find(".//s:polyline[@id='tree-%d']" % root, ns)
        check(line is not None, "the plot has no series for tree %d" % root)
        ys = [float(p.split(",")[1]) for p in line.get("points").split()]
        check(min(ys) < max(ys) and ys[-1] == max(ys),
              "the series does not rise and come back to 0: %r" % ys[-5:])
        marks = {g.get("class"): g for g in svg.findall(".//s:g", ns) if g.get("class")}
        check("marker action kill" in marks and "marker alert" in marks,
              "markers missing: %r" % list(marks))
        x_of = lambda g: float(g.find("s:line", ns).get("x1"))  # noqa: E731
        check(x_of(marks["marker action kill"]) >= x_of(marks["marker alert"]),
              "the kill is drawn before the alert")

        # the page: valid, self-contained, with the tree's picture and evidence
        with open(html_path) as f:
            page = f.read()
        for ref in NETWORK_REFS:
            check(ref not in page, "the report refers to %r" % ref)
        tidy = subprocess.run(["tidy", "-e", "-q", html_path], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        check(tidy.returncode == 0, "tidy: " + tidy.stderr[:500])
        check('id="tree-%d"' % root in page and 'class="icicle"' in page and
              "fork_bomb" in page and "kill" in page, "the page lacks the tree's story")
        png = chromium_png(html_path, os.path.join(work, "report.png"), 1100, 1600)
        w, h, px = png_pixels(png)
        check(count_color(px, (0xd6, 0x27, 0x28)) > 30, "no bomb series in the rendering")
        check(count_color(px, (0xe4, 0x57, 0x2e)) > 500, "no fork tree in the rendering")
        os.makedirs(ARTIFACTS, exist_ok=True)
        shutil.copy(png, os.path.join(ARTIFACTS, "report.png"))

        # folded stacks, and the same story as data
        with open(folded) as f:
            stacks = f.read().splitlines()
        check(stacks and all(re.fullmatch(r"[^ ]+ \d+", s) for s in stacks),
              "folded stacks malformed: %r" % stacks[:3])
        check(stacks[0] == "wl_bomb_c 1" and any(s.count(";") >= 2 for s in stacks),
              "the folded tree has no generations: %r" % stacks[:5])
        check(doc["alerts"] and doc["alerts"][0]["root"] == root, "json: no alert")
        check(any(a["action"] == "kill" and a["complete"] for a in doc["actions"]),
              "json: no kill")
        check(any(tr["root"] == root and tr["peak"] >= 4 for tr in doc["trees"]),
              "json: no series for the bomb")

        # bad input: one line, non-zero, nothing half-written
        with open(rec, "rb") as f:
            head = f.read(300)
        bad = os.path.join(work, "cut.ftr")
        with open(bad, "wb") as f:
            f.write(head)
        out = os.path.join(work, "cut.html")
        r = run_forktrace("report", bad, "-o", out)
        check(r.returncode == 1 and r.stderr.count("\n") == 1 and "cut.ftr" in r.stderr and
              not os.path.exists(out) and not [n for n in os.listdir(work) if ".tmp." in n],
              "a cut recording: rc %d %r" % (r.returncode, r.stderr))
        r = run_forktrace("report", rec)
        check(r.returncode == 2 and "-o FILE is required" in r.stderr, "no -o: %r" % r.stderr)
        r = run_forktrace("report", rec, "-o", out, "--format", "pdf")
        check(r.returncode == 2 and "invalid --format" in r.stderr, "bad format: %r" % r.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@test
def report_names_the_allow_rules():
    """A run that can act records its allow rules (--allow, --config's, the
    defaults this host has) and each SIGHUP's new set; the report lists
    the last set.  An observing run records none and its report says
    nothing of rules."""
    with tempfile.TemporaryDirectory() as work:
        conf = os.path.join(work, "forktrace.conf")
        with open(conf, "w") as f:
            f.write("allow = uid:4242\n")
        acting, watching = os.path.join(work, "acting.ftr"), os.path.join(work, "watching.ftr")
        t = Tracer("--kill", "--dry-run", "--config", conf, "--allow", "exe:/bin/sleep",
                   "-w", acting)
        try:
            with open(conf, "w") as f:
                f.write("allow = uid:4343\nallow = comm:batchjob\n")
            t.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "SIGHUP: settings re-read" in t.stderr(), 10,
                     "forktrace's answer to SIGHUP")
            t.stop()
        finally:
            t.cleanup()
        t = Tracer("-w", watching)
        try:
            t.stop()
        finally:
            t.cleanup()
        r = run_forktrace("report", acting, "-o", "-", "--format", "json")
        check(r.returncode == 0, "report failed: " + r.stderr)
        doc = json.loads(r.stdout)
        start, last = doc.get("allow_rules_at_start"), doc.get("allow_rules")
        check(start and last and doc.get("allow_rule_sets") == 2,
              "the rules and the SIGHUP's set: %r" % {k: v for k, v in doc.items()
                                                      if k.startswith("allow")})
        rules = last["rules"]
        check("uid:4343" in rules and "comm:batchjob" in rules and "uid:4242" not in rules,
              "the last set is not the SIGHUP's: %r" % rules)
        check("uid:4242" in start["rules"] and "uid:4343" not in start["rules"],
              "the start's set (the kernel's copy) is not the start's: %r" % start["rules"])
        check(start["t"] <= last["t"], "the sets' times: %r, %r" % (start["t"], last["t"]))
        sleep = os.path.realpath("/bin/sleep")
        want = "exe:/bin/sleep" + (" (%s)" % sleep if sleep != "/bin/sleep" else "")
        check(want in rules, "%r not among %r" % (want, rules))
        check(last["count"] == len(rules), "count %r for %d rules" % (last["count"], len(rules)))
        check(stat.S_IMODE(os.stat(acting).st_mode) == 0o600,
              "a recording (every command line on the host) is mode %o, not owner-only" %
              stat.S_IMODE(os.stat(acting).st_mode))
        html = os.path.join(work, "acting.html")
        check(run_forktrace("report", acting, "-o", html).returncode == 0, "HTML report failed")
        page = open(html).read()
        check("<h2>Allow rules</h2>" in page and "<code>comm:batchjob</code> (spoofable" in page
              and "<code>uid:4242</code>" in page, "the HTML report lists no rules, or not both sets")
        r = run_forktrace("report", watching, "-o", "-", "--format", "json")
        check(r.returncode == 0 and "allow_rules" not in json.loads(r.stdout),
              "an observing run's report names rules: %r" % r.stdout[:300])
        replay = run_forktrace("-r", acting, "-j")
        check(replay.returncode == 0, "replay of the acting run failed: " + replay.stderr)
