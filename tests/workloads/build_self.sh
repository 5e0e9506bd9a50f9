#!/bin/sh
# Benign: a from-clean parallel build of forktrace itself.  Copies the source
# tree this script lives in (../.., without .git, build/ and the forktrace
# binary) to a temp dir, runs `make -j$1 forktrace` there (default 8; needs
# clang, bpftool and libbpf like any build) and removes the temp dir.
#
#     sh build_self.sh [JOBS]
set -eu
jobs=${1:-8}
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/build_self.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

tar -C "$src" --exclude=./.git --exclude=./build --exclude=./build-san --exclude=./forktrace \
	--exclude='*.ftr' --exclude=__pycache__ -cf - . | tar -C "$tmp" -xf -
# a build of its own: none of the caller's make settings (SANITIZE=...)
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$tmp" -j"$jobs" SANITIZE= forktrace
test -x "$tmp/forktrace"
echo "build_self: built forktrace with -j$jobs"
