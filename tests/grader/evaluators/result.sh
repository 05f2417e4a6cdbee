#!/bin/sh
# Results of every kind, by $1: "bad" (not JSON), "noscore" (no score), "both" (one on fd 3,
# another on the last stdout line: fd 3 wins), "big" (more than 64 KiB on fd 3, without end).
case "$1" in
bad) echo 'score = 1' >&3 ;;
noscore) echo '{"accuracy": 1}' >&3 ;;
both)
    echo '{"score": 1}' >&3
    echo '{"score": 2}'
    ;;
big) exec yes '{"score": 1}' >&3 ;;
esac
