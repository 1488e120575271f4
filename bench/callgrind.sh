#!/usr/bin/env bash
# Instructions per answer of a release `keyward serve`, counted by callgrind: a keyed answer
# (GET /admin/v1/key with a key whose proof is cached) and a bare one (GET /healthz).
# Instruction counts do not depend on what else the machine runs, so two builds can be
# compared on a busy 2-core machine where throughput cannot. See bench/README.md.
#
#   bench/callgrind.sh [BINARY...]     # default: target/release/keyward
#
# With several binaries (e.g. the commit before a change and after it), each is measured in
# turn the same way, and the last lines compare each with the first. The figures per answer
# have the instance's idle work (its timers, measured while nothing is asked) over the
# phase's duration taken off; the raw figures beside them do not.
#
# Environment: DATABASE_URL (a server where a scratch database may be created; default
# postgres://postgres@127.0.0.1:5432/postgres), KEYWARD_CALLGRIND_REQUESTS (N, default 2000),
# KEYWARD_CALLGRIND_WARMUP (default 300), KEYWARD_CALLGRIND_OUT (where callgrind's files go;
# default a new directory under /tmp, kept).
set -euo pipefail

server_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
n=${KEYWARD_CALLGRIND_REQUESTS:-2000}
warmup=${KEYWARD_CALLGRIND_WARMUP:-300}
out=${KEYWARD_CALLGRIND_OUT:-$(mktemp -d /tmp/keyward-callgrind.XXXXXX)}
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=(target/release/keyward)
mkdir -p "$out"

for tool in valgrind callgrind_control psql curl; do
    command -v "$tool" >/dev/null || { echo "callgrind.sh: needs $tool" >&2; exit 2; }
done

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# `send COUNT URL [HEADER]`: sends COUNT requests on one keep-alive connection (curl reuses it for
# every URL of one invocation) and fails unless every answer is 200.
send() {
    local count=$1 url=$2 header=${3:-}
    local config
    config=$(mktemp)
    {
        [ -n "$header" ] && printf 'header = "%s"\n' "$header"
        for _ in $(seq "$count"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done
    } >"$config"
    local codes
    codes=$(curl -s -K "$config" -w '%{http_code}\n' | sort | uniq -c | tr -s ' ')
    rm -f "$config"
    if [ "$codes" != " $count 200" ]; then
        echo "callgrind.sh: expected $count answers 200, got:$codes" >&2
        return 1
    fi
}

# Instructions (Ir) of callgrind's dump named by its trigger.
dumped() {
    local pid=$1 trigger=$2
    local file
    file=$(grep -l "^desc: Trigger: dump $trigger\$" "$out"/callgrind.out."$pid".* | head -1)
    awk '/^(summary|totals):/ { print $2; exit }' "$file"
}

# The instance and the scratch database of the measurement under way, ended however it ends.
pid=""
database=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    if [ -n "$database" ]; then
        psql -q "$server_url" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null || true
    fi
    pid=""
    database=""
}
trap cleanup EXIT
trap 'exit 2' INT TERM

measure() {
    local binary=$1 label=$2
    database="keyward_callgrind_$(date +%s)_$$_$RANDOM"
    local url="${server_url%/*}/$database"
    psql -q "$server_url" -c "CREATE DATABASE \"$database\"" >/dev/null

    "$binary" migrate --database-url "$url" 2>/dev/null
    local org token
    org=$(echo "callgrind-password-$RANDOM$RANDOM" | "$binary" admin add --database-url "$url" \
        --email bench@example.com --name Bench --org-name Bench 2>/dev/null)
    token=$("$binary" keys create --database-url "$url" --org "$org" --name callgrind --unscoped 2>/dev/null)

    local port metrics_port
    port=$(free_port)
    metrics_port=$(free_port)
    # The bench's rate limit (bench/servers.rs): the limiter runs on every request and never refuses.
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out.%p" \
        "$binary" serve --database-url "$url" --listen "127.0.0.1:$port" \
        --metrics-listen "127.0.0.1:$metrics_port" --api-rate-limit 1000000000 \
        >"$out/$label.log" 2>&1 &
    pid=$!
    # Served, and the revocation listener trusted (else every keyed request reads the database).
    for _ in $(seq 600); do
        if curl -s "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null |
            grep -q '^keyward_revocation_listener_healthy 1$'; then
            break
        fi
        sleep 0.5
    done
    curl -s "http://127.0.0.1:$metrics_port/metrics" | grep -q '^keyward_revocation_listener_healthy 1$' || {
        echo "callgrind.sh: $label never became ready (see $out/$label.log)" >&2
        return 1
    }

    local keyed="http://127.0.0.1:$port/admin/v1/key" bare="http://127.0.0.1:$port/healthz"
    local auth="Authorization: Bearer $token"
    # Warm-up: the key's proof is cached, its org's allowlist read, its last use recorded.
    send "$warmup" "$keyed" "$auth"
    send "$warmup" "$bare"
    sleep 1
    local t0 t1 t2 t3
    callgrind_control -z "$pid" >/dev/null 2>&1
    t0=$(date +%s.%N)
    send "$n" "$keyed" "$auth"
    callgrind_control -d keyed "$pid" >/dev/null 2>&1
    t1=$(date +%s.%N)
    send "$n" "$bare"
    callgrind_control -d bare "$pid" >/dev/null 2>&1
    t2=$(date +%s.%N)
    # A spell with no request: what the instance's own timers (the listener's heartbeat) cost
    # a second while it waits. Each phase's share of it is taken off its total, so that a
    # phase slowed by a busy machine does not count more of the timers' work as its answers'.
    sleep 5
    callgrind_control -d idle "$pid" >/dev/null 2>&1
    t3=$(date +%s.%N)

    local keyed_ir bare_ir idle_ir
    keyed_ir=$(dumped "$pid" keyed)
    bare_ir=$(dumped "$pid" bare)
    idle_ir=$(dumped "$pid" idle)
    awk -v label="$label" -v binary="$binary" -v n="$n" -v k="$keyed_ir" -v b="$bare_ir" -v i="$idle_ir" \
        -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" 'BEGIN {
            idle = i / (t3 - t2)
            printf "%s\t%s\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f\t%.1f\n", label, binary, n,
                (k - idle * (t1 - t0)) / n, (b - idle * (t2 - t1)) / n, k / n, b / n, idle, t1 - t0, t2 - t1
        }' | tee -a "$out/results.tsv"
    cleanup
}

printf 'label\tbinary\tN\tIr/keyed\tIr/bare\tIr/keyed raw\tIr/bare raw\tIr/idle s\tkeyed s\tbare s\n' |
    tee "$out/results.tsv"
index=0
for binary in "${binaries[@]}"; do
    index=$((index + 1))
    measure "$binary" "build$index"
done
if [ ${#binaries[@]} -gt 1 ]; then
    awk -F'\t' 'NR == 2 { k = $4; b = $5; kr = $6; br = $7 }
        NR > 2 { printf "%s vs build1: keyed %+.2f %%, bare %+.2f %% (raw: keyed %+.2f %%, bare %+.2f %%)\n",
            $1, ($4 - k) * 100 / k, ($5 - b) * 100 / b, ($6 - kr) * 100 / kr, ($7 - br) * 100 / br }' \
        "$out/results.tsv"
fi
echo "callgrind files and logs: $out" >&2
