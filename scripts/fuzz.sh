#!/bin/sh
# make fuzz: run each libFuzzer harness for a time budget, on a copy of its
# seed corpus (tests/fuzz/corpus/NAME, left as it is), and say what it did.
#   scripts/fuzz.sh OUTDIR SECONDS NAME...
# A crash stops that harness; its input is kept in OUTDIR/crashes/NAME/ and
# belongs in tests/fuzz/regress/NAME/ once fixed (make test replays those).
set -u
out=$1 secs=$2
bin=${FUZZ_BIN_DIR:-$out} # where fuzz_NAME is, if not in OUTDIR
shift 2
failed=0
for name in "$@"; do
	corpus=$out/corpus/$name crashes=$out/crashes/$name
	mkdir -p "$corpus" "$crashes"
	cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
	log=$out/$name.log
	"$bin/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	files=$(ls "$corpus" | wc -l)
	if [ $rc -ne 0 ]; then
		failed=$((failed + 1))
		echo "fuzz $name: FAILED after ${execs:-?} runs, input in $crashes/ (log: $log)"
	else
		echo "fuzz $name: ${execs:-?} runs in ${secs}s, coverage ${cov:-?} edges, ${ft:-?} features, corpus $files inputs"
	fi
done
[ $failed -eq 0 ]
