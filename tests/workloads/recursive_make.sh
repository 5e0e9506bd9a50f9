#!/bin/sh
# Benign: a recursive make build.  Creates a scratch source tree four levels
# deep (top -> 4 dirs -> 3 dirs each -> 3 dirs each: 36 leaf dirs), where
# each non-leaf Makefile runs $(MAKE) -C for its sub-directories and each
# leaf compiles a few small C files with cc into a library; then runs
# `make -j$1` at the top (default 64) and removes the tree.
#
#     sh recursive_make.sh [JOBS]
set -eu
jobs=${1:-64}
files_per_leaf=4
top=$(mktemp -d "${TMPDIR:-/tmp}/rmake.XXXXXX")
trap 'rm -rf "$top"' EXIT

# a non-leaf directory: build every sub-directory, in parallel under -j
nonleaf() { # dir subdirs...
	d=$1
	shift
	mkdir -p "$d"
	{
		printf 'SUBDIRS := %s\n' "$*"
		printf 'all: $(SUBDIRS)\n'
		printf '$(SUBDIRS):\n\t$(MAKE) -C $@\n'
		printf '.PHONY: all $(SUBDIRS)\n'
	} >"$d/Makefile"
}

# a leaf directory: a few C files compiled into lib<name>.a
leaf() { # dir name
	d=$1
	mkdir -p "$d"
	i=0
	while [ "$i" -lt "$files_per_leaf" ]; do
		cat >"$d/$2_$i.c" <<C
#include <string.h>
struct rec_$i { int id; char name[32]; double weight; };
static int cmp_$i(const struct rec_$i *a, const struct rec_$i *b)
{
	return a->weight < b->weight ? -1 : a->weight > b->weight;
}
int $2_$i(struct rec_$i *v, int n)
{
	int best = 0;
	for (int k = 1; k < n; k++)
		if (cmp_$i(&v[k], &v[best]) > 0 && strlen(v[k].name) > $i)
			best = k;
	return best;
}
C
		i=$((i + 1))
	done
	cat >"$d/Makefile" <<MK
SRCS := \$(wildcard *.c)
lib$2.a: \$(SRCS:.c=.o)
	ar rcs \$@ \$^
%.o: %.c
	cc -O2 -Wall -c \$< -o \$@
MK
}

nonleaf "$top" m1 m2 m3 m4
for a in 1 2 3 4; do
	nonleaf "$top/m$a" s1 s2 s3
	for b in 1 2 3; do
		nonleaf "$top/m$a/s$b" c1 c2 c3
		for c in 1 2 3; do
			leaf "$top/m$a/s$b/c$c" "m${a}s${b}c${c}"
		done
	done
done

make -s --no-print-directory -C "$top" -j"$jobs"
n=$(find "$top" -name '*.a' | wc -l)
[ "$n" -eq 36 ] || { echo "recursive_make: built $n of 36 libraries" >&2; exit 1; }
echo "recursive_make: built $n libraries with -j$jobs"
