"""Benign: imitates a language runtime's regression suite (like CPython's
`make test` or a compiler's torture tests).  A runner with 4 worker
processes (multiprocessing, default 'fork' context) runs ~200 different
short child programs -- `python3 -c` snippets, `sh -c` lines, small
scripts -- many of which are expected to fail (non-zero exit, uncaught
exception, syntax error, death by signal), some within milliseconds.  Each
test passes when its child behaves as expected; the runner exits 0 when all
do.  Finishes in a few seconds.

    python3 regress_suite.py
"""
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PY = sys.executable


def py(code, rc=0, out=None):
    return ([PY, "-c", code], rc, out)


def sh(line, rc=0, out=None):
    return (["/bin/sh", "-c", line], rc, out)


def make_tests(tmp):
    t = {}
    for n in range(30):  # exit statuses
        t[f"py_exit_{n}"] = py(f"import sys; sys.exit({n})", n)
        t[f"sh_exit_{n}"] = sh(f"exit {n}", n)
    for n in range(100, 115):
        t[f"py_os_exit_{n}"] = py(f"import os; print('bye', flush=True); os._exit({n})", n,
                                  "bye\n")
    for i, code in enumerate([  # uncaught exceptions: status 1
        "raise ValueError('bad value')", "1 / 0", "[][1]", "{}['missing']",
        "int('forty-two')", "None.attribute", "import no_such_module_xyz",
        "assert 2 + 2 == 5, 'arithmetic'", "open('/nonexistent/dir/file')",
        "'a' + 1", "def f(n): return f(n + 1)\nf(0)", "raise SystemExit('fatal: x')",
        "import json; json.loads('{broken')", "b'\\xff'.decode('utf-8')",
        "import struct; struct.unpack('<I', b'ab')", "float('nan') < {}",
        "x = [1, 2]; x.remove(3)", "import os; os.rmdir('/nonexistent-dir')",
        "import math; math.sqrt(-1)", "iter([]).__next__()",
    ]):
        t[f"py_exception_{i}"] = py(code, 1)
    for i, code in enumerate(["def (", "x = = 1", "if True\n  pass", "return 5",
                              "print('unterminated", "  indented = 1"]):
        t[f"py_syntax_{i}"] = py(code, 1)
    for sig in (signal.SIGTERM, signal.SIGKILL, signal.SIGUSR1, signal.SIGUSR2,
                signal.SIGHUP, signal.SIGINT, signal.SIGPIPE, signal.SIGQUIT):
        dfl = "" if sig == signal.SIGKILL else f"signal.signal({sig.value}, signal.SIG_DFL); "
        t[f"py_signal_{sig.name}"] = py(
            f"import os, signal; {dfl}os.kill(os.getpid(), {sig.value})", -sig.value)
    t["py_keyboard_interrupt"] = py("raise KeyboardInterrupt", -signal.SIGINT)
    t["sh_kill_self"] = sh("kill -TERM $$", -signal.SIGTERM)
    for i, (line, rc) in enumerate([
        ("false", 1), ("true", 0), ("no_such_command_abc", 127), ("cat /nonexistent", 1),
        ("test 1 -eq 2", 1), ("echo hi | grep -q bye", 1), ("set -e; true; false; echo x", 1),
        ("(exit 3); exit $?", 3), ("ls /nonexistent-dir", 2), ("expr 1 + x", 2),
        ("printf 'b\\na\\n' | sort -c", 1), ("[ -d / ] && [ -f / ]", 1),
        ("cd /nonexistent-dir", 2), ("sh -c 'exit 9'", 9), ("head -c 10 /dev/zero | wc -c", 0),
        ("/bin/sh /nonexistent.sh", 2), ("readonly v=1; v=2", 2), ("exec 3</nonexistent", 2),
        ("seq 1 100 | awk '{s+=$1} END {exit s % 7}'", 5050 % 7), ("umask 077; :", 0),
    ]):
        t[f"sh_misc_{i}"] = sh(line, rc)
    for n in (10, 100, 1000, 10 ** 4, 10 ** 5):
        t[f"py_sum_{n}"] = py(f"print(sum(range({n})))", 0, f"{n * (n - 1) // 2}\n")
        t[f"sh_seq_{n}"] = sh(f"seq 1 {n} | tail -n 1", 0, f"{n}\n")
    for i, (expr, val) in enumerate([("sorted('forktrace')", sorted("forktrace")),
                                     ("2 ** 100", 2 ** 100), ("'abc'.upper()", "ABC"),
                                     ("len(set(range(0, 1000, 7)))", 143),
                                     ("divmod(1000, 7)", divmod(1000, 7))]):
        t[f"py_expr_{i}"] = py(f"print({expr})", 0, f"{val}\n")
    for n in range(8):  # tests that run children of their own
        t[f"py_nested_call_{n}"] = py(
            f"import subprocess, sys; sys.exit(subprocess.call(['/bin/sh', '-c', 'exit {n}']))", n)
        t[f"sh_nested_py_{n}"] = sh(f"{PY} -c 'import sys; sys.exit({n * 3})'; exit $?", n * 3)
    for n in range(20):  # small script files
        p = os.path.join(tmp, f"case_{n}.py")
        with open(p, "w") as f:
            f.write(f"import sys\n"
                    f"def check(x):\n    return x * x % {n + 3}\n"
                    f"vals = [check(i) for i in range({n * 50})]\n"
                    f"sys.exit(max(vals, default=0) % 4)\n")
        exp = max((i * i % (n + 3) for i in range(n * 50)), default=0) % 4
        t[f"script_py_{n}"] = ([PY, p], exp, None)
    for n in range(12):
        p = os.path.join(tmp, f"case_{n}.sh")
        with open(p, "w") as f:
            f.write(f"i=0\nwhile [ $i -lt {n * 5} ]; do i=$((i + 1)); done\n"
                    f"[ $i -eq {n * 5} ] || exit 99\nexit $(( {n} % 3 ))\n")
        t[f"script_sh_{n}"] = (["/bin/sh", p], n % 3, None)
    t["py_sleep_short"] = py("import time; time.sleep(0.1)")
    t["sh_sleep_short"] = sh("sleep 0.1; exit 4", 4)
    return t


def run_one(item):
    name, (argv, want_rc, want_out) = item
    start = time.monotonic()
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=20)
    except subprocess.TimeoutExpired:
        return name, False, "timeout", time.monotonic() - start
    ok = r.returncode == want_rc and (want_out is None or r.stdout == want_out)
    why = "" if ok else f"rc {r.returncode} (want {want_rc}) out {r.stdout[:60]!r}"
    return name, ok, why, time.monotonic() - start


def main():
    tmp = tempfile.mkdtemp(prefix="regress.")
    try:
        tests = make_tests(tmp)
        start = time.monotonic()
        failed = []
        with mp.Pool(4) as pool:
            for name, ok, why, _ in pool.imap_unordered(run_one, tests.items(), chunksize=1):
                if not ok:
                    failed.append(name)
                    print(f"FAIL {name}: {why}")
        print(f"regress_suite: {len(tests)} tests, {len(failed)} failed, "
              f"{time.monotonic() - start:.1f}s")
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
