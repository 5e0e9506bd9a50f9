"""Bomb: `python3 -c CODE` that starts two more `python3 -c CODE2`.

A generated-code bomb: the program is never a file, only a `-c` string,
and every generation passes its children a slightly different string, the
way code that templates and re-launches itself (or a tenant dodging
command-line matching) would.  Each `python3 -c` process builds the next
string from a template it carries in itself, starts two children with it
(subprocess.Popen, fork+exec of python3) and waits for them.

    python3 tests/workloads/py_varying_c_bomb.py [counter|comment]

  counter (default)  the string carries a generation number, +1 each time;
  comment            the string is the same code with a random `# ...`
                     comment appended, different for every child.

FT_RETRY=1 in the environment makes a process whose Popen fails (EAGAIN,
the pids cap) retry every 10 ms instead of giving up on that child.
This launcher itself starts the first `python3 -c` and waits for it.
Run it only under build/contain.
"""
import random
import subprocess
import sys

# %-template of the -c program; it holds itself as TPL (a small quine).
TEMPLATE = r'''import os, random, subprocess, sys, time
GEN = %(gen)d
MODE = %(mode)r
TPL = %(tpl)r


def code(gen):
    src = TPL %% {"gen": gen, "mode": MODE, "tpl": TPL}
    if MODE == "comment":
        src += "# %%016x\n" %% random.getrandbits(64)
    return src


RETRY = os.environ.get("FT_RETRY") == "1"
kids = []
for _ in range(2):
    while True:
        try:
            kids.append(subprocess.Popen([sys.executable, "-c",
                                          code(GEN + 1 if MODE == "counter" else GEN)]))
            break
        except OSError:
            if not RETRY:
                break
            time.sleep(0.01)
for k in kids:
    k.wait()
'''


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "counter"
    if mode not in ("counter", "comment"):
        sys.exit("usage: py_varying_c_bomb.py [counter|comment]")
    src = TEMPLATE % {"gen": 0, "mode": mode, "tpl": TEMPLATE}
    if mode == "comment":
        src += "# %016x\n" % random.getrandbits(64)
    child = subprocess.Popen([sys.executable, "-c", src])
    sys.exit(child.wait())


if __name__ == "__main__":
    main()
