#!/usr/bin/env python3
"""make check: no #include in user/ runs back up a floor.

forktrace's stages are folders of user/, in floors (docs/design.md):

    main.c          the command line: wires the stages, dispatches;
    cli.[ch]        with it: the options, parsed and checked
    config.[ch]     with it: the --config file, each line to its owner
    front/          the live view and the report command: drive a pipeline
    pipeline*.[ch]  the stages wired: live records in, verdicts out
    present/        outputs: human and JSON lines, metrics, health
    contain/        containment: what to signal, and the sweeps
    live/           the host: the kernel's ring, /proc, cgroups, containers
    core/           records, recording, process table, detector: pure

A file may include headers of its own floor and of the floors below it,
never above: the core knows nothing of the host, the host nothing of
what acts on it, and no stage of the pipeline knows the pipeline.
Prints each include that climbs, with its place, and exits 1 if any does.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOORS = ["core", "live", "contain", "present", "pipeline", "front", "main"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def floor_of(rel):
    """The floor of a path under user/ (a file or an included header)."""
    head = rel.split("/", 1)[0]
    if head in FLOORS[:4] or head == "front":
        return FLOORS.index(head)
    if rel.startswith(("pipeline.", "pipeline_")):
        return FLOORS.index("pipeline")
    if rel == "main.c" or rel.startswith(("config.", "cli.")):
        return FLOORS.index("main")
    return None


def main():
    bad, seen = [], 0
    user = os.path.join(ROOT, "user")
    for base, _, files in os.walk(user):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(base, name)
            rel = os.path.relpath(path, user)
            mine = floor_of(rel)
            if mine is None:
                bad.append("%s: in no floor (a folder of %s)" % (rel, ", ".join(FLOORS[:4])))
                continue
            with open(path) as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                inc = m.group(1)
                theirs = floor_of(inc)
                seen += 1
                if theirs is None:
                    # the BPF side's shared header and the skeleton
                    if inc in ("forktrace.h", "forktrace.skel.h"):
                        continue
                    if os.path.exists(os.path.join(base, inc)):
                        bad.append("user/%s:%d: \"%s\" without its floor's folder" %
                                   (rel, text.count("\n", 0, m.start()) + 1, inc))
                    continue
                if theirs > mine:
                    bad.append("user/%s:%d: includes %s, a floor up (%s above %s)" %
                               (rel, text.count("\n", 0, m.start()) + 1, inc, FLOORS[theirs],
                                FLOORS[mine]))
    for line in bad:
        print("check-floors: " + line)
    if bad:
        return 1
    print("check-floors: %d includes, none climbs a floor" % seen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
