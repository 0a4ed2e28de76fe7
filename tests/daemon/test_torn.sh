#!/usr/bin/env bash
# Start-up repair of the audit log: a torn tail is kept, byte for byte, in PATH.torn before it
# is cut (appended to over several crashes); a last line that does not chain to the one before
# it, or a PATH.torn that cannot be written, stops the signer before it changes the log.
. "$(dirname "$0")/lib.sh"
make_token
TORN=$LOG.torn
SCOPE=altinn:serviceowner/instances.read
start_signer
request --scope $SCOPE >/dev/null || fail "first grant failed"
stop_signer

# What a crash in the middle of a write leaves: a line without its newline. The second one
# holds bytes a text tool would mangle (NUL, 0xff), as a zero-filled block after a crash does.
printf '{"seq":999999,"prev":"00ab' >"$T/tear1"
printf '{"seq":12,"prev":"\x00\x00\xff\x01 ' >"$T/tear2"
recovery() { grep '"event":"recovery"' "$LOG" | tail -n 1; }

cat "$T/tear1" >>"$LOG"
start_signer
[ -f "$TORN" ] || fail "no $TORN after a torn tail was cut"
[ "$(stat -c %a "$TORN")" = 600 ] || fail "$TORN has mode $(stat -c %a "$TORN"), not 600"
cmp -s "$TORN" "$T/tear1" || fail "$TORN does not hold the cut bytes"
rec=$(recovery)
n1=$(stat -c %s "$T/tear1")
case $rec in
*"\"cut_bytes\":$n1,\"cut_sha256\":\"$(sha256sum <"$T/tear1" | cut -d' ' -f1)\",\"kept_in\":\"$TORN\",\"kept_at\":0}") ;;
*) fail "recovery line does not name the cut and $TORN: $rec" ;;
esac
grep -q "cut a torn last line of $n1 bytes, kept in $TORN at offset 0" "$T/serve.err" ||
    fail "the cut was not logged"
request --scope $SCOPE >/dev/null || fail "no grant after the repair"
ok "torn tail cut at start-up, kept in PATH.torn (mode 600, byte for byte), cut recorded"

# A second crash, this time a real kill -9: the next torn tail is appended to the same file.
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
SERVE_PID=
cat "$T/tear2" >>"$LOG"
start_signer
cat "$T/tear1" "$T/tear2" >"$T/both"
cmp -s "$TORN" "$T/both" || fail "$TORN does not hold both cuts in order"
case $(recovery) in
*"\"kept_in\":\"$TORN\",\"kept_at\":$n1}") ;;
*) fail "second recovery line lacks its offset in $TORN: $(recovery)" ;;
esac
stop_signer
audit_verify >"$T/verify.out" || { cat "$T/verify.out"; fail "audit verify failed after repairs"; }
ok "second crash: appended to the same PATH.torn at offset $n1; audit verify: $(cat "$T/verify.out")"

cp "$LOG" "$T/good.log"
mv "$TORN" "$T/torn.saved"
last_seq() { tail -n 1 "$LOG" | sed 's/^{"seq":\([0-9]*\),.*/\1/'; }
# The signer must refuse with exactly one line containing $1, and leave the log as it was.
# Under valgrind too (the refusal paths free what they took); but a start-up that fails exits
# while detached hsmpool workers may still be unwinding, which valgrind reports as a "possibly
# lost" thread stack on stderr: not counted as an error, and not this test's concern.
WRAP=${MP_WRAP:-}
case $WRAP in *valgrind*) WRAP="$WRAP --show-possibly-lost=no" ;; esac
refused() { # WANT NAME
    local before
    before=$(sha256sum <"$LOG")
    expect_refusal "$1" $WRAP "$MP_SIGNER" serve --config "$CONF"
    [ "$(sha256sum <"$LOG")" = "$before" ] || fail "$2: the log was changed"
    [ -e "$TORN" ] && [ ! -L "$TORN" ] && [ ! -d "$TORN" ] && [ ! -p "$TORN" ] &&
        fail "$2: $TORN was written"
    ok "$2: refused in one line, log unchanged"
}
edit_last() { # PYTHON-EXPRESSION on the dict d; rewrites the last line as compact JSON
    "$PY" - "$LOG" "$1" <<'PY'
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b""
d = json.loads(lines[-2])
exec(sys.argv[2])
lines[-2] = json.dumps(d, separators=(",", ":")).encode()
open(sys.argv[1], "wb").write(b"\n".join(lines))
PY
}

# The last complete line edited (still valid JSON): its prev no longer names the line before.
seq=$(last_seq)
edit_last 'd["prev"] = ("1" if d["prev"][0] != "1" else "2") + d["prev"][1:]'
refused "audit log $LOG: last line (seq $seq) does not chain to the line before it: run mp-signer audit verify $LOG" \
    "last line's prev edited"
# Its seq edited.
cp "$T/good.log" "$LOG"
edit_last 'd["seq"] += 1'
refused "last line (seq $((seq + 1))) does not chain to the line before it" "last line's seq edited"
# A forged line appended, with a torn tail after it: nothing is cut, nothing kept.
cp "$T/good.log" "$LOG"
printf '{"seq":%d,"prev":"%064d","ts":"2026-01-01T00:00:00.000000Z","event":"stop","pid":1}\n' \
    $((seq + 1)) 0 >>"$LOG"
cat "$T/tear1" >>"$LOG"
refused "last line (seq $((seq + 1))) does not chain to the line before it" \
    "forged last line before a torn tail"
# A log of its header alone is fine; a header edited into something else is not.
head -n 1 "$T/good.log" >"$LOG"
edit_last 'd["event"] = "start"'
refused "audit log $LOG: its only line is not the log's header" "header-only log with its header edited"
head -n 1 "$T/good.log" >"$LOG"
start_signer
stop_signer
audit_verify >/dev/null || fail "audit verify failed on a log started from its header alone"
ok "a log holding only its header is continued"

# PATH.torn cannot be written: refused, nothing cut, nothing written through it.
cp "$T/good.log" "$LOG"
cat "$T/tear1" >>"$LOG"
mkdir "$TORN"
refused "audit log $LOG: cannot keep its torn tail in $TORN: Is a directory; nothing was cut" \
    "PATH.torn a directory"
rmdir "$TORN"
: >"$T/elsewhere"
ln -s "$T/elsewhere" "$TORN"
refused "cannot keep its torn tail in $TORN: it is a symbolic link; nothing was cut" \
    "PATH.torn a symbolic link"
[ -s "$T/elsewhere" ] && fail "the torn tail was written through the symbolic link"
rm "$TORN"
mkfifo "$TORN"
refused "cannot keep its torn tail in $TORN: it is not a regular file; nothing was cut" \
    "PATH.torn a FIFO"
rm "$TORN"
start_signer
cmp -s "$TORN" "$T/tear1" || fail "$TORN does not hold the cut once it can be written"
stop_signer
audit_verify >/dev/null || fail "audit verify failed after the last repair"
ok "once PATH.torn can be written the tail is kept and cut"
