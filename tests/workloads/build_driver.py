"""Benign: a recursive Python build driver.  The top run lays out a fixed
tree of subprojects (3 levels below the top, fan-out 3: 27 leaf
subprojects) and builds it by running copies of itself
(`python3 build_driver.py SUBPROJECT`), in parallel per level; each leaf
writes a few C sources and compiles them with `cc -c` in parallel, then
archives them.  Bounded; cleans up after itself; finishes in well under 40 s.

    python3 build_driver.py
"""
import os
import shutil
import subprocess
import sys
import tempfile

TREE = {
    "core": {"alloc": ["arena", "slab", "pool"],
             "io": ["file", "pipe", "poll"],
             "sched": ["queue", "timer", "worker"]},
    "net": {"proto": ["tcp", "udp", "icmp"],
            "dns": ["cache", "resolver", "wire"],
            "http": ["parser", "router", "client"]},
    "ui": {"widgets": ["button", "label", "list"],
           "layout": ["grid", "flow", "stack"],
           "theme": ["colors", "fonts", "icons"]},
}
SOURCES_PER_LEAF = 3


def children(path):
    node = TREE
    for part in path.split("/") if path else []:
        if isinstance(node, list):
            return []  # a leaf subproject
        node = node[part]
    return [f"{path}/{c}" if path else c for c in node]


def build_leaf(path, out):
    d = os.path.join(out, path)
    os.makedirs(d, exist_ok=True)
    name = path.replace("/", "_")
    srcs = []
    for i in range(SOURCES_PER_LEAF):
        src = os.path.join(d, f"{name}_{i}.c")
        with open(src, "w") as f:
            f.write(f"""#include <stdint.h>
#include <string.h>
uint32_t {name}_hash_{i}(const char *s)
{{
	uint32_t h = {2166136261 + i}u;
	for (size_t k = 0; k < strlen(s); k++)
		h = (h ^ (unsigned char)s[k]) * 16777619u;
	return h;
}}
""")
        srcs.append(src)
    compiles = [subprocess.Popen(["cc", "-O2", "-Wall", "-c", s, "-o", s[:-2] + ".o"])
                for s in srcs]
    if any(p.wait() for p in compiles):
        return 1
    objs = [s[:-2] + ".o" for s in srcs]
    return subprocess.call(["ar", "rcs", os.path.join(d, f"lib{name}.a")] + objs)


def build(path, out):
    subs = children(path)
    if not subs:
        return build_leaf(path, out)
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), s],
                              env=dict(os.environ, BUILD_DRIVER_OUT=out))
             for s in subs]
    failed = [s for s, p in zip(subs, procs) if p.wait() != 0]
    if failed:
        print(f"build_driver: {path or 'top'}: failed: {' '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main():
    if len(sys.argv) > 1:
        return build(sys.argv[1], os.environ["BUILD_DRIVER_OUT"])
    out = tempfile.mkdtemp(prefix="build_driver.")
    try:
        rc = build("", out)
        libs = [f for _, _, fs in os.walk(out) for f in fs if f.endswith(".a")]
        print(f"build_driver: {len(libs)} libraries, rc {rc}")
        return rc if len(libs) == 27 else 1
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
