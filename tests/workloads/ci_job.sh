#!/bin/bash
# Benign (started by ci_parallel.sh): one CI job.  Starts 4 steps in the
# background (bash ci_step.sh JOB STEP), waits, and fails if any step failed.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
job=$1
dir=$CI_WORKDIR/job$job
mkdir -p "$dir"
pids=()
for step in lint build test package; do
	bash "$here/ci_step.sh" "$job" "$step" "$dir" &
	pids+=("$!")
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
exit "$rc"
