#!/bin/sh
# Install the Debian packages forktrace needs to build, run, test and
# benchmark, skipping what is already there.  Run as root (make does).
set -eu

BUILD="clang make gcc pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev"
TEST="python3 procps util-linux"
BENCH="bpftrace forkstat"
# make test-kernels: qemu, and what tests/kernels/mkroot.py copies into the guest
KERNELS="qemu-system-x86 busybox-static bash dash coreutils findutils grep sed mount"

case "${1:-build}" in
build) want="$BUILD" ;;
test) want="$BUILD $TEST" ;;
bench) want="$BUILD $TEST $BENCH" ;;
kernels) want="$BUILD $TEST $KERNELS" ;;
*) echo "usage: $0 [build|test|bench|kernels]" >&2; exit 2 ;;
esac

missing=""
for pkg in $want; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $pkg"
done
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
