#!/usr/bin/env bash
# The drop-in routes (exchange/api_oauth.h) against mp-fake: RFC 8414 metadata; RFC 6749 client
# credentials from curl, requests-oauthlib, authlib and simple-oauth2 (npm), each token then accepted by a resource
# server that checks it with python3-jwt against the fake's /jwk; the RFC 6749 §5.2 error set;
# the TEXAS API (JSON and form, skip_cache, its errors); and the browser defences on POST.
. "$(dirname "$0")/lib.sh"
setup_fake
R=altinn:serviceowner/instances.read
SECRET='s3cr3t:with+odd&chars'
# The default profile may name a system user; "closed" is a profile root may not use.
{
    echo "systemuser_orgs = 991825827"
    echo "[profile closed]"
    sed -n '/^\[profile default\]$/,$p' "$CONF" | grep -E '^(key|client_id|env|scopes) = '
    echo "allow_uids = 65534"
} >>"$CONF"
mkdir -m 700 "$T/oauth"
printf '%s\n' "$SECRET" >"$T/oauth/default"
chmod 600 "$T/oauth/default"
start_signer
start_exchange --config <(printf 'oauth_secrets_dir = %s\n' "$T/oauth")
"$PY" "$MP_ROOT/tests/exchange/resource.py" "$FAKE" https://test.maskinporten.no/ "$R" \
    >"$T/rs.out" 2>"$T/rs.err" &
PIDS+=($!)
RS=$(line_value "$T/rs.out" 's/^listening on //p') || fail "resource server: $(cat "$T/rs.err")"

# post PATH ARGS… → HTTP status; body in $T/body, headers in $T/hdr.
post() {
    local path=$1
    shift
    curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" "$EXCH$path"
}
field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/body" "$1"; }
# expect NAME STATUS ERROR PATH ARGS…: the answer is STATUS with {"error": ERROR, ...}.
expect() {
    local name=$1 want=$2 error=$3 got
    shift 3
    got=$(post "$@")
    [ "$got" = "$want" ] || fail "$name: HTTP $got, want $want: $(cat "$T/body")"
    [ "$(field error)" = "$error" ] || fail "$name: error $(field error), want $error"
    ok "$name: HTTP $got $error ($(field error_description | cut -c1-90))"
}
resource_ok() { # TOKEN WHAT: the resource server accepts it
    [ "$(curl -s -o "$T/rs" -w '%{http_code}' -H "Authorization: Bearer $1" "$RS/")" = 200 ] ||
        fail "$2: the resource server refused the token: $(cat "$T/rs")"
}

# --- RFC 8414 metadata.
got "$EXCH/.well-known/oauth-authorization-server"
"$PY" - "$T/got" "$EXCH" <<'PY' || fail "metadata: $(cat "$T/got")"
import json, sys
m, base = json.load(open(sys.argv[1])), sys.argv[2]
assert m["issuer"] == base and m["token_endpoint"] == base + "/oauth2/token", m
assert m["grant_types_supported"] == ["client_credentials"], m
assert "client_secret_basic" in m["token_endpoint_auth_methods_supported"], m
assert m["authorization_details_types_supported"] == ["urn:altinn:systemuser", "urn:altinn:consent"], m
PY
ok "metadata: issuer $EXCH, token_endpoint /oauth2/token, client_credentials"

# --- curl, both RFC 6749 §2.3.1 client authentications.
enc=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote_plus(sys.argv[1]))' "$SECRET")
[ "$(post /oauth2/token -u "default:$enc" -d grant_type=client_credentials -d "scope=$R")" = 200 ] ||
    fail "client_secret_basic: $(cat "$T/body")"
"$PY" - "$T/body" "$R" <<'PY' || fail "token response: $(cat "$T/body")"
import json, sys
b = json.load(open(sys.argv[1]))
assert set(b) == {"access_token", "token_type", "expires_in", "scope"}, b
assert b["token_type"] == "Bearer" and 0 < b["expires_in"] <= 120 and b["scope"] == sys.argv[2], b
PY
grep -qi '^cache-control: no-store' "$T/hdr" && grep -qi '^pragma: no-cache' "$T/hdr" ||
    fail "RFC 6749 §5.1 headers: $(cat "$T/hdr")"
TOKEN=$(field access_token)
resource_ok "$TOKEN" "curl, client_secret_basic"
# The resource server is no rubber stamp: a token with another signature is refused.
[ "$(curl -s -o "$T/rs" -w '%{http_code}' -H "Authorization: Bearer ${TOKEN%.*}.AAAA" "$RS/")" = 401 ] ||
    fail "the resource server accepted a token with a wrong signature: $(cat "$T/rs")"
ok "curl with client_secret_basic: RFC 6749 §5.1 answer (no-store, no-cache); the resource server accepts the token"
[ "$(post /oauth2/token --data-urlencode grant_type=client_credentials --data-urlencode client_id=default \
    --data-urlencode "client_secret=$SECRET" --data-urlencode "scope=$R")" = 200 ] ||
    fail "client_secret_post: $(cat "$T/body")"
[ "$(field access_token)" = "$TOKEN" ] || fail "the same request did not get the cached token"
ok "curl with client_secret_post: the same (cached) token"

# --- client libraries, as their documentation uses them.
for lib in requests-oauthlib authlib; do
    "$PY" "$MP_ROOT/tests/exchange/oauth_clients.py" "$lib" "$EXCH" default "$SECRET" "$R" "$RS/" \
        >"$T/lib.out" 2>"$T/lib.err" || fail "$lib: $(tail -3 "$T/lib.err")"
    read -r status body expires <"$T/lib.out"
    [ "$status" = 200 ] && [[ $body == *"\"client_id\":\"$CID\""* ]] && [ "$expires" -gt 0 ] ||
        fail "$lib: $(cat "$T/lib.out")"
    ok "$lib: discovered the endpoint, fetched a token for $CID, the resource server accepted it"
done

# simple-oauth2 from npm, installed by scripts/test.sh from tests/exchange/node's lockfile.
[ -d "$MP_ROOT/build-node/node_modules/simple-oauth2" ] ||
    fail "no $MP_ROOT/build-node/node_modules: scripts/test.sh installs it (npm ci)"
NODE_PATH=$MP_ROOT/build-node/node_modules node --no-warnings "$MP_ROOT/tests/exchange/node/client.js" \
    "$EXCH" default "$SECRET" "$R" "$RS/" >"$T/lib.out" 2>"$T/lib.err" || fail "simple-oauth2: $(tail -3 "$T/lib.err")"
read -r status body expires <"$T/lib.out"
[ "$status" = 200 ] && [[ $body == *"\"client_id\":\"$CID\""* ]] && [ "$expires" -gt 0 ] ||
    fail "simple-oauth2: $(cat "$T/lib.out")"
ok "simple-oauth2 $(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$MP_ROOT/build-node/node_modules/simple-oauth2/package.json") (npm, Node $(node --version)): a token for $CID, accepted by the resource server"

# --- the Altinn token through the second path.
[ "$(post /oauth2/altinn/token -u "default:$enc" -d grant_type=client_credentials -d "scope=$R")" = 200 ] ||
    fail "altinn: $(cat "$T/body")"
"$PY" - "$T/body" <<'PY' || fail "altinn token: $(cat "$T/body")"
import json, sys, jwt
b = json.load(open(sys.argv[1]))
assert set(b) == {"access_token", "token_type", "expires_in"}, b
c = jwt.decode(b["access_token"], options={"verify_signature": False})
assert c["urn:altinn:authenticatemethod"] == "maskinporten" and c["urn:altinn:orgNumber"] == "314159268", c
PY
ok "/oauth2/altinn/token: an Altinn token (authenticatemethod maskinporten, org 314159268)"

# --- the RFC 6749 §5.2 error set, and what this endpoint adds to it.
B=(-u "default:$enc")
expect "grant_type password" 400 unsupported_grant_type /oauth2/token "${B[@]}" -d grant_type=password -d "scope=$R"
expect "no grant_type" 400 invalid_request /oauth2/token "${B[@]}" -d "scope=$R"
expect "unknown client" 401 invalid_client /oauth2/token -d grant_type=client_credentials -d client_id=nosuch -d "scope=$R"
grep -qi '^www-authenticate: Basic realm="mp-exchange"' "$T/hdr" || fail "401 without WWW-Authenticate: $(cat "$T/hdr")"
expect "wrong secret" 401 invalid_client /oauth2/token -u default:wrong -d grant_type=client_credentials -d "scope=$R"
expect "no client at all" 401 invalid_client /oauth2/token -d grant_type=client_credentials -d "scope=$R"
expect "a profile root may not use" 401 invalid_client /oauth2/token -d grant_type=client_credentials -d client_id=closed -d "scope=$R"
expect "scope outside the profile" 400 invalid_scope /oauth2/token "${B[@]}" -d grant_type=client_credentials -d scope=altinn:other
expect "authorization_details not JSON" 400 invalid_request /oauth2/token "${B[@]}" -d grant_type=client_credentials \
    -d "scope=$R" --data-urlencode 'authorization_details=[{"type":'
expect "authorization_details of an unknown type" 400 invalid_authorization_details /oauth2/token "${B[@]}" \
    -d grant_type=client_credentials -d "scope=$R" --data-urlencode 'authorization_details=[{"type":"urn:x"}]'
expect "scope twice" 400 invalid_request /oauth2/token "${B[@]}" -d grant_type=client_credentials -d "scope=$R" -d "scope=$R"
expect "a malformed escape" 400 invalid_request /oauth2/token "${B[@]}" -d grant_type=client_credentials -d "scope=a%zz"
expect "a JSON body" 400 invalid_request /oauth2/token "${B[@]}" -H 'Content-Type: application/json' -d '{}'
expect "GET" 405 invalid_request /oauth2/token -G
head -c 70000 /dev/zero | tr '\0' a >"$T/big"
expect "a 70 kB body" 413 invalid_request /oauth2/token "${B[@]}" --data-binary "@$T/big"
# A system user in authorization_details reaches the token (the fake checks it strictly).
SU='[{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:991825827"}}]'
[ "$(post /oauth2/token "${B[@]}" -d grant_type=client_credentials -d "scope=$R" --data-urlencode "authorization_details=$SU")" = 200 ] ||
    fail "system user: $(cat "$T/body")"
"$PY" - "$T/body" <<'PY' || fail "system-user token: $(cat "$T/body")"
import json, sys, jwt
c = jwt.decode(json.load(open(sys.argv[1]))["access_token"], options={"verify_signature": False})
assert c["authorization_details"][0]["systemuser_org"]["ID"] == "0192:991825827", c
PY
ok "authorization_details urn:altinn:systemuser: the token carries the system user"

# --- TEXAS: POST /api/v1/token, JSON or form.
texas() { post /api/v1/token -H 'Content-Type: application/json' -d "$1"; }
[ "$(texas "{\"identity_provider\":\"maskinporten\",\"target\":\"$R\"}")" = 200 ] || fail "texas: $(cat "$T/body")"
"$PY" - "$T/body" <<'PY' || fail "texas answer: $(cat "$T/body")"
import json, sys
b = json.load(open(sys.argv[1]))
assert set(b) == {"access_token", "expires_in", "token_type"} and b["token_type"] == "Bearer", b
PY
T1=$(field access_token)
resource_ok "$T1" "texas"
[ "$(post /api/v1/token -d identity_provider=maskinporten -d "target=$R")" = 200 ] || fail "texas form: $(cat "$T/body")"
[ "$(field access_token)" = "$T1" ] || fail "texas form: not the cached token"
[ "$(texas "{\"identity_provider\":\"maskinporten\",\"target\":\"$R\",\"skip_cache\":true}")" = 200 ] ||
    fail "skip_cache: $(cat "$T/body")"
T2=$(field access_token)
[ "$T2" != "$T1" ] || fail "skip_cache returned the cached token"
texas "{\"identity_provider\":\"maskinporten\",\"target\":\"$R\"}" >/dev/null
[ "$(field access_token)" = "$T2" ] || fail "after skip_cache the new token is not the cached one"
ok "TEXAS: JSON and form get {access_token, expires_in, token_type}; skip_cache fetches a new token that then is cached"
[ "$(texas "{\"identity_provider\":\"maskinporten\",\"target\":\"$R\",\"authorization_details\":$SU}")" = 200 ] ||
    fail "texas system user: $(cat "$T/body")"
ok "TEXAS: authorization_details as a JSON array"
expect "TEXAS tokenx" 400 invalid_request /api/v1/token -H 'Content-Type: application/json' \
    -d "{\"identity_provider\":\"tokenx\",\"target\":\"$R\"}"
[ "$(field error_description)" = "identity provider 'tokenx' is not enabled" ] || fail "tokenx: $(cat "$T/body")"
expect "TEXAS no identity_provider" 400 invalid_request /api/v1/token -H 'Content-Type: application/json' -d "{\"target\":\"$R\"}"
expect "TEXAS no target" 400 invalid_request /api/v1/token -H 'Content-Type: application/json' -d '{"identity_provider":"maskinporten"}'
expect "TEXAS bad JSON" 400 invalid_request /api/v1/token -H 'Content-Type: application/json' -d '{"identity_provider":'
expect "TEXAS text/plain" 400 invalid_request /api/v1/token -H 'Content-Type: text/plain' -d x
expect "TEXAS skip_cache a string" 400 invalid_request /api/v1/token -H 'Content-Type: application/json' \
    -d "{\"identity_provider\":\"maskinporten\",\"target\":\"$R\",\"skip_cache\":\"yes\"}"

# --- TEXAS introspection: tokens this exchange handed out are active, with their claims.
introspect() { # TOKEN → the answer in $T/body; HTTP 200 always
    [ "$(post /api/v1/introspect -H 'Content-Type: application/json' \
        -d "{\"identity_provider\":\"maskinporten\",\"token\":\"$1\"}")" = 200 ] ||
        fail "introspect: HTTP $(cat "$T/body")"
}
introspect "$T1"
"$PY" - "$T/body" "$CID" "$R" <<'PY' || fail "introspect of a token it issued: $(cat "$T/body")"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["active"] is True and b["client_id"] == sys.argv[2] and b["scope"] == sys.argv[3], b
assert b["iss"] == "https://test.maskinporten.no/" and "exp" in b, b
PY
introspect "$T2"
[ "$(field active)" = True ] || fail "the skip_cache token is not active: $(cat "$T/body")"
# A token the fake issued to someone else, straight from its /token: not this exchange's.
OTHER=$("$PY" "$MP_ROOT/tests/exchange/jwtmake.py" sign "$T/sw.pem" '{"alg":"RS256","kid":"sw-key-1"}' \
    "{\"aud\":\"https://test.maskinporten.no/\",\"iss\":\"$KIDCID\",\"scope\":\"$R\",\"iat\":\"\$now\",\"exp\":\"\$now+60\",\"jti\":\"\$uuid\"}")
OTHER=$(curl -s --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
    --data-urlencode "assertion=$OTHER" "$FAKE/token" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
[ "$(post /api/v1/introspect -d identity_provider=maskinporten --data-urlencode "token=$OTHER")" = 200 ] ||
    fail "introspect (form): $(cat "$T/body")"
"$PY" - "$T/body" <<'PY' || fail "introspect of a token it did not issue: $(cat "$T/body")"
import json, sys
b = json.load(open(sys.argv[1]))
assert b == {"active": False, "error": "token was not issued by this exchange (or is too old to be remembered)"}, b
PY
introspect "${T1%.*}.AAAA"
[ "$(field active)" = False ] || fail "a token with another signature is active: $(cat "$T/body")"
expect "introspect without token" 400 invalid_request /api/v1/introspect -H 'Content-Type: application/json' \
    -d '{"identity_provider":"maskinporten"}'
ok "TEXAS introspect: its own tokens active with their claims; the fake's token for another client and an altered one inactive"

# --- a browser cannot use the POST routes: DNS rebinding (Host) and cross-origin (Origin).
expect "Host: evil.example" 421 invalid_request /oauth2/token -H 'Host: evil.example' "${B[@]}" \
    -d grant_type=client_credentials -d "scope=$R"
expect "Origin" 403 access_denied /api/v1/token -H 'Origin: http://evil.example' -d identity_provider=maskinporten -d "target=$R"

# --- SIGHUP (systemctl reload, logrotate) neither stops the exchange nor empties its cache.
kill -HUP "$EXCH_PID"
line_value "$T/exchange.err" '/SIGHUP: mp-exchange re-reads nothing/p' >/dev/null || fail "no SIGHUP line: $(tail -2 "$T/exchange.err")"
[ "$(texas "{\"identity_provider\":\"maskinporten\",\"target\":\"$R\"}")" = 200 ] &&
    [ "$(field access_token)" = "$T2" ] || fail "after SIGHUP: $(cat "$T/body")"
ok "SIGHUP: logged, still serving, the cached token kept"

# --- nothing secret in the logs; the audit log holds every decision and verifies.
! grep -F -e "$SECRET" -e "$enc" -e wrong "$T/exchange.err" "$T/signer.err" || fail "a client secret reached a log"
! grep -q 'eyJ' "$T/exchange.err" "$T/signer.err" || fail "a token or grant reached a log"
"$PY" - "$T/tok/audit.log" <<'PY' || fail "no refusal of profile closed for uid 0 in the audit log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
assert any(l.get("profile") == "closed" and l.get("outcome") == "refused" and
           l["caller"]["uid"] == 0 for l in lines), lines[-3:]
PY
"$MP_SIGNER" audit verify "$T/tok/audit.log" --cert "$T/tok/audit-pub.pem" >"$T/verify.out" 2>&1 ||
    fail "audit verify: $(cat "$T/verify.out")"
ok "no secret or token in the logs; the refusal is audited; audit verify passes"
