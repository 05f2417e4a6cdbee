#!/usr/bin/env bash
# `make run`: the whole thing on its embedded default. The first run seeds the data directory
# with a demo challenge, a participant and a grader key (kept in DATA/demo.env, mode 0600);
# every run prints them, starts the broker (which starts its private redis-server) and the
# demo grader (crowdai-grader with docs/examples/evaluate_f1.py), and stops both on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin
data=${CROWDAI_DATA:-data}
port=${CROWDAI_PORT:-8080}
admin=("$bin/crowdai-admin" --data "$data")

seed() {
    local start end participant grader
    start=$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)
    end=$(date -u -d '+365 days' +%Y-%m-%dT%H:%M:%SZ)
    "${admin[@]}" challenge create demo --title "Demo: predict the label" --pool demo \
        --primary f1:desc --secondary accuracy:desc --time-limit 600 --max-attempts 3 >/dev/null
    "${admin[@]}" round add demo 1 --start "$start" --end "$end" --limit 50 --period day \
        --refund 2 --parallel 5 >/dev/null
    participant=$("${admin[@]}" participant add demo-participant 2>/dev/null | sed -n 's/^api_key: //p')
    grader=$("${admin[@]}" grader-key add demo-grader 2>/dev/null | sed -n 's/^grader_key: //p')
    umask 077
    printf 'CROWDAI_API_KEY=%s\nCROWDAI_GRADER_KEY=%s\n' "$participant" "$grader" >"$data/demo.env"
}

mkdir -p "$data"
chmod 700 "$data"
[ -f "$data/demo.env" ] || seed
# shellcheck disable=SC1090,SC1091
. "$data/demo.env"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$bin/crowdai-broker" --data "$data" --port "$port" $BROKER_ARGS > >(tee "$data/ready.out") &
pids+=($!)
for _ in $(seq 1 100); do
    grep -q READY "$data/ready.out" 2>/dev/null && break
    sleep 0.1
done
grep -q READY "$data/ready.out" || { echo "run: the broker did not start" >&2; exit 1; }
# The demo grader: crowdai-grader running the example evaluator (macro F1, then accuracy).
CROWDAI_GRADER_KEY=$CROWDAI_GRADER_KEY "$bin/crowdai-grader" --broker "ws://127.0.0.1:$port" \
    --pool demo --capacity 2 --name demo-grader --answer demo/answers.csv \
    --submission-name predictions.csv --workdir "$data/grader" \
    -- /usr/bin/python3 docs/examples/evaluate_f1.py {submission} {answer} &
pids+=($!)

cat <<MSG

crowdai-broker is running on http://127.0.0.1:$port (data in $data/).
  demo challenge:        demo (pool "demo"; F1, then accuracy)
  participant API key:   $CROWDAI_API_KEY
  grader key:            $CROWDAI_GRADER_KEY
Submit and watch it graded live, from another terminal:
  CROWDAI_BROKER=http://127.0.0.1:$port CROWDAI_API_KEY=$CROWDAI_API_KEY \\
    $bin/crowdai submit demo/example-predictions.csv --challenge demo --wait
or in a browser (sign in with the API key above):
  http://127.0.0.1:$port/challenges/demo/submit   leaderboard: /challenges/demo   queues: /status
Ctrl-C stops the broker, its redis-server and the demo grader.

MSG
wait "${pids[0]}"
