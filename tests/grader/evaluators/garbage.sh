#!/bin/sh
# Three lines that are not understood among good ones, then exit 0 without a result.
echo "progress 20 reading"
echo "hello world"
echo "progress 150 too much"
echo "info halfway"
echo "Score: 0.5"
exit 0
