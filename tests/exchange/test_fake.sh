#!/usr/bin/env bash
# mp-fake is as strict as PROTOCOL.md says Maskinporten is: every rule gets a request that
# breaks it and must see the documented status and MP code. Grants come from mp-signer (real
# token) or, for shapes mp-signer refuses to make, from a software key registered as a kid.
. "$(dirname "$0")/lib.sh"
# A second organisation whose test CA the fake trusts, and a third whose CA it does not.
MP_SIGNER=$MP_SIGNER bash "$MP_ROOT/scripts/softhsm-init.sh" "$T/tok2" --bits 2048 \
    --org 974760673 >/dev/null 2>&1
MP_SIGNER=$MP_SIGNER bash "$MP_ROOT/scripts/softhsm-init.sh" "$T/tok3" --bits 2048 >/dev/null 2>&1
FAKE_EXTRA_CA=$T/tok2/ca.pem setup_fake
SCOPE=altinn:serviceowner/instances.read

post() { # JWT [CONTENT-TYPE] -> "STATUS BODY"
    curl -s -o "$T/body" -w '%{http_code}' -H "Content-Type: ${2:-application/x-www-form-urlencoded}" \
        --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
        --data-urlencode "assertion=$1" "$FAKE/token"
}
expect() { # NAME STATUS TEXT JWT [CONTENT-TYPE]
    local name=$1 want=$2 text=$3 got
    got=$(post "$4" "${5:-}")
    [ "$got" = "$want" ] || fail "$name: HTTP $got, want $want: $(cat "$T/body")"
    grep -q -- "$text" "$T/body" || fail "$name: body lacks '$text': $(cat "$T/body")"
    ok "$name: HTTP $got $(grep -o 'MP-[0-9]*' "$T/body" | head -1)"
}
grant() { "$MP_SIGNER" grant --config "$CONF" --scope "$SCOPE" "$@"; }
sw() { # HEADER CLAIMS: a grant for the kid client signed with its registered software key
    "$PY" "$MP_ROOT/tests/exchange/jwtmake.py" sign "$T/sw.pem" "$1" "$2"
}
KH='{"alg":"RS256","kid":"sw-key-1"}'
base() { # extra claims JSON members for the kid client
    echo "{\"aud\":\"https://test.maskinporten.no/\",\"iss\":\"$KIDCID\",\"scope\":\"$SCOPE\",\"iat\":\"\$now\",\"exp\":\"\$now+60\",\"jti\":\"\$uuid\"${1:+,$1}}"
}

# The happy paths first.
[ "$(post "$(grant)")" = 200 ] || fail "x5c grant refused: $(cat "$T/body")"
tok=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$T/body")
curl -s "$FAKE/jwk" >"$T/jwk.json"
"$PY" - "$tok" "$T/jwk.json" "$CID" <<'PY' || fail "issued token does not verify against /jwk"
import json, sys, jwt
key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(json.load(open(sys.argv[2]))["keys"][0]))
c = jwt.decode(sys.argv[1], key, algorithms=["RS256"], options={"verify_aud": False})
assert c["client_id"] == sys.argv[3] and c["client_amr"] == "virksomhetssertifikat", c
assert c["consumer"] == {"authority": "iso6523-actorid-upis", "ID": "0192:314159268"}, c
assert c["aud"] == "unspecified" and c["token_type"] == "Bearer", c
PY
ok "x5c grant from the HSM: 200, token verifies against /jwk with python3-jwt, claims as documented"
[ "$(post "$(sw "$KH" "$(base)")")" = 200 ] || fail "kid grant refused: $(cat "$T/body")"
grep -q '"access_token"' "$T/body" || fail "kid grant: no token"
ok "kid grant with a registered key: 200"
[ "$(post "$(grant --consumer-org 991825827 --systemuser-org 991825827 --systemuser-ref r1 \
    --resource https://api.example.no/)")" = 200 ] || fail "delegated grant refused: $(cat "$T/body")"
ok "consumer_org + system user + resource grant: 200"

expect "wrong content type" 400 "Content-Type must be" "$(grant)" application/json
expect "not a JWT" 400 MP-011 "abc.def"
expect "alg HS256" 400 "Algorithm HS256" "$(sw '{"alg":"HS256","kid":"sw-key-1"}' "$(base)")"
expect "alg none" 400 "Algorithm none" "$(sw '{"alg":"none","kid":"sw-key-1"}' "$(base)")"
expect "neither x5c nor kid" 400 "exactly one of x5c and kid" "$(sw '{"alg":"RS256"}' "$(base)")"
expect "jku header" 400 "Header parameter jku" \
    "$(sw '{"alg":"RS256","kid":"sw-key-1","jku":"https://evil/"}' "$(base)")"
expect "unknown client" 400 MP-100 "$(grant --client-id 00000000-0000-4000-8000-000000000000)"
expect "aud of prod in test" 400 MP-110 "$(grant --env prod)"
expect "x5c as a string" 400 MP-123 \
    "$(sw '{"alg":"RS256","x5c":"MIIB"}' "$(base | sed "s/$KIDCID/$CID/")")"
j=$(grant)
expect "signature altered" 400 MP-124 "${j%?????}AAAAA"
expect "x5c from a client that registered keys" 400 "requires pre-registered jwk" \
    "$(grant --client-id "$KIDCID")"
expect "kid not registered" 400 "No registered key with kid nope" \
    "$(sw '{"alg":"RS256","kid":"nope"}' "$(base)")"
expect "issued in the future" 400 "Issue time is after now" \
    "$(sw "$KH" "$(base | sed 's/"iat":"\$now"/"iat":"$now+30"/')")"
expect "expired" 400 MP-130 \
    "$(sw "$KH" "$(base | sed 's/"iat":"\$now","exp":"\$now+60"/"iat":"$now-200","exp":"$now-100"/')")"
expect "lifetime over 120 s" 400 "over 120 seconds" \
    "$(sw "$KH" "$(base | sed 's/"exp":"\$now+60"/"exp":"$now+121"/')")"
expect "no jti" 400 MP-012 "$(sw "$KH" "$(base | sed 's/,"jti":"\$uuid"//')")"
j=$(grant)
post "$j" >/dev/null
expect "jti replayed" 400 "Grant is used before" "$j"
expect "unknown claim sub" 400 "Unknown claim sub" "$(sw "$KH" "$(base "\"sub\":\"$KIDCID\"")")"
expect "scope missing" 400 invalid_scope "$(sw "$KH" "$(base | sed "s/,\"scope\":\"[^\"]*\"//")")"
expect "scope not on the client" 400 MP-200 "$("$MP_SIGNER" grant --config "$CONF" --scope altinn:other)"
expect "resource as a string" 400 "only array supported" \
    "$(sw "$KH" "$(base '"resource":"https://api.example.no/"')")"
expect "consumer_org not a number" 400 "not a valid organization number" \
    "$(sw "$KH" "$(base '"consumer_org":"123456789"')")"
expect "consumer_org = own org" 400 "combination consumer_org" \
    "$(sw "$KH" "$(base '"consumer_org":"974760673"')")"
expect "consumer_org not delegated" 403 MP-251 "$(grant --consumer-org 974760673)"
expect "authorization_details type" 400 MP-301 \
    "$(sw "$KH" "$(base '"authorization_details":[{"type":"urn:altinn:unknown"}]')")"
expect "authorization_details field" 400 MP-302 \
    "$(sw "$KH" "$(base '"authorization_details":[{"type":"urn:altinn:systemuser","x":1,"systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:991825827"}}]')")"
expect "authorization_details value" 400 MP-303 \
    "$(sw "$KH" "$(base '"authorization_details":[{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis","ID":"991825827"}}]')")"
expect "no system user for the org" 403 MP-251 "$(grant --systemuser-org 974760673)"
expect "certificate from an untrusted CA" 400 MP-120 \
    "$("$MP_SIGNER" grant --config "$T/tok3/signer.conf" --client-id "$CID" --scope "$SCOPE")"
expect "certificate of another organisation" 400 MP-122 \
    "$("$MP_SIGNER" grant --config "$T/tok2/signer.conf" --client-id "$CID" --scope "$SCOPE")"

# The Altinn exchange.
X=$FAKE/authentication/api/v1/exchange/maskinporten
code=$(curl -s -o "$T/alt" -w '%{http_code}' -H "Authorization: Bearer $tok" "$X?test=true")
[ "$code" = 200 ] || fail "exchange refused a fresh token: $code $(cat "$T/alt")"
"$PY" - "$(cat "$T/alt")" <<'PY' || fail "Altinn token lacks its claims"
import jwt, sys
c = jwt.decode(sys.argv[1], options={"verify_signature": False})
assert c["urn:altinn:orgNumber"] == "314159268" and c["urn:altinn:authlevel"] == 3, c
assert c["urn:altinn:authenticatemethod"] == "maskinporten" and c["urn:altinn:org"] == "ttd", c
assert "client_amr" not in c and c["iss"].endswith("/authentication/api/v1/openid/"), c
PY
ok "Altinn exchange: 200 text/plain JWT with urn:altinn:orgNumber, authlevel 3, org"
for case in "no-bearer||401" "foreign|Bearer $(grant)|401" "enterprise|Bearer $tok|410"; do
    IFS='|' read -r name auth want <<<"$case"
    hdr=(-H "Authorization: $auth")
    [ "$name" = no-bearer ] && hdr=()
    [ "$name" = enterprise ] && hdr+=(-H "X-Altinn-EnterpriseUser-Authentication: x")
    code=$(curl -s -o /dev/null -w '%{http_code}' "${hdr[@]}" "$X")
    [ "$code" = "$want" ] || fail "exchange $name: $code, want $want"
    ok "Altinn exchange refuses $name: HTTP $code"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
    "$FAKE/authentication/api/v1/exchange/nosuch")
[ "$code" = 400 ] || fail "unknown provider: $code"
ok "Altinn exchange: unknown provider is 400"
