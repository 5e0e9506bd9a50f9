#!/bin/sh
# Regenerate vmlinux/<arch>/vmlinux.h from a kernel's BTF.
#
# The checked-in header is what every build compiles against (never the
# build host's running kernel), so forktrace.bpf.o is the same wherever it
# is built and CO-RE adapts it at load time.  Regenerate only to pick up
# types a newer kernel added; older layouts belong in bpf/compat.h.
#
#   scripts/gen-vmlinux.sh [BTF_FILE] [ARCH]
#   defaults: /sys/kernel/btf/vmlinux and this machine's arch (x86, arm64, ...)
set -eu

btf=${1:-/sys/kernel/btf/vmlinux}
arch=${2:-$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')}
out="$(dirname "$0")/../vmlinux/$arch/vmlinux.h"

mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out from $btf ($(wc -l <"$out") lines)"
