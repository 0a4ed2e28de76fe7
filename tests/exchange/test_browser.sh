#!/usr/bin/env bash
# What a web page in a browser on the same host cannot do to mp-exchange (DNS rebinding, <img>
# and fetch() from another origin), what odd profile names cannot do to the logs, and that the
# cache key does not mix up or lock out requests. Real processes on loopback, and a real
# Chromium for the browser part.
. "$(dirname "$0")/lib.sh"
# Tokens that outlive the test: a background refresh (due a quarter of the lifetime before
# expiry) would add a grant and a token call while the checks below count them.
FAKE_TOKEN_LIFETIME=3600
setup_fake
sed -i '/^\[profile default\]/a consumer_orgs = 991825827\nsystemuser_orgs = 991825827' "$CONF"
echo "resources = https://a.example/" >>"$CONF"
start_signer
printf 'allowed_hosts = mp.internal example.test:9999\n' >"$T/exchange.conf"
start_exchange --config "$T/exchange.conf"
PORT=${EXCH##*:}
R=altinn:serviceowner/instances.read
LOG=$T/tok/audit.log
# code PATH [curl args]: the status of GET $EXCH$PATH; the body lands in $T/resp.
code() { local p=$1; shift; curl -s -o "$T/resp" -w '%{http_code}' "$@" "$EXCH$p"; }
field() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2],''))" "$T/resp" "$1"; }
# The answer for a failure message, with any token cut out.
body() { sed 's/"access_token":"[^"]*"/"access_token":"…"/g' "${1:-$T/resp}"; }
lines() { grep -c '"outcome":' "$LOG" || true; } # decisions, not checkpoints

# The allowed names, as clients write them.
for h in "127.0.0.1:$PORT" "localhost:$PORT" "LocalHost:$PORT" "[::1]:$PORT" "mp.internal:$PORT" \
    example.test:9999; do
    [ "$(code "/v1/maskinporten?scope=$R" -H "$XH" -H "Host: $h")" = 200 ] ||
        fail "Host: $h refused: $(body)"
done
ok "Host 127.0.0.1, localhost, [::1] and allowed_hosts names with the port: served"

# DNS rebinding: the page's own name, or a wrong port, reaches the exchange in Host.
fake_reset
before=$(lines)
for h in "evil.example:$PORT" "127.0.0.1.evil.example:$PORT" "localhost:$((PORT + 1))" localhost \
    "mp.internal:1" example.test "Host:"; do
    hdr=(-H "Host: $h")
    [ "$h" != "Host:" ] || hdr=(--http1.0 -H "Host:") # no Host at all (HTTP/1.1 requires one)
    [ "$(code "/v1/altinn?scope=$R" -H "$XH" "${hdr[@]}")" = 421 ] ||
        fail "Host: $h not refused with 421: $(body)"
    [ "$(field error)" = invalid_request ] || fail "Host $h: error $(body)"
done
[ "$(code /metrics -H "Host: evil.example:$PORT")" = 421 ] || fail "/metrics served to a foreign Host"
grep -qF 'Host is not a name of this exchange' "$T/resp" || fail "421 does not say why: $(body)"
! grep -qF evil.example "$T/resp" || fail "the answer echoes the Host header"
[ "$(lines)" = "$before" ] && [ "$(stat_of token)" = 0 ] ||
    fail "a refused Host still reached the signer ($(lines) vs $before lines) or Maskinporten"
ok "foreign Host, wrong port, bare name or no Host: 421, nothing signed, nothing sent upstream"

# Cross-site requests carry Origin or Sec-Fetch-Site; a token request needs X-MP-Exchange.
for h in "Origin: http://evil.example" "Origin: null" "Sec-Fetch-Site: cross-site" \
    "Sec-Fetch-Site: same-site" "Sec-Fetch-Site: same-origin"; do
    [ "$(code "/v1/altinn?scope=$R" -H "$XH" -H "$h")" = 403 ] || fail "$h: not 403: $(body)"
    [ "$(field error)" = access_denied ] || fail "$h: error $(body)"
done
[ "$(code "/v1/altinn?scope=$R")" = 403 ] && grep -qF 'X-MP-Exchange' "$T/resp" ||
    fail "a token request without X-MP-Exchange: $(body)"
[ "$(code "/v1/maskinporten?scope=$R" -H "X-MP-Exchange;")" = 403 ] || fail "an empty X-MP-Exchange served"
[ "$(code "/v1/maskinporten?scope=$R" -H "$XH" -H "Sec-Fetch-Site: none")" = 200 ] ||
    fail "Sec-Fetch-Site: none refused: $(body)"
[ "$(code /healthz)" = 200 ] && [ "$(code /metrics)" = 200 ] || fail "probes need no X-MP-Exchange"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H "Origin: http://evil.example" \
    -H 'Access-Control-Request-Headers: x-mp-exchange' "$EXCH/v1/altinn?scope=$R")" = 403 ] ||
    fail "a CORS preflight was not refused"
got -i -X OPTIONS "$EXCH/v1/altinn"
grep -qi '^access-control-allow' "$T/got" && fail "a preflight got CORS headers"
[ "$(lines)" = "$before" ] && [ "$(stat_of token)" = 0 ] || fail "a refused request was signed or sent"
got "$EXCH/metrics"
grep -q 'mp_exchange_requests_total{route="refused",status="403"}' "$T/got" ||
    fail "refusals are not counted in /metrics"
ok "Origin, Sec-Fetch-Site other than none, no X-MP-Exchange, preflight: 403, nothing signed"

# The same with a real browser: a page of another origin fires <img> and fetch() at the
# exchange, and a rebound name is navigated to directly.
command -v chromium >/dev/null || fail "chromium is not installed (scripts/lib.sh MP_PKGS_TEST)"
mkdir "$T/www"
cat >"$T/www/attack.html" <<HTML
<html><body><img src="$EXCH/v1/altinn?scope=$R&resource=https://a.example/">
<pre id="out">waiting</pre><script>
const out = [];
const done = () => { document.getElementById("out").textContent = out.join("\n"); };
Promise.allSettled([
  fetch("$EXCH/v1/maskinporten?scope=$R", {headers: {"X-MP-Exchange": "1"}})
    .then(r => r.text()).then(t => out.push("read-with-header " + t), e => out.push("blocked-with-header")),
  fetch("$EXCH/v1/maskinporten?scope=$R&resource=https://a.example/", {mode: "no-cors"})
    .then(r => out.push("opaque " + r.type), e => out.push("blocked-no-cors")),
]).then(done);
</script></body></html>
HTML
"$PY" -u -m http.server --bind 127.0.0.1 0 --directory "$T/www" >"$T/www.out" 2>&1 &
PIDS+=($!)
WWW=$(line_value "$T/www.out" 's/.*port \([0-9]*\).*/\1/p') || fail "http.server did not start"
browse() {
    HOME=$T timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$T/chromium" \
        --host-resolver-rules="MAP rebound.example 127.0.0.1" --virtual-time-budget=5000 \
        --dump-dom "$1" 2>>"$T/chromium.log" || { tail -5 "$T/chromium.log" >&2; fail "chromium failed on $1"; }
}
fake_reset
browse "http://127.0.0.1:$WWW/attack.html" >"$T/dom"
grep -q 'blocked-with-header' "$T/dom" && ! grep -q 'access_token' "$T/dom" ||
    fail "the page read an answer: $(body "$T/dom")"
[ "$(lines)" = "$before" ] && [ "$(stat_of token)" = 0 ] ||
    fail "the page's <img> or fetch() was signed ($(lines) vs $before decisions) or sent upstream"
browse "http://rebound.example:$PORT/v1/maskinporten?scope=$R" >"$T/dom2"
grep -qF 'Host is not a name of this exchange' "$T/dom2" && ! grep -q access_token "$T/dom2" ||
    fail "a rebound name was served: $(body "$T/dom2")"
[ "$(lines)" = "$before" ] && [ "$(stat_of token)" = 0 ] ||
    fail "Chromium's requests were signed ($(lines) vs $before lines) or sent upstream"
grep -q 'warning: refused a request' "$T/exchange.err" || fail "refusals not logged"
ok "Chromium: <img>, fetch() with and without X-MP-Exchange and a rebound name: no token, nothing signed"

# A profile name with a newline cannot forge a journal line (charset, and log escaping).
forged='%0A%3C2%3Echeckpoint%3A%20anchor%201%3Aabc'
[ "$(code "/v1/maskinporten?scope=$R&profile=x$forged" -H "$XH")" = 400 ] ||
    fail "a profile with a newline: $(body)"
! grep -q '^<2>\|^checkpoint' "$T/exchange.err" "$T/signer.err" || fail "a forged line reached a log"
ok "profile=x%0A<2>checkpoint…: 400, no forged line in either log"

# profile= and profile=default are one profile, so one cache entry: one grant, one fetch.
fake_reset
before=$(lines)
[ "$(code "/v1/maskinporten?scope=$R&systemuser_ref=one&consumer_org=991825827&systemuser_org=991825827&profile=" -H "$XH")" = 200 ] ||
    fail "empty profile: $(body)"
[ "$(code "/v1/maskinporten?scope=$R&systemuser_ref=one&consumer_org=991825827&systemuser_org=991825827&profile=default" -H "$XH")" = 200 ] ||
    fail "profile=default: $(body)"
[ "$(stat_of token)" = 1 ] && [ $(($(lines) - before)) = 1 ] ||
    fail "profile= and profile=default: $(stat_of token) token calls, $(($(lines) - before)) audit lines"
ok "profile= and profile=default share one cache entry: 1 grant, 1 token call"

# Two requests whose fields joined with 0x1f were one key: B is served, A must not get B's token.
B="profile=default&scope=$R&consumer_org=991825827&systemuser_org=991825827&systemuser_ref=991825827&resource=https://a.example/"
A="profile=default%1F$R&scope=991825827&consumer_org=991825827&systemuser_org=991825827&systemuser_ref=https://a.example/"
[ "$(code "/v1/maskinporten?$B" -H "$XH")" = 200 ] || fail "request B: $(body)"
tb=$(field access_token)
ca=$(code "/v1/maskinporten?$A" -H "$XH")
[ "$ca" != 200 ] || [ "$(field access_token)" != "$tb" ] || fail "request A got request B's token"
ok "the old 0x1f key collision: A is answered $ca, not with B's token"

# 300 distinct keys fill the 256-entry cache; the next new key is still served (LRU eviction).
for i in $(seq 1 300); do
    printf '%s\n' "$EXCH/v1/maskinporten?scope=$R&consumer_org=991825827&systemuser_org=991825827&systemuser_ref=fill$i"
done | xargs -P 4 -n 1 curl -s -H "$XH" -o /dev/null -w '%{http_code}\n' >"$T/fill"
[ "$(sort -u "$T/fill")" = 200 ] || fail "filling the cache: $(sort "$T/fill" | uniq -c)"
[ "$(code "/v1/maskinporten?scope=$R&consumer_org=991825827&systemuser_org=991825827&systemuser_ref=new" -H "$XH")" = 200 ] ||
    fail "a new key after 300: $(body)"
got "$EXCH/metrics"
grep -q '^mp_exchange_cache_evictions_total [1-9]' "$T/got" || fail "no evictions counted"
ok "300 distinct keys then a new one: served, the least recently used entries evicted"
