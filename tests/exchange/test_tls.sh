#!/usr/bin/env bash
# Upstream TLS is verified (a private CA only with --ca-file), redirects are not followed, and
# every misbehaving upstream gives a bounded, clear error while the exchange stays up.
. "$(dirname "$0")/lib.sh"
make_tls_server_cert
FAKE_TLS=$(printf 'tls_cert = %s\ntls_key = %s' "$T/tls/srv.pem" "$T/tls/srv.key") setup_fake
case $FAKE in https://*) ;; *) fail "mp-fake is not on HTTPS: $FAKE" ;; esac
start_signer
R=altinn:serviceowner/instances.read
get() { curl -s -H "$XH" -o "$T/resp" -w '%{http_code}' "$EXCH$1" || true; } # 000: no connection

start_exchange --ca-file "$T/tls/ca.pem"
[ "$(get "/v1/altinn?scope=$R")" = 200 ] || fail "HTTPS with --ca-file: $(cat "$T/resp")"
ok "HTTPS upstream with a private CA given by --ca-file: Altinn token"
kill "$EXCH_PID"
# Verifying against the system store loads all of it: under ASan with full malloc stack traces
# (as CI runs) that alone took 6.7 s, past the default 3 s connect timeout.
start_exchange --config <(printf 'connect_timeout_ms = 60000\ntimeout_ms = 60000\n')
[ "$(get "/v1/maskinporten?scope=$R")" = 502 ] || fail "untrusted TLS accepted: $(cat "$T/resp")"
grep -qi 'certificate' "$T/resp" || fail "TLS error not named: $(cat "$T/resp")"
curl -s -H "$XH" "$EXCH/metrics" >"$T/metrics"
grep -q '^mp_exchange_upstream_errors_total{target="token",code="tls"} 1$' "$T/metrics" ||
    fail "a TLS verification failure was retried or not counted: $(grep upstream_errors "$T/metrics")"
ok "HTTPS upstream whose certificate the system store does not trust: 502 naming the certificate, not retried"
kill "$EXCH_PID"

bad() { # MODE EXPECTED-STATUS TEXT
    rm -f "$T/bad.port" # the child's redirection truncates it too late to hide the last port
    "$PY" "$MP_ROOT/tests/exchange/badserver.py" "$1" >"$T/bad.port" &
    PIDS+=($!)
    for _ in $(seq 1 200); do [ -s "$T/bad.port" ] && break; sleep 0.05; done
    [ -s "$T/bad.port" ] || fail "$1: badserver.py did not start"
    : >"$T/exchange.err"
    "$MP_EXCHANGE" serve --maskinporten-url "http://127.0.0.1:$(cat "$T/bad.port")/" \
        --altinn-url http://127.0.0.1:9 --signer-socket "$T/tok/signer.sock" --listen 127.0.0.1:0 \
        --config <(printf 'timeout_ms = 1500\nretries = 1\n') "${XUSER[@]}" 2>"$T/exchange.err" &
    PIDS+=($!)
    EXCH_PID=$!
    wait_exchange
    t0=$(date +%s%3N)
    code=$(get "/v1/maskinporten?scope=$R")
    [ "$code" = "$2" ] || fail "$1: HTTP $code, want $2: $(cat "$T/resp")"
    grep -qi -- "$3" "$T/resp" || fail "$1: answer lacks '$3': $(cat "$T/resp")"
    ms=$(($(date +%s%3N) - t0))
    [ "$ms" -lt 8000 ] || fail "$1: not bounded in time"
    answer=$(cut -c1-90 "$T/resp")
    [ "$(get /healthz)" = 200 ] || fail "$1: exchange not up afterwards"
    ok "$1: HTTP $code in $ms ms, $answer; exchange still up"
    kill "$EXCH_PID" "${PIDS[-2]}"
}
bad redirect 502 "HTTP 302"
bad huge 502 "larger than 1 MiB"
bad slow 504 "timeout"
bad reset 502 "temporarily_unavailable"
bad html 502 "not a JSON object"
bad truncated 502 "temporarily_unavailable"
