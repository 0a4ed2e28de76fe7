#!/usr/bin/env bash
# mp-exchange client against mp-fake's self-service API: register a client, manage its key set
# (read, change, write back; never more than 5; never a key dropped that was not named), then
# get a token with a kid grant signed in the HSM by a profile the client command appended.
# Tokens are checked with python3-jwt against the fake's /jwk.
. "$(dirname "$0")/lib.sh"
setup_fake
R=altinn:serviceowner/instances.read
DCR="idporten:dcr.read idporten:dcr.write"
# The signer's client becomes the admin client of org 314159268; the kid client (org 974760673)
# may read, so ownership can be checked across organisations.
kill "${PIDS[0]}"
sed -i "s|^scopes = $R altinn:serviceowner/instances.write\$|& $DCR|; s|^scopes = $R\$|& idporten:dcr.read|" \
    "$T/fake.conf"
: >"$T/fake.out"
"$MP_FAKE" --config "$T/fake.conf" >"$T/fake.out" 2>"$T/fake.err" &
PIDS+=($!)
FAKE=$(line_value "$T/fake.out" 's/^mp-fake listening on //p') || fail "mp-fake did not restart"
sed -i "s|^scopes = $R altinn:serviceowner/instances.write\$|& $DCR|" "$CONF"
"$MP_SIGNER" key jwk --config "$CONF" \
    --key "pkcs11:token=mp-dev;object=virksomhetssertifikat;type=private" --kid hsm-key-1 >"$T/hsm.jwk" 2>"$T/jwk.err" || fail "mp-signer key jwk: $(cat "$T/jwk.err")"
start_signer
SIGNER_PID=${PIDS[-1]}
# The exchange also watches the registered keys behind kid grants, every second here, with the
# signer's default profile (the admin client) as its self-service identity.
printf 'selfservice_url = %s\nkey_watch_profile = default\nkey_watch_interval_s = 1\n' "$FAKE" \
    >"$T/exchange.conf"
start_exchange --config "$T/exchange.conf"

N=0
# cl NAME ARGS...: runs mp-exchange client; stdout in $T/NAME.out, stderr in $T/NAME.err, and
# the exit code in RC. Every output file is later searched for tokens.
cl() {
    local name=$1
    shift
    RC=0
    "$MP_EXCHANGE" client "$@" --selfservice-url "$FAKE" --maskinporten-url "$FAKE/" \
        --signer-socket "$T/tok/signer.sock" >"$T/cl.$name.out" 2>"$T/cl.$name.err" || RC=$?
    N=$((N + 1))
}
out() { cat "$T/cl.$1.out"; }
err() { cat "$T/cl.$1.err"; }
one_error_line() { # NAME TEXT: exit 1 and exactly one stderr line holding TEXT
    [ "$RC" = 1 ] || fail "$1: exit $RC, want 1: $(err "$1")"
    [ "$(wc -l <"$T/cl.$1.err")" = 1 ] || fail "$1: stderr is not one line: $(err "$1")"
    grep -q -- "$2" "$T/cl.$1.err" || fail "$1: stderr lacks '$2': $(err "$1")"
}
writes() { stat_of selfservice_write; }
kids() { # CLIENT: the kids of its key set, sorted, one line
    cl kids keys list "$1" --json
    [ "$RC" = 0 ] || fail "keys list $1: $(err kids)"
    "$PY" -c 'import json,sys; print(" ".join(sorted(k["kid"] for k in json.load(open(sys.argv[1]))["keys"])))' \
        "$T/cl.kids.out"
}

access_token() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
# An admin token as mp-exchange serve hands it out, for the raw API checks below.
ADMIN=$(curl -s -H "$XH" "$EXCH/v1/maskinporten?scope=idporten:dcr.read%20idporten:dcr.write" | access_token)
api() { # METHOD PATH [BODY] -> status; body in $T/api
    curl -s -o "$T/api" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${TOKEN:-$ADMIN}" \
        -H 'Content-Type: application/json' ${3:+--data "$3"} "$FAKE$2"
}
expect_api() { # NAME STATUS TEXT METHOD PATH [BODY]
    local name=$1 want=$2 text=$3 got
    shift 3
    got=$(api "$@")
    [ "$got" = "$want" ] || fail "$name: HTTP $got, want $want: $(cat "$T/api")"
    grep -q -- "$text" "$T/api" || fail "$name: body lacks '$text': $(cat "$T/api")"
    ok "$name: HTTP $got $(sed -n 's/.*"error":"\([^"]*\)".*/\1/p' "$T/api")"
}

# --- the API itself: who may call it, and strict metadata.
[ "$(curl -s -o "$T/api" -w '%{http_code}' "$FAKE/clients")" = 401 ] &&
    grep -q '"error":"invalid_token"' "$T/api" || fail "no bearer: $(cat "$T/api")"
ok "no bearer token: HTTP 401 invalid_token"
TOKEN=abc.def.ghi expect_api "a bearer the fake did not issue" 401 invalid_token GET /clients
PLAIN=$(curl -s -H "$XH" "$EXCH/v1/maskinporten?scope=$R" | access_token)
TOKEN=$PLAIN expect_api "a real token without idporten:dcr.*" 403 insufficient_scope GET /clients
READ=$(curl -s -H "$XH" "$EXCH/v1/maskinporten?scope=idporten:dcr.read" | access_token)
TOKEN=$READ expect_api "dcr.read only, then POST" 403 insufficient_scope POST /clients '{}'
meta() { # CHANGES-JSON: valid client metadata with these members changed (null: left out)
    "$PY" - "$R" "$1" <<'PY'
import json, sys
m = {"integration_type": "maskinporten", "application_type": "web", "client_name": "raw",
     "token_endpoint_auth_method": "private_key_jwt", "description": "d", "scopes": [sys.argv[1]],
     "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"]}
m.update(json.loads(sys.argv[2]))
print(json.dumps({k: v for k, v in m.items() if v is not None}))
PY
}
expect_api "integration_type idporten" 400 '"error_description":"integration_type' POST /clients \
    "$(meta '{"integration_type":"idporten"}')"
expect_api "application_type missing" 400 '"error_description":"application_type' POST /clients \
    "$(meta '{"application_type":null}')"
expect_api "no scopes" 400 '"error_description":"scopes' POST /clients "$(meta '{"scopes":null}')"
expect_api "empty scopes" 400 '"error_description":"scopes' POST /clients "$(meta '{"scopes":[]}')"
expect_api "two grant types" 400 '"error_description":"grant_types' POST /clients \
    "$(meta '{"grant_types":["client_credentials","urn:ietf:params:oauth:grant-type:jwt-bearer"]}')"
expect_api "empty client_name" 400 '"error_description":"client_name' POST /clients \
    "$(meta '{"client_name":""}')"
expect_api "not JSON" 400 invalid_client_metadata POST /clients 'scopes=x'
expect_api "valid metadata" 201 '"client_orgno":"314159268"' POST /clients/ "$(meta '{}')"
RAW=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$T/api")

# --- client create, with a profile appended to the signer config.
mode=$(stat -c %a "$CONF")
cl create create --name "mp-exchange test" --description "made by test_client.sh" --scope "$R" \
    --append-profile "$CONF" --profile-name fresh
[ "$RC" = 0 ] || fail "client create: $(err create)"
NEW=$(out create)
[[ $NEW =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] ||
    fail "create printed '$NEW', not one UUID line"
grep -A6 '^\[profile fresh\]$' "$CONF" >"$T/fresh"
KEY="pkcs11:token=mp-dev;object=virksomhetssertifikat;type=private"
grep -qx "client_id = $NEW" "$T/fresh" && grep -qx "scopes = $R" "$T/fresh" &&
    grep -qx "env = test" "$T/fresh" && grep -qx "key = $KEY" "$T/fresh" ||
    fail "appended profile: $(cat "$T/fresh")"
[ "$(stat -c %a "$CONF")" = "$mode" ] || fail "signer config mode changed to $(stat -c %a "$CONF")"
! compgen -G "$T/tok/signer.conf.*" >/dev/null || fail "a temp file was left beside the signer config"
ok "client create: prints the new client_id; [profile fresh] appended to the signer config (mode $mode kept)"
w=$(writes)
cl again create --name x --description y --scope "$R" --append-profile "$CONF" --profile-name fresh
one_error_line again "already has \[profile fresh\]"
[ "$(writes)" = "$w" ] || fail "a client was registered although the profile name was taken"
ok "create --profile-name of an existing profile: refused before anything is registered"
# The temp file cannot be written (RLIMIT_FSIZE below the config's size, SIGXFSZ ignored so
# write() fails with EFBIG): one line naming that step, the config untouched, no temp left.
cp "$CONF" "$T/conf.before"
while [ "$(stat -c %s "$CONF")" -le 2048 ]; do echo "# padding so the file is over 2 KiB" >>"$CONF"; done
cp "$CONF" "$T/conf.before"
RC=0
(trap '' XFSZ; ulimit -f 2; exec "$MP_EXCHANGE" client create --name x --description y --scope "$R" \
    --append-profile "$CONF" --profile-name big --selfservice-url "$FAKE" --maskinporten-url "$FAKE/" \
    --signer-socket "$T/tok/signer.sock") >"$T/cl.fsize.out" 2>"$T/cl.fsize.err" || RC=$?
one_error_line fsize "unchanged: cannot write the temp file: File too large"
cmp -s "$CONF" "$T/conf.before" || fail "the signer config changed although its write failed"
! compgen -G "$T/tok/signer.conf.*" >/dev/null || fail "a temp file was left beside the signer config"
ok "create whose config write fails: $(err fsize | cut -c1-150)"
cl usage create --name x
[ "$RC" = 2 ] || fail "usage error exit $RC"
cl usage2 create --name x --description y --scope "a b"
[ "$RC" = 2 ] || fail "a scope with a space: exit $RC"
"$MP_EXCHANGE" client keys --help >"$T/keys-help" || fail "client keys --help: exit $?"
grep -q "keys add" "$T/keys-help" || fail "client keys --help: $(cat "$T/keys-help")"
RC=0
"$MP_EXCHANGE" client keys >/dev/null 2>&1 || RC=$?
[ "$RC" = 2 ] || fail "client keys alone: exit $RC"
ok "usage errors exit 2; client keys --help prints the usage (exit 0)"

cl show show "$NEW" --json
[ "$RC" = 0 ] || fail "show: $(err show)"
"$PY" - "$T/cl.show.out" "$NEW" "$R" <<'PY' || fail "client model: $(out show)"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["client_id"] == sys.argv[2] and c["client_orgno"] == "314159268", c
assert c["scopes"] == [sys.argv[3]] and c["integration_type"] == "maskinporten", c
assert c["token_endpoint_auth_method"] == "private_key_jwt" and c["client_name"] == "mp-exchange test", c
PY
cl show2 show "$NEW"
grep -q "^client_orgno  *314159268$" "$T/cl.show2.out" || fail "show table: $(out show2)"
cl list list
[ "$RC" = 0 ] && grep -q "^$NEW  314159268  mp-exchange test$" "$T/cl.list.out" &&
    grep -q "^$RAW " "$T/cl.list.out" || fail "list: $(out list) $(err list)"
ok "client show (JSON and table) and list: the client model, owner org 314159268"
cl missing show 00000000-0000-4000-8000-000000000000
one_error_line missing "HTTP 404 not_found"
ok "show of an unknown client: one line, $(err missing)"
# Another organisation's admin token sees none of it.
sw_admin=$("$PY" "$MP_ROOT/tests/exchange/jwtmake.py" sign "$T/sw.pem" '{"alg":"RS256","kid":"sw-key-1"}' \
    "{\"aud\":\"https://test.maskinporten.no/\",\"iss\":\"$KIDCID\",\"scope\":\"idporten:dcr.read\",\"iat\":\"\$now\",\"exp\":\"\$now+60\",\"jti\":\"\$uuid\"}")
OTHER=$(curl -s --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
    --data-urlencode "assertion=$sw_admin" "$FAKE/token" | access_token)
TOKEN=$OTHER expect_api "another org's client" 404 not_found GET "/clients/$NEW"
[ "$(TOKEN=$OTHER api GET /clients)" = 200 ] && [ "$(cat "$T/api")" = "[]" ] ||
    fail "another org lists: $(cat "$T/api")"
ok "another organisation's admin lists no clients"

# --- keys: the HSM key as a JWK, then software keys up to the maximum of 5.
cl add1 keys add "$NEW" --jwk "$T/hsm.jwk"
[ "$RC" = 0 ] || fail "keys add: $(err add1)"
[ "$(kids "$NEW")" = "hsm-key-1" ] || fail "after add: $(kids "$NEW")"
cl klist keys list "$NEW"
grep -qE "^hsm-key-1 +RS256 +sig +$(date -u -d '+365 days' +%Y-%m-%d)T[0-9:]*Z \\((364|365) days\\)$" "$T/cl.klist.out" ||
    fail "keys list table: $(out klist)"
ok "keys add (JWK from mp-signer key jwk) and keys list: hsm-key-1, expiring a year from now"
for i in 2 3 4 5 6; do
    "$PY" "$MP_ROOT/tests/exchange/jwtmake.py" keygen "$T/k$i.pem" "$T/k$i.jwks" "sw-$i"
done
"$PY" -c 'import json,sys; json.dump({"keys": json.load(open(sys.argv[1]))["keys"] + json.load(open(sys.argv[2]))["keys"]}, open(sys.argv[3], "w"))' \
    "$T/k4.jwks" "$T/k5.jwks" "$T/k45.jwks"
cl add2 keys add "$NEW" --jwk "$T/k2.jwks"
cl add3 keys add "$NEW" --jwk "$T/k3.jwks"
cl add45 keys add "$NEW" --jwk "$T/k45.jwks"
[ "$(kids "$NEW")" = "hsm-key-1 sw-2 sw-3 sw-4 sw-5" ] || fail "five keys: $(kids "$NEW") $(err add45)"
ok "keys add of a JWKS with two keys: five keys, each added without dropping the others"
cl kjson keys list "$NEW" --json
cp "$T/cl.kjson.out" "$T/five.json"
w=$(writes)
cl add6 keys add "$NEW" --jwk "$T/k6.jwks"
one_error_line add6 "maximum of 5"
[ "$(writes)" = "$w" ] || fail "a write reached the API for a 6th key"
cl kjson keys list "$NEW" --json
"$PY" - "$T/five.json" "$T/cl.kjson.out" <<'PY' || fail "the key set changed"
import json, sys
a, b = (json.load(open(p))["keys"] for p in sys.argv[1:3])
assert [(k["kid"], k["n"]) for k in a] == [(k["kid"], k["n"]) for k in b]
PY
ok "a 6th key: refused in one line ($(err add6)), nothing sent, the set unchanged"
cl dup keys add "$NEW" --jwk "$T/k3.jwks"
one_error_line dup "already has a key with kid sw-3"
"$PY" -c 'import json,sys; k=json.load(open(sys.argv[1]))["keys"][0]; k["d"]="AAAA"; json.dump(k, open(sys.argv[2],"w"))' \
    "$T/k6.jwks" "$T/private.jwk"
cl priv keys add "$NEW" --jwk "$T/private.jwk"
one_error_line priv "private key material"
[ "$(writes)" = "$w" ] || fail "a refused add reached the API"
ok "keys add of a kid already registered, or of a private JWK: refused, nothing sent"

# --- the API's key rules, raw.
key6=$("$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["keys"][0]))' "$T/k6.jwks")
nouse=$("$PY" -c 'import json,sys; k=json.loads(sys.argv[1]); del k["use"]; print(json.dumps(k))' "$key6")
expect_api "a key without use" 400 "use is required" PUT "/clients/$RAW/jwks" "{\"keys\":[$nouse]}"
expect_api "alg PS256" 400 "alg must be" PUT "/clients/$RAW/jwks" "{\"keys\":[${key6/RS256/PS256}]}"
expect_api "a kid with a plus" 400 "kid is required" PUT "/clients/$RAW/jwks" "{\"keys\":[${key6/sw-6/sw+6}]}"
expect_api "a kid twice" 400 "duplicate kid sw-6" PUT "/clients/$RAW/jwks" "{\"keys\":[$key6,$key6]}"
six=$("$PY" -c 'import json,sys; k=json.loads(sys.argv[1]); print(json.dumps({"keys":[dict(k, kid="k%d" % i) for i in range(6)]}))' "$key6")
expect_api "six keys" 400 "at most 5 keys" PUT "/clients/$RAW/jwks" "$six"
expect_api "an empty set" 400 "DELETE" PUT "/clients/$RAW/jwks" '{"keys":[]}'
withexp=$("$PY" -c 'import json,sys; k=json.loads(sys.argv[1]); k["exp"]=1; print(json.dumps(k))' "$key6")
expect_api "exp on input is ignored" 201 '"kid":"sw-6"' POST "/clients/$RAW/jwks" "{\"keys\":[$withexp]}"
"$PY" -c 'import json,sys,time; assert json.load(open(sys.argv[1]))["keys"][0]["exp"] > time.time() + 364*86400' "$T/api" ||
    fail "exp not set by the API: $(cat "$T/api")"
cl rm3 keys remove "$NEW" sw-3
[ "$RC" = 0 ] || fail "keys remove: $(err rm3)"
[ "$(kids "$NEW")" = "hsm-key-1 sw-2 sw-4 sw-5" ] || fail "after remove: $(kids "$NEW")"
ok "keys remove sw-3: only sw-3 is gone"
echo "$nouse" >"$T/nouse.jwk"
cl nouse keys add "$NEW" --jwk "$T/nouse.jwk"
one_error_line nouse "HTTP 400 invalid_request: keys\[4\]: use is required"
[ "$(kids "$NEW")" = "hsm-key-1 sw-2 sw-4 sw-5" ] || fail "after a refused PUT: $(kids "$NEW")"
cl nokid keys remove "$NEW" sw-9
one_error_line nokid "has no key with kid sw-9"
cl add1b keys add "$NEW" --jwk "$T/k6.jwks"
[ "$RC" = 0 ] || fail "keys add after a remove: $(err add1b)"
ok "keys add of a JWK without use: the API's 400 in one line; keys remove of an unknown kid: refused"

# --- a kid grant for the new client, signed in the HSM through the appended profile.
printf 'kid = hsm-key-1\nallow_uids = %s\n' "$(id -u)" >>"$CONF"
kill -HUP "$SIGNER_PID"
line_value "$T/signer.err" '/reloaded [0-9]* profile/p' >/dev/null || fail "signer did not reload"
[ "$(curl -s -H "$XH" -o "$T/resp" -w '%{http_code}' "$EXCH/v1/maskinporten?scope=$R&profile=fresh")" = 200 ] ||
    fail "kid grant through the exchange: $(cat "$T/resp")"
curl -s "$FAKE/jwk" >"$T/jwk.json"
"$PY" - "$T/resp" "$T/jwk.json" "$NEW" <<'PY' || fail "token for the new client"
import json, sys, jwt
key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(json.load(open(sys.argv[2]))["keys"][0]))
c = jwt.decode(json.load(open(sys.argv[1]))["access_token"], key, algorithms=["RS256"],
               options={"verify_aud": False})
assert c["client_id"] == sys.argv[3] and c["client_amr"] == "private_key_jwt", c
assert c["consumer"]["ID"] == "0192:314159268", c
PY
grep -q "\"client_id\":\"$NEW\"" "$T/tok/audit.log" || fail "no audit line for the new client"
ok "kid grant signed in the HSM for profile fresh: token for $NEW (private_key_jwt), verified with python3-jwt"
# The watcher reads the key's expiry from the self-service API: one year after its upload.
for _ in $(seq 1 100); do
    got=$(curl -s -H "$XH" "$EXCH/metrics" |
        sed -n 's/^mp_exchange_registered_key_expiry_seconds{profile="fresh",kid="hsm-key-1"} //p')
    [ -n "$got" ] && break
    sleep 0.1
done
exp=$("$PY" -c 'import json,sys; print([k["exp"] for k in json.load(open(sys.argv[1]))["keys"] if k["kid"] == "hsm-key-1"][0])' \
    <(curl -s -H "Authorization: Bearer $READ" "$FAKE/clients/$NEW/jwks"))
[ -n "$got" ] && [ $((exp - $(date +%s) - got)) -ge -3 ] && [ $((exp - $(date +%s) - got)) -le 3 ] ||
    fail "registered key expiry gauge '$got', the API says exp $exp: $(tail -3 "$T/exchange.err")"
[ $((got / 86400)) -ge 364 ] || fail "a fresh key expires in $((got / 86400)) days"
ok "/metrics: the registered key behind profile fresh's kid grants expires in $((got / 86400)) days, as the API says"
kidgrant() {
    "$PY" "$MP_ROOT/tests/exchange/jwtmake.py" sign "$T/k$1.pem" "{\"alg\":\"RS256\",\"kid\":\"sw-$1\"}" \
        "{\"aud\":\"https://test.maskinporten.no/\",\"iss\":\"$NEW\",\"scope\":\"$R\",\"iat\":\"\$now\",\"exp\":\"\$now+60\",\"jti\":\"\$uuid\"}"
}
post() { curl -s -o "$T/body" -w '%{http_code}' --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
    --data-urlencode "assertion=$1" "$FAKE/token"; }
[ "$(post "$(kidgrant 4)")" = 200 ] || fail "sw-4 grant: $(cat "$T/body")"
[ "$(post "$(kidgrant 3)")" = 400 ] && grep -q "No registered key with kid sw-3" "$T/body" ||
    fail "a removed key still works: $(cat "$T/body")"
ok "software kid grants: a current key works, the removed one is refused"

# --- removing down to nothing: the last key goes with DELETE.
for k in sw-2 sw-4 sw-5 sw-6 hsm-key-1; do
    cl "rm-$k" keys remove "$NEW" "$k"
    [ "$RC" = 0 ] || fail "remove $k: $(err "rm-$k")"
done
[ "$(kids "$NEW")" = "" ] || fail "keys left: $(kids "$NEW")"
ok "keys remove of the last key: DELETE, the set is empty"
line_value "$T/exchange.err" '/profile fresh: key hsm-key-1 is no longer registered on client/p' >/dev/null ||
    fail "the key watch did not notice the key was removed: $(tail -3 "$T/exchange.err")"
got -H "$XH" "$EXCH/metrics"
grep -q 'registered_key_expiry_seconds{profile="fresh"' "$T/got" &&
    fail "a removed key still has an expiry gauge"
ok "the key watch warns that profile fresh's key is no longer registered, and drops its gauge"

# No token or grant in anything the client commands printed.
! grep -l 'eyJ' "$T"/cl.*.out "$T"/cl.*.err || fail "a token or grant was printed"
ok "no token or grant in any output of $N client commands"

# --- HTTPS with a private CA: --ca-file.
make_tls_server_cert
{ printf 'tls_cert = %s\ntls_key = %s\n' "$T/tls/srv.pem" "$T/tls/srv.key"; cat "$T/fake.conf"; } >"$T/fake-tls.conf"
"$MP_FAKE" --config "$T/fake-tls.conf" >"$T/fake-tls.out" 2>"$T/fake-tls.err" &
PIDS+=($!)
FAKE=$(line_value "$T/fake-tls.out" 's/^mp-fake listening on //p') || fail "TLS fake did not start"
cl tls list --ca-file "$T/tls/ca.pem"
[ "$RC" = 0 ] || fail "list over HTTPS with --ca-file: $(err tls)"
# Verifying against the system store loads all of it: under ASan with full malloc stack traces
# (as CI runs) that alone took 6.7 s, past the default 3 s connect timeout.
printf 'connect_timeout_ms = 60000\ntimeout_ms = 60000\n' >"$T/slow.conf"
cl notls list --config "$T/slow.conf"
one_error_line notls "certificate"
ok "HTTPS with --ca-file works; without it: $(err notls)"
