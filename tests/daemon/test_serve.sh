#!/usr/bin/env bash
# mp-signer serve: grants verified by an independent verifier, refusals audited, the audit
# log verifies, socket hygiene, SIGTERM drains and checkpoints.
. "$(dirname "$0")/lib.sh"
make_token
sed -i 's/^max_lifetime = .*/max_lifetime = 90/' "$CONF"
start_signer

[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode is $(stat -c %a "$SOCK"), want 660"
ok "socket created with mode 0660"

jws=$(request --scope altinn:serviceowner/instances.read)
[ "$(printf '%s\n' "$jws" | wc -l)" -eq 1 ] || fail "request printed more than one line"
claims=$(verify_jwt "$jws") || fail "python3-jwt rejected the daemon's grant"
jti=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["jti"])' "$claims")
ok "granted JWS verifies with python3-jwt against cert.pem"

line=$(grep "\"jws_sha256\":\"$(sha256 "$jws")\"" "$LOG") || fail "no audit line for the JWS"
"$PY" - "$line" "$jti" "$(id -u)" <<'PY' || fail "granted audit line is wrong"
import json, sys
r = json.loads(sys.argv[1])
assert r["event"] == "sign" and r["outcome"] == "granted", r
assert r["claims"]["jti"] == sys.argv[2] and r["claims"]["scope"] == "altinn:serviceowner/instances.read"
assert r["caller"]["uid"] == int(sys.argv[3]) and r["caller"]["pid"] > 0 and r["caller"]["exe"]
assert r["profile"] == "default" and len(r["cert_sha256"]) == 64 and "reason" not in r
assert r["key"].startswith("pkcs11:") and "pin" not in r["key"]
PY
ok "granted request has its audit line (caller, claims, jti, jws_sha256, never the JWS)"
grep -qF "$jws" "$LOG" && fail "the JWS itself is in the audit log"
ok "the JWS itself is not in the audit log"

expect_refusal "scope foo:bar is not allowed" request --scope foo:bar
expect_refusal "consumer_org 991825827 is not allowed" request \
    --scope altinn:serviceowner/instances.read --consumer-org 991825827
expect_refusal "lifetime must be 1..120" request --scope altinn:serviceowner/instances.read \
    --lifetime 121
expect_refusal "no profile named nosuch" request --profile nosuch \
    --scope altinn:serviceowner/instances.read
expect_refusal "lifetime 100 s exceeds max_lifetime 90 s" request \
    --scope altinn:serviceowner/instances.read --lifetime 100
expect_refusal "resource https://x.example/ is not allowed" request \
    --scope altinn:serviceowner/instances.read --resource https://x.example/
refused=$(grep -c '"outcome":"refused"' "$LOG")
[ "$refused" -eq 6 ] || fail "expected 6 refused audit lines, found $refused"
ok "6 refusals (scope, consumer_org, lifetime 121, unknown profile, lifetime over max, resource): one-line errors and refused audit lines"

# A caller whose uid the profile does not list: open the socket to everyone for this test.
if id nobody >/dev/null 2>&1; then
    chmod 0666 "$SOCK"
    chmod 0755 "$T" "$T/tok"
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$MP_SIGNER" request \
        --socket "$SOCK" --scope altinn:serviceowner/instances.read 2>&1) &&
        fail "uid nobody got a grant"
    case $out in *"may not use profile default"*) ;; *) fail "wrong-uid error: $out" ;; esac
    grep -q "\"uid\":$(id -u nobody),.*\"outcome\"\|\"outcome\":\"refused\".*\"uid\":$(id -u nobody)" "$LOG" ||
        fail "no refused audit line for uid nobody"
    chmod 0660 "$SOCK"
    ok "a uid outside allow_uids is refused and audited"
fi

expect_refusal "already served" "$MP_SIGNER" serve --config "$CONF"
ok "a second signer on the same socket is refused"

stop_signer
[ -S "$SOCK" ] && fail "socket left behind after SIGTERM"
tail -1 "$LOG" | grep -q '"event":"checkpoint"' || fail "no final checkpoint"
ok "SIGTERM: exit 0, socket removed, final checkpoint written"

audit_verify >"$T/verify.out" || { cat "$T/verify.out"; fail "audit verify failed"; }
grep -q "OK" "$T/verify.out" || fail "audit verify said: $(cat "$T/verify.out")"
ok "audit verify: $(cat "$T/verify.out")"

# Tampering: every single change is caught and the first bad line named.
tamper() { # NAME EXPECTED-TEXT then a command that edits $T/t.log
    local name=$1 want=$2 out rc=0
    shift 2
    cp "$LOG" "$T/t.log"
    "$@"
    out=$("$MP_SIGNER" audit verify "$T/t.log" --cert "$T/tok/audit-pub.pem") || rc=$?
    [ $rc -eq 1 ] || fail "$name: verify exited $rc, want 1 ($out)"
    case $out in *"$want"*) ;; *) fail "$name: verdict '$out' lacks '$want'" ;; esac
    ok "$name: $out"
}
n=$(wc -l <"$LOG")
tamper "edit a granted line" "BAD in t.log at line 4: prev does not match the SHA-256 of line 3" \
    sed -i '3s/"outcome":"granted"/"outcome":"refused"/' "$T/t.log"
tamper "delete a line" "BAD in t.log at line 5: seq 5 follows seq 3" sed -i '5d' "$T/t.log"
tamper "swap two lines" "BAD in t.log at line 4: seq 4 follows seq 2" \
    sed -i -n '4{h;n;G;p;d};p' "$T/t.log"
tamper "insert a line" "BAD in t.log at line 5: seq 3 follows seq 3" sed -i '4p' "$T/t.log"
tamper "truncate mid-line" "BAD in t.log at line 6: line is incomplete" \
    truncate -s $(($(head -n 5 "$LOG" | wc -c) + 40)) "$T/t.log"
# The note's signature line: 8 base64 characters after its key ID's become AAAAAAAA.
tamper "forge the final checkpoint" "BAD in t.log at line $n: checkpoint signature does not verify" \
    sed -i "${n}s/\(u2014 [^ ]* [A-Za-z0-9+\/]\{8\}\)[A-Za-z0-9+\/]\{8\}/\1AAAAAAAA/" "$T/t.log"
rc=0
out=$("$MP_SIGNER" audit verify "$LOG" --cert "$T/tok/cert.pem") || rc=$?
[ $rc -eq 1 ] && case $out in *"signed by another key"*) true ;; *) false ;; esac ||
    fail "a checkpoint verified with the wrong key: $out"
ok "checkpoints do not verify with another key: $out"
head -n $((n - 1)) "$LOG" >"$T/t.log"
out=$("$MP_SIGNER" audit verify "$T/t.log" --cert "$T/tok/audit-pub.pem")
case $out in *"lines after it"*|*"chain only"*) ;; *) fail "dropped checkpoint not reported: $out" ;; esac
ok "a dropped final checkpoint leaves its lines reported as protected by the chain only: $out"

# What the chain alone cannot catch, an anchor from the signer's journal does: the signer logs
# the seq and SHA-256 of every checkpoint line it writes.
anchor=$(last_anchor)
[ "$anchor" = "$((n - 1)):$(sha256 "$(tail -n 1 "$LOG")")" ] ||
    fail "the last anchor logged ($anchor) is not the final checkpoint line (seq $((n - 1)))"
out=$("$MP_SIGNER" audit verify "$LOG" --cert "$T/tok/audit-pub.pem" --anchor "$anchor") ||
    fail "the log does not verify with its own anchor: $out"
case $out in *"1 of 1 anchors matched"*) ;; *) fail "anchor not reported: $out" ;; esac
ok "the signer logs an anchor for its final checkpoint, and the log verifies with it: $anchor"
tamper_anchored() { # NAME EXPECTED-TEXT then a command that writes $T/t.log
    local name=$1 want=$2 out rc=0
    shift 2
    "$@"
    out=$("$MP_SIGNER" audit verify "$T/t.log" --anchor "$anchor") || rc=$?
    [ $rc -eq 1 ] || fail "$name: verify --anchor exited $rc, want 1 ($out)"
    case $out in *"$want"*) ;; *) fail "$name: verdict '$out' lacks '$want'" ;; esac
    ok "$name, caught by the anchor: $out"
}
cut_tail() { head -n $((n - $1)) "$LOG" >"$T/t.log"; }
tamper_anchored "drop the final checkpoint" \
    "BAD in t.log at line $n: the log ends at seq $((n - 2)) but anchor $((n - 1)):" cut_tail 1
tamper_anchored "drop the last 3 lines" \
    "BAD in t.log at line $((n - 2)): the log ends at seq $((n - 4)) but anchor $((n - 1)):" cut_tail 3
# Rewrite a granted line and rebuild the chain after it: without the audit key the chain and
# the checkpoints' heads check out, so only the anchor (or --cert) can tell.
rebuild_chain() {
    "$PY" - "$LOG" "$T/t.log" <<'PY'
import base64, hashlib, re, sys
def mth(leaves):  # RFC 9162 tree head: the checkpoints' roots are rebuilt too (no key needed)
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k << 1 < len(leaves):
        k <<= 1
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
lines[2] = lines[2].replace(b'"outcome":"granted"', b'"outcome":"refused"', 1)
out = [lines[0]]
for line in lines[1:]:
    prev = b'"%s"' % hashlib.sha256(out[-1]).hexdigest().encode()
    line = re.sub(rb'"prev":"[0-9a-f]{64}"', b'"prev":' + prev, line, count=1)
    line = re.sub(rb'"head":"[0-9a-f]{64}"', b'"head":' + prev, line, count=1)
    old = re.search(rb'"root":"([A-Za-z0-9+/=]{44})"', line)
    if old:  # in the line and in its note's text
        new = base64.b64encode(mth([hashlib.sha256(b"\x00" + l).digest() for l in out]))
        line = line.replace(old.group(1), new)
    out.append(line)
open(sys.argv[2], "wb").write(b"\n".join(out) + b"\n")
PY
}
rebuild_chain
out=$("$MP_SIGNER" audit verify "$T/t.log") ||
    fail "the rebuilt chain should pass without a key or an anchor: $out"
ok "a rebuilt chain passes the chain check alone: $out"
tamper_anchored "rewrite line 3 and rebuild the chain" \
    "BAD in t.log at line $n: the line's SHA-256 differs from anchor $((n - 1)):" rebuild_chain

expect_usage() { # a bad --anchor is a one-line usage error
    local rc=0
    "$MP_SIGNER" audit verify "$LOG" --anchor "$1" >"$T/out" 2>"$T/err" || rc=$?
    [ $rc -eq 2 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
        grep -q "is not SEQ:SHA256" "$T/err" || fail "--anchor '$1': exit $rc, $(cat "$T/err")"
}
for bad in "" 5 ":$(printf '%064d' 0)" "x:$(printf '%064d' 0)" "5:abc" "5:$(printf '%064d' 0)0" \
    "5:$(printf 'g%.0s' $(seq 64))" "99999999999999999999999:$(printf '%064d' 0)"; do
    expect_usage "$bad"
done
ok "malformed --anchor values are one-line usage errors"
