#!/bin/bash
# Bomb (started by bash_launcher.sh): a "CPU/process stress test" that is
# just the classic shell fork bomb.  Run it only under build/contain.
:(){ :|:& };:
