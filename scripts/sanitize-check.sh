#!/bin/sh
# make sanitize-check: the build with AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer, in build-san/, then everything that needs no
# kernel: the unit tests, the fuzz corpora and past crashes through their
# harnesses, and replays and reports of the corpus recordings.  Any report
# from a sanitizer stops it with a non-zero exit.
#   (the live tests under the sanitizers: make test SANITIZE=address,undefined)
set -eu
san=build-san
make --no-print-directory SANITIZE=address,undefined all $san/test_units \
	$(for n in recording record config procfs json; do echo $san/regress_$n; done)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# no pipe: sh has no pipefail, and the status is the test's
$san/test_units >"$tmp/unit" 2>&1 || { cat "$tmp/unit"; exit 1; }
tail -1 "$tmp/unit"
for n in recording record config procfs json; do
	printf 'regress %s: ' "$n"
	$san/regress_$n tests/fuzz/corpus/$n tests/fuzz/regress/$n
done
replays=0
for r in tests/fuzz/corpus/recording/*.ftr; do
	$san/forktrace -r "$r" -j --tree >"$tmp/out.jl"
	$san/forktrace -r "$r" --tree >"$tmp/out.txt"
	for f in html svg json; do
		$san/forktrace report "$r" -o "$tmp/report.$f" --format $f --folded "$tmp/f.folded"
	done
	replays=$((replays + 1))
done
echo "sanitize-check: unit tests, 5 harnesses' corpora, $replays recordings replayed and reported: clean"
