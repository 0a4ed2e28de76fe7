# Helpers for the mp-signer serve integration tests: a throwaway token per test, a daemon on
# it, and assertions. Source from a test script: MP_SIGNER and MP_ROOT come from ctest.
# shellcheck shell=bash
set -Eeuo pipefail

: "${MP_SIGNER:?MP_SIGNER must name the mp-signer binary}"
: "${MP_ROOT:?MP_ROOT must name the source tree}"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/mp-daemon-test.XXXXXX)
SERVE_PID=

cleanup() {
    [ -n "$SERVE_PID" ] && kill -KILL "$SERVE_PID" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
# A command that fails outside an explicit check names itself, so a CI log says what broke.
trap 'echo "FAIL - line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR

ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*" >&2; exit 1; }
. "$MP_ROOT/tests/common.sh"

# Token in $T/tok with the default profile; quiet.
make_token() {
    MP_SIGNER=$MP_SIGNER bash "$MP_ROOT/scripts/softhsm-init.sh" "$T/tok" >/dev/null 2>&1 ||
        fail "softhsm-init.sh failed"
    CONF=$T/tok/signer.conf
    SOCK=$T/tok/signer.sock
    LOG=$T/tok/audit.log
}

# Starts the daemon and waits for its socket; stderr to $T/serve.err.
start_signer() {
    # valgrind does not implement seccomp(2): under it the filter is off (test_sandbox.sh runs
    # natively in every stage; the -Werror and ASan stages run everything with the filter on).
    case ${MP_WRAP:-} in
    *valgrind*) grep -q '^sandbox = off$' "$CONF" || sed -i '1i sandbox = off' "$CONF" ;;
    esac
    ${MP_WRAP:-} "$MP_SIGNER" serve --config "$CONF" 2>>"$T/serve.err" &
    SERVE_PID=$!
    local before
    before=$(grep -c 'info: serving' "$T/serve.err" 2>/dev/null || true)
    for _ in $(seq 1 200); do
        [ "$(grep -c 'info: serving' "$T/serve.err" 2>/dev/null || true)" -gt "${before:-0}" ] &&
            return 0
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$T/serve.err" >&2
    fail "signer did not start"
}

stop_signer() {
    local rc=0
    kill -TERM "$SERVE_PID"
    wait "$SERVE_PID" || rc=$?
    SERVE_PID=
    if [ $rc -ne 0 ]; then
        tail -n 40 "$T/serve.err" >&2
        fail "mp-signer serve exited with $rc on SIGTERM"
    fi
}

request() { "$MP_SIGNER" request --socket "$SOCK" "$@"; }

# Verifies a grant with python3-jwt against the token's certificate; prints its claims JSON.
verify_jwt() {
    "$PY" - "$1" "$T/tok/cert.pem" <<'PY'
import json, sys
import jwt
from cryptography import x509
cert = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
claims = jwt.decode(sys.argv[1], cert.public_key(), algorithms=["RS256"],
                    audience="https://test.maskinporten.no/")
print(json.dumps(claims))
PY
}

sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
# The anchor (SEQ:SHA256) the signer logged for the last checkpoint line it wrote.
last_anchor() {
    grep -o 'checkpoint: anchor [0-9]*:[0-9a-f]\{64\}$' "$T/serve.err" | tail -n 1 | cut -d' ' -f3
}

# Asserts the command fails, prints nothing on stdout and one stderr line containing $1.
expect_refusal() {
    local want=$1 out err rc=0
    shift
    out=$("$@" 2>"$T/err") || rc=$?
    err=$(cat "$T/err")
    [ $rc -ne 0 ] || fail "expected failure: $*"
    [ -z "$out" ] || fail "stdout not empty on failure: $*"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "stderr is not one line: $err"
    case $err in *"$want"*) ;; *) fail "stderr lacks '$want': $err" ;; esac
}

audit_verify() {
    "$MP_SIGNER" audit verify "$LOG" --cert "$T/tok/audit-pub.pem"
}
