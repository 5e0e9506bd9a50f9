#!/usr/bin/env python3
"""make check: comments that name a file, a constant or a function of
forktrace's must name one that exists.

Looks at the comments of the C sources (bpf/, user/, tests/ and its
subfolders) and of the Python tests and scripts.  A file is a path with a
folder of the repository (user/contain/policy.c, docs/detection.md); a constant or
a function is a name with one of forktrace's own prefixes (FT_, DET_, PT_,
det_, pt_, policy_, ...): kernel and library names are not checked.
Prints each stale name with its place and exits 1 if there is one.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# user/ and its stage folders (docs/design.md)
USER_DIRS = sorted(os.path.relpath(d, ROOT) for d, _, _ in os.walk(os.path.join(ROOT, "user")))
C_DIRS = ["bpf"] + USER_DIRS + ["tests", "tests/unit", "tests/fuzz", "tests/workloads"]
PY_DIRS = ["tests", "tests/kernels", "tests/fuzz", "scripts"]
FOLDERS = ("bpf/", "user/", "tests/", "docs/", "scripts/", "deploy/", ".ci/")
PATH = re.compile(r"(?<![\w/.-])((?:%s)[\w./-]*\w)" % "|".join(re.escape(f) for f in FOLDERS))
PREFIXES = ("FT_", "DET_", "PT_", "POLICY_", "REPORT_", "ACTION_", "OUT_", "CT_", "PROG_",
            "det_", "pt_", "policy_", "pipeline_", "output_", "ct_", "ft_", "prog_", "live_",
            "metrics_", "procfs_", "limits_", "privs_", "health_", "topview_", "report_")
NAME = re.compile(r"\b((?:%s)[A-Za-z0-9_]*)\b" % "|".join(PREFIXES))


def c_comments(text):
    """(line, comment text) of every /* */ and // comment."""
    for m in re.finditer(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'",
                         text, re.S):
        if m.group(0)[0] in "\"'":
            continue
        yield text.count("\n", 0, m.start()) + 1, m.group(0)


def py_comments(text):
    for i, line in enumerate(text.splitlines(), 1):
        if "#" in line:
            yield i, line[line.index("#"):]
    for m in re.finditer(r'"""(.*?)"""', text, re.S):
        yield text.count("\n", 0, m.start()) + 1, m.group(1)


def sources(dirs, exts):
    for d in dirs:
        full = os.path.join(ROOT, d)
        if not os.path.isdir(full):
            continue
        for name in sorted(os.listdir(full)):
            if name.endswith(exts) and os.path.isfile(os.path.join(full, name)):
                yield os.path.join(d, name)


def code_names():
    """Every identifier in the code (C, BPF, Python, the Makefile)."""
    names = set()
    files = list(sources(C_DIRS, (".c", ".h"))) + list(sources(PY_DIRS, (".py",)))
    files.append("Makefile")
    for path in files:
        with open(os.path.join(ROOT, path), errors="replace") as f:
            text = f.read()
        # the code only: a name a comment mentions defines nothing
        if path.endswith((".c", ".h")):
            text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
        else:
            text = re.sub(r'""".*?"""|#[^\n]*', " ", text, flags=re.S)
        names.update(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", text))
    return names


def path_exists(p):
    p = p.rstrip(".")
    if os.path.exists(os.path.join(ROOT, p)):
        return True
    # build outputs and patterns (a NAME or PID standing for any) are named,
    # not committed
    return (p.startswith(("build/", "build-san/")) or any(c in p for c in "*%<>") or
            any(part.isupper() for part in p.split("/")))


def main():
    names = code_names()
    stale = []
    for path in list(sources(C_DIRS, (".c", ".h"))) + list(sources(PY_DIRS, (".py",))):
        with open(os.path.join(ROOT, path), errors="replace") as f:
            text = f.read()
        comments = py_comments(text) if path.endswith(".py") else c_comments(text)
        for line, comment in comments:
            paths = []
            for m in PATH.finditer(comment):
                paths.append(m.span(1))
                if not path_exists(m.group(1)):
                    stale.append("%s:%d: names %s, which does not exist" %
                                 (path, line, m.group(1)))
            for m in NAME.finditer(comment):
                word = m.group(1)
                # part of a path checked above (user/front/report_render.c)
                if any(a <= m.start(1) < b for a, b in paths):
                    continue
                # a defined name, or a prefix written as a family (DET_*)
                if word not in names and not word.endswith("_"):
                    stale.append("%s:%d: names %s, defined nowhere" % (path, line, word))
    for s in stale:
        print(s)
    if stale:
        print("check-comment-names: %d stale names in comments" % len(stale))
        return 1
    print("check-comment-names: every file, constant and function a comment names exists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
