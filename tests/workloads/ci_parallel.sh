#!/bin/bash
# Benign: a CI driver.  Starts 8 jobs in the background (bash ci_job.sh N),
# each of which starts 4 steps in the background (bash ci_step.sh), then
# waits for all of them and fails if any job failed.  12,800 forks: seconds
# on a quick host.
#
#     bash ci_parallel.sh
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CI_WORKDIR
CI_WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/ci.XXXXXX")
trap 'rm -rf "$CI_WORKDIR"' EXIT

pids=()
for n in 1 2 3 4 5 6 7 8; do
	bash "$here/ci_job.sh" "$n" &
	pids+=("$!")
done
failed=0
for p in "${pids[@]}"; do
	wait "$p" || failed=$((failed + 1))
done
echo "ci: ${#pids[@]} jobs, $failed failed"
[ "$failed" -eq 0 ]
