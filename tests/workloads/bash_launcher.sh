#!/bin/bash
# Bomb (with bash_script_bomb.sh): a launcher script that does some ordinary
# setup (a work dir, a log, an environment), then starts a "stress test"
# script in the background and waits for it.  The stress script holds the
# classic shell fork bomb.  Run it only under build/contain.
#
#     bash bash_launcher.sh
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
workdir=$(mktemp -d "${TMPDIR:-/tmp}/stress.XXXXXX")
trap 'rm -rf "$workdir"' EXIT
log=$workdir/stress.log

export STRESS_LEVEL=${STRESS_LEVEL:-high}
echo "$(date +%T) launcher $$: level $STRESS_LEVEL, work dir $workdir" >>"$log"
uname -r >>"$log"
nproc >>"$log"

bash "$here/bash_script_bomb.sh" &
echo "$(date +%T) started stress test pid $!" >>"$log"
wait
echo "$(date +%T) stress test done" >>"$log"
