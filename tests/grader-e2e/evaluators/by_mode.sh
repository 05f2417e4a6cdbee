#!/bin/sh
# A test evaluator for crowdai-grader's end-to-end tests: runs the misbehaving evaluator of
# tests/grader/evaluators that the submission's data names ({"mode": "crash"} and so on).
lib=$(dirname "$0")/../../grader/evaluators
case "$CROWDAI_DATA" in
*'"mode":"crash"'*) exec sh "$lib/crash.sh" ;;
*'"mode":"hang"'*) exec sh "$lib/hang.sh" ;;
*'"mode":"memory"'*) exec python3 "$lib/memory_hog.py" ;;
*'"mode":"flood"'*) exec sh "$lib/flood.sh" ;;
*'"mode":"garbage"'*) exec sh "$lib/garbage.sh" ;;
esac
echo "unknown mode in $CROWDAI_DATA" >&2
exit 9
