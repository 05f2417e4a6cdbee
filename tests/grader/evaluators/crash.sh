#!/bin/sh
# Crashes: after a progress line and a word on stderr, the shell sends itself SIGSEGV.
echo "progress 5 about to crash"
echo "about to crash" >&2
kill -SEGV $$
