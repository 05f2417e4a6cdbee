#!/bin/sh
# A hundred progress lines in a row, then a result: for the progress interval.
i=1
while [ $i -le 100 ]; do
    echo "progress $i step $i"
    i=$((i + 1))
done
echo '{"score": 1}' >&3
