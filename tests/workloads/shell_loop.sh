#!/bin/sh
# Benign: a shell loop running thousands of short commands.
i=0
while [ "$i" -lt "${1:-3000}" ]; do
	/bin/true
	i=$((i + 1))
done
