# What benches/http.sh and benches/ofrep.sh share (sourced, not run): waiting for a server to say
# where it listens, and reading wrk's figures.

# Waits at most 10 s for the file $1 to hold `listening on http://ADDRESS`; sets $address, or
# says that $2 did not start and exits.
await_address() {
    address=""
    for _ in $(seq 100); do
        address="$(sed -n 's|^listening on http://||p' "$1")"
        [[ -n "$address" ]] && return
        sleep 0.1
    done
    echo "$2 did not start" >&2
    exit 1
}

# wrk's latency in microseconds: "1.23ms" -> 1230.
micros() { awk '{ v = $1 + 0; if ($1 ~ /us$/) print v; else if ($1 ~ /ms$/) print v * 1000; else print v * 1000000 }'; }

# The median of numbers separated by spaces.
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ values[NR] = $1 } END { print values[int((NR + 1) / 2)] }'; }
