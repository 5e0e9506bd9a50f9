#!/bin/sh
# Benign: a parameter sweep that keeps a copy of itself in every run
# directory (for reproducibility), one level per parameter.  Each level
# makes a directory per value, copies the script there and runs the copy in
# the background from inside it; the last level does the run: a few
# programs of other kinds.  Four parameters of two values: 16 runs, 31
# copies of the script, each in a directory it just made.  Ends by itself.
#
#   sh tests/workloads/sweep_copies.sh [LEVELS]
#
# With FT_SWEEP_BOMB set, the last run (pb/pb/...) execs that program once
# its inputs are worked out: a bomb hidden among the runs.
#
# The first process works in ${TMPDIR:-/tmp}/sweep_copies.XXXXXX and
# removes it at the end.  Run it only under build/contain.

levels=${1:-4}
case $levels in
[0-9]) ;;
*)
	echo "usage: sweep_copies.sh [LEVELS (0-9)]" >&2
	exit 2
	;;
esac

if [ -z "$FT_SWEEP_ROOT" ]; then
	FT_SWEEP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/sweep_copies.XXXXXX") || exit 1
	export FT_SWEEP_ROOT
	trap 'rm -rf "$FT_SWEEP_ROOT"' EXIT
	cp "$0" "$FT_SWEEP_ROOT/sweep_copies.sh" || exit 1
	cd "$FT_SWEEP_ROOT" || exit 1
fi

if [ "$levels" -eq 0 ]; then
	# the run itself: the wrapper works out its inputs first (in the
	# shell), then does what a simulation's wrapper does around it
	i=0 seed=1
	while [ $i -lt 30000 ]; do
		seed=$(((seed * 1103515245 + 12345) % 2147483648))
		i=$((i + 1))
	done
	echo "$seed" > seed
	case $PWD in
	*/sweep_copies.*/pb/pb/pb/pb) [ -n "$FT_SWEEP_BOMB" ] && exec "$FT_SWEEP_BOMB" ;;
	esac
	date > started
	seq 1 20000 | sort -rn | gzip -c > result.gz
	sleep 1
	wc -c result.gz > summary
	exit 0
fi

for value in a b; do
	mkdir "p$value" || exit 1
	cp sweep_copies.sh "p$value/" || exit 1
	(cd "p$value" && exec sh ./sweep_copies.sh $((levels - 1))) &
done
wait
