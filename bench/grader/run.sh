#!/usr/bin/env bash
# Grader runner benchmark (never part of the test suite): jobs per second end to end through
# N crowdai-grader processes with a no-op evaluator, the latency of one job at a time, and the
# cost the runner adds per job over running the evaluator alone (measured in the same run).
# Everything runs on 127.0.0.1; every process it starts is stopped at the end, and only those.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$root/build/bench-grader
broker_bin=${BROKER_BIN:-$root/build/release/bin/crowdai-broker}
admin_bin=${ADMIN_BIN:-$root/build/release/bin/crowdai-admin}
grader_bin=${GRADER_BIN:-$root/build/release/bin/crowdai-grader}
graders_list="1 2 4"
capacity=1
warmup=1
duration=5
alone_runs=2000
command_line="bench/grader/run.sh $*"

usage() {
    cat <<EOF
usage: bench/grader/run.sh [--quick] [--graders "1 2 4"] [--capacity C] [--duration S]
  --quick     shorter cells (warm-up 0.5 s, measured 2 s; 500 runs alone)
  --graders   the numbers N of crowdai-grader processes to measure (default "1 2 4")
  --capacity  each grader's capacity (default 1); 2 x N x C submissions are kept in flight
  --duration  measured seconds per cell (default 5, after a 1 s warm-up)
env: BROKER_BIN, ADMIN_BIN, GRADER_BIN (default build/release/bin/...; built with the
     release preset when missing)
EOF
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --quick)
        warmup=0.5
        duration=2
        alone_runs=500
        ;;
    --graders)
        [[ ${2:-} =~ ^[0-9\ ]*[1-9][0-9\ ]*$ ]] || usage
        graders_list=$2
        shift
        ;;
    --capacity)
        [[ ${2:-} =~ ^[1-9][0-9]?$ ]] || usage
        capacity=$2
        shift
        ;;
    --duration)
        [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
        duration=$2
        shift
        ;;
    *) usage ;;
    esac
    shift
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-grader.XXXXXX")
broker_pid=""
redis_pid=""
grader_pids=()

wait_gone() { # PID TENTHS
    local i
    for ((i = 0; i < $2; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

stop_pid() {
    kill -TERM "$1" 2>/dev/null
    wait_gone "$1" 100 || kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

stop_graders() {
    local pid
    for pid in "${grader_pids[@]}"; do stop_pid "$pid"; done
    grader_pids=()
}

stop_broker() {
    if [ -n "$broker_pid" ]; then
        stop_pid "$broker_pid"
        broker_pid=""
    fi
    # its private redis-server goes with it; a broker that was killed leaves it to us
    if [ -n "$redis_pid" ]; then
        wait_gone "$redis_pid" 30 || kill -KILL "$redis_pid" 2>/dev/null
        redis_pid=""
    fi
}

cleanup() {
    stop_graders
    stop_broker
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

field() {
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

# CPU ticks of PID: "own children" (utime+stime, cutime+cstime).
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo "0 0"
        return
    }
    awk '{ print $12 + $13, $14 + $15 }' <<<"${stat##*) }"
}

# ---- build ----
mkdir -p "$out"
cc -O2 -std=c11 -Wall -Wextra -o "$out/noop_eval" "$root/bench/grader/noop_eval.c" || exit 1
cc -O2 -std=c11 -Wall -Wextra -o "$out/eval_alone" "$root/bench/grader/eval_alone.c" || exit 1
missing=0
for bin in "$broker_bin" "$admin_bin" "$grader_bin"; do [ -x "$bin" ] || missing=1; done
if [ "$missing" = 1 ] && [ -z "${BROKER_BIN:-}${ADMIN_BIN:-}${GRADER_BIN:-}" ]; then
    (cd "$root" && cmake --preset release >/dev/null &&
        cmake --build --preset release -j2 --target crowdai-broker crowdai-admin crowdai-grader \
            >"$tmp/build.log" 2>&1) || echo "warning: the release build failed (see $tmp/build.log)"
fi
for bin in "$broker_bin" "$admin_bin" "$grader_bin"; do
    [ -x "$bin" ] || {
        echo "error: no executable $bin"
        exit 1
    }
done

# The evaluator library alone, linked from the static libraries beside the grader binary.
lib_dir=$(cd "$(dirname "$grader_bin")/.." && pwd)
lib_alone=""
if cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -I"$root/src" -o "$out/eval_lib_alone" \
    "$root/bench/grader/eval_lib_alone.c" "$lib_dir/libcrowdai_grader_eval.a" \
    "$lib_dir/libcrowdai_pure.a" "$lib_dir/libllhttp.a" -luv -ljansson -lcrypto \
    2>"$tmp/lib.err"; then
    lib_alone=$out/eval_lib_alone
else
    echo "warning: no eval_lib_alone (the static libraries in $lib_dir?): $(head -2 "$tmp/lib.err")"
fi

# ---- seed: a challenge with an open round without limits, a participant, a grader key ----
seed=$tmp/seed
json_field() { node -e "process.stdout.write(String(JSON.parse(require('fs').readFileSync(0))['$1']))"; }
seed_registry() {
    "$admin_bin" --data "$seed" challenge create bench --title B --pool bench \
        --primary score:desc --time-limit 600 >/dev/null &&
        "$admin_bin" --data "$seed" round add bench 1 --start 2020-01-01T00:00:00Z \
            --end 2030-01-01T00:00:00Z >/dev/null &&
        api_key=$("$admin_bin" --data "$seed" participant add bench-p --json | json_field api_key) &&
        grader_key=$("$admin_bin" --data "$seed" grader-key add bench-g --json |
            json_field grader_key)
}
if ! seed_registry 2>"$tmp/seed.err"; then
    cat "$tmp/seed.err"
    exit 1
fi

# ---- one cell: a fresh broker, N graders, the driver ----
# run_cell N WINDOW: prints "RESULT ... runner_cpu_ms=.. eval_cpu_ms=.. broker_cpu_ms=.."
run_cell() {
    local n=$1 window=$2 run=$tmp/run i port line pid
    rm -rf "$run" "$tmp/broker.out" "$tmp/broker.err"
    cp -r "$seed" "$run"
    : >"$tmp/broker.out"
    "$broker_bin" --port 0 --data "$run" >"$tmp/broker.out" 2>"$tmp/broker.err" &
    broker_pid=$!
    for ((i = 0; i < 200; i++)); do
        port=$(sed -n 's/^READY port=\([0-9]*\).*/\1/p' "$tmp/broker.out")
        [ -n "$port" ] && break
        sleep 0.05
    done
    redis_pid=$(sed -n 's/.*redis-server started pid=\([0-9]*\).*/\1/p' "$tmp/broker.err" 2>/dev/null |
        head -1)
    [ -n "$port" ] || {
        echo "error: the broker did not start"
        tail -5 "$tmp/broker.err"
        return 1
    }
    for ((i = 0; i < n; i++)); do
        CROWDAI_GRADER_KEY=$grader_key "$grader_bin" --broker "ws://127.0.0.1:$port" \
            --pool bench --capacity "$capacity" --name "bench-$i" --workdir "$tmp/work-$i" \
            -- "$out/noop_eval" 2>"$tmp/grader-$i.err" &
        grader_pids+=($!)
    done
    # connected: the broker logs each grader online
    for ((i = 0; i < 200; i++)); do
        [ "$(grep -c 'grader online' "$tmp/broker.err" 2>/dev/null)" -ge "$n" ] && break
        sleep 0.05
    done
    local before_r=0 before_c=0 after_r=0 after_c=0 b0 b1 own kids
    for pid in "${grader_pids[@]}"; do
        read -r own kids <<<"$(cpu_ticks "$pid")"
        before_r=$((before_r + own)) before_c=$((before_c + kids))
    done
    b0=$(($(cpu_ticks "$broker_pid" | cut -d' ' -f1) + $(cpu_ticks "${redis_pid:-0}" | cut -d' ' -f1)))
    line=$(node "$root/bench/grader/drive.mjs" "http://127.0.0.1:$port" "$api_key" bench "$window" \
        "$(awk -v s="$warmup" 'BEGIN { print s * 1000 }')" "$((duration * 1000))" 2>"$tmp/drive.err")
    if [ -z "$line" ]; then
        echo "error: the driver failed: $(tail -c 600 "$tmp/drive.err")" >&2
        tail -5 "$tmp/broker.err" >&2
    fi
    for pid in "${grader_pids[@]}"; do
        read -r own kids <<<"$(cpu_ticks "$pid")"
        after_r=$((after_r + own)) after_c=$((after_c + kids))
    done
    b1=$(($(cpu_ticks "$broker_pid" | cut -d' ' -f1) + $(cpu_ticks "${redis_pid:-0}" | cut -d' ' -f1)))
    stop_graders
    stop_broker
    # each grader's last line: "stopped evaluated=N scored=N mean_job_ms=X" (job message to
    # outcome, inside the runner); their mean weighted by jobs
    local job_ms total hz
    job_ms=$(cat "$tmp"/grader-*.err | sed -n 's/.* stopped evaluated=\([0-9]*\) .* mean_job_ms=\([0-9.]*\).*/\1 \2/p' |
        awk '{ n += $1; s += $1 * $2 } END { if (n > 0) printf "%.3f", s / n; else print "n/a" }')
    rm -f "$tmp"/grader-*.err
    total=$(field total "$line")
    hz=$(getconf CLK_TCK)
    awk -v line="$line" -v t="${total:-0}" -v hz="$hz" -v r=$((after_r - before_r)) \
        -v c=$((after_c - before_c)) -v b=$((b1 - b0)) -v j="$job_ms" 'BEGIN {
        if (t == 0) { print line " runner_cpu_ms=n/a eval_cpu_ms=n/a broker_cpu_ms=n/a job_ms=n/a"; exit }
        printf "%s runner_cpu_ms=%.3f eval_cpu_ms=%.3f broker_cpu_ms=%.3f job_ms=%s\n", line,
               r * 1000 / hz / t, c * 1000 / hz / t, b * 1000 / hz / t, j }'
}

echo "# $command_line"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), capacity $capacity per grader"
alone=$("$out/eval_alone" "$alone_runs" "$out/noop_eval")
echo "$alone"
alone_ms=$(awk -v us="$(field mean_us "$alone")" 'BEGIN { printf "%.3f", us / 1000 }')
lib_ms=n/a
lib_cpu_ms=n/a
if [ -n "$lib_alone" ]; then
    lib=$("$lib_alone" "$alone_runs" "$out/noop_eval")
    echo "$lib"
    lib_ms=$(awk -v us="$(field mean_us "$lib")" 'BEGIN { printf "%.3f", us / 1000 }')
    lib_cpu_ms=$(awk -v us="$(field cpu_us "$lib")" 'BEGIN { printf "%.3f", us / 1000 }')
fi

echo "one job at a time (1 grader, window 1):"
single=$(run_cell 1 1) || exit 1
echo "  $single"
printf "\n%-30s %8s %8s %8s %11s %11s %11s %11s %6s\n" "cell" "jobs/s" "p50 ms" "p99 ms" \
    "job ms" "runner cpu" "eval cpu" "broker cpu" "errors"
for n in $graders_list; do
    window=$((2 * n * capacity))
    r=$(run_cell "$n" "$window") || exit 1
    printf "%-30s %8s %8s %8s %11s %11s %11s %11s %6s\n" "$n grader(s) x $capacity, window $window" \
        "$(field jobs_per_s "$r")" "$(field p50_ms "$r")" "$(field p99_ms "$r")" \
        "$(field job_ms "$r")" "$(field runner_cpu_ms "$r")" "$(field eval_cpu_ms "$r")" \
        "$(field broker_cpu_ms "$r")" "$(field errors "$r")"
done
echo "(job ms: from the job message to the evaluator's outcome, inside the runner; cpu: ms per"
echo " job of the runner processes, of their supervisors and evaluators, of broker + Redis)"

e2e_ms=$(field p50_ms "$single")
job_ms=$(field job_ms "$single")
echo
echo "one job at a time, per job:"
awk -v a="$alone_ms" -v l="$lib_ms" -v j="$job_ms" -v e="$e2e_ms" -v lc="$lib_cpu_ms" \
    -v ac="$(awk -v us="$(field cpu_us "$alone")" 'BEGIN { printf "%.3f", us / 1000 }')" \
    -v r="$(field runner_cpu_ms "$single")" -v c="$(field eval_cpu_ms "$single")" 'BEGIN {
    printf "  evaluator alone (posix_spawn, fd 3, waitpid):        %8.3f ms\n", a
    if (l != "n/a")
        printf "  through the evaluator library alone (eval_start):    %8.3f ms\n", l
    printf "  through crowdai-grader, job message to outcome:      %8.3f ms\n", j
    printf "  end to end, submit to COMPLETE (p50):                %8.3f ms\n", e
    printf "the runner adds %.3f ms per job over the evaluator alone (ratio %.2f)", j - a, j / a
    if (l != "n/a")
        printf ": %.3f ms in the evaluator library, %.3f ms in the runner itself", l - a, j - l
    printf "\nend to end / alone: ratio %.2f\n", e / a
    printf "CPU per job: alone %.3f ms; through the runner %.3f ms (runner %.3f, its supervisor" \
           " + evaluator %.3f): ratio %.2f\n", ac, r + c, r, c, (r + c) / ac
    if (lc != "n/a")
        printf "CPU per job of the library alone (its process, the fork included): %.3f ms;" \
               " the runner'"'"'s own (Socket.IO, JSON, job directory, logs): %.3f ms\n", lc, r - lc }'
