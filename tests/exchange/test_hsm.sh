#!/usr/bin/env bash
# The exchange's /readyz reflects the signer's HSM: the token gone (recovering) or the PIN
# blocked makes it 503 naming the state; it is 200 again once the signer serves by itself (token
# back) or after the operator's SIGHUP (PIN fixed).
. "$(dirname "$0")/lib.sh"
: "${MP_P11FAULT:?MP_P11FAULT must name the fault-injecting module}"
setup_fake
softhsm=$(grep '^module = ' "$CONF" | cut -d' ' -f3)
FAULTS=$T/faults
: >"$FAULTS"
sed -i "s|^module = .*|module = $MP_P11FAULT|" "$CONF"
sed -i "/^module_env/a module_env = P11FAULT_MODULE=$softhsm\nmodule_env = P11FAULT_CONTROL=$FAULTS" "$CONF"
start_signer
SIGNER_PID=$!
start_exchange
R=altinn:serviceowner/instances.read
ready() { curl -s -H "$XH" -o "$T/ready" -w '%{http_code}' "$EXCH/readyz"; }
field() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/ready" "$1"; }
ms() { date +%s%3N; }
until_ready() { # LIMIT-MS; sets WAITED
    local t0
    t0=$(ms)
    until [ "$(ready)" = 200 ]; do
        [ $(($(ms) - t0)) -lt "$1" ] || fail "/readyz not 200 within $1 ms: $(cat "$T/ready")"
        sleep 0.1
    done
    WAITED=$(($(ms) - t0))
}

[ "$(ready)" = 200 ] && [ "$(field hsm)" = up ] || fail "readyz at start: $(cat "$T/ready")"
ok "/readyz 200 with hsm up"

echo '* CKR_DEVICE_REMOVED' >"$FAULTS"
code=$(curl -s -H "$XH" -o "$T/resp" -w '%{http_code}' "$EXCH/v1/maskinporten?scope=$R")
[ "$code" = 503 ] && grep -q "HSM unavailable" "$T/resp" || fail "token gone: HTTP $code $(cat "$T/resp")"
[ "$(ready)" = 503 ] && [ "$(field signer)" = up ] || fail "readyz, token gone: $(cat "$T/ready")"
case $(field hsm) in down:*) ;; *) fail "hsm state not named: $(cat "$T/ready")" ;; esac
ok "token gone: a token request answers 503 'HSM unavailable'; /readyz 503 with hsm '$(field hsm)'"
: >"$FAULTS"
until_ready 3000
ok "token back: /readyz 200 again after $WAITED ms, no restart"

printf 'C_Sign CKR_USER_NOT_LOGGED_IN times=1\nC_Login CKR_PIN_LOCKED\n' >"$FAULTS"
curl -s -H "$XH" -o /dev/null "$EXCH/v1/maskinporten?scope=altinn:serviceowner/instances.write" || true # a cold key
sleep 1.5
[ "$(ready)" = 503 ] || fail "readyz with the PIN locked: $(cat "$T/ready")"
case $(field hsm) in pin:*) ;; *) fail "PIN state not named: $(cat "$T/ready")" ;; esac
ok "PIN locked: /readyz 503 with hsm '$(field hsm | cut -c1-60)'"
: >"$FAULTS"
kill -HUP "$SIGNER_PID"
until_ready 3000
ok "operator's SIGHUP: /readyz 200 again after $WAITED ms"
