# Helpers for the exchange tests: a token, mp-fake, mp-signer serve and mp-exchange serve on
# loopback, all in a temp dir. MP_SIGNER, MP_EXCHANGE, MP_FAKE and MP_ROOT come from ctest.
# shellcheck shell=bash
set -Eeuo pipefail
: "${MP_SIGNER:?}" "${MP_EXCHANGE:?}" "${MP_FAKE:?}" "${MP_ROOT:?}"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/mp-exchange-test.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "FAIL - line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
ok() { echo "ok - $*"; }

. "$MP_ROOT/tests/common.sh"
# The daemons' logs go with a failure: a flake seen once in CI must be diagnosable from its output.
fail() {
    local f
    echo "FAIL - $*" >&2
    for f in "$T"/exchange.err "$T"/fake.err "$T"/signer.err; do
        [ -s "$f" ] && { echo "--- tail of $(basename "$f")" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}

# The developer token, the fake's config for its client (and a kid client), mp-fake running.
setup_fake() {
    MP_SIGNER=$MP_SIGNER bash "$MP_ROOT/scripts/softhsm-init.sh" "$T/tok" >/dev/null 2>&1 ||
        fail "softhsm-init.sh failed"
    CONF=$T/tok/signer.conf
    CID=$(sed -n 's/^client_id = //p' "$CONF")
    KIDCID=9f0e1c2d-0000-4000-8000-00000000c1d0
    "$PY" "$MP_ROOT/tests/exchange/jwtmake.py" keygen "$T/sw.pem" "$T/jwks.json" sw-key-1
    cat "$T/tok/ca.pem" ${FAKE_EXTRA_CA:-} >"$T/trusted-cas.pem"
    cat >"$T/fake.conf" <<CONF
listen = 127.0.0.1:0
issuer = https://test.maskinporten.no/
ca = $T/trusted-cas.pem
${FAKE_TLS:-}
token_lifetime = ${FAKE_TOKEN_LIFETIME:-120}
[client $CID]
org = 314159268
scopes = altinn:serviceowner/instances.read altinn:serviceowner/instances.write
consumer_orgs = 991825827
systemuser_orgs = 991825827
[client $KIDCID]
org = 974760673
scopes = altinn:serviceowner/instances.read
jwks = $T/jwks.json
consumer_orgs = 991825827
systemuser_orgs = 991825827
CONF
    : >"$T/fake.out"
    "$MP_FAKE" --config "$T/fake.conf" >"$T/fake.out" 2>"$T/fake.err" &
    PIDS+=($!)
    FAKE=$(line_value "$T/fake.out" 's/^mp-fake listening on //p') ||
        fail "mp-fake did not start: $(cat "$T/fake.err")"
}

start_signer() {
    : >"$T/signer.err"
    "$MP_SIGNER" serve --config "$CONF" 2>"$T/signer.err" &
    PIDS+=($!)
    for _ in $(seq 1 200); do
        grep -q 'info: serving' "$T/signer.err" && return 0
        sleep 0.05
    done
    fail "signer did not start: $(cat "$T/signer.err")"
}

# Started as root, a daemon needs `user` said: the tests run as whoever runs them, root on purpose.
XUSER=(--user "$(id -un)")

# mp-exchange on a free loopback port: EXCH is its base URL.
start_exchange() {
    : >"$T/exchange.err"
    "$MP_EXCHANGE" serve --maskinporten-url "$FAKE/" --altinn-url "$FAKE" \
        --signer-socket "$T/tok/signer.sock" --listen 127.0.0.1:0 "${XUSER[@]}" "$@" 2>"$T/exchange.err" &
    PIDS+=($!)
    EXCH_PID=$!
    wait_exchange
}

# curl ARGS… into $T/got. Grep the file, not a pipe: under pipefail `curl | grep -q` fails when
# grep exits first and curl's next write meets the closed pipe (seen: "no evictions counted").
got() { curl -s "$@" >"$T/got" || fail "curl $*: exit $?"; }

# The exchange answers token requests only with this header (exchange/api_guard.h).
XH='X-MP-Exchange: 1'

# EXCH: the base URL of the exchange whose log is $T/exchange.err, once it is listening. The
# caller empties that log before starting the exchange: the redirection truncates it only in the
# child, so without that this could read the previous exchange's port.
wait_exchange() {
    EXCH=$(line_value "$T/exchange.err" 's/.*info: listening on \(http:.*\)/\1/p') ||
        fail "exchange did not start: $(cat "$T/exchange.err")"
}

stat_of() { curl -s "$FAKE/stats" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
fake_fault() { curl -s -X POST --data "$1" "$FAKE/fake/fault" >/dev/null; }
fake_reset() { curl -s -X POST "$FAKE/fake/reset" >/dev/null; }

# A throwaway CA ($T/tls/ca.pem) and a server certificate for 127.0.0.1 it issued
# ($T/tls/srv.pem, key srv.key): mp-fake on HTTPS with a CA no system store trusts.
make_tls_server_cert() {
    mkdir -p "$T/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls/ca.key" -out "$T/tls/ca.pem" -days 2 \
        -subj "/CN=mp-fake TLS test CA" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$T/tls/srv.key" -out "$T/tls/srv.csr" \
        -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/tls/srv.ext"
    openssl x509 -req -in "$T/tls/srv.csr" -CA "$T/tls/ca.pem" -CAkey "$T/tls/ca.key" -set_serial 7 \
        -days 2 -extfile "$T/tls/srv.ext" -out "$T/tls/srv.pem" 2>/dev/null
}
