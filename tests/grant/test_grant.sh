#!/usr/bin/env bash
# mp-signer grant on a throwaway SoftHSM token: every signature accepted here is verified by
# verifiers this project did not write (python3-jwt, jose, openssl).
. "$MP_ROOT/tests/grant/lib.sh"
make_token
S=altinn:serviceowner/instances.read
CID=$(sed -n 's/^client_id = //p' "$CONF")

# The init script: modes, token, verdict, idempotence.
[ "$(stat -c %a "$T/tok/pin")" = 600 ] || fail "pin file mode $(stat -c %a "$T/tok/pin")"
"$MP_SIGNER" key list --config "$CONF" | grep -A1 '^virksomhetssertifikat  id=01  RSA-3072' |
    grep -q 'non-exportable, generated in the token' || fail "key list verdict"
# SoftHSM rewrites its own lock files on every open: compare our files, and the token's objects.
state() {
    (cd "$T/tok" && find . -path ./tokens -prune -o -type f -exec sha256sum {} + | sort)
    # Days left counts down by itself: a fresh 365-day certificate has 365 for its first second.
    "$MP_SIGNER" key list --config "$CONF" | sed 's/ ([0-9]* days left[^)]*)$//'
}
before=$(state)
out=$(MP_SIGNER=$MP_SIGNER bash "$MP_ROOT/scripts/softhsm-init.sh" "$T/tok" 2>&1)
case $out in *"nothing changed"*) ;; *) fail "rerun said: $out" ;; esac
[ "$before" = "$(state)" ] || fail "rerun changed files or token objects"
ok "softhsm-init.sh: pin 0600, RSA-3072 key born in the token, rerun changes nothing"

for alg in RS256 RS384 RS512; do
    jws=$(grant --scope $S --alg $alg)
    [ "$(printf '%s\n' "$jws" | wc -l)" -eq 1 ] || fail "stdout is not one line"
    v=$(pyjwt "$jws" "$T/tok/cert.pem" $alg) || fail "python3-jwt rejected $alg"
    josever "$jws" "$T/tok/cert.pem" || fail "jose rejected $alg"
    [ "$(jq_py "$v" 'sorted(j["header"])')" = "['alg', 'x5c']" ] || fail "header $v"
    ok "$alg: one line on stdout; python3-jwt and jose verify it against cert.pem; header {alg, x5c}"
done

jws=$(grant --scope $S)
v=$(pyjwt "$jws" "$T/tok/cert.pem")
jq_py "$v" 'j["header"]["x5c"][0]' | base64 -d >"$T/x5c0.der"
openssl x509 -in "$T/tok/cert.pem" -outform DER | cmp -s - "$T/x5c0.der" || fail "x5c[0] != cert.pem"
openssl x509 -inform DER -in "$T/x5c0.der" -out "$T/x5c0.pem"
openssl verify -CAfile "$T/tok/ca.pem" "$T/x5c0.pem" >/dev/null || fail "x5c does not chain to ca.pem"
ok "x5c[0] is the token's certificate (standard base64 DER) and openssl verifies it against ca.pem"
[ "$(jq_py "$v" 'sorted(j["claims"])')" = "['aud', 'exp', 'iat', 'iss', 'jti', 'scope']" ] ||
    fail "claims $(jq_py "$v" 'sorted(j["claims"])')"
[ "$(jq_py "$v" 'j["claims"]["aud"]')" = "https://test.maskinporten.no/" ] || fail "aud"
[ "$(jq_py "$v" 'j["claims"]["iss"]')" = "$CID" ] || fail "iss"
[ "$(jq_py "$v" 'j["claims"]["exp"] - j["claims"]["iat"]')" = 60 ] || fail "lifetime"
now=$(date +%s)
iat=$(jq_py "$v" 'j["claims"]["iat"]')
[ $((now - iat)) -le 5 ] && [ $((now - iat)) -ge -1 ] || fail "iat $iat vs now $now"
jti=$(jq_py "$v" 'j["claims"]["jti"]')
[[ $jti =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail "jti $jti"
jti2=$(jq_py "$(pyjwt "$(grant --scope $S)" "$T/tok/cert.pem")" 'j["claims"]["jti"]')
[ "$jti" != "$jti2" ] || fail "jti repeated"
ok "claims exactly aud, iss, scope, iat, exp, jti; iat now; exp-iat 60; jti a fresh UUID v4"

v=$(pyjwt "$(grant --scope $S --env prod --lifetime 30 --client-id other-client)" "$T/tok/cert.pem")
[ "$(jq_py "$v" 'j["claims"]["aud"]')" = https://maskinporten.no/ ] || fail "prod aud"
[ "$(jq_py "$v" 'j["claims"]["iss"]')" = other-client ] || fail "--client-id does not override"
[ "$(jq_py "$v" 'j["claims"]["exp"] - j["claims"]["iat"]')" = 30 ] || fail "--lifetime"
ok "--env prod, --lifetime 30 and --client-id override the config"

v=$(pyjwt "$(grant --scope "$S altinn:serviceowner/instances.write" --resource https://a.example/ \
    --resource https://b.example/ --consumer-org 991825827 --systemuser-org 991825827 \
    --systemuser-ref ext-1)" "$T/tok/cert.pem")
[ "$(jq_py "$v" 'j["claims"]["resource"]')" = "['https://a.example/', 'https://b.example/']" ] ||
    fail "resource"
[ "$(jq_py "$v" 'j["claims"]["consumer_org"]')" = 991825827 ] || fail "consumer_org"
[ "$(jq_py "$v" 'json.dumps(j["claims"]["authorization_details"], separators=(",", ":"))')" = \
    '[{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:991825827"},"externalRef":"ext-1"}]' ] ||
    fail "authorization_details $(jq_py "$v" 'j["claims"]["authorization_details"]')"
ok "resource (array of two), consumer_org and system user (authorization_details) as PROTOCOL.md shows"

v=$(pyjwt "$(grant --scope $S --kid my-kid-1)" "$T/tok/cert.pem")
[ "$(jq_py "$v" 'j["header"]')" = "{'alg': 'RS256', 'kid': 'my-kid-1'}" ] || fail "kid header $v"
ok "--kid: header {alg, kid} without x5c, signature verifies"

# key jwk: the public JWK to register, its kid the RFC 7638 thumbprint as jose computes it; a kid
# grant signed in the token verifies against that JWK with jose and python3-jwt.
"$MP_SIGNER" key jwk --config "$CONF" >"$T/key.jwk" 2>/dev/null
[ "$(jq_py "$(cat "$T/key.jwk")" 'sorted(j)')" = "['alg', 'e', 'kid', 'kty', 'n', 'use']" ] ||
    fail "jwk members: $(cat "$T/key.jwk")"
[ "$(jq_py "$(cat "$T/key.jwk")" 'j["kty"], j["use"], j["alg"]')" = "RSA sig RS256" ] ||
    fail "jwk kty/use/alg: $(cat "$T/key.jwk")"
thp=$(jose jwk thp -i "$T/key.jwk" -a S256)
kid=$(jq_py "$(cat "$T/key.jwk")" 'j["kid"]')
[ "$kid" = "$thp" ] && [ ${#kid} -eq 43 ] || fail "kid $kid is not jose's thumbprint $thp"
jws=$(grant --scope $S --kid "$kid")
printf '%s' "$jws" >"$T/kid.jws"
jose jws ver -i "$T/kid.jws" -k "$T/key.jwk" || fail "jose does not verify a kid grant with the JWK"
"$PY" - "$jws" "$T/key.jwk" "$kid" <<'PY' || fail "python3-jwt does not verify a kid grant with the JWK"
import json, sys, jwt
k = jwt.PyJWK(json.load(open(sys.argv[2])))
jwt.decode(sys.argv[1], k.key, algorithms=["RS256"], options={"verify_aud": False})
assert jwt.get_unverified_header(sys.argv[1])["kid"] == sys.argv[3]
PY
"$MP_SIGNER" key jwk --config "$CONF" --jwks --kid acme.mp-2026_1 --alg RS512 \
    --out "$T/key.jwks" 2>/dev/null
[ "$(jq_py "$(cat "$T/key.jwks")" '[(k["kid"], k["alg"], k["n"]) for k in j["keys"]] == [("acme.mp-2026_1", "RS512", json.load(open("'"$T/key.jwk"'"))["n"])]')" = True ] ||
    fail "--jwks --kid --alg: $(cat "$T/key.jwks")"
expect_refusal "is not allowed" "$MP_SIGNER" key jwk --config "$CONF" --kid "a/b"
expect_refusal "RS256, RS384 or RS512" "$MP_SIGNER" key jwk --config "$CONF" --alg ES256
ok "key jwk: {kty,use,alg,kid,n,e}, kid = jose's RFC 7638 thumbprint; a kid grant verifies with it (jose, python3-jwt); --jwks/--kid/--alg; bad kid refused"

# --chain: a leaf issued by an intermediate CA; x5c carries leaf then intermediate.
c=$T/chain
mkdir -p "$c"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$c/root.key" -out "$c/root.pem" -days 30 \
    -subj "/CN=test root" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$c/int.key" -out "$c/int.csr" -subj "/CN=test int" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >"$c/int.ext"
openssl x509 -req -in "$c/int.csr" -CA "$c/root.pem" -CAkey "$c/root.key" -set_serial 2 -days 30 \
    -extfile "$c/int.ext" -out "$c/int.pem" 2>/dev/null
"$MP_SIGNER" key csr --config "$CONF" --org 314159268 --out "$c/leaf.csr"
printf 'keyUsage=critical,digitalSignature\n' >"$c/leaf.ext"
openssl x509 -req -in "$c/leaf.csr" -CA "$c/int.pem" -CAkey "$c/int.key" -set_serial 3 -days 500 \
    -extfile "$c/leaf.ext" -out "$c/leaf.pem" 2>/dev/null
"$MP_SIGNER" key import-cert --config "$CONF" "$c/leaf.pem" 2>/dev/null
v=$(pyjwt "$(grant --scope $S --chain "$c/int.pem")" "$c/leaf.pem") || fail "chained grant"
[ "$(jq_py "$v" 'len(j["header"]["x5c"])')" = 2 ] || fail "x5c length"
jq_py "$v" 'j["header"]["x5c"][1]' | base64 -d | openssl x509 -inform DER -out "$T/x5c1.pem"
cmp -s "$T/x5c1.pem" "$c/int.pem" || fail "x5c[1] is not the intermediate"
openssl verify -CAfile "$c/root.pem" -untrusted "$c/int.pem" "$c/leaf.pem" >/dev/null ||
    fail "chain does not verify"
ok "--chain: x5c = [leaf, intermediate] and openssl verifies it to the root"
expect_refusal "did not issue" grant --scope $S --chain "$T/tok/ca.pem"
ok "a chain file whose certificate did not issue the leaf is refused"

# key import-cert --chain: the intermediates go into the token, and grants carry them in x5c
# without a chain file. A chain that did not issue the certificate stores nothing.
# key_with_cert LABEL ID SERIAL DAYS: a new key in the token and its certificate $c/LABEL.pem
# from the intermediate, not imported.
key_with_cert() {
    "$MP_SIGNER" key generate --config "$CONF" --label "$1" --id "$2" --bits 2048 2>/dev/null
    "$MP_SIGNER" key csr --config "$CONF" --key "pkcs11:token=mp-dev;object=$1;type=private" \
        --org 314159268 --out "$c/$1.csr"
    openssl x509 -req -in "$c/$1.csr" -CA "$c/int.pem" -CAkey "$c/int.key" -set_serial "$3" \
        -days "$4" -extfile "$c/leaf.ext" -out "$c/$1.pem" 2>/dev/null
}
K2='pkcs11:token=mp-dev;object=chained;type=private'
key_with_cert chained 0c 4 400
expect_refusal "did not issue" "$MP_SIGNER" key import-cert --config "$CONF" --key "$K2" \
    --chain "$T/tok/ca.pem" "$c/chained.pem"
"$MP_SIGNER" key list --config "$CONF" | grep -A4 '^chained ' | grep -q 'certificate: none' ||
    fail "a refused import-cert --chain stored the certificate"
[ "$(pkcs11-tool --module "$(sed -n 's/^module = //p' "$CONF")" --list-objects --type cert 2>/dev/null |
    grep -c 'label: *test int')" = 0 ] || fail "a refused import-cert --chain stored the CA"
"$MP_SIGNER" key import-cert --config "$CONF" --key "$K2" --chain "$c/int.pem" "$c/chained.pem" \
    2>"$T/imp.err" || fail "import-cert --chain: $(cat "$T/imp.err")"
grep -q 'stored CA certificate "test int" for x5c' "$T/imp.err" || fail "CA not stored: $(cat "$T/imp.err")"
v=$(pyjwt "$(grant --scope $S --key "$K2")" "$c/chained.pem") || fail "grant with the token's chain"
[ "$(jq_py "$v" 'len(j["header"]["x5c"])')" = 2 ] || fail "x5c length without a chain file"
jq_py "$v" 'j["header"]["x5c"][0]' | base64 -d | openssl x509 -inform DER -out "$T/k2x0.pem"
jq_py "$v" 'j["header"]["x5c"][1]' | base64 -d | openssl x509 -inform DER -out "$T/k2x1.pem"
cmp -s "$T/k2x0.pem" "$c/chained.pem" && cmp -s "$T/k2x1.pem" "$c/int.pem" ||
    fail "x5c is not [leaf, intermediate]"
openssl verify -CAfile "$c/root.pem" -untrusted "$T/k2x1.pem" "$T/k2x0.pem" >/dev/null ||
    fail "the token's chain does not verify to the root"
"$MP_SIGNER" key import-cert --config "$CONF" --key "$K2" --chain "$c/int.pem" "$c/chained.pem" \
    2>"$T/imp.err" || fail "import-cert --chain again: $(cat "$T/imp.err")"
grep -q 'token already holds CA certificate "test int"' "$T/imp.err" || fail "rerun: $(cat "$T/imp.err")"
ok "import-cert --chain: refused chain stores nothing; x5c = [leaf, intermediate] from the token, openssl verifies to the root; rerun stores nothing twice"

# Expiry: a certificate with 10 days left is warned about by every grant (and so at every daemon
# start and reload) and flagged by key list.
K3='pkcs11:token=mp-dev;object=short;type=private'
key_with_cert short 0d 5 10
"$MP_SIGNER" key import-cert --config "$CONF" --key "$K3" "$c/short.pem" 2>/dev/null
grant --scope $S --key "$K3" >/dev/null 2>"$T/short.err" || fail "grant with a short certificate"
grep -Eq 'warning: profile default: certificate CN=short,.* expires in (9|10) days: order a new one' \
    "$T/short.err" || fail "no expiry warning: $(cat "$T/short.err")"
grant --scope $S --key "$K2" >/dev/null 2>"$T/long.err"
grep -q 'expires in' "$T/long.err" && fail "a 400-day certificate was warned about"
"$MP_SIGNER" key list --config "$CONF" | grep -A4 '^short ' | grep -Eq 'expires: .* \((9|10) days left: RENEW NOW\)' ||
    fail "key list: $("$MP_SIGNER" key list --config "$CONF" | grep -A4 '^short ')"
"$MP_SIGNER" key list --config "$CONF" | grep -A4 '^chained ' | grep -Eq '\(399 days left\)|\(400 days left\)' ||
    fail "key list days left: $("$MP_SIGNER" key list --config "$CONF" | grep -A4 '^chained ')"
ok "expiry: 10 days left warns at every grant/start/reload and key list says RENEW NOW; 400 days does not"
