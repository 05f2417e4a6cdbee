#!/usr/bin/env bash
# Benchmark driver (never part of the test suite): runs one echo-with-ack workload from
# bench/loadgen against the broker, the reference Node server and bench/trivial_echo, and
# prints throughput, latency, memory per idle connection, the ratios and the targets.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build/bench
broker_bin=${BROKER_BIN:-$root/build/release/bin/crowdai-broker}
servers="broker reference trivial"
quick=0
repeat=1
command_line="bench/run.sh $*"

usage() {
    cat <<EOF
usage: bench/run.sh [--quick] [--repeat N] [--servers "broker reference trivial"]
  --quick    smaller matrix (1 and 100 clients, 1 s runs, 1,000 idle connections)
  --repeat   run every cell N times and keep the run with the median throughput
             (the machine is shared: other load shows as both CPU columns well under 1)
  --servers  which servers to run, in order (default: all three)
env: BROKER_BIN (default build/release/bin/crowdai-broker)
EOF
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1 ;;
    --servers)
        [ $# -ge 2 ] || usage
        servers=$2
        shift
        ;;
    --repeat)
        [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
        repeat=$2
        shift
        ;;
    *) usage ;;
    esac
    shift
done

if [ "$quick" = 1 ]; then
    clients_list="1 100"
    warmup=0.5
    duration=1
    idle_n=1000
else
    clients_list="1 100 1000"
    warmup=1
    duration=3
    idle_n=10000
fi
inflight_list="1 4"
server_flags=(--conformance --port 0 --ping-interval 25000 --ping-timeout 20000)

# 10,000 idle connections need 10,000 descriptors on each side; children inherit this limit.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((idle_n + 200)) ]; then
    echo "warning: open-file limit $(ulimit -n) is too low for $idle_n idle connections"
fi

tmp=$(mktemp -d)
server_pid=""
loadgen_pid=""

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
    if [ -n "$loadgen_pid" ]; then
        kill -TERM "$loadgen_pid" 2>/dev/null
        wait "$loadgen_pid" 2>/dev/null
    fi
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build ----
mkdir -p "$out"
cflags=(-O2 -std=c11 -Wall -Wextra)
cc "${cflags[@]}" -o "$out/loadgen" "$root/bench/loadgen.c" -lcrypto || exit 1
cc "${cflags[@]}" -o "$out/trivial_echo" "$root/bench/trivial_echo.c" -lcrypto || exit 1
if [[ " $servers " == *" broker "* ]] && [ ! -x "$broker_bin" ] && [ -z "${BROKER_BIN:-}" ] &&
    make -C "$root" -n release >/dev/null 2>&1; then
    echo "building the broker: make -C $root release"
    if ! make -C "$root" release >"$tmp/make.log" 2>&1; then
        tail -20 "$tmp/make.log"
        echo "warning: make release failed; the broker will be skipped"
    fi
fi

server_cmd() {
    case $1 in
    broker) echo "$broker_bin ${server_flags[*]}" ;;
    reference) echo "node $root/tests/interop/reference-server.mjs ${server_flags[*]}" ;;
    trivial) echo "$out/trivial_echo --port 0" ;;
    esac
}

# Starts server $1 in the background; sets server_pid and port.
start_server() {
    local name=$1
    case $name in
    broker) "$broker_bin" "${server_flags[@]}" >"$tmp/$name.out" 2>"$tmp/$name.err" & ;;
    reference)
        node "$root/tests/interop/reference-server.mjs" "${server_flags[@]}" \
            >"$tmp/$name.out" 2>"$tmp/$name.err" &
        ;;
    trivial) "$out/trivial_echo" --port 0 >"$tmp/$name.out" 2>"$tmp/$name.err" & ;;
    esac
    server_pid=$!
    port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/^READY port=\([0-9]*\)$/\1/p' "$tmp/$name.out")
        [ -n "$port" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "error: $name printed no READY line within 10 s"
    cat "$tmp/$name.err"
    stop_server
    return 1
}

field() {
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

declare -A tput p50 p99 errs lgcpu srvcpu memconn

run_matrix() {
    local name=$1 c k r line runs total_errors
    start_server "$name" || return 1
    printf '%8s %9s %11s %9s %9s %7s %12s %11s %17s\n' clients in-flight "acked/s" "p50 us" \
        "p99 us" errors "loadgen cpu" "server cpu" "acked/server-cpu-s"
    for c in $clients_list; do
        for k in $inflight_list; do
            runs=""
            total_errors=0
            : >"$tmp/loadgen.err"
            for r in $(seq "$repeat"); do
                line=$(timeout $((40 + ${duration%.*} + 2)) "$out/loadgen" --port "$port" \
                    --clients "$c" --inflight "$k" --warmup "$warmup" --duration "$duration" \
                    --connect-timeout 30 --server-pid "$server_pid" 2>>"$tmp/loadgen.err" |
                    grep '^RESULT')
                [ -n "$line" ] || continue
                runs+="$(field msgs_per_s "$line") $line"$'\n'
                total_errors=$((total_errors + $(field errors "$line")))
                sleep 0.5 # let the server tear down the closed connections
            done
            # the run with the median throughput (the lower middle one for an even count)
            r=$(printf '%s' "$runs" | grep -c .)
            line=$(printf '%s' "$runs" | sort -n | sed -n "$(((r + 1) / 2))p" | cut -d' ' -f2-)
            if [ -z "$line" ]; then
                echo "error: loadgen gave no result for $c clients x $k"
                head -5 "$tmp/loadgen.err"
                continue
            fi
            tput[$name/$c/$k]=$(field msgs_per_s "$line")
            p50[$name/$c/$k]=$(field p50_us "$line")
            p99[$name/$c/$k]=$(field p99_us "$line")
            errs[$name/$c/$k]=$total_errors
            lgcpu[$name/$c/$k]=$(field loadgen_cpu "$line")
            srvcpu[$name/$c/$k]=$(field server_cpu "$line")
            printf '%8s %9s %11s %9s %9s %7s %12s %11s %17s\n' "$c" "$k" "${tput[$name/$c/$k]}" \
                "${p50[$name/$c/$k]}" "${p99[$name/$c/$k]}" "${errs[$name/$c/$k]}" \
                "${lgcpu[$name/$c/$k]}" "${srvcpu[$name/$c/$k]}" \
                "$(ratio "${tput[$name/$c/$k]}" "${srvcpu[$name/$c/$k]}" | sed 's/\..*//')"
            [ "${errs[$name/$c/$k]}" = 0 ] || head -5 "$tmp/loadgen.err"
        done
    done
    stop_server
}

# Resident memory per idle connection, on a fresh server process.
run_idle() {
    local name=$1 rss0 rss1 connected line
    start_server "$name" || return 1
    sleep 1
    rss0=$(rss_kb "$server_pid")
    "$out/loadgen" --port "$port" --clients "$idle_n" --idle 60 --connect-timeout 40 \
        >"$tmp/idle.out" 2>"$tmp/idle.err" &
    loadgen_pid=$!
    line=""
    for _ in $(seq 500); do
        line=$(grep '^IDLE_READY' "$tmp/idle.out")
        [ -n "$line" ] && break
        kill -0 "$loadgen_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -n "$line" ]; then
        sleep 3 # let the server settle (timers, garbage collection)
        rss1=$(rss_kb "$server_pid")
        connected=$(field connected "$line")
    fi
    kill -TERM "$loadgen_pid" 2>/dev/null
    wait "$loadgen_pid" 2>/dev/null
    loadgen_pid=""
    stop_server
    if [ -z "$line" ] || [ "${connected:-0}" -eq 0 ]; then
        echo "idle: error: connections not established"
        head -5 "$tmp/idle.err"
        return 1
    fi
    memconn[$name]=$(((rss1 - rss0) * 1024 / connected))
    printf 'idle: %s connections (%s errors): RSS %s kB -> %s kB, %s bytes per connection\n' \
        "$connected" "$(field errors "$line")" "$rss0" "$rss1" "${memconn[$name]}"
    [ "$(field errors "$line")" = 0 ] || head -5 "$tmp/idle.err"
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b;
                                     else printf "n/a" }'
}

# verdict VALUE OP LIMIT: MET / NOT MET / n/a
verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (v == "n/a" || v == "") { print "n/a"; exit }
        ok = op == ">=" ? v + 0 >= l + 0 : v + 0 <= l + 0
        print ok ? "MET" : "NOT MET" }'
}

# ---- run ----
echo "crowdai-broker benchmark: $command_line"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) cores:" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "node $(node --version 2>/dev/null), socket.io" \
    "$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$root/node_modules/socket.io/package.json" \
        2>/dev/null)"
echo "workload: 42<id>[\"message-with-ack\",\"<32 bytes>\"] answered by 43<id>[...];" \
    "warm-up ${warmup} s, measured ${duration} s per cell, median of $repeat run(s);" \
    "idle: $idle_n connections"

ran=""
for name in $servers; do
    echo
    echo "== $name: $(server_cmd "$name")"
    if [ "$name" = broker ] && [ ! -x "$broker_bin" ]; then
        echo "SKIPPED: no executable at $broker_bin (set BROKER_BIN)"
        continue
    fi
    run_matrix "$name" && run_idle "$name"
    ran="$ran $name"
done

echo
echo "== ratios (broker vs reference, broker vs trivial)"
printf '%8s %9s %14s %14s %14s %16s\n' clients in-flight "tput/ref" "tput/trivial" \
    "p99/ref" "ref/trivial tput"
for c in $clients_list; do
    for k in $inflight_list; do
        printf '%8s %9s %14s %14s %14s %16s\n' "$c" "$k" \
            "$(ratio "${tput[broker/$c/$k]:-}" "${tput[reference/$c/$k]:-}")" \
            "$(ratio "${tput[broker/$c/$k]:-}" "${tput[trivial/$c/$k]:-}")" \
            "$(ratio "${p99[broker/$c/$k]:-}" "${p99[reference/$c/$k]:-}")" \
            "$(ratio "${tput[reference/$c/$k]:-}" "${tput[trivial/$c/$k]:-}")"
    done
done
printf 'memory per idle connection (bytes): broker %s, reference %s, trivial %s; broker/ref %s\n' \
    "${memconn[broker]:-n/a}" "${memconn[reference]:-n/a}" "${memconn[trivial]:-n/a}" \
    "$(ratio "${memconn[broker]:-}" "${memconn[reference]:-}")"

echo
echo "== targets (100 clients, 4 in flight; memory at $idle_n idle connections)"
r_ref=$(ratio "${tput[broker/100/4]:-}" "${tput[reference/100/4]:-}")
r_triv=$(ratio "${tput[broker/100/4]:-}" "${tput[trivial/100/4]:-}")
r_p99=$(ratio "${p99[broker/100/4]:-}" "${p99[reference/100/4]:-}")
r_mem=$(ratio "${memconn[broker]:-}" "${memconn[reference]:-}")
printf '%-44s %8s  %s\n' "throughput >= 3x reference" "$r_ref" "$(verdict "$r_ref" '>=' 3)"
printf '%-44s %8s  %s\n' "throughput >= 0.70 of trivial server" "$r_triv" \
    "$(verdict "$r_triv" '>=' 0.70)"
printf '%-44s %8s  %s\n' "p99 <= 1/3 of reference (ratio <= 0.33)" "$r_p99" \
    "$(verdict "$r_p99" '<=' 0.3334)"
printf '%-44s %8s  %s\n' "memory per idle conn <= 1/5 of reference" "$r_mem" \
    "$(verdict "$r_mem" '<=' 0.20)"
echo "servers run:${ran:- none}"
