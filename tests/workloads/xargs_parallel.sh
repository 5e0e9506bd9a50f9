#!/bin/sh
# Benign: xargs -P 16 over a few thousand items.
seq "${1:-2000}" | xargs -P 16 -I{} /bin/sh -c 'echo {} >/dev/null'
