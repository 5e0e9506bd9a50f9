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
# Usage: scripts/build-image.sh [--print-tag]
#   --print-tag   only print the image reference this build would tag
# Environment:
#   FORKTRACE   the binary to package (default: ./forktrace; run make first)
#   IMAGE       repository to tag (default: localhost/forktrace)
#   STAGE       staging rootfs (default: build/image-root)
#   podman settings (runtime, cgroup manager, storage): scripts/podman.sh
set -eu

cd "$(dirname "$0")/.."
FORKTRACE=${FORKTRACE:-./forktrace}
IMAGE=${IMAGE:-localhost/forktrace}
STAGE=${STAGE:-build/image-root}

die() {
	echo "build-image: $*" >&2
	exit 1
}

[ -x "$FORKTRACE" ] || die "$FORKTRACE not found or not executable (run make first)"

# The version: from the binary, else from the Makefile.
version_of() {
	v=$("$1" --version 2>/dev/null | awk 'NR == 1 { print $NF }') || v=""
	if [ -z "$v" ]; then
		v=$(sed -n 's/^VERSION[[:space:]]*:*=[[:space:]]*//p' Makefile | head -n 1)
	fi
	[ -n "$v" ] || die "cannot tell forktrace's version"
	printf '%s\n' "$v"
}

if [ "${1:-}" = "--print-tag" ]; then
	echo "$IMAGE:$(version_of "$FORKTRACE")"
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
n=0
for p in $paths; do
	mkdir -p "$STAGE$(dirname "$p")"
	cp -L "$p" "$STAGE$p" # the file itself, not the symlink
	n=$((n + 1))
done

# Users and groups for --user=65534 (and for anyone reading ls -n output).
cat >"$STAGE/etc/passwd" <<'EOF'
root:x:0:0:root:/:/usr/local/sbin/forktrace
nobody:x:65534:65534:nobody:/nonexistent:/usr/local/sbin/forktrace
EOF
cat >"$STAGE/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
# Name lookups from files only (no NSS modules to load in the image).
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$STAGE/etc/nsswitch.conf"

# The staged binary must start with only the staged libraries: run it
# chrooted when we can (root), as the image will run it.
if [ "$(id -u)" -eq 0 ] && command -v chroot >/dev/null 2>&1; then
	chroot "$STAGE" /usr/local/sbin/forktrace --version >/dev/null ||
		die "the staged rootfs cannot run forktrace --version"
fi

echo "build-image: staged forktrace $VERSION and $n shared objects in $STAGE"
scripts/podman.sh build --pull=never --network=none --layers=false \
	--build-arg "VERSION=$VERSION" \
	-f deploy/Containerfile -t "$IMAGE:$VERSION" "$STAGE"
# a rebuild leaves the previous image untagged: forktrace's store (see
# scripts/podman.sh) holds nothing else, so drop what is dangling
scripts/podman.sh image prune -f >/dev/null
echo "build-image: built $IMAGE:$VERSION"
