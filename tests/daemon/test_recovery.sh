#!/usr/bin/env bash
# Token faults through the fault-injecting module (tests/p11fault): the signer recovers by
# itself when the token comes back, replaces a lost session, never retries a refused PIN until
# SIGHUP, and answers other callers while one C_Sign hangs.
. "$(dirname "$0")/lib.sh"
: "${MP_P11FAULT:?MP_P11FAULT must name the fault-injecting module}"
make_token
softhsm=$(grep '^module = ' "$CONF" | cut -d' ' -f3)
FAULTS=$T/faults
P11LOG=$T/p11.log
: >"$FAULTS"
sed -i "s|^module = .*|module = $MP_P11FAULT|" "$CONF"
sed -i "/^module_env/a module_env = P11FAULT_MODULE=$softhsm\nmodule_env = P11FAULT_CONTROL=$FAULTS\nmodule_env = P11FAULT_LOG=$P11LOG" "$CONF"
sed -i '1a workers = 1' "$CONF"
start_signer
SCOPE=altinn:serviceowner/instances.read
request --scope $SCOPE >/dev/null || fail "no grant through the fault module"
ok "signing through the fault-injecting module works"

logins() { grep -c '^C_Login ' "$P11LOG" || true; }
ms() { date +%s%3N; }

# A lost session is replaced and the request still succeeds.
echo 'C_Sign CKR_SESSION_HANDLE_INVALID times=1' >"$FAULTS"
request --scope $SCOPE >/dev/null || fail "a lost session failed the request"
grep -q 'session was lost; replaced it' "$T/serve.err" || fail "session loss not logged"
ok "CKR_SESSION_HANDLE_INVALID: session replaced, request served"

# A token that returns a wrong signature (one bit flipped, as a fault would): the grant is not
# released, the decision is audited as an error without a JWS hash, and the next one is fine.
echo 'C_Sign OK corrupt=1 times=1' >"$FAULTS"
expect_refusal "does not verify" request --scope $SCOPE
"$PY" - "$LOG" <<'PY' || fail "the corrupt signature's audit line is wrong"
import json, sys
sign = [json.loads(l) for l in open(sys.argv[1]) if '"event":"sign"' in l][-1]
assert sign["outcome"] == "error", sign
assert "does not verify" in sign["reason"], sign
assert "jws_sha256" not in sign, sign
PY
verify_jwt "$(request --scope $SCOPE)" >/dev/null || fail "no good grant after a corrupt signature"
ok "corrupt signature from the token: not released, audited as error, next grant fine"

# The token goes away: callers hear "HSM unavailable" at once, nobody hangs.
echo '* CKR_DEVICE_REMOVED' >"$FAULTS"
expect_refusal "HSM unavailable" request --scope $SCOPE
t0=$(ms)
expect_refusal "HSM unavailable" request --scope $SCOPE
[ $(($(ms) - t0)) -lt 1000 ] || fail "an HSM-unavailable answer took over a second"
ok "token gone: requests refused at once with 'HSM unavailable'"
sleep 1
# It comes back: the signer serves again by itself within 2 s.
: >"$FAULTS"
t0=$(ms)
until request --scope $SCOPE >/dev/null 2>&1; do
    [ $(($(ms) - t0)) -lt 2000 ] || fail "not serving 2 s after the token came back"
    sleep 0.1
done
ok "token back: serving again after $(($(ms) - t0)) ms, no restart"
grep -q 'HSM available again' "$T/serve.err" || fail "recovery not logged"

# The login is lost and the PIN is refused: exactly one try, then none until SIGHUP.
before=$(logins)
printf 'C_Sign CKR_USER_NOT_LOGGED_IN times=1\nC_Login CKR_PIN_INCORRECT\n' >"$FAULTS"
expect_refusal "HSM unavailable" request --scope $SCOPE
sleep 1.5
expect_refusal "PIN" request --scope $SCOPE
sleep 1
after=$(logins)
[ $((after - before)) -eq 1 ] || fail "C_Login called $((after - before)) times after a refused PIN"
grep -q 'Not logging in again until an operator' "$T/serve.err" || fail "PIN block not logged"
ok "refused PIN: one login attempt, then none (PIN tries kept), loud log line"
: >"$FAULTS"
kill -HUP "$SERVE_PID"
t0=$(ms)
until request --scope $SCOPE >/dev/null 2>&1; do
    [ $(($(ms) - t0)) -lt 3000 ] || fail "not serving after SIGHUP"
    sleep 0.1
done
ok "SIGHUP after the operator fixed the PIN: one login, serving again"

# One C_Sign hangs: its caller gets an answer at the deadline, the others are served.
echo 'C_Sign OK hang=8 times=1' >"$FAULTS"
t0=$(ms)
( rc=0; request --scope $SCOPE >"$T/hung.out" 2>"$T/hung.err" || rc=$?; echo $rc >"$T/hung.rc" ) &
hung=$!
sleep 1
request --scope $SCOPE >/dev/null || fail "a second caller was not served while one call hung"
elapsed=$(($(ms) - t0))
wait "$hung"
[ "$(cat "$T/hung.rc")" != 0 ] || fail "the hung request got a grant"
grep -q 'no signature within' "$T/hung.err" || fail "hung request error: $(cat "$T/hung.err")"
[ "$elapsed" -lt 8000 ] || fail "the second caller waited for the hung call ($elapsed ms)"
ok "hung C_Sign: its caller answered at the deadline, another caller served after $elapsed ms"

# SIGTERM while a worker is still hung inside the module: the signer waits one deadline for it,
# then exits cleanly without finalizing under it (and, under ASan/valgrind, without a leak or a
# use of freed memory by that worker).
echo 'C_Sign OK hang=40 times=1' >"$FAULTS"
request --scope $SCOPE >/dev/null 2>&1 && fail "the call hung for 40 s got a grant"
t0=$(ms)
stop_signer
elapsed=$(($(ms) - t0))
grep -q '1 worker(s) still inside the PKCS#11 module at exit' "$T/serve.err" ||
    fail "no word of the worker left behind: $(tail -3 "$T/serve.err")"
[ "$elapsed" -lt 20000 ] || fail "stopping took $elapsed ms with a worker hung"
: >"$FAULTS"
ok "SIGTERM with a worker hung in C_Sign: exit 0 after $elapsed ms, the worker left behind and said so"
audit_verify >"$T/verify.out" || { cat "$T/verify.out"; fail "audit verify failed"; }
grep -c '"outcome":"error"' "$LOG" >/dev/null || fail "HSM errors not audited"
ok "every decision audited, log verifies: $(cat "$T/verify.out")"
