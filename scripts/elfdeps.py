#!/usr/bin/env python3
"""The shared libraries an ELF program needs, without running it.

ldd(1) runs the program's own dynamic loader, so it cannot answer for a
foreign architecture's binary (an arm64 forktrace on an x86_64 host).  This
reads the files instead: each one's PT_INTERP (the loader) and DT_NEEDED
entries, and looks every soname up the way the loader would in a Debian
multiarch layout (/lib/<triplet>, /usr/lib/<triplet>, /lib, /usr/lib), under
a root directory: / for the host's multiarch libraries (the arm64 -dev
packages installed next to the amd64 ones), or the tree of extracted .debs
that tests/kernels/mkroot.py builds.  Symlinks are followed inside that
root, never out of it.  Used by tests/kernels/mkroot.py and
scripts/build-image.sh.

    scripts/elfdeps.py [--root DIR] [--triplet aarch64-linux-gnu] FILE...

Prints the closure, one path a line as the loader looks it up (the
loader's PT_INTERP path first), relative to the root; exits 1 naming any
soname it cannot find.
"""
import argparse
import os
import struct
import sys

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5


def read_elf(path):
    """(interpreter or None, [sonames]) of a 64-bit little-endian ELF file;
    None if the file is not one (a script, a static archive, data)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, dyn, interp = [], None, None
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dyn = (p_offset, p_filesz)
        elif p_type == PT_INTERP:
            interp = data[p_offset:p_offset + p_filesz].split(b"\0")[0].decode()
    if not dyn:
        return interp, []
    needed, strtab = [], None
    for off in range(dyn[0], dyn[0] + dyn[1], 16):
        tag, val = struct.unpack_from("<qQ", data, off)
        if tag == DT_NULL:
            break
        if tag == DT_NEEDED:
            needed.append(val)
        elif tag == DT_STRTAB:
            strtab = val
    # DT_STRTAB is an address: the file offset is the segment's that holds it
    base = next((o + strtab - v for v, o, n in loads if v <= strtab < v + n), None)
    if base is None:
        return interp, []
    names = [data[base + n:data.index(b"\0", base + n)].decode() for n in needed]
    return interp, names


def resolve(root, path, depth=0):
    """path (absolute, inside root) with every symlink followed inside root."""
    parts, out = [p for p in path.split("/") if p], "/"
    for i, part in enumerate(parts):
        cand = os.path.join(out, part)
        full = root.rstrip("/") + cand
        if os.path.islink(full):
            if depth > 40:
                return None
            target = os.readlink(full)
            target = target if target.startswith("/") else os.path.join(out, target)
            rest = "/".join(parts[i + 1:])
            return resolve(root, os.path.normpath(os.path.join(target, rest)), depth + 1)
        out = cand
    return out


def libdirs(triplet):
    return ["/lib/" + triplet, "/usr/lib/" + triplet, "/lib", "/usr/lib"]


def lookup(root, triplet, soname):
    """The path the loader finds soname at under root, or None."""
    for d in libdirs(triplet):
        real = resolve(root, os.path.join(d, soname))
        if real and os.path.isfile(root.rstrip("/") + real):
            return os.path.join(d, soname)
    return None


def closure(files, root="/", triplet="aarch64-linux-gnu"):
    """{path as looked up: path it resolves to} for every library and loader
    the files need, transitively, under root; raises LookupError naming the
    sonames not found."""
    found, missing, todo, seen = {}, [], list(files), set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        try:
            info = read_elf(f)
        except (OSError, struct.error, ValueError):
            info = None
        if not info:
            continue
        interp, names = info
        wanted = ([interp] if interp else []) + [lookup(root, triplet, n) or "?" + n
                                                 for n in names]
        for w in wanted:
            if w.startswith("?"):
                missing.append("%s (needed by %s)" % (w[1:], f))
                continue
            if w in found:
                continue
            real = resolve(root, w)
            if not real or not os.path.isfile(root.rstrip("/") + real):
                missing.append("%s (needed by %s)" % (w, f))
                continue
            found[w] = real
            todo.append(root.rstrip("/") + real)
    if missing:
        raise LookupError(", ".join(sorted(set(missing))))
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default="/")
    ap.add_argument("--triplet", default="aarch64-linux-gnu")
    ap.add_argument("files", nargs="+")
    opts = ap.parse_args()
    try:
        found = closure(opts.files, opts.root, opts.triplet)
    except LookupError as e:
        sys.exit("elfdeps: not found: %s" % e)
    interps = [p for p in found if any(read_elf(f) and read_elf(f)[0] == p for f in opts.files)]
    for p in interps + sorted(set(found) - set(interps)):
        print(p)


if __name__ == "__main__":
    main()
