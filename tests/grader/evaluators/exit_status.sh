#!/bin/sh
# Fails with exit status 3 after seven lines on stderr.
for i in 1 2 3 4 5 6 7; do
    echo "stderr line $i" >&2
done
exit 3
