#!/usr/bin/env bash
# A person in the grant: Maskinporten's pid claim and an Altinn consent (authorization_details
# urn:altinn:consent), from GET /v1/maskinporten, the OAuth2 route and TEXAS through mp-signer
# to mp-fake, which checks both strictly. Each is allowed per profile (allow_pid,
# allow_consent); the audit log never holds a person's number, only its HMAC under
# audit_person_key_file, which `mp-signer audit person-mark` reproduces for an auditor.
. "$(dirname "$0")/lib.sh"
setup_fake
R=altinn:serviceowner/instances.read
PID=21818297804 # a synthetic test-environment number (month + 80), valid control digits
PID2=03867199348
CONSENT=77ed8698-e619-4066-9eb4-5c1eb3f165a1
# The fake: the signer's client may carry pid; one consent from PID to org 314159268.
kill "${PIDS[0]}"
sed -i "/^\[client $CID\]$/a pid = yes" "$T/fake.conf"
cat >>"$T/fake.conf" <<CONF
[consent $CONSENT]
from = urn:altinn:person:identifier-no:$PID
to = 314159268
resource = standard-samtykke-for-dele-data
valid_to = 2099-01-01T00:00:00Z
CONF
: >"$T/fake.out"
"$MP_FAKE" --config "$T/fake.conf" >"$T/fake.out" 2>"$T/fake.err" &
PIDS+=($!)
FAKE=$(line_value "$T/fake.out" 's/^mp-fake listening on //p') || fail "mp-fake did not restart: $(cat "$T/fake.err")"

# allow_pid without the key: refused at config check, naming the key.
printf 'allow_pid = yes\nallow_consent = yes\n' >>"$CONF"
"$MP_SIGNER" config check --config "$CONF" >"$T/check.out" 2>"$T/check.err" &&
    fail "config check passed allow_pid without audit_person_key_file"
grep -q "allow_pid and allow_consent need audit_person_key_file" "$T/check.err" ||
    fail "config check: $(cat "$T/check.err")"
ok "allow_pid without audit_person_key_file: $(cut -c1-110 "$T/check.err")"
openssl rand -hex 32 >"$T/person.key"
chmod 644 "$T/person.key"
sed -i "1i audit_person_key_file = $T/person.key" "$CONF"
"$MP_SIGNER" config check --config "$CONF" >/dev/null 2>"$T/check.err" &&
    fail "config check read a key file others may read"
grep -q "audit_person_key_file $T/person.key has mode 0644" "$T/check.err" || fail "mode: $(cat "$T/check.err")"
chmod 600 "$T/person.key"
"$MP_SIGNER" config check --config "$CONF" >/dev/null 2>"$T/check.err" || fail "config check: $(cat "$T/check.err")"
ok "audit_person_key_file: a file others may read is refused as a PIN file is; 0600 passes"
{
    echo "[profile nopid]"
    sed -n '/^\[profile default\]$/,/^allow_pid/p' "$CONF" | grep -E '^(key|client_id|env|scopes|allow_uids) = '
} >>"$CONF"
start_signer
start_exchange
curl -s "$FAKE/jwk" >"$T/jwk.json"
# claims FILE: the verified claims of the token in the JSON answer FILE, as JSON on stdout.
claims() {
    "$PY" - "$1" "$T/jwk.json" <<'PY'
import json, sys, jwt
key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(json.load(open(sys.argv[2]))["keys"][0]))
print(json.dumps(jwt.decode(json.load(open(sys.argv[1]))["access_token"], key, algorithms=["RS256"],
                            options={"verify_aud": False})))
PY
}

# --- pid: the query route, the OAuth2 route, mp-signer request.
[ "$(curl -s -H "$XH" -o "$T/a" -w '%{http_code}' "$EXCH/v1/maskinporten?scope=$R&pid=$PID")" = 200 ] ||
    fail "pid via /v1: $(cat "$T/a")"
[ "$(claims "$T/a" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pid"])')" = "$PID" ] ||
    fail "the token has no pid: $(claims "$T/a")"
[ "$(curl -s -o "$T/b" -w '%{http_code}' -d grant_type=client_credentials -d client_id=default \
    -d "scope=$R" -d "pid=$PID2" "$EXCH/oauth2/token")" = 200 ] || fail "pid via OAuth2: $(cat "$T/b")"
[ "$(claims "$T/b" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pid"])')" = "$PID2" ] ||
    fail "OAuth2 token pid: $(claims "$T/b")"
"$MP_SIGNER" request --socket "$T/tok/signer.sock" --scope "$R" --pid "$PID" >"$T/jws" 2>"$T/req.err" ||
    fail "mp-signer request --pid: $(cat "$T/req.err")"
"$PY" -c 'import jwt,sys; c = jwt.decode(open(sys.argv[1]).read().strip(), options={"verify_signature": False}); assert c["pid"] == sys.argv[2], c' \
    "$T/jws" "$PID" || fail "the grant has no pid"
ok "pid: tokens from /v1 and /oauth2/token carry it (verified with python3-jwt), and so does a grant from mp-signer request"
[ "$(curl -s -H "$XH" -o "$T/c" -w '%{http_code}' "$EXCH/v1/maskinporten?scope=$R&pid=21818297805")" = 400 ] &&
    ! grep -q 21818297805 "$T/c" || fail "a bad pid: $(cat "$T/c")"
[ "$(curl -s -o "$T/c" -w '%{http_code}' -d grant_type=client_credentials -d client_id=nopid \
    -d "scope=$R" -d "pid=$PID" "$EXCH/oauth2/token")" = 400 ] && grep -q '"error":"invalid_scope"' "$T/c" &&
    grep -q 'does not allow pid' "$T/c" || fail "pid on profile nopid: $(cat "$T/c")"
ok "pid refused: bad control digits (400, not echoed); a profile without allow_pid (invalid_scope)"

# --- consent: OAuth2 and TEXAS, expanded by the fake.
AD="[{\"type\":\"urn:altinn:consent\",\"id\":\"$CONSENT\",\"from\":\"urn:altinn:person:identifier-no:$PID\"}]"
[ "$(curl -s -o "$T/d" -w '%{http_code}' -d grant_type=client_credentials -d client_id=default \
    -d "scope=$R" --data-urlencode "authorization_details=$AD" "$EXCH/oauth2/token")" = 200 ] ||
    fail "consent via OAuth2: $(cat "$T/d")"
claims "$T/d" >"$T/d.claims"
"$PY" - "$T/d.claims" "$CONSENT" "$PID" <<'PY' || fail "consent token: $(cat "$T/d.claims")"
import json, sys
d = json.load(open(sys.argv[1]))["authorization_details"]
assert len(d) == 1 and d[0]["type"] == "urn:altinn:consent" and d[0]["id"] == sys.argv[2], d
assert d[0]["from"] == "urn:altinn:person:identifier-no:" + sys.argv[3], d
assert d[0]["to"] == {"authority": "iso6523-actorid-upis", "ID": "0192:314159268"}, d
assert d[0]["consentRights"][0]["resource"][0]["value"] == "standard-samtykke-for-dele-data", d
PY
[ "$(curl -s -o "$T/e" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"identity_provider\":\"maskinporten\",\"target\":\"$R\",\"authorization_details\":$AD}" \
    "$EXCH/api/v1/token")" = 200 ] || fail "consent via TEXAS: $(cat "$T/e")"
ok "consent: OAuth2 and TEXAS tokens carry the consent mp-fake expanded (to org 314159268, its rights)"
BAD="[{\"type\":\"urn:altinn:consent\",\"id\":\"$CONSENT\",\"from\":\"urn:altinn:person:identifier-no:$PID2\"}]"
[ "$(curl -s -o "$T/f" -w '%{http_code}' -d grant_type=client_credentials -d client_id=default \
    -d "scope=$R" --data-urlencode "authorization_details=$BAD" "$EXCH/oauth2/token")" = 400 ] ||
    fail "a consent from someone else: $(cat "$T/f")"
[ "$(curl -s -o "$T/f" -w '%{http_code}' -d grant_type=client_credentials -d client_id=nopid \
    -d "scope=$R" --data-urlencode "authorization_details=$AD" "$EXCH/oauth2/token")" = 400 ] &&
    grep -q 'does not allow consents' "$T/f" || fail "consent on profile nopid: $(cat "$T/f")"
NOTUUID="[{\"type\":\"urn:altinn:consent\",\"id\":\"x\",\"from\":\"urn:altinn:person:identifier-no:$PID\"}]"
[ "$(curl -s -o "$T/f" -w '%{http_code}' -d grant_type=client_credentials -d client_id=default \
    -d "scope=$R" --data-urlencode "authorization_details=$NOTUUID" "$EXCH/oauth2/token")" = 400 ] &&
    grep -q '"error":"invalid_authorization_details"' "$T/f" || fail "consent id not a UUID: $(cat "$T/f")"
ok "consent refused: from another person (by mp-fake), on a profile without allow_consent, an id that is no UUID"

# --- the audit log: marks, never numbers; an auditor with the key finds the lines.
! grep -l -e "$PID" -e "$PID2" "$T/tok/audit.log" "$T/signer.err" "$T/exchange.err" ||
    fail "a person's number reached the audit log or a daemon's log"
M1=$(echo "$PID" | "$MP_SIGNER" audit person-mark --key-file "$T/person.key") || fail "person-mark failed"
M2=$(echo "$PID2" | "$MP_SIGNER" audit person-mark --key-file "$T/person.key")
[[ $M1 =~ ^hmac-sha256:[0-9a-f]{16}:[0-9a-f]{64}$ ]] || fail "mark '$M1'"
# The same HMAC computed with Python's hmac module over the key file's line.
[ "${M1##*:}" = "$("$PY" -c 'import hmac,sys; print(hmac.new(open(sys.argv[1]).read().strip().encode(), sys.argv[2].encode(), "sha256").hexdigest())' "$T/person.key" "$PID")" ] ||
    fail "person-mark is not HMAC-SHA256 under the key"
"$PY" - "$T/tok/audit.log" "$M1" "$M2" "$CONSENT" <<'PY' || fail "audit lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
sign = [l for l in lines if l.get("event") == "sign"]
pid1 = [l for l in sign if l["claims"].get("pid") == sys.argv[2]]
assert len([l for l in pid1 if l["outcome"] == "granted"]) == 2, pid1    # /v1 and request
assert any(l["outcome"] == "refused" and l["profile"] == "nopid" for l in pid1), pid1
assert any(l["claims"].get("pid") == sys.argv[3] and l["outcome"] == "granted" for l in sign)
cons = [l for l in sign if l["claims"].get("consent_id") == sys.argv[4]]
assert cons and all(l["claims"]["consent_from"] == "urn:altinn:person:identifier-no:" + sys.argv[2]
                    or l["claims"]["consent_from"].startswith("urn:altinn:person:identifier-no:hmac-sha256:")
                    for l in cons), cons
PY
"$MP_SIGNER" audit verify "$T/tok/audit.log" --cert "$T/tok/audit-pub.pem" >"$T/verify.out" 2>&1 ||
    fail "audit verify: $(cat "$T/verify.out")"
ok "audit log: no number, only HMAC marks (refusals too); person-mark finds $PID's 3 lines; the mark is Python's hmac; verify passes"
