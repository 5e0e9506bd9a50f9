#!/bin/sh
# Benign: parallel make of a few hundred small C files in a scratch dir.
set -eu
n=${1:-240}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
i=0
while [ "$i" -lt "$n" ]; do
	printf 'int f%d(int x) { return x * %d + 1; }\n' "$i" "$i" >"$dir/f$i.c"
	i=$((i + 1))
done
cat >"$dir/Makefile" <<'MK'
SRCS := $(wildcard f*.c)
lib.a: $(SRCS:.c=.o)
	ar rcs $@ $^
%.o: %.c
	cc -O1 -c $< -o $@
MK
make -s -C "$dir" -j8
