#!/usr/bin/env bash
# The HTTP API's speed (issue 13), in one table: requests per second and p99 latency of
# GET /api/feature-flags served by flags-http, against a plain axum handler returning the same
# JSON rendered once (the floor) and the handler an application would write (naive), each under
# wrk on loopback; then the p99 of a change, from its PATCH to a GET that serves it, without and
# with a file store.
#
# Usage: benches/http.sh [SECONDS] [RUNS]   each wrk run SECONDS long (default 10), RUNS per server
#                                          (default 3, interleaved; the median is reported)
# Needs wrk (Debian: apt-get install wrk). Each server has one tokio worker thread and wrk one
# thread with 32 connections, so that on 2 cores each has a core.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-10}"
runs="${2:-3}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

cd "$root"
# shellcheck source=benches/wrk-common.sh
source "$root/benches/wrk-common.sh"
cargo build --quiet --release -p flags-benches --example http
target="$(cargo metadata --format-version 1 --no-deps | sed 's/.*"target_directory":"\([^"]*\)".*/\1/')"
http="$target/release/examples/http"

server_pid=""
stop() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
trap stop EXIT

# Starts one server and sets $address; waits at most 10 s for it to say where it listens.
start() {
    local output
    output="$(mktemp)"
    "$http" serve "$1" >"$output" &
    server_pid=$!
    await_address "$output" "the $1 server"
    rm -f "$output"
}


declare -A rps p99
for _ in $(seq "$runs"); do
    for server in floor naive flags; do
        start "$server"
        url="http://$address/api/feature-flags"
        wrk -t1 -c32 -d2s "$url" >/dev/null # warm-up
        report="$(wrk -t1 -c32 -d"${seconds}s" --latency "$url")"
        stop
        rps[$server]+=" $(awk '/^Requests\/sec:/ { print $2 }' <<<"$report")"
        p99[$server]+=" $(awk '$1 == "99%" { print $2 }' <<<"$report" | micros)"
    done
done

floor_rps="$(median <<<"${rps[floor]}")"
floor_p99="$(median <<<"${p99[floor]}")"
echo "GET /api/feature-flags, wrk -t1 -c32 -d${seconds}s, median of $runs runs:"
echo
echo "| server | requests/s | p99 | floor's requests/s ÷ this | p99 ÷ floor's |"
echo "| --- | ---: | ---: | ---: | ---: |"
for server in floor naive flags; do
    r="$(median <<<"${rps[$server]}")"
    p="$(median <<<"${p99[$server]}")"
    awk -v name="$server" -v r="$r" -v p="$p" -v fr="$floor_rps" -v fp="$floor_p99" \
        'BEGIN { printf "| %s | %.0f | %.0f µs | %.2f | %.2f |\n", name, r, p, fr / r, p / fp }'
done
echo
"$http" patch 2000
"$http" patch 2000 --store
