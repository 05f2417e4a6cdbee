#!/bin/sh
# Starts a grandchild that ignores SIGTERM and sleeps, writing its pid to the file $1.
# Then, with $2 = "exit", exits 0 with a result, leaving the grandchild behind; with "hang",
# waits forever; with "escape", the grandchild first leaves the process group (setsid), and
# the evaluator exits 0 with a result.
pidfile=$1
mode=$2
grandchild='trap "" TERM; echo $$ > "$0.tmp"; mv "$0.tmp" "$0"; exec sleep 1000'
if [ "$mode" = escape ]; then
    setsid sh -c "$grandchild" "$pidfile" &
else
    sh -c "$grandchild" "$pidfile" &
fi
while [ ! -s "$pidfile" ]; do sleep 0.01; done
echo "progress 50 grandchild started"
if [ "$mode" = hang ]; then
    exec sleep 1000
fi
echo '{"score": 1}' >&3
