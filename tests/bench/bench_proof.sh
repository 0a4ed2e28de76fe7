#!/usr/bin/env bash
# Times mp-signer audit prove on a long format-2 log and audit check-proof of its proof, with
# the start-up of a process that does nothing (and of mp-signer printing its help) measured in
# the same run, so the numbers can be read on a noisy machine. Not a ctest: the log takes a
# minute and 2 GB of disk for the default 10,000,000 lines.
#   tests/bench/bench_proof.sh MP_SIGNER [LINES] [RUNS] [DIR]
# DIR (default: a fresh temporary directory, removed after) keeps LOG and PUBKEY between runs:
# an existing DIR/audit.log of the same LINES is reused.
set -euo pipefail
MP_SIGNER=${1:?usage: bench_proof.sh MP_SIGNER [LINES] [RUNS] [DIR]}
N=${2:-10000000}
RUNS=${3:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -n "${4:-}" ]; then
    D=$4
    mkdir -p "$D"
else
    D=$(mktemp -d /tmp/mp-bench-proof.XXXXXX)
    trap 'rm -rf "$D"' EXIT
fi

# EPOCHREALTIME (bash 5): no process is started to read the clock.
now_ms() { local t=${EPOCHREALTIME/[.,]/}; printf '%s.%s' "${t:0:-3}" "${t: -3}"; }
# stats MS...: min and median, milliseconds.
stats() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
    printf "min %.2f ms, median %.2f ms (%d runs)", a[1], (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2), NR }'; }
# time_runs CMD...: RUNS wall times of CMD in ms, one a line.
time_runs() {
    local i t0 t1 out=()
    for ((i = 0; i < RUNS; i++)); do
        t0=${EPOCHREALTIME/[.,]/}
        "$@" >/dev/null
        t1=${EPOCHREALTIME/[.,]/}
        out+=("$(((t1 - t0) / 1000)).$(printf '%03d' $(((t1 - t0) % 1000)))")
    done
    stats "${out[@]}"
}

if [ ! -s "$D/audit.log" ] || [ "$(cat "$D/lines" 2>/dev/null)" != "$N" ]; then
    echo "generating $N lines and a checkpoint over them in $D ..."
    t0=$(now_ms)
    /usr/bin/python3 "$HERE/gen_merkle_log.py" "$N" "$D/audit.log" "$D/pub.pem"
    echo "$N" >"$D/lines"
    echo "generated in $(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }') s," \
        "$(du -h "$D/audit.log" | cut -f1)"
fi
LAST=$((N - 1))

echo "prove --seq $LAST (reads the whole log once):"
t0=$(now_ms)
/usr/bin/time -f "  %e s wall, %U s user, %M KiB max RSS" \
    "$MP_SIGNER" audit prove --seq "$LAST" "$D/audit.log" >"$D/p.json"
echo "  $(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN { printf "%.2f", (b - a) / 1000 }') s measured here;" \
    "$(stat -c %s "$D/p.json") bytes of proof"
"$MP_SIGNER" audit check-proof "$D/p.json" --pubkey "$D/pub.pem"

echo "process start baselines:"
echo "  /bin/true:                         $(time_runs /bin/true)"
echo "  mp-signer audit person-mark --help: $(time_runs "$MP_SIGNER" audit person-mark --help)"
echo "check-proof (target < 10 ms):"
echo "  mp-signer audit check-proof:        $(time_runs "$MP_SIGNER" audit check-proof "$D/p.json" --pubkey "$D/pub.pem")"
