#!/bin/sh
# podman with the settings forktrace's image build and tests need, passed as
# command-line flags so that a fresh machine behaves like this one whatever
# its /etc/containers holds:
#
#   --runtime runc            crun refuses a hybrid cgroup v1 + v2 host
#                             ("cgroups in hybrid mode not supported, drop all
#                             controllers from cgroupv2"); runc runs on v1,
#                             hybrid and pure v2 alike
#   --cgroup-manager cgroupfs there may be no systemd (PID 1 is not systemd
#                             here, in CI containers, in qemu initramfs guests)
#   --events-backend file     journald may be absent for the same reason
#   --storage-driver DRIVER   overlay where the kernel mounts it, else vfs
#   --root, --runroot         a store of forktrace's own (see below)
#   run/create: --ulimit nofile=N:N --ulimit nproc=M:M
#                             podman gives a root container nofile 1048576 and
#                             a larger nproc than it keeps itself (it lowers
#                             its own RLIMIT_NPROC to 32768 at start); raising
#                             a hard limit needs CAP_SYS_RESOURCE, which a
#                             sandbox (CI, this host) may not have, and runc
#                             then fails with "error setting rlimit type 7"
#                             (then 6).  So ask for no more than we hold.
#
# Usage: scripts/podman.sh PODMAN-ARGS...      e.g. scripts/podman.sh images
# Environment:
#   FORKTRACE_PODMAN_RUNTIME   OCI runtime (runc)
#   FORKTRACE_PODMAN_STORAGE   overlay, vfs, or auto (default: overlay if a
#                              test mount of overlayfs works, else vfs)
set -eu

runtime=${FORKTRACE_PODMAN_RUNTIME:-runc}
driver=${FORKTRACE_PODMAN_STORAGE:-auto}

# Can this kernel mount overlayfs here (the store's filesystem matters: an
# overlay upper directory cannot live on overlayfs or some network file
# systems)?  The probe lives next to the store and is removed at once.
overlay_works() {
	base=$1
	mkdir -p "$base" 2>/dev/null || return 1
	probe=$(mktemp -d "$base/.overlay-probe.XXXXXX" 2>/dev/null) || return 1
	mkdir "$probe/l" "$probe/u" "$probe/w" "$probe/m"
	ok=1
	if mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" \
		"$probe/m" 2>/dev/null; then
		ok=0
		umount "$probe/m" 2>/dev/null || true
	fi
	rm -rf "$probe"
	return $ok
}

if [ "$driver" = auto ]; then
	if [ "$(id -u)" -eq 0 ] && overlay_works /var/lib/containers/forktrace; then
		driver=overlay
	else
		driver=vfs
	fi
fi

# forktrace keeps its own store, one per driver: a store is bound to the
# driver that created it (podman refuses to open an overlay store with vfs),
# and podman 4.3 refuses even the matching --storage-driver on a store that a
# plain `podman` created without one ("database storage graph driver \"\"
# does not match").  A private store works whatever the host's podman did.
case "$driver" in
overlay | vfs) ;;
*) echo "podman.sh: unknown storage driver '$driver' (overlay, vfs, auto)" >&2; exit 2 ;;
esac
store="--root /var/lib/containers/forktrace/$driver --runroot /run/containers/forktrace/$driver"

global="--runtime $runtime --cgroup-manager cgroupfs --events-backend file"
global="$global --storage-driver $driver $store"

case "${1:-}" in
run | create)
	sub=$1
	shift
	nofile=$(awk '/^Max open files/ { print $5 }' /proc/self/limits)
	nproc=$(awk '/^Max processes/ { print $4 }' /proc/self/limits)
	[ "$nofile" = unlimited ] && nofile=1048576
	if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
	# shellcheck disable=SC2086
	exec podman $global "$sub" --ulimit "nofile=$nofile:$nofile" \
		--ulimit "nproc=$nproc:$nproc" "$@"
	;;
esac
# shellcheck disable=SC2086
exec podman $global "$@"
