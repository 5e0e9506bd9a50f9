#!/bin/bash
# Benign (started by ci_job.sh): one CI step doing a little real work on
# temp files: generate, grep, sort, checksum, compare.
set -eu
job=$1 step=$2 dir=$3
f=$dir/$step.txt
for i in $(seq 1 400); do
	echo "job$job $step line $((i * 7919 % 1000)) $([ $((i % 3)) -eq 0 ] && echo WARN || echo ok)"
done >"$f"
grep -c WARN "$f" >"$f.warn"
sort -k4,4n "$f" >"$f.sorted"
sort -u "$f.sorted" | wc -l >"$f.count"
sha256sum "$f" "$f.sorted" >"$f.sha256"
sha256sum -c --quiet "$f.sha256"
sleep 0.2
[ "$(cat "$f.warn")" -eq 133 ]
