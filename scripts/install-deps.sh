#!/bin/sh
# Install the Debian packages forktrace needs to build, run, test and
# benchmark, skipping what is already there.  Run as root (make does).
set -eu

BUILD="clang make gcc pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev \
	libmicrohttpd-dev libjansson-dev libcap-ng-dev libncurses-dev"
# live tests: OCI containers (runc), a real Prometheus and promtool, the image
# build (podman), manifest validation (node + npm: tests/deploy/), the live
# view driven in tmux, the report rendered by Chromium and checked by tidy,
# a real FUSE filesystem (tests/fusefs.c: fuse3's fusermount3, libfuse3)
TEST="python3 python3-yaml procps util-linux runc podman prometheus tmux chromium tidy \
	cppcheck fuse3 libfuse3-dev"
BENCH="bpftrace forkstat"
# make realworld (tests/realworld.py; make bench runs it too): dpkg-source for
# apt-get source (scripts/fetch-sources.sh); what the chosen Debian sources
# need for `./configure && make && make check` beyond gcc and make: gzip's
# Debian patch touches configure.ac, so its make re-runs aclocal, automake,
# autoconf and makeinfo (its Build-Depends: autoconf, automake, texinfo);
# sed's needs nothing more (its testsuite's few perl scripts: perl); and
# CPython's own test suites for the interpreter Debian ships
REALWORLD="dpkg-dev autoconf automake texinfo perl libpython3.11-testsuite"
# make test-kernels: qemu, and what tests/kernels/mkroot.py copies into the guest
# make fuzz: libFuzzer and the sanitizers' runtimes for clang
FUZZ="libclang-rt-14-dev"
KERNELS="qemu-system-x86 busybox-static bash dash coreutils findutils grep sed mount"
# arm64 (make ARCH=arm64 ...): the cross compiler; qemu-system-aarch64 for the
# test-kernels guests; qemu-aarch64-static for the image's --version check of
# an arm64 binary on this host; and the libraries the arm64 build links, from
# Debian's arm64 packages (multiarch: dpkg --add-architecture arm64, below).
# The arm64 guest root is made of arm64 .debs that tests/kernels/mkroot.py
# fetches itself with apt-get download, and installs nothing.
ARM64_HOST="gcc-aarch64-linux-gnu qemu-system-arm qemu-user-static python3"
ARM64_LIBS="libbpf-dev libelf-dev zlib1g-dev libmicrohttpd-dev libjansson-dev libcap-ng-dev \
	libncurses-dev libfuse3-dev"

case "${1:-build}" in
build) want="$BUILD" ;;
test) want="$BUILD $TEST" ;;
bench) want="$BUILD $TEST $BENCH $REALWORLD" ;;
realworld) want="$BUILD python3 util-linux $REALWORLD" ;;
kernels) want="$BUILD $TEST $KERNELS" ;;
fuzz) want="$BUILD $FUZZ" ;;
arm64) want="$BUILD $ARM64_HOST $(for p in $ARM64_LIBS; do printf '%s:arm64 ' "$p"; done)" ;;
*) echo "usage: $0 [build|test|bench|realworld|kernels|fuzz|arm64]" >&2; exit 2 ;;
esac

# multiarch: apt sees arm64 packages only once dpkg knows the architecture,
# and then only after an update of its lists
if [ "${1:-build}" = arm64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: the arm64 architecture is not enabled (run as root: sudo make ...)" >&2
		exit 1
	fi
	echo "install-deps: dpkg --add-architecture arm64"
	dpkg --add-architecture arm64
fi

missing=""
for pkg in $want; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $pkg"
done
# node and npm: any install will do (Debian's, or NodeSource's "nodejs" that
# bundles npm and conflicts with Debian's npm package)
case "${1:-build}" in
test) command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm" ;;
esac
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root: sudo make ...)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
