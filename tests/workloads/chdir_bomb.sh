#!/bin/sh
# Bomb: a script that walks down into a new directory every generation and
# runs itself again from there through a RELATIVE path, twice in the
# background, then waits: the kind of "process every subdirectory
# recursively" helper that forgot its base case, where the script is run by
# a different path (and, in copy mode, from a different file) each time.
#
#   sh tests/workloads/chdir_bomb.sh [copy|up|copy-sh|up-sh]
#
#   copy (default)  copy the script into the new directory, exec ./chdir_bomb.sh
#   up              exec ../chdir_bomb.sh, ../../chdir_bomb.sh, ... (one more
#                   "../" per generation, always the same file)
#   copy-sh, up-sh  the same, but run as `sh ./chdir_bomb.sh` / `sh ../...`
#
# The first process creates ${TMPDIR:-/tmp}/chdir_bomb.XXXXXX, copies itself
# there and starts from it; it removes that directory if the tree ever
# exits by itself (contain's kill leaves it behind).
# Run it only under build/contain.

mode=${1:-copy}
case $mode in
copy | up | copy-sh | up-sh) ;;
*)
	echo "usage: chdir_bomb.sh [copy|up|copy-sh|up-sh]" >&2
	exit 2
	;;
esac

if [ -z "$FT_CHDIR_ROOT" ]; then
	FT_CHDIR_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/chdir_bomb.XXXXXX") || exit 1
	export FT_CHDIR_ROOT
	trap 'rm -rf "$FT_CHDIR_ROOT"' EXIT
	cp "$0" "$FT_CHDIR_ROOT/chdir_bomb.sh" || exit 1
	chmod 755 "$FT_CHDIR_ROOT/chdir_bomb.sh"
	cd "$FT_CHDIR_ROOT" || exit 1
	self=./chdir_bomb.sh
else
	self=$0
fi

dir=d$$
mkdir "$dir" || exit 1
case $mode in
copy*)
	cp "$self" "$dir/chdir_bomb.sh" || exit 1
	cd "$dir" || exit 1
	next=./chdir_bomb.sh
	;;
up*)
	cd "$dir" || exit 1
	# ./chdir_bomb.sh -> ../chdir_bomb.sh, ../x -> ../../x
	next=../${self#./}
	;;
esac

case $mode in
*-sh)
	sh "$next" "$mode" &
	sh "$next" "$mode" &
	;;
*)
	"$next" "$mode" &
	"$next" "$mode" &
	;;
esac
wait
