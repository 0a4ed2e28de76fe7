#!/usr/bin/env bash
# Connection slots cannot be starved. A frame trickled one byte at a time is cut off 5 s after
# its first byte with one answer naming why (SO_RCVTIMEO alone is per read: a byte every 59 s
# held a thread for ever). Two throwaway users that no profile allows, each trying to hold 40
# slow connections, get two slots each, and the allowed caller is granted within 1 s the whole
# time; the refusals reach the journal at most once a second.
. "$(dirname "$0")/lib.sh"
make_token
start_signer
R=altinn:serviceowner/instances.read
# Under valgrind every signer call is some ten times slower: the latency bound follows.
limit=1.0
case ${MP_WRAP:-} in *valgrind*) limit=5.0 ;; esac

cat >"$T/trickle.py" <<'PY'
# Sends a SIGN frame one byte every 0.7 s; prints the seconds from the first byte to the
# signer's answer, then the answer's message.
import socket, struct, sys, time
body = bytes([1, 1, 1, 0, 7]) + b"default"
frame = struct.pack(">I", len(body)) + body
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(0.7)
t0 = time.monotonic()
for b in frame:
    try:
        s.send(bytes([b]))
    except OSError:
        break
    try:
        data = s.recv(4096)
        break
    except socket.timeout:
        continue
else:
    print("none", "the whole frame went through")
    sys.exit(0)
print("%.2f" % (time.monotonic() - t0), data[4:].decode("utf-8", "replace"))
PY
read -r secs msg < <("$PY" "$T/trickle.py" "$SOCK")
[ "$secs" != none ] || fail "a frame trickled over 11 s was not cut off: $msg"
"$PY" -c "import sys; sys.exit(not 4.5 <= float('$secs') <= 8.0)" ||
    fail "the trickled frame was cut off after $secs s, not about 5 s"
case $msg in *"frame not complete within 5000 ms"*) ;; *) fail "answer to the trickled frame: $msg" ;; esac
grep -q "bad frame from uid $(id -u) .*frame not complete within 5000 ms" "$T/serve.err" ||
    fail "no log line for the trickled frame"
ok "a frame trickled a byte every 0.7 s is answered and dropped after $secs s: frame not complete within 5000 ms"

# timed_grant: a grant for the allowed caller, verified, within $limit s.
timed_grant() {
    local t0 t1 jws
    t0=$(date +%s.%N)
    jws=$(request --scope $R) || fail "the allowed caller got no grant while slots were held"
    t1=$(date +%s.%N)
    verify_jwt "$jws" >/dev/null || fail "the grant does not verify"
    "$PY" -c "import sys; sys.exit(not $t1 - $t0 <= $limit)" ||
        fail "the grant took $("$PY" -c "print('%.2f' % ($t1 - $t0))") s, over $limit s"
    "$PY" -c "print('%.3f' % ($t1 - $t0))"
}
timed_grant >/dev/null

if [ "$(id -u)" -ne 0 ]; then
    ok "not root: the throwaway-user case needs useradd and was not run (uid $(id -u))"
    stop_signer
    audit_verify >/dev/null || fail "audit verify failed"
    exit 0
fi

add_users mp-slots a b
chmod 0666 "$SOCK"
chmod 0755 "$T" "$T/tok"

cat >"$T/hold.py" <<'PY'
# Tries to hold N connections for D seconds, each trickling a 4 KiB frame a byte every 0.5 s,
# reconnecting whatever the signer answers or closes. Prints the most it held at once, counting
# a connection once it has lived through two checks (not one still in the listen backlog).
import socket, sys, time
path, n, dur = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
frame = b"\x00\x00\x10\x00" + b"\x01" * 4096
conns, most = {}, 0
end = time.monotonic() + dur
while time.monotonic() < end:
    while len(conns) < n:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            s.close()
            break
        s.setblocking(False)
        conns[s] = [0, 0]  # bytes sent, checks lived through
    time.sleep(0.5)
    for s, st in list(conns.items()):
        try:
            gone = len(s.recv(1, socket.MSG_PEEK)) >= 0  # an answer or EOF: being dropped
        except BlockingIOError:
            gone = False
        except OSError:
            gone = True
        if not gone:
            try:
                s.send(frame[st[0]:st[0] + 1])
                st[0] += 1
                st[1] += 1
            except OSError:
                gone = True
        if gone:
            s.close()
            del conns[s]
    most = max(most, sum(1 for st in conns.values() if st[1] >= 2))
print(most)
PY
chmod 0644 "$T/hold.py"
begin=$(date +%s)
holders=()
for u in "${USERS[@]}"; do
    setpriv --reuid="$u" --regid="$u" --clear-groups "$PY" "$T/hold.py" "$SOCK" 40 8 \
        >"$T/held-$u" 2>"$T/hold-$u.err" &
    holders+=($!)
done
sleep 1.5
worst=0
for _ in 1 2 3 4; do
    took=$(timed_grant)
    "$PY" -c "import sys; sys.exit(not $took > $worst)" && worst=$took
    sleep 1
done
wait "${holders[@]}"
end=$(date +%s)
for u in "${USERS[@]}"; do
    held=$(cat "$T/held-$u")
    [ "$held" -le 2 ] || fail "$u, allowed by no profile, held $held connections at once"
    [ "$held" -ge 1 ] || fail "$u held no connection at all: $(cat "$T/hold-$u.err")"
done
ok "two uids no profile allows, trying for 40 slow connections each, held $(cat "$T/held-${USERS[0]}") and $(cat "$T/held-${USERS[1]}"); the allowed caller's 4 grants took at most $worst s"

lines=$(grep -c "refusing a connection from uid .*: no profile allows it" "$T/serve.err" || true)
[ "$lines" -ge 1 ] || fail "no refusal reached the log"
[ "$lines" -le $((end - begin + 2)) ] ||
    fail "$lines refusal lines in $((end - begin)) s: not rate-limited"
grep -q "refused without a line since the last one" "$T/serve.err" ||
    fail "no refusal line counts the refusals it stands for: $(grep 'refusing a connection' "$T/serve.err" | tail -n 2)"
ok "$lines refusal lines in $((end - begin)) s, each counting the refusals it stands for"

# A refused caller hears why: with its two slots held, a third connection of the same uid is
# answered with the reason before it is closed.
u=${USERS[0]}
setpriv --reuid="$u" --regid="$u" --clear-groups "$PY" -c '
import socket, sys, time
s = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(2)]
for c in s: c.connect(sys.argv[1])
print("ready", flush=True)
time.sleep(30)' "$SOCK" >"$T/idle.out" &
idler=$!
for _ in $(seq 1 100); do grep -q ready "$T/idle.out" && break; sleep 0.05; done
sleep 0.3
rc=0
out=$(setpriv --reuid="$u" --regid="$u" --clear-groups "$MP_SIGNER" request --socket "$SOCK" \
    --scope $R 2>"$T/err") || rc=$?
kill "$idler" 2>/dev/null || true
wait "$idler" 2>/dev/null || true
err=$(cat "$T/err")
[ $rc -ne 0 ] && [ -z "$out" ] || fail "a third connection of $u was not refused"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "refusal is not one line: $err"
case $err in *"connection refused: no profile allows it and it holds 2 connections"*) ;;
*) fail "refused caller was told: $err" ;;
esac
ok "a caller over its slots is told in one line: $err"

stop_signer
audit_verify >"$T/verify.out" || { cat "$T/verify.out"; fail "audit verify failed"; }
ok "the audit log verifies"
