#!/bin/sh
# Never ends by itself: for the wall-time limit.
echo "progress 10 waiting forever"
exec sleep 1000
