# The same suite on every PKCS#11 module (issue #14). A module's test script sources this,
# then defines module_setup, which starts whatever the module needs (a server, a TPM), makes
# an empty token whose user PIN is in $T/pin, and sets:
#   MOD             the module's path
#   MOD_ENV         array of NAME=VALUE lines for module_env
#   MOD_INIT_ARGS   module_init_args, or empty
#   TOKEN           the token's label, as written in a PKCS#11 URI (percent-encoded)
#   TOKEN_LABEL     the same label as the module reports it (for mkkey)
# and may define module_make_keys (default: mp-signer key generate) and module_stop (run on
# exit before the daemons are killed). Then it calls
# module_suite, which checks on that module: key generate, key list's verdicts (an
# extractable key made beside them is refused), the CSR signed inside the token, import-cert,
# a grant with x5c and one with kid verified by python3-jwt and the jose CLI, serve + request
# with the audit log verified, and mp-exchange end to end against mp-fake.
# MP_SIGNER, MP_EXCHANGE, MP_FAKE, MP_MKKEY and MP_ROOT come from ctest.
# shellcheck shell=bash
: "${MP_EXCHANGE:?}" "${MP_FAKE:?}" "${MP_MKKEY:?}"
. "$MP_ROOT/tests/grant/lib.sh"

CONF=$T/signer.conf
SOCK=$T/signer.sock
LOG=$T/audit.log
S=altinn:serviceowner/instances.read
CID=$(cat /proc/sys/kernel/random/uuid)     # an x5c client at mp-fake
KIDCID=$(cat /proc/sys/kernel/random/uuid)  # a client with a registered key (kid)
KID=modules-kid-1
MOD_ENV=()
MOD_INIT_ARGS=
# Daemons the module's setup started (a server, a TPM); killed on exit with the signer's.
MOD_PIDS=()
module_cleanup() {
    local p
    if declare -F module_stop >/dev/null; then module_stop || true; fi
    for p in "${MOD_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    cleanup
}
trap module_cleanup EXIT

# A random PIN in $T/pin (and SO PIN in $T/so-pin), mode 0600, as softhsm-init.sh makes them.
make_pins() {
    (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$T/pin" &&
        head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$T/so-pin")
}

# A SoftHSM store in $T/tokens with its config in $T/softhsm2.conf; SOFTHSM names the module.
softhsm_store() {
    SOFTHSM=$(. "$MP_ROOT/scripts/lib.sh" && mp_softhsm_module) || fail "no SoftHSM module (softhsm2)"
    mkdir -p "$T/tokens"
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" \
        >"$T/softhsm2.conf"
}

write_conf() {
    local key="pkcs11:token=$TOKEN;object=virksomhetssertifikat;type=private" e
    {
        echo "module = $MOD"
        for e in "${MOD_ENV[@]}"; do echo "module_env = $e"; done
        [ -z "$MOD_INIT_ARGS" ] || echo "module_init_args = $MOD_INIT_ARGS"
        cat <<CONF
pin_file = $T/pin
socket = $SOCK
audit_log = $LOG
audit_key = pkcs11:token=$TOKEN;object=audit;type=private
user = $(id -un)
trusted_forwarders = $(id -un)

[profile default]
key = $key
client_id = $CID
env = test
scopes = $S
allow_uids = $(id -u)

[profile kid]
key = $key
client_id = $KIDCID
kid = $KID
env = test
scopes = $S
allow_uids = $(id -u)
CONF
    } >"$CONF"
}

module_make_keys() {
    "$MP_SIGNER" key generate --config "$CONF" --label virksomhetssertifikat --id 01 --bits 2048
    "$MP_SIGNER" key generate --config "$CONF" --label audit --id 02 --bits 2048
}

# key list's lines for LABEL: the heading, the verdict and the attributes.
key_entry() { grep -A2 "^$1  id=" "$T/list"; }

# MOD_NO_EXTRACTABLE: the module's refusal, when it cannot make an extractable key at all.
check_keys() {
    local why="CKA_EXTRACTABLE is true"
    "$MP_SIGNER" key list --config "$CONF" >"$T/list"
    key_entry virksomhetssertifikat | grep -q "^  verdict: non-exportable, generated in the token" ||
        fail "key list: $(key_entry virksomhetssertifikat)"
    key_entry virksomhetssertifikat | grep -q "sensitive=1 extractable=0 never_extractable=1" ||
        fail "key list attributes: $(key_entry virksomhetssertifikat)"
    if [ -n "${MOD_NO_EXTRACTABLE:-}" ]; then
        MKKEY_INIT_ARGS=$MOD_INIT_ARGS "$MP_MKKEY" "$MOD" "$TOKEN_LABEL" "$T/pin" extractable exportable 0e \
            2>"$T/mkkey.err" && fail "the module made an extractable key after all: drop MOD_NO_EXTRACTABLE"
        grep -q "$MOD_NO_EXTRACTABLE" "$T/mkkey.err" || fail "mkkey failed otherwise: $(cat "$T/mkkey.err")"
        ok "$NAME: keys generated in the token are non-exportable; the module makes no extractable key ($MOD_NO_EXTRACTABLE)"
        return 0
    fi
    MKKEY_INIT_ARGS=$MOD_INIT_ARGS "$MP_MKKEY" "$MOD" "$TOKEN_LABEL" "$T/pin" extractable exportable 0e ||
        fail "mkkey could not make an extractable key on this module"
    "$MP_SIGNER" key list --config "$CONF" >"$T/list"
    key_entry exportable | grep -q "$why" || fail "key list: $(key_entry exportable)"
    key_entry exportable | grep -q "extractable=1" || fail "key list attributes: $(key_entry exportable)"
    expect_refusal "$why" grant --scope $S --kid k \
        --key "pkcs11:token=$TOKEN;object=exportable;type=private"
    ok "$NAME: keys generated in the token are non-exportable; an extractable one is shown as such and refused"
}

certify() {
    "$MP_SIGNER" key pubkey --config "$CONF" --key "pkcs11:token=$TOKEN;object=audit;type=private" \
        --out "$T/audit-pub.pem"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca-key.pem" -out "$T/ca.pem" -days 90 \
        -subj "/CN=modules test CA" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign" 2>/dev/null
    "$MP_SIGNER" key csr --config "$CONF" --org 314159268 --cn "modules $NAME" --o "modules test" \
        --out "$T/leaf.csr"
    openssl req -in "$T/leaf.csr" -verify -noout 2>/dev/null || fail "the CSR's signature does not verify"
    printf 'keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' >"$T/leaf.ext"
    openssl x509 -req -in "$T/leaf.csr" -CA "$T/ca.pem" -CAkey "$T/ca-key.pem" -set_serial 3 \
        -days 90 -extfile "$T/leaf.ext" -out "$T/cert.pem" 2>/dev/null
    "$MP_SIGNER" key import-cert --config "$CONF" "$T/cert.pem"
    "$MP_SIGNER" key list --config "$CONF" >"$T/list"
    grep -A4 '^virksomhetssertifikat  id=' "$T/list" | grep -q 'org: 314159268' ||
        fail "key list shows no certificate after import-cert: $(grep -A4 '^virksomhetssertifikat' "$T/list")"
    ok "$NAME: CSR signed in the token (openssl verifies it), certificate imported beside the key"
}

# JWS: the x5c grant verifies with the certificate (python3-jwt, jose) and carries it.
check_x5c() {
    local out
    out=$(pyjwt "$1" "$T/cert.pem") || fail "python3-jwt rejects the x5c grant"
    [ "$(jq_py "$out" 'j["header"]["x5c"][0]')" = "$(openssl x509 -in "$T/cert.pem" -outform DER | base64 -w0)" ] ||
        fail "x5c[0] is not the certificate"
    [ "$(jq_py "$out" 'j["claims"]["iss"]')" = "$CID" ] || fail "iss: $out"
    josever "$1" "$T/cert.pem" >/dev/null || fail "jose rejects the x5c grant"
}

# JWS: the kid grant verifies with the key's JWK and names the kid, no x5c.
check_kid() {
    local out
    "$MP_SIGNER" key jwk --config "$CONF" --key "pkcs11:token=$TOKEN;object=virksomhetssertifikat;type=private" \
        --kid "$KID" >"$T/key.jwk"
    out=$("$PY" - "$1" "$T/key.jwk" <<'PY'
import json, sys
import jwt
key = jwt.PyJWK(json.load(open(sys.argv[2]))).key
print(json.dumps(jwt.get_unverified_header(sys.argv[1])))
jwt.decode(sys.argv[1], key, algorithms=["RS256"], options={"verify_aud": False})
PY
    ) || fail "python3-jwt rejects the kid grant with the key's JWK"
    [ "$(jq_py "$out" 'j.get("kid")')" = "$KID" ] && [ "$(jq_py "$out" '"x5c" in j')" = False ] ||
        fail "kid grant header: $out"
}

check_grants() {
    check_x5c "$(grant --scope $S)"
    check_kid "$(grant --profile kid --scope $S)"
    ok "$NAME: grants with x5c and with kid verified by python3-jwt (and jose for x5c)"
}

check_daemon() {
    start_signer
    check_x5c "$(request --scope $S)"
    check_kid "$(request --profile kid --scope $S)"
    ok "$NAME: mp-signer serve signs both kinds of grant for request"
}

check_exchange() {
    local fake exch code
    "$MP_SIGNER" key jwk --config "$CONF" --key "pkcs11:token=$TOKEN;object=virksomhetssertifikat;type=private" \
        --kid "$KID" --jwks >"$T/jwks.json"
    cat >"$T/fake.conf" <<CONF
listen = 127.0.0.1:0
issuer = https://test.maskinporten.no/
ca = $T/ca.pem
[client $CID]
org = 314159268
scopes = $S
[client $KIDCID]
org = 314159268
scopes = $S
jwks = $T/jwks.json
CONF
    : >"$T/fake.out"
    : >"$T/exchange.err"
    "$MP_FAKE" --config "$T/fake.conf" >"$T/fake.out" 2>"$T/fake.err" &
    MOD_PIDS+=($!)
    fake=$(line_value "$T/fake.out" 's/^mp-fake listening on //p') || fail "mp-fake: $(cat "$T/fake.err")"
    "$MP_EXCHANGE" serve --maskinporten-url "$fake/" --altinn-url "$fake" --signer-socket "$SOCK" \
        --listen 127.0.0.1:0 --user "$(id -un)" 2>"$T/exchange.err" &
    MOD_PIDS+=($!)
    exch=$(line_value "$T/exchange.err" 's/.*info: listening on \(http:.*\)/\1/p') ||
        fail "mp-exchange: $(cat "$T/exchange.err")"
    for q in "altinn?scope=$S" "maskinporten?scope=$S&profile=kid"; do
        code=$(curl -s -H 'X-MP-Exchange: 1' -o "$T/resp" -w '%{http_code}' "$exch/v1/$q")
        [ "$code" = 200 ] || fail "mp-exchange /v1/$q: HTTP $code $(cat "$T/resp")"
    done
    ok "$NAME: mp-exchange gets an Altinn token (x5c grant) and a Maskinporten token (kid grant) from mp-fake"
}

check_audit() {
    stop_signer
    "$MP_SIGNER" audit verify "$LOG" --cert "$T/audit-pub.pem" >"$T/verify.out" ||
        { cat "$T/verify.out"; fail "audit verify failed"; }
    # request ×2 and the exchange's two grants.
    [ "$(grep -c '"outcome":"granted"' "$LOG")" = 4 ] || fail "audit: $(grep -c '"outcome":"granted"' "$LOG") grants, not 4"
    ok "$NAME: audit log with checkpoints signed in the token verifies: $(cat "$T/verify.out")"
}

# With MP_MODULE_BENCH=N (scripts/bench-modules.sh), after the suite: mp-signer bench --raw
# (C_Sign on the key) and through the daemon, N requests each, one JSON line per run on fd 3
# as "bench MODULE MODE CONCURRENCY {json}".
module_bench() {
    local n=$MP_MODULE_BENCH c
    for c in 1 2; do
        echo "bench $NAME raw $c $("$MP_SIGNER" bench --raw --config "$CONF" --requests "$n" --concurrency $c)" >&3
    done
    start_signer
    for c in 1 8; do
        echo "bench $NAME daemon $c $("$MP_SIGNER" bench --socket "$SOCK" --scope $S --requests "$n" --concurrency $c)" >&3
    done
    stop_signer
}

module_suite() {
    make_pins
    module_setup
    write_conf
    module_make_keys
    check_keys
    certify
    check_grants
    check_daemon
    check_exchange
    check_audit
    [ -z "${MP_MODULE_BENCH:-}" ] || module_bench
}
