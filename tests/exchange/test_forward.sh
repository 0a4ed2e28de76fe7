#!/usr/bin/env bash
# forward_caller (yes by default): the exchange names each HTTP caller on its Unix socket (SO_PEERCRED) to
# the signer, which trusts it (trusted_forwarders) and applies the profile's allow_uids to that
# caller. Two throwaway users, real processes: A (allowed) gets a Maskinporten and an Altinn
# token and its second request comes from the cache; B is refused with a 403 naming its uid
# even though A's token for the same scope is cached; on loopback TCP the exchange finds the
# caller's uid in the kernel's socket table (sock_diag) and the same holds. Every
# grant and refusal in the audit log names the end caller and the exchange as forwarder, and
# the log verifies.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
    ok "not root: this test needs useradd and setpriv for two throwaway users (uid $(id -u))"
    exit 0
fi
APPS=mp-fwd-apps-$$
add_users mp-fwd a b
# Both may connect to the exchange's socket (group $APPS); only A's uid is in the profile.
add_group "$APPS"
for u in "${USERS[@]}"; do usermod -a -G "$APPS" "$u"; done
UA=${USERS[0]}
UB=${USERS[1]}
A=$(id -u "$UA")
B=$(id -u "$UB")

setup_fake
LOG=$T/tok/audit.log
R=altinn:serviceowner/instances.read
sed -i "s|^allow_uids = .*|allow_uids = $UA|" "$CONF"
grep -qx "trusted_forwarders = $(id -un)" "$CONF" || fail "softhsm-init.sh did not trust the exchange's user"
start_signer
mkdir -m 0755 "$T/pub"
chmod 0711 "$T"
cat >"$T/exchange.conf" <<CONF
listen_unix = $T/pub/http.sock
unix_mode = 0660
unix_group = $APPS
CONF
start_exchange --config "$T/exchange.conf"
for _ in $(seq 1 100); do [ -S "$T/pub/http.sock" ] && break; sleep 0.05; done
grep -q "forward_caller = yes: the signer decides for each caller" "$T/exchange.err" ||
    fail "the exchange did not say it forwards callers"
[ "$(stat -c '%G %a' "$T/pub/http.sock")" = "$APPS 660" ] ||
    fail "the socket is $(stat -c '%G %a' "$T/pub/http.sock"), not $APPS 660 (unix_group, unix_mode)"
if setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s --unix-socket "$T/pub/http.sock" \
    -H "$XH" "http://localhost/v1/maskinporten?scope=x" >/dev/null 2>&1; then
    fail "nobody (not in $APPS) could connect to the socket"
fi
ok "the socket is group $APPS, mode 0660 (unix_group); a user outside the group cannot connect"

# as USER PATH: GET PATH over the Unix socket as USER; the body in $T/resp, prints the status.
as() {
    setpriv --reuid="$1" --regid="$1" --init-groups --reset-env \
        curl -s --unix-socket "$T/pub/http.sock" -H "$XH" -o - -w '\n%{http_code}' \
        "http://localhost$2" >"$T/out"
    tail -n 1 "$T/out"
    head -n -1 "$T/out" >"$T/resp"
}
field() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2],''))" "$T/resp" "$1"; }
# The last sign line: "outcome caller-uid forwarder-uid".
last_sign() {
    "$PY" - "$LOG" <<'PY'
import json, sys
j = [json.loads(l) for l in open(sys.argv[1]) if '"event":"sign"' in l][-1]
print(j["outcome"], j["caller"]["uid"], j.get("forwarder", {}).get("uid", "-"))
PY
}
grants() { grep -c '"outcome":"granted"' "$LOG" || true; }

[ "$(as "$UA" "/v1/maskinporten?scope=$R")" = 200 ] || fail "uid $A was refused: $(cat "$T/resp")"
"$PY" - "$(field access_token)" <<'PY' || fail "not a Maskinporten token"
import jwt, sys
c = jwt.decode(sys.argv[1], options={"verify_signature": False})
assert c["iss"] == "https://test.maskinporten.no/" and c["scope"] == "altinn:serviceowner/instances.read"
PY
[ "$(last_sign)" = "granted $A 0" ] || fail "audit of A's grant: $(last_sign)"
ok "uid $A over the Unix socket: a Maskinporten token; the audit line names caller $A, forwarder 0"
n=$(grants)
[ "$(as "$UA" "/v1/maskinporten?scope=$R")" = 200 ] || fail "uid $A's second request: $(cat "$T/resp")"
[ "$(grants)" = "$n" ] || fail "uid $A's second request was signed again, not served from the cache"
# The Altinn token through a client library nobody here wrote: requests-unixsocket (Debian).
sock_url=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$T/pub/http.sock")
setpriv --reuid="$UA" --regid="$UA" --init-groups --reset-env "$PY" - "$sock_url" "$R" \
    >"$T/resp" <<'PY' || fail "uid $A's Altinn token through requests-unixsocket: $(cat "$T/resp")"
import sys, requests_unixsocket
r = requests_unixsocket.Session().get("http+unix://%s/v1/altinn" % sys.argv[1],
                                      params={"scope": sys.argv[2]}, headers={"X-MP-Exchange": "1"})
print(r.text)
sys.exit(r.status_code != 200)
PY
"$PY" - "$(field access_token)" <<'PY' || fail "not an Altinn token"
import jwt, sys
c = jwt.decode(sys.argv[1], options={"verify_signature": False})
assert c["urn:altinn:orgNumber"] == "314159268", c
PY
ok "uid $A: the second request came from the cache (no new grant); an Altinn token through requests-unixsocket"

for path in "/v1/maskinporten?scope=$R" "/v1/altinn?scope=$R"; do
    code=$(as "$UB" "$path")
    # Not the body: on this failure it would hold a token.
    [ "$code" = 403 ] || fail "uid $B got status $code for $path (A's cached token, if 200)"
    [ "$(field error)" = access_denied ] || fail "uid $B's refusal: $(cat "$T/resp")"
    grep -q "uid $B gid $(id -g "$UB") may not use profile default" "$T/resp" ||
        fail "uid $B's refusal does not say why: $(cat "$T/resp")"
    [ "$(last_sign)" = "refused $B 0" ] || fail "audit of B's refusal: $(last_sign)"
done
ok "uid $B: 403 access_denied for both routes, though A's tokens are cached; audited as caller $B"

# tcp USER PATH: the same over loopback TCP, where the exchange asks the kernel's socket table.
tcp() {
    setpriv --reuid="$1" --regid="$1" --clear-groups --reset-env \
        curl -s -H "$XH" -o - -w '\n%{http_code}' "$EXCH$2" >"$T/out"
    tail -n 1 "$T/out"
    head -n -1 "$T/out" >"$T/resp"
}
n=$(grants)
[ "$(tcp "$UA" "/v1/maskinporten?scope=$R")" = 200 ] || fail "uid $A over TCP: $(cat "$T/resp")"
[ "$(grants)" = "$n" ] || fail "uid $A over TCP was signed again: not the same caller as on the Unix socket"
code=$(tcp "$UB" "/v1/maskinporten?scope=$R")
[ "$code" = 403 ] || fail "uid $B over TCP got status $code (A's cached token, if 200)"
grep -q "uid $B gid $(id -g "$UB") may not use profile default" "$T/resp" ||
    fail "uid $B's TCP refusal does not say why: $(cat "$T/resp")"
[ "$(last_sign)" = "refused $B 0" ] || fail "audit of B's TCP refusal: $(last_sign)"
ok "loopback TCP: the socket table names uid $A (served from its cache entry) and uid $B (403, audited)"

kill -TERM "${PIDS[@]:1}"
wait "${PIDS[@]:1}" 2>/dev/null || true
"$MP_SIGNER" audit verify "$LOG" --cert "$T/tok/audit-pub.pem" >"$T/verify.out" ||
    { cat "$T/verify.out"; fail "audit verify failed"; }
"$PY" - "$LOG" "$A" "$B" <<'PY' || fail "a sign line does not name an end caller through the exchange"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"event":"sign"' in l]
assert lines and all(j.get("forwarder", {}).get("uid") == 0 for j in lines), lines
assert {j["caller"]["uid"] for j in lines} == {int(sys.argv[2]), int(sys.argv[3])}, lines
PY
ok "every sign line names its end caller and the forwarder; $(cat "$T/verify.out")"
