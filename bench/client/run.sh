#!/usr/bin/env bash
# Client benchmark (never part of the test suite): the C Socket.IO client library
# (bench/client/sioc_bench.c on src/client) and socket.io-client 4.8 (bench/client/
# node_bench.mjs), the same acked-emit workload against the same crowdai-broker --conformance
# process in the same run; prints acks/s, p50/p99 ack latency, client CPU per 100k acks, the
# C / Node ratio and the target (ratio >= 1).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench_bin=$root/build/release/bench/sioc_bench
broker_bin=${BROKER_BIN:-$root/build/release/bin/crowdai-broker}
clients=50
inflight=4
warmup=2
duration=10
repeat=1
command_line="bench/client/run.sh $*"

usage() {
    cat <<EOF
usage: bench/client/run.sh [--repeat N] [--clients N] [--inflight K] [--warmup S] [--duration S]
  --repeat    run each client N times (alternating which goes first) and keep, for each,
              the run with the median throughput (default 1)
  --clients   connections per client process (default 50)
  --inflight  acked emits in flight per connection (default 4)
  --warmup    seconds after every connection has joined before measuring (default 2)
  --duration  measured seconds per run (default 10)
env: BROKER_BIN (default build/release/bin/crowdai-broker, built with sioc_bench when unset)
EOF
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --repeat | --clients | --inflight)
        [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
        case $1 in
        --repeat) repeat=$2 ;;
        --clients) clients=$2 ;;
        --inflight) inflight=$2 ;;
        esac
        shift
        ;;
    --warmup | --duration)
        [[ ${2:-} =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage
        if [ "$1" = --warmup ]; then warmup=$2; else duration=$2; fi
        shift
        ;;
    *) usage ;;
    esac
    shift
done

tmp=$(mktemp -d)
server_pid=""
client_pid=""

stop_server() {
    [ -n "$server_pid" ] || return 0
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 30); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
}

cleanup() {
    if [ -n "$client_pid" ]; then
        kill -TERM "$client_pid" 2>/dev/null
        wait "$client_pid" 2>/dev/null
    fi
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build (release preset) ----
echo "building: cmake --preset release && cmake --build --preset release --target sioc_bench" \
    "$([ -n "${BROKER_BIN:-}" ] || echo crowdai-broker)"
if ! { cmake --preset release >/dev/null &&
    cmake --build --preset release -j"$(nproc)" --target sioc_bench; } >"$tmp/build.log" 2>&1; then
    grep -m10 -E 'error|Error' "$tmp/build.log"
    echo "error: the release build of sioc_bench failed"
    exit 1
fi
if [ -z "${BROKER_BIN:-}" ] &&
    ! cmake --build --preset release -j"$(nproc)" --target crowdai-broker >"$tmp/build.log" 2>&1; then
    grep -m5 -E 'error|Error' "$tmp/build.log"
    echo "warning: the release build of crowdai-broker failed (BROKER_BIN=... picks another)"
fi
[ -x "$broker_bin" ] || {
    echo "error: no broker at $broker_bin"
    exit 1
}
[ -f "$root/node_modules/socket.io-client/package.json" ] || {
    echo "error: socket.io-client is not in $root/node_modules (npm ci at the repository root)"
    exit 1
}

# ---- server ----
"$broker_bin" --conformance --port 0 --ping-interval 25000 --ping-timeout 20000 \
    >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/^READY port=\([0-9]*\)$/\1/p' "$tmp/server.out")
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "error: the broker printed no READY line within 10 s"
    head -5 "$tmp/server.err"
    exit 1
fi

field() {
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b;
                                     else printf "n/a" }'
}

client_args=(--port "$port" --clients "$clients" --inflight "$inflight" --warmup "$warmup"
    --duration "$duration" --server-pid "$server_pid")
limit=$((${duration%.*} + ${warmup%.*} + 45))

# run_client c|node: one run; its RESULT line goes to $tmp/<impl>.runs, stderr to <impl>.err
run_client() {
    local impl=$1 line
    if [ "$impl" = c ]; then
        timeout "$limit" "$bench_bin" "${client_args[@]}" >"$tmp/run.out" 2>>"$tmp/$impl.err" &
    else
        CLK_TCK=$(getconf CLK_TCK) timeout "$limit" node "$root/bench/client/node_bench.mjs" \
            "${client_args[@]}" >"$tmp/run.out" 2>>"$tmp/$impl.err" &
    fi
    client_pid=$!
    wait "$client_pid"
    client_pid=""
    line=$(grep '^RESULT' "$tmp/run.out")
    if [ -z "$line" ]; then
        echo "$impl: no result"
        tail -5 "$tmp/$impl.err"
        return 1
    fi
    echo "$(field acks_per_s "$line") $line" >>"$tmp/$impl.runs"
    printf '%-5s %10s %9s %9s %7s %14s %11s %11s\n' "$impl" "$(field acks_per_s "$line")" \
        "$(field p50_us "$line")" "$(field p99_us "$line")" "$(field errors "$line")" \
        "$(field cpu_s_per_100k "$line")" "$(field client_cpu "$line")" \
        "$(field server_cpu "$line")"
    sleep 0.5 # let the server tear down the closed connections
}

# ---- run ----
echo "crowdai-broker client benchmark: $command_line"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) cores:" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "node $(node --version), socket.io-client" \
    "$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$root/node_modules/socket.io-client/package.json")"
echo "server: $broker_bin --conformance --port 0 --ping-interval 25000 --ping-timeout 20000" \
    "(pid $server_pid, port $port)"
echo "workload: $clients connections x $inflight emits 'message-with-ack' (32-byte string) in" \
    "flight, one client process; warm-up ${warmup} s, measured ${duration} s, $repeat run(s) each"
echo
printf '%-5s %10s %9s %9s %7s %14s %11s %11s\n' impl "acks/s" "p50 us" "p99 us" errors \
    "cpu s/100k" "client cpu" "server cpu"
: >"$tmp/c.runs"
: >"$tmp/node.runs"
for r in $(seq "$repeat"); do
    if [ $((r % 2)) = 1 ]; then order="c node"; else order="node c"; fi
    for impl in $order; do
        run_client "$impl"
    done
done

declare -A tput p50 p99 cpu100k errs
for impl in c node; do
    n=$(grep -c . "$tmp/$impl.runs")
    [ "$n" -gt 0 ] || continue
    # the run with the median throughput (the lower middle one for an even count)
    line=$(sort -n "$tmp/$impl.runs" | sed -n "$(((n + 1) / 2))p" | cut -d' ' -f2-)
    tput[$impl]=$(field acks_per_s "$line")
    p50[$impl]=$(field p50_us "$line")
    p99[$impl]=$(field p99_us "$line")
    cpu100k[$impl]=$(field cpu_s_per_100k "$line")
    errs[$impl]=$(awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^errors=/) { sub(/errors=/, "", $i);
                                                                     s += $i } } END { print s + 0 }' \
        "$tmp/$impl.runs")
done

echo
echo "== median of $repeat run(s)"
printf '%-28s %10s %9s %9s %14s %7s\n' client "acks/s" "p50 us" "p99 us" "cpu s/100k" errors
printf '%-28s %10s %9s %9s %14s %7s\n' "C (crowdai_client)" "${tput[c]:-n/a}" "${p50[c]:-n/a}" \
    "${p99[c]:-n/a}" "${cpu100k[c]:-n/a}" "${errs[c]:-n/a}"
printf '%-28s %10s %9s %9s %14s %7s\n' "Node (socket.io-client)" "${tput[node]:-n/a}" \
    "${p50[node]:-n/a}" "${p99[node]:-n/a}" "${cpu100k[node]:-n/a}" "${errs[node]:-n/a}"
r_tput=$(ratio "${tput[c]:-}" "${tput[node]:-}")
echo "ratios C / Node: throughput $r_tput, p50 $(ratio "${p50[c]:-}" "${p50[node]:-}")," \
    "p99 $(ratio "${p99[c]:-}" "${p99[node]:-}")," \
    "cpu per 100k acks $(ratio "${cpu100k[c]:-}" "${cpu100k[node]:-}")"
verdict=$(awk -v v="$r_tput" 'BEGIN { if (v == "n/a") print "n/a";
                                      else print (v + 0 >= 1 ? "MET" : "NOT MET") }')
echo "target: C client at least as fast as socket.io-client (throughput ratio >= 1): $verdict"
