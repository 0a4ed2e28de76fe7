#!/usr/bin/env bash
# SIGHUP reloads profiles without a new PKCS#11 login (the PIN file may be gone by then); a
# broken config keeps the old profiles.
. "$(dirname "$0")/lib.sh"
make_token
start_signer
expect_refusal "scope altinn:instances.meta is not allowed" request --scope altinn:instances.meta

sed -i 's|^scopes = .*|scopes = altinn:serviceowner/instances.read altinn:instances.meta|' "$CONF"
mv "$T/tok/pin" "$T/tok/pin.away"   # a reload that logged in again would fail now
kill -HUP "$SERVE_PID"
for _ in $(seq 1 100); do
    grep -q 'reloaded 1 profile' "$T/serve.err" && break
    sleep 0.05
done
jws=$(request --scope altinn:instances.meta) || fail "new scope refused after SIGHUP"
verify_jwt "$jws" >/dev/null || fail "grant after reload does not verify"
grep -q '"event":"reload"' "$LOG" || fail "reload not audited"
ok "SIGHUP: new scope allowed, no PIN needed (login kept), reload audited"

echo 'bogus_setting = 1' >>"$CONF"
kill -HUP "$SERVE_PID"
for _ in $(seq 1 100); do
    grep -q 'reload failed' "$T/serve.err" && break
    sleep 0.05
done
grep -q 'reload failed, keeping the previous profiles: .*signer.conf:[0-9]*: unknown profile setting' \
    "$T/serve.err" || fail "broken reload not reported with file:line"
request --scope altinn:instances.meta >/dev/null || fail "old profiles lost after a bad reload"
ok "a broken config on SIGHUP is reported with file:line and the old profiles keep serving"

stop_signer
mv "$T/tok/pin.away" "$T/tok/pin"
audit_verify >"$T/verify.out" || { cat "$T/verify.out"; fail "audit verify failed"; }
ok "audit verify: $(cat "$T/verify.out")"
