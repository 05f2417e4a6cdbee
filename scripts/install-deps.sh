#!/usr/bin/env bash
# Installs what building and testing crowdai-broker needs on Debian 12, idempotently:
# Debian packages (only when one is missing) and the npm packages of package-lock.json (the
# build embeds socket.io-client's browser bundle in the broker; the tests use the rest).
# Usage: scripts/install-deps.sh [build|test]   (build: only what `make run` needs)
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(build-essential cmake pkg-config libuv1-dev node-llhttp libssl-dev libsqlite3-dev
            libhiredis-dev libjansson-dev libcurl4-openssl-dev redis-server python3-socketio
            python3-websocket python3-requests libgit2-dev zlib1g-dev)
test_pkgs=(clang libclang-rt-14-dev clang-format python3-socketio python3-engineio
           python3-websocket python3-requests procps openssl tmux git
           openssh-server chromium fonts-dejavu-core)

want=("${build_pkgs[@]}")
if [ "${1:-test}" = test ]; then
    want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null; then
            sudo="sudo"
        else
            echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
            exit 1
        fi
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "install-deps: Node.js 20 and npm are needed (the web pages' socket.io-client bundle, the tests)" >&2
    exit 1
fi
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    echo "install-deps: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
fi
