#!/usr/bin/env bash
# Measures what audit log rotation costs requests: per round, the daemon under load (c=8)
# with no rotation (the baseline, same round) and with a rotation at every 64 KiB of log
# (about one every 90 lines: far more often than any deployment, so that p99 holds many), and
# then with SIGUSR1 sent every 0.2 s. Prints p50/p99 of each and how many rotations happened.
#
# usage: scripts/bench-rotate.sh [--requests N] [--rounds R] [--dir DIR]
# Uses $MP_SIGNER if set, else builds build/ as RelWithDebInfo.
set -euo pipefail
MP_SCRIPT=bench-rotate
. "$(dirname "$0")/lib.sh"

usage() {
    echo "usage: scripts/bench-rotate.sh [--requests N] [--rounds R] [--dir DIR]" >&2
    exit 2
}
n=4000 rounds=3 dir=
while [ $# -gt 0 ]; do
    case $1 in
    --requests | --rounds | --dir) [ $# -ge 2 ] || usage ;;&
    --requests) n=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) usage ;;
    esac
done
case $n$rounds in *[!0-9]*) mp_die "--requests and --rounds take whole numbers" ;; esac

# shellcheck disable=SC2086
mp_ensure_packages $MP_PKGS_BUILD $MP_PKGS_RUN
if [ -z "${MP_SIGNER:-}" ]; then
    mp_say "building into build/ (RelWithDebInfo)"
    mp_build "$MP_ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    MP_SIGNER=$MP_ROOT/build/mp-signer
fi
own_dir=0
if [ -z "$dir" ]; then
    dir=$(mktemp -d /tmp/mp-bench.XXXXXX)
    own_dir=1
fi
serve_pid= kicker=
finish() {
    [ -n "$kicker" ] && kill "$kicker" 2>/dev/null
    [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    [ $own_dir -eq 1 ] && rm -rf "$dir"
    return 0
}
trap finish EXIT

MP_SIGNER=$MP_SIGNER bash "$MP_ROOT/scripts/softhsm-init.sh" "$dir/tok" >/dev/null 2>&1 ||
    mp_die "softhsm-init.sh $dir/tok failed"
base=$dir/tok/signer.conf
sock=$dir/tok/signer.sock
cp "$base" "$dir/norotate.conf"
sed '1a audit_rotate_bytes = 65536' "$base" >"$dir/rotate.conf"

# Median and max of what the signer logged for each rotation's PART (checkpoint or switch).
stat_us() {
    { grep -o "$1 [0-9]* us" "$dir/serve.err" || true; } | awk '{print $2}' | sort -n |
        awk -v p="$1" '{a[NR]=$1} END {if (NR) printf "%s_us median %d max %d", p, a[int((NR+1)/2)], a[NR]}'
}

run() { # LABEL CONF [usr1]: a fresh log, the daemon, one bench at c=8
    local label=$1 conf=$2 usr1=${3:-} line rot
    rm -f "$dir"/tok/audit.log*
    "$MP_SIGNER" serve --config "$conf" 2>"$dir/serve.err" &
    serve_pid=$!
    for _ in $(seq 1 200); do grep -q 'info: serving' "$dir/serve.err" && break; sleep 0.05; done
    grep -q 'info: serving' "$dir/serve.err" || { cat "$dir/serve.err" >&2; mp_die "serve did not start"; }
    if [ -n "$usr1" ]; then
        (while :; do sleep 0.2; kill -USR1 "$serve_pid" 2>/dev/null || exit 0; done) &
        kicker=$!
    fi
    line=$("$MP_SIGNER" bench --socket "$sock" --requests "$n" --concurrency 8) ||
        mp_die "bench $label failed"
    [ -n "$kicker" ] && kill "$kicker" && wait "$kicker" 2>/dev/null || true
    kicker=
    kill -TERM "$serve_pid"
    wait "$serve_pid" || mp_die "serve exited with $? on SIGTERM"
    serve_pid=
    rot=$(grep -c 'audit log rotated' "$dir/serve.err" || true)
    # What each rotation held requests for (the signer logs it), median and max.
    us=$(stat_us checkpoint)" "$(stat_us switch)
    "$MP_SIGNER" audit verify "$dir/tok" --cert "$dir/tok/audit-pub.pem" >/dev/null ||
        mp_die "$label: the rotated log does not verify"
    printf '%s rotations=%s %s %s\n' "$label" "$rot" "${us:-}" "$line"
}

mp_say "$n requests per run at c=8, $rounds round(s), in $dir"
for r in $(seq 1 "$rounds"); do
    echo "round $r"
    # One audit-sized line appended and fdatasync'd per signature: the fdatasync of this disk.
    rm -f "$dir/sync"
    printf 'raw+sync c=1 %s\n' "$("$MP_SIGNER" bench --raw --config "$base" --sync-file "$dir/sync" \
        --requests 300 --concurrency 1)"
    printf 'raw      c=1 %s\n' "$("$MP_SIGNER" bench --raw --config "$base" --requests 300 --concurrency 1)"
    run "no rotation (baseline)" "$dir/norotate.conf"
    run "rotate every 64 KiB   " "$dir/rotate.conf"
    run "SIGUSR1 every 0.2 s   " "$dir/norotate.conf" usr1
done
