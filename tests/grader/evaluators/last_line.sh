#!/bin/sh
# Prints its result as the last stdout line (a blank line after it does not count)
# instead of writing it to fd 3.
echo "progress 50 half"
echo '{"score": 0.75, "score_secondary": 2, "note": "on stdout"}'
echo ""
