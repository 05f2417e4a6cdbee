#!/bin/sh
# Ignores SIGTERM (as does the sleep it runs), so only SIGKILL stops it; says it is halfway.
trap '' TERM
echo "progress 50 halfway"
while :; do sleep 1; done
