#!/usr/bin/env bash
# End-to-end benchmark of the broker (never part of the test suite): 1,000 participants and 16
# graders through bench/broker/broker_load, then Redis's own ceiling for the same Lua scripts
# through bench/broker/redis_ceiling; prints the figures and the targets.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$root/build/bench-broker
seed=$out/seed
run_dir=$out/run
ceiling_dir=$out/ceiling
broker_bin=${BROKER_BIN:-$root/build/release/bin/crowdai-broker}
admin_bin=${ADMIN_BIN:-$root/build/release/bin/crowdai-admin}
lua_dir=${LUA_DIR:-$root/src/queue/lua}
participants=1000
graders=16
capacity=8
ceiling_batch=128 # = graders x capacity: the jobs a busy broker has running at once
quick=0
repeat=1
windows=""
rate=""
command_line="bench/broker/run.sh $*"

usage() {
    cat <<EOF
usage: bench/broker/run.sh [--quick] [--repeat N] [--windows "W ..."] [--rate R]
  --quick    shorter cells (warm-up 1 s, measured 3 s, window 200 and the rate; ceiling 2 s)
  --repeat   run every cell N times (a fresh broker each time) and keep the median run
  --windows  closed loop: W submissions in flight overall, a new one as soon as one
             completes (default "200 1000"; 1000 = every participant has one in flight)
  --rate     open loop: R submissions started per second, for the latency at a set load
             (default 1000, the throughput target; 0 = none)
env: BROKER_BIN, ADMIN_BIN (default build/release/bin/crowdai-broker, crowdai-admin; when
     unset, make release is run first), LUA_DIR (default src/queue/lua: the scripts the
     ceiling loads; they should be the ones built into the broker under test)
The seeded registry (1,000 participants) is kept in build/bench-broker/seed and copied for
each run; delete that directory to seed again.
EOF
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1 ;;
    --repeat)
        [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
        repeat=$2
        shift
        ;;
    --windows)
        [[ ${2:-} =~ ^[0-9\ ]*[1-9][0-9\ ]*$ ]] || usage
        windows=$2
        shift
        ;;
    --rate)
        [[ ${2:-} =~ ^[0-9]+$ ]] || usage
        rate=$2
        shift
        ;;
    *) usage ;;
    esac
    shift
done

if [ "$quick" = 1 ]; then
    warmup=1
    duration=3
    ceiling_s=2
    windows=${windows:-200}
else
    warmup=3
    duration=10
    ceiling_s=5
    windows=${windows:-"200 1000"}
fi
rate=${rate:-1000}
cells=""
for w in $windows; do cells+=" window:$w"; done
[ "$rate" != 0 ] && cells+=" rate:$rate"

ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d)
broker_pid=""
redis_pid=""
ceiling_redis_pid=""
loadgen_pid=""

# Waits up to $2 tenths of a second for process $1 to end.
wait_gone() {
    for _ in $(seq "$2"); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

stop_broker() {
    if [ -n "$broker_pid" ]; then
        kill -TERM "$broker_pid" 2>/dev/null
        wait_gone "$broker_pid" 50 || kill -KILL "$broker_pid" 2>/dev/null
        wait "$broker_pid" 2>/dev/null
        broker_pid=""
    fi
    # the broker stops its redis-server itself; if it could not, we do
    if [ -n "$redis_pid" ]; then
        if ! wait_gone "$redis_pid" 30; then
            kill -TERM "$redis_pid" 2>/dev/null
            wait_gone "$redis_pid" 30 || kill -KILL "$redis_pid" 2>/dev/null
        fi
        redis_pid=""
    fi
}

stop_ceiling_redis() {
    if [ -n "$ceiling_redis_pid" ]; then
        kill -TERM "$ceiling_redis_pid" 2>/dev/null
        wait_gone "$ceiling_redis_pid" 50 || kill -KILL "$ceiling_redis_pid" 2>/dev/null
        wait "$ceiling_redis_pid" 2>/dev/null
        ceiling_redis_pid=""
    fi
}

cleanup() {
    if [ -n "$loadgen_pid" ]; then
        kill -TERM "$loadgen_pid" 2>/dev/null
        wait "$loadgen_pid" 2>/dev/null
    fi
    stop_broker
    stop_ceiling_redis
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

field() {
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && a != "n/a" && b != "" && b > 0)
                                       printf "%.2f", a / b; else printf "n/a" }'
}

# verdict VALUE OP LIMIT: MET / NOT MET / n/a
verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (v == "n/a" || v == "") { print "n/a"; exit }
        ok = op == ">=" ? v + 0 >= l + 0 : v + 0 < l + 0
        print ok ? "MET" : "NOT MET" }'
}

# The line (of "<key> <line>" lines on stdin) with the median key; the lower middle one.
median_line() {
    local lines n
    lines=$(sort -n | grep .)
    n=$(grep -c . <<<"$lines")
    [ "$n" -gt 0 ] || return 0
    sed -n "$(((n + 1) / 2))p" <<<"$lines" | cut -d' ' -f2-
}

# ---- build ----
mkdir -p "$out"
cflags=(-O2 -std=c11 -Wall -Wextra)
cc "${cflags[@]}" -o "$out/broker_load" "$root/bench/broker/broker_load.c" -lcrypto || exit 1
cc "${cflags[@]}" -o "$out/redis_ceiling" "$root/bench/broker/redis_ceiling.c" -lhiredis || exit 1
if [ -z "${BROKER_BIN:-}" ] && make -C "$root" -n release >/dev/null 2>&1; then
    if ! make -C "$root" release >"$tmp/make.log" 2>&1; then
        grep -m5 'error' "$tmp/make.log"
        echo "warning: make release failed; using the binaries already built (if any)"
    fi
fi
for bin in "$broker_bin" "$admin_bin"; do
    [ -x "$bin" ] || {
        echo "error: no executable $bin"
        exit 1
    }
done

# ---- seed (once): a challenge with an open round, participants and grader keys ----
seed_registry() {
    local i line
    rm -rf "$seed"
    mkdir -p "$seed"
    echo "seeding $seed: challenge bench, $participants participants, $graders grader keys"
    if ! "$admin_bin" --data "$seed" challenge create bench --title B --pool bench \
        --primary score:desc --time-limit 600 >/dev/null 2>"$tmp/seed.err" ||
        ! "$admin_bin" --data "$seed" round add bench 1 --start 2020-01-01T00:00:00Z \
            --end 2030-01-01T00:00:00Z >/dev/null 2>>"$tmp/seed.err"; then
        cat "$tmp/seed.err"
        return 1
    fi
    : >"$seed/keys.part"
    for i in $(seq "$participants"); do
        line=$("$admin_bin" --data "$seed" participant add "bench-p$i" 2>>"$tmp/seed.err" |
            awk '/^participant_id:/ { id = $2 } /^api_key:/ { print id, $2 }')
        [ -n "$line" ] || {
            tail -3 "$tmp/seed.err"
            return 1
        }
        echo "$line" >>"$seed/keys.part"
    done
    : >"$seed/grader_keys.part"
    for i in $(seq "$graders"); do
        "$admin_bin" --data "$seed" grader-key add "bench-g$i" 2>>"$tmp/seed.err" |
            awk '/^grader_key:/ { print $2 }' >>"$seed/grader_keys.part"
    done
    [ "$(grep -c . "$seed/grader_keys.part")" = "$graders" ] || return 1
    mv "$seed/keys.part" "$seed/keys.txt"
    mv "$seed/grader_keys.part" "$seed/grader_keys.txt"
    echo "$participants" >"$seed/seeded"
}

if [ "$(cat "$seed/seeded" 2>/dev/null)" != "$participants" ]; then
    started=$SECONDS
    seed_registry || {
        echo "error: seeding failed"
        exit 1
    }
    echo "seeded in $((SECONDS - started)) s"
fi

# ---- one broker run: a fresh copy of the seeded registry, a fresh private Redis ----
start_broker() {
    rm -rf "$run_dir"
    mkdir -p "$run_dir"
    cp "$seed"/registry.sqlite3* "$run_dir"/
    "$broker_bin" --port 0 --data "$run_dir" >"$tmp/broker.out" 2>"$run_dir/broker.log" &
    broker_pid=$!
    port=""
    redis_pid=""
    for _ in $(seq 100); do
        port=$(sed -n 's/^READY port=\([0-9]*\)$/\1/p' "$tmp/broker.out")
        [ -n "$port" ] && break
        kill -0 "$broker_pid" 2>/dev/null || break
        sleep 0.1
    done
    # the private redis-server is the broker's only child
    [ -n "$port" ] && redis_pid=$(awk '{ print $1 }' "/proc/$broker_pid/task/$broker_pid/children")
    if [ -z "$port" ] || [ -z "$redis_pid" ]; then
        echo "error: the broker did not start (no READY line or no redis-server)"
        tail -5 "$run_dir/broker.log"
        return 1
    fi
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
        sleep 0.1
    done
    echo "error: /healthz not ok within 10 s"
    return 1
}

# Polls the registry (bounded, 60 s) until every acked submission is COMPLETE with a score.
# Prints "<acked and complete> <acked> <seconds> <rows not acked>".
verify_registry() {
    local started=$SECONDS complete=0 total acked
    sort -u "$1" >"$tmp/acked.sorted"
    acked=$(grep -c . "$tmp/acked.sorted")
    for _ in $(seq 120); do
        "$admin_bin" --data "$run_dir" submissions --challenge bench --limit 0 --json \
            2>/dev/null >"$tmp/subs.json"
        # one object per line: {"submission_id":N,...,"state":"COMPLETE","late":..,"score":X,..}
        grep -o '"submission_id":[0-9]*[^}]*"state":"COMPLETE","late":[a-z]*,"score":[-0-9.e+]' \
            "$tmp/subs.json" | sed 's/^"submission_id":\([0-9]*\).*/\1/' | sort -u \
            >"$tmp/complete.sorted"
        complete=$(comm -12 "$tmp/acked.sorted" "$tmp/complete.sorted" | grep -c .)
        [ "$complete" -ge "$acked" ] && break
        sleep 0.5
    done
    total=$(grep -o '"submission_id":' "$tmp/subs.json" | grep -c .)
    echo "$complete $acked $((SECONDS - started)) $((total - complete))"
}

# Where Redis's time went during the run: EVALSHA calls and cost, and the LLEN calls that
# enqueue's queue-position walk makes (one per participant with queued work).
redis_stats() {
    redis-cli -s "$run_dir/redis/redis.sock" info commandstats 2>/dev/null | tr -d '\r' |
        awk -F'[:=,]' -v subs="$1" '
            $1 == "cmdstat_evalsha" { ev = $3; us = $7 }
            $1 == "cmdstat_llen" { llen = $3 }
            END { if (subs > 0) printf "evalsha_per_sub=%.1f evalsha_us=%s llen_per_sub=%.0f",
                                       ev / subs, us, llen / subs }'
}

declare -A res
run_cell() {
    local cell=$1 kind=${1%%:*} value=${1#*:} line v stats
    start_broker || {
        stop_broker
        return 1
    }
    local load_args=(--window "$value")
    [ "$kind" = rate ] && load_args=(--rate "$value")
    timeout $((60 + warmup + duration + 40)) "$out/broker_load" --port "$port" \
        --keys "$seed/keys.txt" --grader-keys "$seed/grader_keys.txt" \
        --participants "$participants" --graders "$graders" --capacity "$capacity" \
        "${load_args[@]}" --warmup "$warmup" --duration "$duration" --drain 30 \
        --broker-pid "$broker_pid" --redis-pid "$redis_pid" --acked-file "$tmp/acked.txt" \
        >"$tmp/load.out" 2>"$tmp/load.err" &
    loadgen_pid=$!
    wait "$loadgen_pid"
    loadgen_pid=""
    line=$(grep '^RESULT' "$tmp/load.out")
    if [ -z "$line" ]; then
        echo "error: broker_load gave no result"
        head -10 "$tmp/load.err"
        stop_broker
        return 1
    fi
    [ "$(field errors "$line")" = 0 ] || head -10 "$tmp/load.err"
    v=$(verify_registry "$tmp/acked.txt")
    stats=$(redis_stats "$(field acked "$line")")
    stop_broker
    # shellcheck disable=SC2086
    set -- ${v:-0 0 0 0}
    line="$line registry_complete=$1 registry_acked=$2 registry_wait_s=$3 registry_other=$4 $stats"
    echo "$line"
    echo "registry: $1 of $2 acked submissions COMPLETE with a score ($3 s after the drain);" \
        "$4 other rows"
    # the median run: by throughput in a closed loop, by p99 latency at a set rate
    local key
    key=$(field subs_per_s "$line")
    [ "$kind" = rate ] && key=$(field progress_p99_us "$line")
    res[$cell]+="$key $line"$'\n'
}

# ---- Redis's ceiling: the same scripts straight on a redis-server set up like the broker's ----
start_ceiling_redis() {
    rm -rf "$ceiling_dir"
    mkdir -p "$ceiling_dir"
    (cd "$ceiling_dir" && exec redis-server --port 0 --unixsocket redis.sock --unixsocketperm 700 \
        --dir . --appendonly yes --appendfsync always --maxmemory-policy noeviction --save "" \
        --daemonize no --loglevel warning) >"$ceiling_dir/redis.log" 2>&1 &
    ceiling_redis_pid=$!
    for _ in $(seq 100); do
        redis-cli -s "$ceiling_dir/redis.sock" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "error: redis-server did not start"
    cat "$ceiling_dir/redis.log"
    return 1
}

run_ceiling() {
    local mode=$1 line extra=()
    [ "$mode" = full ] && extra=(--full)
    start_ceiling_redis || {
        stop_ceiling_redis
        return 1
    }
    line=$(timeout $((ceiling_s + 30)) "$out/redis_ceiling" --socket "$ceiling_dir/redis.sock" \
        --lua "$lua_dir" --batch "$ceiling_batch" --participants "$participants" \
        --warmup 1 --duration "$ceiling_s" --redis-pid "$ceiling_redis_pid" \
        "${extra[@]}" 2>"$tmp/ceiling.err" | grep '^RESULT')
    stop_ceiling_redis
    if [ -z "$line" ]; then
        echo "error: redis_ceiling gave no result"
        head -5 "$tmp/ceiling.err"
        return 1
    fi
    echo "$line"
    res[ceiling/$mode]+="$(field subs_per_s "$line") $line"$'\n'
}

# ---- run ----
echo "crowdai-broker end-to-end benchmark: $command_line"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) cores:" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1);" \
    "$(redis-server --version | awk '{ print $1, $2, $3 }')"
echo "broker: $broker_bin; scripts: $lua_dir"
echo "workload: $participants participants (each its own API key), $graders graders x" \
    "capacity $capacity (pool bench; each job: one progress, then complete, at once);" \
    "warm-up $warmup s, measured $duration s, median of $repeat run(s); cells:$cells"

for cell in $cells; do
    for r in $(seq "$repeat"); do
        echo
        echo "== broker, ${cell/:/ }, run $r"
        run_cell "$cell"
    done
done
for mode in scripts full; do
    for r in $(seq "$repeat"); do
        echo
        if [ "$mode" = scripts ]; then
            echo "== Redis ceiling: enqueue, dispatch, progress, complete, outbox_remove;" \
                "batch $ceiling_batch, run $r"
        else
            echo "== Redis ceiling, all the broker asks per submission (+ events, get," \
                "outbox_list, a subscriber), run $r"
        fi
        run_ceiling "$mode"
    done
done

# ---- table and targets ----
declare -A best
for key in "${!res[@]}"; do
    best[$key]=$(printf '%s' "${res[$key]}" | median_line)
done
ceiling=$(field subs_per_s "${best[ceiling/scripts]:-}")
ceiling_full=$(field subs_per_s "${best[ceiling/full]:-}")

echo
echo "== results (median run of each cell; CPU in cores over the measured window; runq ="
echo "   share of the window the process waited for a CPU, taken by other processes)"
printf '%-12s %7s %8s %9s %9s %9s %9s %6s %6s %6s %5s %5s %11s %6s %8s\n' cell "subs/s" \
    "scores/s" "prog p50" "prog p99" "e2e p50" "e2e p99" broker redis loadgn "b-rq" "r-rq" \
    "registry" "ev/sub" "llen/sub"
printf '%-12s %7s %8s %9s %9s %9s %9s\n' "" "" "" "ms" "ms" "ms" "ms"
ms() {
    awk -v v="$1" 'BEGIN { if (v == "") print "n/a"; else printf "%.1f", v / 1000 }'
}
for cell in $cells; do
    line=${best[$cell]:-}
    [ -n "$line" ] || continue
    printf '%-12s %7s %8s %9s %9s %9s %9s %6s %6s %6s %5s %5s %11s %6s %8s\n' "$cell" \
        "$(field subs_per_s "$line")" "$(field scores_per_s "$line")" \
        "$(ms "$(field progress_p50_us "$line")")" "$(ms "$(field progress_p99_us "$line")")" \
        "$(ms "$(field e2e_p50_us "$line")")" "$(ms "$(field e2e_p99_us "$line")")" \
        "$(field broker_cpu "$line")" "$(field redis_cpu "$line")" \
        "$(field loadgen_cpu "$line")" "$(field broker_runq "$line")" \
        "$(field redis_runq "$line")" \
        "$(field registry_complete "$line")/$(field registry_acked "$line")" \
        "$(field evalsha_per_sub "$line")" "$(field llen_per_sub "$line")"
done
echo "(ev/sub: EVALSHA calls per submission; llen/sub: LLEN calls per submission, made by"
echo " enqueue's queue-position walk over the participants with queued work)"
printf 'Redis ceiling: %s subs/s for the 5 scripts (redis cpu %s); %s subs/s for all the' \
    "${ceiling:-n/a}" "$(field redis_cpu "${best[ceiling/scripts]:-}")" "${ceiling_full:-n/a}"
printf ' broker asks (redis cpu %s)\n' "$(field redis_cpu "${best[ceiling/full]:-}")"

# Sustained = completed end to end and scores applied, whichever is lower, over the closed-loop
# cells whose every acked submission reached the registry; the best cell counts.
sustained="n/a"
best_cell=""
for cell in $cells; do
    line=${best[$cell]:-}
    if [ -z "$line" ] || [ "${cell%%:*}" != window ]; then
        continue
    fi
    [ "$(field registry_complete "$line")" = "$(field registry_acked "$line")" ] || continue
    t=$(awk -v a="$(field subs_per_s "$line")" -v b="$(field scores_per_s "$line")" \
        'BEGIN { print (b >= 0 && b < a) ? b : a }')
    if [ "$sustained" = n/a ] || awk -v t="$t" -v s="$sustained" 'BEGIN { exit !(t > s) }'; then
        sustained=$t
        best_cell=$cell
    fi
done
p99_rate="n/a"
if [ "$rate" != 0 ] && [ -n "${best[rate:$rate]:-}" ]; then
    p99_rate=$(awk -v v="$(field progress_p99_us "${best[rate:$rate]}")" \
        'BEGIN { printf "%.2f", v / 1000 }')
    rate_done=$(field subs_per_s "${best[rate:$rate]}")
fi
p99_best="n/a"
[ -n "$best_cell" ] && p99_best=$(awk -v v="$(field progress_p99_us "${best[$best_cell]}")" \
    'BEGIN { printf "%.2f", v / 1000 }')
fraction=$(ratio "$sustained" "$ceiling")

echo
echo "== targets"
printf '%-60s %9s  %s\n' "submissions/s sustained >= 1,000 (best: ${best_cell:-n/a})" \
    "$sustained" "$(verdict "$sustained" '>=' 1000)"
printf '%-60s %9s  %s\n' "p99 progress latency < 10 ms at $rate submissions/s offered" \
    "$p99_rate" "$(verdict "$p99_rate" '<' 10)"
printf '%-60s %9s  %s\n' "broker / Redis ceiling (5 scripts) >= 0.5" "$fraction" \
    "$(verdict "$fraction" '>=' 0.5)"
echo "also: p99 progress latency at saturation (${best_cell:-n/a}): $p99_best ms;" \
    "completed at the offered rate: ${rate_done:-n/a}/s;" \
    "broker / ceiling of all it asks: $(ratio "$sustained" "$ceiling_full")"
