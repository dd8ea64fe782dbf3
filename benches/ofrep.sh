#!/usr/bin/env bash
# OFREP bulk evaluation (issue 19) against Unleash Edge: requests per second and p99 of every
# public flag evaluated for a different user on each request, `rose serve`'s
# POST /ofrep/v1/evaluate/flags against Edge's GET /api/frontend, from the same flags
# (benches/ofrep/unleash-features.json is Edge's offline bootstrap of the flags rose serves).
# First checks that both give a sample of users the same answers.
#
# Usage: EDGE=/path/to/unleash-edge [EDGE_ARGS="--workers 1"] benches/ofrep.sh [SECONDS] [RUNS]
#   each wrk run SECONDS long (default 10), RUNS per server (default 3, interleaved; the median
#   is reported). BENCHMARKS.md says how to build Edge. Needs wrk and taskset: each server runs
#   one tokio worker on CPU 0, wrk one thread with 32 connections on CPU 1. EDGE_ARGS are Edge's
#   own options before its command: `--workers 1` for Edge 19, whose actix workers do not follow
#   TOKIO_WORKER_THREADS (Edge 20 ignores the option).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-10}"
runs="${2:-3}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[[ -x "${EDGE:-}" ]] || { echo "set EDGE to an unleash-edge binary (BENCHMARKS.md)" >&2; exit 1; }

cd "$root"
# shellcheck source=benches/wrk-common.sh
source "$root/benches/wrk-common.sh"
cargo build --quiet --release -p flags-examples --bin rose
cargo build --quiet --release -p flags-benches --example http
target="$(cargo metadata --format-version 1 --no-deps | sed 's/.*"target_directory":"\([^"]*\)".*/\1/')"
rose="$target/release/rose"
router="$target/release/examples/http"
here="$root/benches/ofrep"
work="$(mktemp -d)"

pid=""
stop() {
    if [[ -n "$pid" ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    pid=""
}
trap 'stop; rm -rf "$work"' EXIT

# Starts rose serve with the flags Edge's bootstrap holds; sets $address.
start_rose() {
    (cd "$work" && exec env -i TOKIO_WORKER_THREADS=1 FEATURE_NEW_UI=40% \
        FEATURE_GREETING_STYLE=classic:50,playful:30,formal:20 LOG_LEVEL=warn \
        taskset -c 0 "$rose" serve --addr 127.0.0.1:0 >"$work/rose.out" 2>/dev/null) &
    pid=$!
    await_address "$work/rose.out" "rose serve"
}

# flags-http's router alone, as an application embeds it (benches/examples/http.rs), without
# rose serve's own layers (security headers, request metrics, its public routes' limit).
start_router() {
    (cd "$work" && exec env -i TOKIO_WORKER_THREADS=1 FEATURE_NEW_UI=40% \
        FEATURE_GREETING_STYLE=classic:50,playful:30,formal:20 \
        taskset -c 0 "$router" serve flags >"$work/router.out" 2>/dev/null) &
    pid=$!
    await_address "$work/router.out" "the router"
}

start_edge() {
    address="127.0.0.1:18263"
    # shellcheck disable=SC2086 # EDGE_ARGS is a list of options.
    env -i TOKIO_WORKER_THREADS=1 taskset -c 0 "$EDGE" ${EDGE_ARGS:-} --port 18263 --interface 127.0.0.1 \
        offline --bootstrap-file "$here/unleash-features.json" \
        --client-tokens default:development.bench --frontend-tokens default:development.front \
        >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        curl -sf -o /dev/null -H 'Authorization: default:development.front' \
            "http://$address/api/frontend" && return
        sleep 0.1
    done
    echo "unleash-edge did not start" >&2
    exit 1
}

# The sample: both servers at once (Edge on its port, rose serve on its own).
start_edge
edge_pid=$pid
pid=""
start_rose
python3 "$here/same_answers.py" "http://$address" "http://127.0.0.1:18263" 500
stop
pid=$edge_pid
stop


declare -A rps p99
for _ in $(seq "$runs"); do
    for server in edge rose router; do
        "start_$server"
        script="$here/$server.lua"
        [[ $server == router ]] && script="$here/rose.lua"
        wrk=(taskset -c 1 wrk -t1 -c32 -s "$script")
        "${wrk[@]}" -d2s "http://$address" >/dev/null # warm-up
        report="$("${wrk[@]}" -d"${seconds}s" --latency "http://$address")"
        stop
        rps[$server]+=" $(awk '/^Requests\/sec:/ { print $2 }' <<<"$report")"
        p99[$server]+=" $(awk '$1 == "99%" { print $2 }' <<<"$report" | micros)"
    done
done

edge_rps="$(median <<<"${rps[edge]}")"
edge_p99="$(median <<<"${p99[edge]}")"
echo
echo "Every public flag for a different user per request, wrk -t1 -c32 -d${seconds}s, median of $runs runs:"
echo
echo "| server | requests/s | p99 | requests/s ÷ Edge's | p99 ÷ Edge's |"
echo "| --- | ---: | ---: | ---: | ---: |"
for server in edge rose router; do
    r="$(median <<<"${rps[$server]}")"
    p="$(median <<<"${p99[$server]}")"
    awk -v name="$server" -v r="$r" -v p="$p" -v er="$edge_rps" -v ep="$edge_p99" \
        'BEGIN { printf "| %s | %.0f | %.0f µs | %.2f | %.2f |\n", name, r, p, r / er, p / ep }'
done
