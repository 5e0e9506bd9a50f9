#!/bin/sh
# Build the forktrace container image, offline, FROM scratch.
#
# forktrace links shared libraries (libelf, zlib, libmicrohttpd and through it
# gnutls, ...), so rather than a static binary the image carries the built
# ./forktrace plus exactly the shared objects ldd(1) resolves for it and the
# dynamic loader, at the same paths as on the build host.  A staging rootfs is
# put together under build/image-root/ and handed to `podman build` as the
# context of deploy/Containerfile.  Nothing is pulled: no base image, no RUN.
#
# One image per architecture, each tagged IMAGE:VERSION-<arch> (amd64,
# arm64); the host's own is also IMAGE:VERSION, the reference the DaemonSet
# runs.  Once both exist, the manifest list IMAGE:VERSION-multiarch names
# them: push it (deploy/README.md) and one reference serves both kinds of node.
# A foreign binary (ARCH=arm64 on x86_64, from make image ARCH=arm64) has its
# libraries looked up by scripts/elfdeps.py in this host's multiarch
# directories (ldd cannot run it), and its --version check runs under
# Debian's qemu-user-static.
#
# Usage: scripts/build-image.sh [--print-tag]
#   --print-tag   only print the image reference this build would tag
# Environment:
#   ARCH        make's: x86 or arm64 (default: this host's)
#   FORKTRACE   the binary to package (default: ./forktrace, or
#               build-<arch>/forktrace for another arch; run make first)
#   IMAGE       repository to tag (default: localhost/forktrace)
#   STAGE       staging rootfs (default: build/image-root, build-<arch>/image-root)
#   podman settings (runtime, cgroup manager, storage): scripts/podman.sh
set -eu

cd "$(dirname "$0")/.."
host=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH=${ARCH:-$host}
case "$ARCH" in
x86) platform=amd64 triplet=x86_64-linux-gnu qemu=qemu-x86_64-static ;;
arm64) platform=arm64 triplet=aarch64-linux-gnu qemu=qemu-aarch64-static ;;
*) echo "build-image: ARCH=$ARCH: x86 or arm64" >&2; exit 2 ;;
esac
if [ "$ARCH" = "$host" ]; then
	FORKTRACE=${FORKTRACE:-./forktrace}
	STAGE=${STAGE:-build/image-root}
else
	FORKTRACE=${FORKTRACE:-build-$ARCH/forktrace}
	STAGE=${STAGE:-build-$ARCH/image-root}
fi
IMAGE=${IMAGE:-localhost/forktrace}

die() {
	echo "build-image: $*" >&2
	exit 1
}

[ -x "$FORKTRACE" ] || die "$FORKTRACE not found or not executable (run make first)"

# Run a binary of $ARCH: itself, or through qemu-user when it is foreign and
# the kernel has no binfmt_misc handler for it (the image check below
# registers Debian's).
run_arch() {
	if [ "$ARCH" = "$host" ] || [ -e "/proc/sys/fs/binfmt_misc/qemu-$(echo "$qemu" |
		sed -e 's/^qemu-//' -e 's/-static$//')" ]; then
		"$@"
	else
		"$qemu" "$@"
	fi
}

# The version: from the binary, else from the Makefile.
version_of() {
	v=$(run_arch "$1" --version 2>/dev/null | awk 'NR == 1 { print $NF }') || v=""
	if [ -z "$v" ]; then
		v=$(sed -n 's/^VERSION[[:space:]]*:*=[[:space:]]*//p' Makefile | head -n 1)
	fi
	[ -n "$v" ] || die "cannot tell forktrace's version"
	printf '%s\n' "$v"
}

if [ "${1:-}" = "--print-tag" ]; then
	if [ "$ARCH" = "$host" ]; then
		echo "$IMAGE:$(version_of "$FORKTRACE")"
	else
		echo "$IMAGE:$(version_of "$FORKTRACE")-$platform"
	fi
	exit 0
fi
[ $# -eq 0 ] || die "usage: $0 [--print-tag]"

rm -rf "$STAGE"
mkdir -p "$STAGE/usr/local/sbin" "$STAGE/etc/forktrace" "$STAGE/tmp"
chmod 1777 "$STAGE/tmp"
# Copy first and work from the copy from here on, so a concurrent relink of
# ./forktrace cannot give the image one binary and the tag another's version.
cp "$FORKTRACE" "$STAGE/usr/local/sbin/forktrace"
chmod 0755 "$STAGE/usr/local/sbin/forktrace"
bin="$STAGE/usr/local/sbin/forktrace"
VERSION=$(version_of "$bin")

# Shared objects, each at the path the loader looks it up by (the "=>" side
# of ldd's output), plus the loader itself at the binary's PT_INTERP path.
if [ "$ARCH" != "$host" ]; then
	paths=$(python3 scripts/elfdeps.py --triplet "$triplet" "$bin") ||
		die "libraries of $bin not found (scripts/install-deps.sh $ARCH)"
else
	libs=$(ldd "$bin" 2>&1) || {
		case "$libs" in
		*"not a dynamic executable"* | *"statically linked"*) libs="" ;;
		*) die "ldd $bin failed: $libs" ;;
		esac
	}
	if printf '%s\n' "$libs" | grep -q "not found"; then
		die "unresolved libraries: $(printf '%s\n' "$libs" | grep "not found" | tr '\n' ' ')"
	fi
	paths=$(printf '%s\n' "$libs" | awk '
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }')
fi
n=0
for p in $paths; do
	mkdir -p "$STAGE$(dirname "$p")"
	cp -L "$p" "$STAGE$p" # the file itself, not the symlink
	n=$((n + 1))
done

# Users and groups for --user=60600, the agent's own uid (and for anyone
# reading ls -n output).
cat >"$STAGE/etc/passwd" <<'EOF'
root:x:0:0:root:/:/usr/local/sbin/forktrace
forktrace:x:60600:60600:forktrace agent:/nonexistent:/usr/local/sbin/forktrace
nobody:x:65534:65534:nobody:/nonexistent:/usr/local/sbin/forktrace
EOF
cat >"$STAGE/etc/group" <<'EOF'
root:x:0:
forktrace:x:60600:
nogroup:x:65534:
EOF
# Name lookups from files only (no NSS modules to load in the image).
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$STAGE/etc/nsswitch.conf"

# A foreign binary runs chrooted only through a binfmt_misc handler whose
# interpreter the kernel opened at registration (flag F), as Debian's
# qemu-user-static registers them (/usr/lib/binfmt.d/, read by systemd at
# boot; a host without systemd has none): register that file's line if
# there is none yet.  Where binfmt_misc cannot be mounted or written (a
# sandbox), qemu-user runs it instead, with -L so the loader and libraries
# come from the stage, which checks the same thing.
binfmt=/proc/sys/fs/binfmt_misc
qname=$(echo "$qemu" | sed -e 's/^qemu-//' -e 's/-static$//')
if [ "$ARCH" != "$host" ] && [ "$(id -u)" -eq 0 ] && [ ! -e "$binfmt/qemu-$qname" ] &&
	[ -r "/usr/lib/binfmt.d/qemu-$qname.conf" ]; then
	[ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || true
	if [ -w "$binfmt/register" ]; then
		cat "/usr/lib/binfmt.d/qemu-$qname.conf" >"$binfmt/register" 2>/dev/null || true
	fi
fi

# The staged binary must start with only the staged libraries: run it
# chrooted when we can (root), as the image will run it.
if [ "$ARCH" != "$host" ] && [ ! -e "$binfmt/qemu-$qname" ]; then
	"$qemu" -L "$STAGE" "$bin" --version >/dev/null ||
		die "the staged rootfs cannot run forktrace --version (under $qemu -L)"
	echo "build-image: no binfmt_misc handler for $ARCH: checked under $qemu -L $STAGE"
elif [ "$(id -u)" -eq 0 ] && command -v chroot >/dev/null 2>&1; then
	chroot "$STAGE" /usr/local/sbin/forktrace --version >/dev/null ||
		die "the staged rootfs cannot run forktrace --version"
fi

echo "build-image: staged forktrace $VERSION ($platform) and $n shared objects in $STAGE"
# the plain tag only for the host's arch: what runs here, and what the
# DaemonSet names
if [ "$ARCH" = "$host" ]; then
	set -- -t "$IMAGE:$VERSION"
else
	set --
fi
scripts/podman.sh build --pull=never --network=none --layers=false \
	--platform "linux/$platform" --build-arg "VERSION=$VERSION" \
	-f deploy/Containerfile "$@" -t "$IMAGE:$VERSION-$platform" "$STAGE"
# a rebuild leaves the previous image untagged: forktrace's store (see
# scripts/podman.sh) holds nothing else, so drop what is dangling
scripts/podman.sh image prune -f >/dev/null
echo "build-image: built $IMAGE:$VERSION-$platform${1:+ (and $IMAGE:$VERSION)}"

# the manifest list of every architecture built so far, made anew
list="$IMAGE:$VERSION-multiarch"
scripts/podman.sh manifest rm "$list" >/dev/null 2>&1 || true
scripts/podman.sh manifest create "$list" >/dev/null
for a in amd64 arm64; do
	if scripts/podman.sh image exists "$IMAGE:$VERSION-$a"; then
		scripts/podman.sh manifest add "$list" "containers-storage:$IMAGE:$VERSION-$a" >/dev/null
		echo "build-image: $list: $a"
	fi
done
