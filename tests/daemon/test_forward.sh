#!/usr/bin/env bash
# "On behalf of": a peer in trusted_forwarders (mp-exchange's uid) names the end caller, and
# the profile's allow_uids then apply to that caller alone; the forwarder's own uid grants
# nothing unless a profile lists it. Every decision's audit line names the end caller and the
# forwarder. A peer that is not a trusted forwarder and sends the fields is refused and audited
# with its own uid. The grants are checked with python3-jwt, the log with audit verify.
. "$(dirname "$0")/lib.sh"
make_token
R=altinn:serviceowner/instances.read
ME=$(id -u)
A=64101 # the application allowed by the profile
B=64102 # another local user
sed -i "s|^allow_uids = .*|allow_uids = $A|" "$CONF"
sed -i "s|^trusted_forwarders = .*|trusted_forwarders = $ME|" "$CONF"
"$MP_SIGNER" config check --config "$CONF" >/dev/null || fail "config check refuses trusted_forwarders"
start_signer

# The audit line of the last sign decision, as "outcome caller-uid forwarder-uid|- reason".
last_sign() {
    "$PY" - "$LOG" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"event":"sign"' in l]
j = lines[-1]
fw = j.get("forwarder")
print(j["outcome"], j["caller"]["uid"], j["caller"]["gid"], j["caller"].get("pid"),
      j["caller"].get("exe"), fw["uid"] if fw else "-", j.get("reason", ""))
PY
}

jws=$(request --scope $R --on-behalf-of "$A:$A:4242:/usr/bin/app") ||
    fail "the forwarder was refused for the allowed end caller"
verify_jwt "$jws" >/dev/null || fail "the forwarded grant does not verify"
read -r out uid gid pid exe fw _ < <(last_sign)
[ "$out $uid $gid $pid $exe $fw" = "granted $A $A 4242 /usr/bin/app $ME" ] ||
    fail "audit of the forwarded grant: $out $uid $gid $pid $exe forwarder $fw"
ok "forwarded for uid $A: granted, verified; the audit line names caller $A (pid, exe) and forwarder $ME"

expect_refusal "uid $B gid $B may not use profile default" request --scope $R --on-behalf-of "$B:$B"
read -r out uid _ _ _ fw _ < <(last_sign)
[ "$out $uid $fw" = "refused $B $ME" ] || fail "audit of the refused forward: $out $uid $fw"
ok "forwarded for uid $B (not in allow_uids): refused, audited as caller $B through forwarder $ME"

expect_refusal "uid $ME gid $(id -g) may not use profile default" request --scope $R
ok "the forwarder asking for itself gets nothing its own uid is not allowed"

expect_refusal "on-behalf-of uid must be a number" request --scope $R --on-behalf-of "x$A:$A"
expect_refusal "on-behalf-of uid must be a number" request --scope $R --on-behalf-of "4294967295:$A"
expect_refusal "on-behalf-of needs both uid and gid" "$PY" - "$SOCK" <<'PY'
# A SIGN frame with OBO_PID (tag 10) but no uid or gid; prints the ERROR's message.
import socket, struct, sys
def field(tag, v):
    return bytes([tag]) + struct.pack(">H", len(v)) + v
body = bytes([1, 1]) + field(2, b"altinn:serviceowner/instances.read") + field(10, b"77")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(struct.pack(">I", len(body)) + body)
data = s.recv(65536)
msg = data[data.index(bytes([18])) + 3:].decode()
print(msg, file=sys.stderr)
sys.exit(1)
PY
ok "malformed on-behalf-of fields are refused as bad requests, naming the field"

# Trust withdrawn by a reload: the same request is now a forgery.
sed -i "s|^trusted_forwarders = .*|trusted_forwarders =|" "$CONF"
kill -HUP "$SERVE_PID"
for _ in $(seq 1 100); do
    grep -q 'reloaded 1 profile' "$T/serve.err" && break
    sleep 0.05
done
expect_refusal "uid $ME is not a trusted forwarder: refused to sign on behalf of uid $A" \
    request --scope $R --on-behalf-of "$A:$A"
read -r out uid _ _ _ fw _ < <(last_sign)
[ "$out $uid $fw" = "refused $ME -" ] || fail "audit of the forged forward: $out $uid $fw"
ok "after a reload without trusted_forwarders the same request is refused and audited as uid $ME"

if [ "$ME" -eq 0 ]; then
    # Another local user while the forwarder is trusted: it can reach the socket, and claims A.
    sed -i "s|^trusted_forwarders =.*|trusted_forwarders = $ME|" "$CONF"
    kill -HUP "$SERVE_PID"
    for _ in $(seq 1 100); do
        [ "$(grep -c 'reloaded 1 profile' "$T/serve.err")" -ge 2 ] && break
        sleep 0.05
    done
    chmod 0666 "$SOCK"
    chmod 0711 "$T" "$T/tok"
    expect_refusal "uid $B is not a trusted forwarder" setpriv --reuid=$B --regid=$B --clear-groups \
        "$MP_SIGNER" request --socket "$SOCK" --scope $R --on-behalf-of "$A:$A"
    read -r out uid _ _ _ fw _ < <(last_sign)
    [ "$out $uid $fw" = "refused $B -" ] || fail "audit of uid $B's forgery: $out $uid $fw"
    ok "uid $B forging on-behalf-of uid $A while uid $ME is trusted: refused, audited as uid $B"
    # And A itself, straight to the socket, still gets its grant.
    jws=$(setpriv --reuid=$A --regid=$A --clear-groups "$MP_SIGNER" request --socket "$SOCK" \
        --scope $R) || fail "uid $A was refused asking directly"
    verify_jwt "$jws" >/dev/null || fail "uid $A's direct grant does not verify"
    ok "uid $A asking directly is granted"
else
    ok "not root: the cases with real processes of other uids did not run (uid $ME)"
fi

stop_signer
audit_verify >"$T/verify.out" || { cat "$T/verify.out"; fail "audit verify failed"; }
ok "audit verify: $(cat "$T/verify.out")"
