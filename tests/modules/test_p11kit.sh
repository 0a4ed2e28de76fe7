#!/usr/bin/env bash
# The module suite on a remote module: SoftHSM behind `p11-kit server`, reached through
# p11-kit-client.so, so every PKCS#11 call crosses a socket to another process (the shape of
# a network HSM's client). Then the outage: under a load of concurrent requests the server and
# its per-connection p11-kit-remote processes are killed with SIGKILL, stay dead 3 s and come
# back on the same socket. The signer must not crash, no caller may wait past its timeout,
# every answered request must have its audit line, no login may fail (the token's side of
# every call is logged by tests/p11fault between the server and SoftHSM, which never shows a
# PIN), and grants must flow again within 2 s of the server's return, without a restart.
. "$(dirname "$0")/lib.sh"
: "${MP_P11FAULT:?}"
NAME=p11-kit
CLIENT=
for m in /usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so /usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-client.so; do
    [ -f "$m" ] && CLIENT=$m
done
[ -n "$CLIENT" ] || fail "p11-kit-client.so not found (apt-get install p11-kit-modules)"
softhsm_store
PSOCK=$T/p11-kit.sock
SRV_PID= SRV_UP=
ms() { date +%s%3N; }

# The server, SoftHSM behind p11fault (its call log in $T/calls.log); ready once a client
# sees the token through the socket.
srv_start() {
    # In the ASan build p11fault needs the sanitizer runtimes loaded first: the server is no
    # ASan program, and its own leaks are not ours to report.
    local pre said
    pre=$(ldd "$MP_P11FAULT" | awk '/lib(a|ub)san/ { printf "%s ", $3 }')
    said=$(grep -c '^P11_KIT_SERVER_ADDRESS=' "$T/p11-kit.out" 2>/dev/null || true)
    LD_PRELOAD=$pre ASAN_OPTIONS=detect_leaks=0 \
        SOFTHSM2_CONF=$T/softhsm2.conf P11FAULT_MODULE=$SOFTHSM P11FAULT_LOG=$T/calls.log \
        p11-kit server -f --provider "$MP_P11FAULT" -n "$PSOCK" "pkcs11:token=modules" \
        >>"$T/p11-kit.out" 2>>"$T/p11-kit.err" &
    SRV_PID=$!
    MOD_PIDS+=("$SRV_PID")
    # It prints its address once it listens: SRV_UP is that moment.
    for _ in $(seq 1 300); do
        [ "$(grep -c '^P11_KIT_SERVER_ADDRESS=' "$T/p11-kit.out" 2>/dev/null || true)" -gt "${said:-0}" ] && break
        sleep 0.01
    done
    SRV_UP=$(ms)
    for _ in $(seq 1 300); do
        P11_KIT_SERVER_ADDRESS=unix:path=$PSOCK pkcs11-tool --module "$CLIENT" -L 2>/dev/null |
            grep -q 'token label *: modules' && return 0
        sleep 0.01
    done
    fail "p11-kit server did not serve the token: $(cat "$T/p11-kit.err")"
}
# SIGNAL: the server and the p11-kit-remote it forked for each connection.
srv_kill() {
    local kids
    kids=$(ps -o pid= --ppid "$SRV_PID" | tr -d ' ' | tr '\n' ' ')
    # shellcheck disable=SC2086 # a pid list
    kill "-$1" "$SRV_PID" $kids 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
}

module_setup() {
    # The token is made on SoftHSM itself: p11-kit server serves initialised tokens only.
    MOD=$SOFTHSM TOKEN=modules TOKEN_LABEL=modules
    write_conf
    SOFTHSM2_CONF=$T/softhsm2.conf "$MP_SIGNER" token-init --config "$CONF" --label modules \
        --so-pin-file "$T/so-pin" >/dev/null
    srv_start
    MOD=$CLIENT
    MOD_ENV=("P11_KIT_SERVER_ADDRESS=unix:path=$PSOCK")
    export P11_KIT_SERVER_ADDRESS=unix:path=$PSOCK # for mkkey
}
module_suite

# --- the outage ------------------------------------------------------------------------------
# One worker: requests until $T/stop exists; a line "START-MS END-MS RC" each.
worker() {
    local t0 rc
    while [ ! -e "$T/stop" ]; do
        t0=$(ms)
        rc=0
        request --scope $S >/dev/null 2>>"$T/load.err" || rc=$?
        echo "$t0 $(ms) $rc" >>"$T/load.$1"
    done
}
lines0=$(grep -c '"event":"sign"' "$LOG")
granted0=$(grep -c '"outcome":"granted"' "$LOG")
start_signer
: >"$T/calls.log"
pids=()
for w in 1 2 3 4 5 6; do worker $w & pids+=($!); done
sleep 1.5
srv_kill KILL
killed=$(ms)
sleep 3
srv_start
# The server's return is the moment it listens, not when pkcs11-tool first sees the token
# through it: the signer may reconnect and sign in between (seen under a parallel ctest).
back=$SRV_UP
sleep 3
touch "$T/stop"
wait "${pids[@]}"
kill -0 "$SERVE_PID" || fail "the signer died in the outage: $(tail -n 5 "$T/serve.err")"
cat "$T"/load.[0-9] >"$T/load"
total=$(wc -l <"$T/load")
granted=$(awk '$3 == 0' "$T/load" | wc -l)
refused=$((total - granted))
during=$(awk -v k="$killed" -v b="$back" '$1 > k + 200 && $2 < b' "$T/load" | wc -l)
longest=$(awk '{ d = $2 - $1; if (d > m) m = d } END { print m + 0 }' "$T/load")
first=$(awk -v b="$back" '$3 == 0 && $2 > b { print $2 }' "$T/load" | sort -n | head -n 1)
[ -n "$first" ] || fail "no grant after the server came back: $(tail -n 3 "$T/load.err")"
recovery=$((first - back))
[ "$during" -gt 0 ] && [ "$(awk -v k="$killed" -v b="$back" '$1 > k + 200 && $2 < b && $3 == 0' "$T/load" | wc -l)" = 0 ] ||
    fail "requests while the server was dead: $during, some granted"
grep -q "HSM unavailable" "$T/load.err" || fail "callers were not told the HSM is unavailable: $(head -n 3 "$T/load.err")"
# 2 s is the promise (issue #14), held in the plain build; under ASan the signer and the
# server run some 2-3 times slower (2175 ms seen in CI), under valgrind some 20 times.
limit=2000
ldd "$MP_SIGNER" | grep -q 'libasan' && limit=5000
case ${MP_WRAP:-} in *valgrind*) limit=15000 ;; esac
[ "$recovery" -le "$limit" ] || fail "first grant $recovery ms after the server came back (limit $limit)"
[ "$longest" -lt $((limit * 5 / 2)) ] || fail "a request took $longest ms"
logins=$(grep -c '^C_Login ' "$T/calls.log" || true)
badlogins=$(grep '^C_Login ' "$T/calls.log" | grep -vEc ' (CKR_OK|0x0)$' || true)
[ "$badlogins" = 0 ] || fail "C_Login failed on the token $badlogins times: $(grep '^C_Login' "$T/calls.log")"
stop_signer
"$MP_SIGNER" audit verify "$LOG" --cert "$T/audit-pub.pem" >"$T/verify.out" ||
    { cat "$T/verify.out"; fail "audit verify after the outage failed"; }
# One sign line per answered request, after those of the suite.
lines=$(($(grep -c '"event":"sign"' "$LOG") - lines0))
[ "$lines" = "$total" ] || fail "audit: $lines sign lines for $total requests"
[ $(($(grep -c '"outcome":"granted"' "$LOG") - granted0)) = "$granted" ] || fail "audit: granted lines do not match"
ok "outage: $total requests ($granted granted, $refused answered 'HSM unavailable'), longest $longest ms, no crash"
ok "outage: grants again $recovery ms after the server's return; $logins logins on the token, 0 failed; $lines sign lines, one per answer; $(cat "$T/verify.out")"
