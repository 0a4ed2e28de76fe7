#!/usr/bin/env bash
# The three processes on loopback: mp-signer serve (SoftHSM), mp-exchange serve, mp-fake.
. "$(dirname "$0")/lib.sh"
setup_fake
sed -i 's/^scopes = .*/scopes = altinn:serviceowner\/instances.read altinn:serviceowner\/instances.write/' "$CONF"
sed -i '/^\[profile default\]/a consumer_orgs = 991825827\nsystemuser_orgs = 991825827' "$CONF"
# Distinct resources give the retry tests keys of their own, cold every time.
echo "resources = $(printf 'https://%s.example/ ' a b c d e f g h)" >>"$CONF"
start_signer
start_exchange
R=altinn:serviceowner/instances.read
LOG=$T/tok/audit.log
get() { curl -s -H "$XH" -o "$T/resp" -w '%{http_code}' "$EXCH$1"; }
field() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2],''))" "$T/resp" "$1"; }
grants() { grep -c '"outcome":"granted"' "$LOG" || true; }

grep -q "info: forward_caller = yes: the signer decides for each caller" "$T/exchange.err" ||
    fail "the exchange did not say it forwards callers (forward_caller's default is yes)"
# sign_who: "caller-uid forwarder-uid" of the last sign line ("-": no forwarder).
sign_who() {
    "$PY" - "$LOG" <<'PY'
import json, sys
j = [json.loads(l) for l in open(sys.argv[1]) if '"event":"sign"' in l][-1]
print(j["caller"]["uid"], j.get("forwarder", {}).get("uid", "-"))
PY
}
[ "$(get "/v1/maskinporten?scope=$R")" = 200 ] || fail "maskinporten route: $(cat "$T/resp")"
[ "$(sign_who)" = "$(id -u) $(id -u)" ] || fail "the grant's audit line: caller and forwarder $(sign_who)"
[ "$(field token_type)" = Bearer ] && [ "$(field expires_in)" -gt 60 ] || fail "bad answer $(cat "$T/resp")"
"$PY" - "$(field access_token)" <<'PY' || fail "not a Maskinporten token"
import jwt, sys
c = jwt.decode(sys.argv[1], options={"verify_signature": False})
assert c["iss"] == "https://test.maskinporten.no/" and c["scope"] == "altinn:serviceowner/instances.read"
PY
ok "GET /v1/maskinporten: a Maskinporten token from the fake"
[ "$(get "/v1/altinn?scope=$R")" = 200 ] || fail "altinn route: $(cat "$T/resp")"
"$PY" - "$(field access_token)" <<'PY' || fail "not an Altinn token"
import jwt, sys
c = jwt.decode(sys.argv[1], options={"verify_signature": False})
assert c["urn:altinn:orgNumber"] == "314159268" and c["urn:altinn:authenticatemethod"] == "maskinporten"
PY
ok "GET /v1/altinn: an Altinn token exchanged from it"
tok=$("$MP_EXCHANGE" token --url "$EXCH" --scope $R --altinn)
[ -n "$tok" ] || fail "mp-exchange token printed nothing"
ok "mp-exchange token --altinn prints the token"
[ "$(get "/v1/maskinporten?scope=$R&consumer_org=991825827&systemuser_org=991825827&systemuser_ref=r1")" = 200 ] ||
    fail "delegated request: $(cat "$T/resp")"
"$PY" - "$(field access_token)" <<'PY' || fail "delegation claims missing"
import jwt, sys
c = jwt.decode(sys.argv[1], options={"verify_signature": False})
assert c["consumer"]["ID"] == "0192:991825827" and c["supplier"]["ID"] == "0192:314159268", c
assert c["authorization_details"][0]["systemuser_org"]["ID"] == "0192:991825827", c
PY
ok "consumer_org and system-user requests: token for the consumer, supplier set"

# Single flight: 200 concurrent requests on a cold key, one grant, one call each upstream.
fake_reset
before=$(grants)
seq 200 | xargs -P 200 -I{} curl -s -H "$XH" -o /dev/null -w '%{http_code}\n' \
    "$EXCH/v1/altinn?scope=altinn:serviceowner/instances.write" >"$T/codes"
[ "$(sort -u "$T/codes")" = 200 ] || fail "not all 200: $(sort "$T/codes" | uniq -c)"
[ "$(stat_of token)" = 1 ] && [ "$(stat_of exchange)" = 1 ] ||
    fail "upstream calls: token $(stat_of token), exchange $(stat_of exchange)"
[ $(($(grants) - before)) -eq 1 ] || fail "$(($(grants) - before)) grants for one cold key"
ok "200 concurrent requests on a cold key: 1 grant (audit log), 1 token call, 1 exchange call (/stats)"

# Transient failures are retried (retries = 2), then answered 503/504; errors are not cached.
fake_reset
fake_fault '{"target":"token","status":503,"count":2}'
[ "$(get "/v1/maskinporten?scope=$R&resource=https://a.example/")" = 200 ] || fail "no retry after 503"
[ "$(stat_of token)" = 3 ] || fail "token calls $(stat_of token), want 3"
ok "two 503s then success: retried with backoff, 3 calls"
fake_reset
fake_fault '{"target":"token","status":503}'
[ "$(get "/v1/maskinporten?scope=$R&resource=https://b.example/")" = 503 ] || fail "want 503: $(cat "$T/resp")"
[ "$(stat_of token)" = 3 ] || fail "token calls $(stat_of token) after retries"
ok "503 until cleared: answered 503 after 3 tries, JSON error: $(field error)"
fake_reset
[ "$(get "/v1/maskinporten?scope=$R&resource=https://b.example/")" = 200 ] || fail "error was cached"
ok "errors are not cached: the next request succeeds"
fake_reset
fake_fault '{"target":"token","garbage":true,"count":1}'
[ "$(get "/v1/maskinporten?scope=$R&resource=https://c.example/")" = 502 ] || fail "garbage: $(cat "$T/resp")"
ok "a garbage body is a clean 502: $(field error_description)"
fake_reset
fake_fault '{"target":"token","drop":true}'
[ "$(get "/v1/maskinporten?scope=$R&resource=https://d.example/")" = 502 ] || fail "drop: $(cat "$T/resp")"
[ "$(stat_of token)" -ge 3 ] || fail "dropped connections were not retried"
ok "connections dropped without an answer: 502 after $(stat_of token) tries"
fake_reset
fake_fault '{"target":"token","error":"MP-251","status":403,"count":1}'
[ "$(get "/v1/maskinporten?scope=$R&resource=https://e.example/")" = 403 ] || fail "passthrough: $(cat "$T/resp")"
[ "$(field mp_code)" = MP-251 ] && [ "$(field error)" = invalid_grant ] || fail "MP error not passed: $(cat "$T/resp")"
ok "Maskinporten's error passes through with its status and MP code"
fake_reset
fake_fault '{"target":"token","error":"MP-130","count":1}'
[ "$(get "/v1/maskinporten?scope=$R&resource=https://f.example/")" = 200 ] || fail "clock retry: $(cat "$T/resp")"
[ "$(stat_of token)" = 2 ] || fail "clock retry calls $(stat_of token)"
grep -q "check this host's clock" "$T/exchange.err" || fail "no clock log line"
ok "MP-130 once: one retry with a fresh grant, and a log line about the clock"
fake_reset
fake_fault '{"target":"exchange","status":401,"count":1}'
[ "$(get "/v1/altinn?scope=$R&resource=https://g.example/")" = 200 ] || fail "401 retry: $(cat "$T/resp")"
[ "$(stat_of exchange)" = 2 ] && [ "$(stat_of token)" = 2 ] ||
    fail "401 retry: exchange $(stat_of exchange) token $(stat_of token)"
ok "Altinn 401 once: one fresh Maskinporten token and a second exchange"
kill "$EXCH_PID"
# forward_caller = no: the old behaviour, on purpose. The signer sees the exchange as the caller
# of every grant, and the exchange says so at start.
start_exchange --config <(printf 'forward_caller = no\n')
grep -q "warning: forward_caller = no: the signer sees this exchange as the caller" "$T/exchange.err" ||
    fail "no warning that the signer cannot tell callers apart"
[ "$(get "/v1/maskinporten?scope=$R&resource=https://g.example/")" = 200 ] || fail "forward_caller = no: $(cat "$T/resp")"
[ "$(sign_who)" = "$(id -u) -" ] || fail "forward_caller = no: the audit line names a forwarder: $(sign_who)"
ok "forward_caller: yes by default (caller and forwarder audited); no warns and audits the exchange alone"
kill "$EXCH_PID"
: >"$T/exchange.err"
"$MP_EXCHANGE" serve --maskinporten-url "$FAKE/" --altinn-url "$FAKE" --signer-socket \
    "$T/tok/signer.sock" --listen 127.0.0.1:0 --config <(printf 'timeout_ms = 500\nretries = 1\n') "${XUSER[@]}" \
    2>"$T/exchange.err" &
PIDS+=($!)
wait_exchange
fake_reset
fake_fault '{"target":"token","delay_ms":1500}'
t0=$(date +%s%3N)
[ "$(get "/v1/maskinporten?scope=$R&resource=https://h.example/")" = 504 ] || fail "timeout: $(cat "$T/resp")"
[ $(($(date +%s%3N) - t0)) -lt 3000 ] || fail "timeout took too long"
fake_reset
ok "a slow upstream: 504 within the configured timeout and retries"

curl -s -H "$XH" "$EXCH/metrics" >"$T/metrics"
grep -q 'mp_exchange_upstream_errors_total{target="token",code="timeout"}' "$T/metrics" ||
    fail "metrics lack upstream errors by code"
grep -q 'mp_exchange_upstream_seconds_bucket{target="token"' "$T/metrics" || fail "no latency histogram"
grep -q 'mp_exchange_requests_total{route="maskinporten",status="504"}' "$T/metrics" || fail "no request counts"
ok "/metrics: requests by route and status, upstream latency histogram, errors by code"
# The signing certificate's expiry, from the grants' x5c: notAfter of the token's cert.pem.
end=$(date -d "$(openssl x509 -in "$T/tok/cert.pem" -noout -enddate | cut -d= -f2)" +%s)
got=$(sed -n 's/^mp_exchange_certificate_expiry_seconds{profile="default"} //p' "$T/metrics")
[ -n "$got" ] && [ $((end - $(date +%s) - got)) -ge -5 ] && [ $((end - $(date +%s) - got)) -le 5 ] ||
    fail "certificate expiry gauge '$got', want about $((end - $(date +%s)))"
grep -q 'expires in' "$T/exchange.err" && fail "a 365-day certificate was warned about"
ok "/metrics: the signing certificate's seconds to expiry ($((got / 86400)) days), as openssl reads cert.pem"
[ "$(get /readyz)" = 503 ] && [ "$(field upstream)" = failing ] ||
    fail "readyz after a failed upstream call: $(cat "$T/resp")"
[ "$(get "/v1/maskinporten?scope=$R&resource=https://a.example/")" = 200 ] || fail "no recovery"
[ "$(get /readyz)" = 200 ] || fail "readyz: $(cat "$T/resp")"
[ "$(get /healthz)" = 200 ] || fail "healthz"

# Clock sanity: the skew against upstream Date headers is a gauge; beyond 5 s, one warning.
skew() { curl -s -H "$XH" "$EXCH/metrics" | sed -n 's/^mp_exchange_clock_skew_seconds //p'; }
s=$(skew)
[ "${s#-}" -le 1 ] || fail "skew with a true upstream clock: '$s'"
! grep -q "clock" "$T/exchange.err" || fail "clock warning with no skew"
fake_fault '{"target":"any","date_offset_s":-30}'
[ "$(get "/v1/maskinporten?scope=$R&resource=https://g.example/")" = 200 ] ||
    fail "skewed Date: $(cat "$T/resp")"
fake_reset
s=$(skew)
[ "$s" -ge 29 ] && [ "$s" -le 31 ] || fail "skew gauge with an upstream 30 s behind: '$s'"
grep -qE "warning: this host's clock is (29|30|31) s ahead of the upstream's Date header.*MP-130.*NTP" \
    "$T/exchange.err" || fail "no clock warning naming the cause: $(grep clock "$T/exchange.err")"
ok "clock skew: gauge ${s} s for an upstream Date 30 s behind, one warning naming NTP and MP-130"
kill -TERM "${PIDS[1]}"
sleep 0.5
[ "$(get /readyz)" = 503 ] && [ "$(field signer)" = unreachable ] || fail "readyz with no signer: $(cat "$T/resp")"
ok "/readyz: 503 while upstream fails, 200 once it works, 503 'signer unreachable' without the signer"

# The exchange never loads PKCS#11: no module among its libraries or its mappings.
! objdump -p "$MP_EXCHANGE" | grep NEEDED | grep -qiE 'p11|pkcs11|softhsm|mp_pkcs11' ||
    fail "mp-exchange links a PKCS#11 library"
! grep -qiE 'softhsm|opensc|pkcs11|p11fault' "/proc/${PIDS[-1]}/maps" || fail "a PKCS#11 module is mapped"
ok "mp-exchange: no PKCS#11 library linked (objdump) or mapped (/proc/PID/maps)"
grep -q '^NoNewPrivs:.1$' "/proc/${PIDS[-1]}/status" && grep -q '^Seccomp:.2$' "/proc/${PIDS[-1]}/status" ||
    fail "mp-exchange serves without no_new_privs and seccomp"
grep -q 'sandbox: no_new_privs and a seccomp allowlist' "$T/exchange.err" || fail "sandbox not logged"
ok "mp-exchange serves (every route above) under no_new_privs and its seccomp allowlist"

# Started as root with neither --user nor `user`, the exchange refuses before it listens.
if [ "$(id -u)" -eq 0 ]; then
    rc=0
    timeout 10 "$MP_EXCHANGE" serve --maskinporten-url "$FAKE/" --altinn-url "$FAKE" \
        --signer-socket "$T/tok/signer.sock" --listen 127.0.0.1:0 2>"$T/root.err" || rc=$?
    [ $rc -eq 1 ] || fail "mp-exchange as root without user: exit $rc (124: it served), not 1"
    grep -qx 'mp-exchange: error: started as root without `user`: set `user = mp-exchange` to drop root, or `user = root` to run as root on purpose' \
        "$T/root.err" || fail "root without user: $(cat "$T/root.err")"
    ! grep -q 'listening on' "$T/root.err" || fail "it listened before refusing"
    ok "mp-exchange as root without user: refused in one line naming the setting, never listened"
else
    ok "not root: the root-start refusal needs root and was not run (uid $(id -u))"
fi
