#!/usr/bin/env python3
"""Build the guest root for `make test-kernels` as an initramfs.

Two newc cpio archives, concatenated into one initrd (the kernel unpacks
them in turn):

  build/kernels/sys.cpio      the Debian userland the live tests need:
                              python3, bash, dash, coreutils, make,
                              util-linux, procps, busybox, ... copied from
                              this host's installed packages (dpkg -L) with
                              the shared libraries ldd lists.  Cached: it is
                              rebuilt only when a package version, or this
                              script, changes.
  build/kernels/project.cpio  ./forktrace, the build/ test helpers and the
                              tests/ tree under /forktrace, the guest's /init
                              and whatever libraries those binaries need.
                              Rebuilt every run (a few MB).
  build/kernels/initrd.cpio   the two, concatenated: what qemu boots.

For another architecture than this host's (--arch arm64 on x86_64: make's
ARCH), everything is under build-<arch>/kernels/ and sys.cpio is made of
that architecture's Debian packages instead of the host's installed ones:
the same SYS_PACKAGES and the library packages they depend on (apt-cache
depends), fetched with apt-get download into build-<arch>/kernels/debs-root/
(kept: later runs reuse them, offline too) and unpacked into
build-<arch>/kernels/pool/; the guest gets the SYS_PACKAGES' files and the
libraries their ELF files need (scripts/elfdeps.py reads DT_NEEDED: ldd
cannot run a foreign binary).  project.cpio holds build-<arch>/forktrace
and the executables of build-<arch>/, with their libraries looked up in
this host's multiarch directories (/usr/lib/<triplet>: what they were
linked against, from the -dev:<arch> packages).  The tests/ tree and /init
are the same for every architecture.

Python's standard library is byte-compiled in the image with unchecked
hashes, so the guest never recompiles it under emulation.

    python3 tests/kernels/mkroot.py [--force] [--arch arm64]
"""
import glob
import hashlib
import os
import shutil
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import elfdeps  # noqa: E402

# make's ARCH names: Debian's architecture and the GNU triplet of each
ARCHES = {"x86": ("amd64", "x86_64-linux-gnu"), "arm64": ("arm64", "aarch64-linux-gnu")}
HOST_ARCH = {"x86_64": "x86", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def build_dir(arch):
    """The Makefile's OUT for ARCH=arch: build/, or build-<arch>/ for a cross build."""
    return os.path.join(ROOT, "build" if arch == HOST_ARCH else "build-" + arch)


OUT = os.path.join(build_dir(HOST_ARCH), "kernels")  # main() sets it for --arch
GUEST_SRC = "/forktrace"  # where the checkout lives inside the guest

# Debian packages whose files go into the guest (see scripts/install-deps.sh kernels)
SYS_PACKAGES = [
    "bash", "dash", "coreutils", "make", "util-linux", "mount", "procps", "grep", "sed",
    "findutils", "busybox-static", "python3-minimal", "python3.11-minimal",
    "libpython3.11-minimal", "libpython3.11-stdlib",
]
SKIP_PREFIXES = ("/usr/share/doc", "/usr/share/man", "/usr/share/info", "/usr/share/locale",
                 "/usr/share/lintian", "/usr/share/bash-completion", "/usr/share/zsh",
                 "/usr/lib/python3.11/idlelib", "/usr/lib/python3.11/tkinter",
                 "/usr/lib/python3.11/turtledemo", "/usr/lib/python3.11/ensurepip",
                 "/usr/lib/python3.11/lib2to3", "/usr/lib/python3.11/pydoc_data",
                 "/etc/systemd", "/usr/lib/systemd", "/lib/systemd")
PYTHON = "/usr/bin/python3.11"  # Debian's, the one copied into the guest
# usrmerge: the guest has these as symlinks, files live under /usr
MERGED = {"/bin": "usr/bin", "/sbin": "usr/sbin", "/lib": "usr/lib", "/lib64": "usr/lib64"}


def canonical(path):
    """The path with its directory resolved (/bin/bash -> /usr/bin/bash)."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def ldd_closure(paths):
    """Every shared library (and the loader) that the ELF files in paths need."""
    libs = set()
    for p in paths:
        if not is_elf(p):
            continue
        r = subprocess.run(["ldd", p], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
        if r.returncode:
            continue  # static, or not a program
        for line in r.stdout.splitlines():
            parts = line.split()
            if "=>" in parts:
                i = parts.index("=>")
                if i + 1 < len(parts) and parts[i + 1].startswith("/"):
                    libs.add(parts[i + 1])
            elif parts and parts[0].startswith("/"):
                libs.add(parts[0])  # the dynamic loader
    out = set()
    for lib in libs:
        # the path as named (often a symlink) and what it resolves to
        out.add(canonical(lib))
        out.add(os.path.realpath(lib))
    return out


def package_files(pkgs):
    r = subprocess.run(["dpkg", "-L"] + pkgs, stdout=subprocess.PIPE, text=True, check=True)
    files = set()
    for line in r.stdout.splitlines():
        if not line.startswith("/") or line.startswith(SKIP_PREFIXES):
            continue
        if os.path.islink(line) or os.path.isfile(line):
            p = canonical(line)
            if not p.startswith(SKIP_PREFIXES):
                files.add(p)
    return files


def copy_into(stage, src, dest=None):
    """Copy one file or symlink from the host into the stage at dest (default: src)."""
    dest = stage + (dest or src)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if os.path.lexists(dest):
        return
    if os.path.islink(src):
        os.symlink(os.readlink(src), dest)
    else:
        shutil.copy2(src, dest)


class Cpio:
    """A newc archive writer: every entry owned by root, sorted, deterministic inodes."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.ino = 1

    def _entry(self, name, mode, data=b"", mtime=0, rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        hdr = "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X" % (
            self.ino, mode, 0, 0, 1, int(mtime), len(data), 0, 0, rdev[0], rdev[1],
            len(name_b), 0)
        self.ino += 1
        self.f.write(hdr.encode() + name_b)
        self.f.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
        self.f.write(data)
        self.f.write(b"\0" * ((4 - len(data) % 4) % 4))

    def add_tree(self, stage):
        """Everything under stage, parents before children."""
        for dirpath, dirnames, filenames in os.walk(stage):
            dirnames.sort()
            rel = os.path.relpath(dirpath, stage)
            if rel != ".":
                st = os.lstat(dirpath)
                self._entry(rel, stat.S_IFDIR | stat.S_IMODE(st.st_mode), mtime=st.st_mtime)
            for name in sorted(filenames + [d for d in dirnames
                                            if os.path.islink(os.path.join(dirpath, d))]):
                path = os.path.join(dirpath, name)
                relp = os.path.normpath(os.path.join(rel, name))
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    self._entry(relp, st.st_mode, os.readlink(path).encode(), st.st_mtime)
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        self._entry(relp, st.st_mode, f.read(), st.st_mtime)

    def add_char_device(self, name, major, minor, perm=0o600):
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def close(self):
        self._entry("TRAILER!!!", 0)
        self.f.write(b"\0" * ((512 - self.f.tell() % 512) % 512))
        self.f.close()


def fresh_merged_tree(path):
    """An empty directory at path with Debian's merged-/usr symlinks
    (/bin -> usr/bin and the like), whatever was there before gone."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for d, target in MERGED.items():
        os.makedirs(os.path.join(path, target), exist_ok=True)
        os.symlink(target, path + d)
    return path


def sys_cpio_current(key, force):
    """sys.cpio's and sys.key's paths, and whether the cpio there was built
    from key (then nothing needs building unless forced)."""
    cpio, keyfile = os.path.join(OUT, "sys.cpio"), os.path.join(OUT, "sys.key")
    current = not force and os.path.exists(cpio) and os.path.exists(keyfile) and \
        open(keyfile).read() == key
    return cpio, keyfile, current


def sys_key():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Package}=${Version}\n"] + SYS_PACKAGES,
                       stdout=subprocess.PIPE, text=True)
    h = hashlib.sha256(r.stdout.encode())
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    return h.hexdigest(), r.returncode


def build_sys(force):
    key, rc = sys_key()
    if rc:
        sys.exit("mkroot: missing packages for the guest root (scripts/install-deps.sh kernels): "
                 + " ".join(SYS_PACKAGES))
    cpio, keyfile, current = sys_cpio_current(key, force)
    if current:
        return cpio
    stage = fresh_merged_tree(os.path.join(OUT, "sysroot"))
    files = package_files(SYS_PACKAGES)
    files |= ldd_closure(sorted(files))
    for f in sorted(files):
        copy_into(stage, f)
    finish_sys(stage, cpio, keyfile, key)
    return cpio


def finish_sys(stage, cpio, keyfile, key):
    """The stage's last touches (checks, /etc, compiled stdlib), then sys.cpio."""
    # symlinks whose targets we did not copy (alternatives and the like) are dropped
    # silently by the kernel's unpacker; resolve the ones we care about
    for name in ("sh", "python3"):
        path = os.path.join(stage, "usr/bin", name)
        if not os.path.exists(path):
            sys.exit("mkroot: /usr/bin/%s missing from the guest root" % name)
    for d in ("proc", "sys", "dev", "tmp", "run", "etc", "root", "var/tmp"):
        os.makedirs(os.path.join(stage, d), exist_ok=True)
    os.chmod(os.path.join(stage, "tmp"), 0o1777)
    os.chmod(os.path.join(stage, "var/tmp"), 0o1777)
    with open(os.path.join(stage, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:"
                "/usr/sbin/nologin\n")
    with open(os.path.join(stage, "etc/group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    # the standard library, compiled once here: no source checks in the guest
    subprocess.run([PYTHON, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
                    "unchecked-hash", "-s", stage, "-p", "/",
                    os.path.join(stage, "usr/lib/python3.11")], check=True,
                   stdout=subprocess.DEVNULL)
    c = Cpio(cpio + ".tmp")
    c.add_tree(stage)
    # the kernel opens /dev/console for /init's stdin, stdout and stderr
    # before anything mounts devtmpfs over /dev
    c.add_char_device("dev/console", 5, 1)
    c.add_char_device("dev/null", 1, 3, 0o666)
    c.close()
    os.replace(cpio + ".tmp", cpio)
    with open(keyfile, "w") as f:
        f.write(key)


def deb_members(deb):
    """The paths a .deb installs (files and symlinks), as absolute paths."""
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE,
                         check=True).stdout
    r = subprocess.run(["tar", "-tv"], input=tar, stdout=subprocess.PIPE, check=True)
    out = []
    for line in r.stdout.decode(errors="replace").splitlines():
        if line.startswith("d"):
            continue
        name = line.split(None, 5)[5].split(" -> ")[0].split(" link to ")[0]
        out.append("/" + os.path.normpath(name))
    return out


def foreign_packages(arch):
    """SYS_PACKAGES and the library packages of their dependency closure, for
    Debian architecture arch (the libraries are all the guest takes from the
    closure: tools it pulls in, perl, gawk, are not needed)."""
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                        "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] +
                       ["%s:%s" % (p, arch) for p in SYS_PACKAGES],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        sys.exit("mkroot: apt-cache depends failed (is the %s architecture enabled? "
                 "scripts/install-deps.sh %s): %s" % (arch, arch, r.stderr.strip()))
    names = set()
    for line in r.stdout.splitlines():
        if line.startswith((" ", "<")) or not line.endswith(":" + arch):
            continue
        name = line[:-len(arch) - 1]
        if name in SYS_PACKAGES or name.startswith(("lib", "zlib1g")):
            names.add(name)
    return sorted(names)


def fetch_debs(names, arch, debs):
    """The .deb of each package (fetched once into debs/), by name."""
    os.makedirs(debs, exist_ok=True)

    def have(n):
        return glob.glob(os.path.join(debs, "%s_*_%s.deb" % (n, arch))) + \
            glob.glob(os.path.join(debs, "%s_*_all.deb" % n))
    missing = [n for n in names if not have(n)]
    if missing:
        print("mkroot: fetching %d %s packages for the guest root" % (len(missing), arch),
              file=sys.stderr)
        r = subprocess.run(["apt-get", "download", "-q"] + ["%s:%s" % (n, arch) for n in missing],
                           cwd=debs, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode:
            sys.exit("mkroot: apt-get download failed: %s" % r.stderr.strip())
    out = {}
    for n in names:
        found = sorted(have(n))
        if not found:
            sys.exit("mkroot: no .deb for %s:%s in %s" % (n, arch, debs))
        out[n] = found[-1]
    return out


def build_sys_foreign(arch, force):
    """sys.cpio from architecture arch's Debian packages (another than this
    host's): their files unpacked, no package installed."""
    debarch, triplet = ARCHES[arch]
    names = foreign_packages(debarch)
    debs = fetch_debs(names, debarch, os.path.join(OUT, "debs-root"))
    h = hashlib.sha256("\n".join(os.path.basename(d) for d in sorted(debs.values())).encode())
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    with open(elfdeps.__file__, "rb") as f:
        h.update(f.read())
    key = h.hexdigest()
    cpio, keyfile, current = sys_cpio_current(key, force)
    if current:
        return cpio
    # the pool: every package unpacked into one usrmerged tree (tar keeps the
    # /lib -> usr/lib symlinks, as on an installed system)
    pool = fresh_merged_tree(os.path.join(OUT, "pool"))
    for deb in sorted(debs.values()):
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE,
                             check=True).stdout
        subprocess.run(["tar", "-x", "--keep-directory-symlink", "--no-same-owner", "-C", pool],
                       input=tar, check=True)
    stage = fresh_merged_tree(os.path.join(OUT, "sysroot"))
    files = set()
    for name in SYS_PACKAGES:
        for p in deb_members(debs[name]):
            real = elfdeps.resolve(pool, os.path.dirname(p))
            p = os.path.join(real or os.path.dirname(p), os.path.basename(p))
            if not p.startswith(SKIP_PREFIXES) and os.path.lexists(pool + p):
                files.add(p)
    try:
        libs = elfdeps.closure([pool + f for f in sorted(files) if os.path.isfile(pool + f)],
                               pool, triplet)
    except LookupError as e:
        sys.exit("mkroot: libraries not found in the %s packages: %s" % (arch, e))
    for looked_up, real in libs.items():
        files.add(os.path.join(elfdeps.resolve(pool, os.path.dirname(looked_up)),
                               os.path.basename(looked_up)))
        files.add(real)
    for f in sorted(files):
        copy_from(pool, stage, f)
    finish_sys(stage, cpio, keyfile, key)
    return cpio


def copy_from(root, stage, path):
    """Copy one file or symlink from the tree root into the stage, same path."""
    dest = stage + path
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if os.path.lexists(dest):
        return
    if os.path.islink(root + path):
        os.symlink(os.readlink(root + path), dest)
    else:
        shutil.copy2(root + path, dest)


def build_project(arch):
    stage = os.path.join(OUT, "projroot")
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    src = stage + GUEST_SRC
    os.makedirs(os.path.join(src, "build"))
    bdir = build_dir(arch)
    # the binary the Makefile builds: ./forktrace, or build-<arch>/forktrace
    binary = os.path.join(ROOT, "forktrace") if arch == HOST_ARCH else \
        os.path.join(bdir, "forktrace")
    elfs = [binary]
    if not os.path.exists(binary):
        sys.exit("mkroot: %s is not built (make%s)" % (
            os.path.relpath(binary, ROOT), "" if arch == HOST_ARCH else " ARCH=" + arch))
    shutil.copy2(binary, os.path.join(src, "forktrace"))
    for name in sorted(os.listdir(bdir)):
        p = os.path.join(bdir, name)
        if os.path.isfile(p) and os.access(p, os.X_OK) and not name.endswith((".o", ".h")) \
                and p != binary:
            shutil.copy2(p, os.path.join(src, "build", name))
            elfs.append(p)
    shutil.copytree(os.path.join(ROOT, "tests"), os.path.join(src, "tests"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(os.path.join(HERE, "init"), os.path.join(stage, "init"))
    os.chmod(os.path.join(stage, "init"), 0o755)
    if arch == HOST_ARCH:
        libs = ldd_closure(elfs)
    else:
        try:
            found = elfdeps.closure(elfs, "/", ARCHES[arch][1])
        except LookupError as e:
            sys.exit("mkroot: libraries not found (scripts/install-deps.sh %s): %s" % (arch, e))
        libs = {canonical(p) for p in found} | {os.path.realpath(p) for p in found}
    for lib in sorted(libs):
        copy_into(stage, lib)
    cpio = os.path.join(OUT, "project.cpio")
    c = Cpio(cpio + ".tmp")
    c.add_tree(stage)
    c.close()
    os.replace(cpio + ".tmp", cpio)
    return cpio


def main():
    global OUT
    arch = sys.argv[sys.argv.index("--arch") + 1] if "--arch" in sys.argv else HOST_ARCH
    if arch not in ARCHES:
        sys.exit("mkroot: --arch %s: one of %s" % (arch, ", ".join(ARCHES)))
    OUT = os.path.join(build_dir(arch), "kernels")
    os.makedirs(OUT, exist_ok=True)
    force = "--force" in sys.argv
    parts = [build_sys(force) if arch == HOST_ARCH else build_sys_foreign(arch, force),
             build_project(arch)]
    initrd = os.path.join(OUT, "initrd.cpio")
    with open(initrd + ".tmp", "wb") as out:
        for p in parts:
            with open(p, "rb") as f:
                shutil.copyfileobj(f, out)
    os.replace(initrd + ".tmp", initrd)
    print(initrd)


if __name__ == "__main__":
    main()
