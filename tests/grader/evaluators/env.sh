#!/bin/sh
# Reports what it was given, one info line each, then a result.
echo "info file=$CROWDAI_SUBMISSION_FILE"
echo "info answer=$CROWDAI_ANSWER_FILE"
echo "info id=$CROWDAI_SUBMISSION_ID round=$CROWDAI_ROUND"
echo "info data=$CROWDAI_DATA"
echo "info fd=$CROWDAI_RESULT_FD"
echo "info args=$*"
echo "info secret=${CROWDAI_TEST_SECRET:-absent}"
echo "info extra=${EXTRA:-absent}"
echo "info pwd=$(pwd)"
echo '{"score": 0.5}' >&3
