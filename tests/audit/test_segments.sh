#!/usr/bin/env bash
# audit verify over a segmented format-2 log (tests/audit/gen_segments.py, written from
# audit_format.h): a directory, a file list in any order and gzip'd segments verify; every
# tampering below exits 1 with a verdict that names the segment file and the line; external
# checkpoint notes (--checkpoint) match or catch a cut; a format-1 single-file log still
# verifies; show and report read the segments too.
. "$MP_ROOT/tests/daemon/lib.sh"
HERE=$MP_ROOT/tests/audit
S=000000000000000000 # the first 18 of a segment name's 20 digits (seqs here are < 100)

V() { "$MP_SIGNER" audit verify "$@"; }
# good NAME ARGS...: verify passes; its output goes to $T/out.
good() {
    local name=$1
    shift
    V "$@" >"$T/out" 2>&1 || fail "$name: exit $?: $(cat "$T/out")"
    ok "$name: $(cat "$T/out")"
}
# bad NAME WANT ARGS...: verify exits 1 and its one line holds WANT (segment and line first).
bad() {
    local name=$1 want=$2 rc=0
    shift 2
    V "$@" >"$T/out" 2>&1 || rc=$?
    [ $rc -eq 1 ] || fail "$name: exit $rc, want 1: $(cat "$T/out")"
    grep -qF -- "$want" "$T/out" || fail "$name: '$(cat "$T/out")' lacks '$want'"
    ok "$name: $(cat "$T/out")"
}
fresh() { rm -rf "$T/w" && cp -a "$T/log" "$T/w"; } # a copy of the good log to tamper with

# 124 records, a segment every 30 (4 rotated + the live one), checkpoints every 10.
"$PY" "$HERE/gen_segments.py" "$T/log" "$T/pub.pem" --lines 124 --rotate 30 \
    --key-out "$T/key.pem" >"$T/segs"
[ "$(wc -l <"$T/segs")" -eq 5 ] || fail "the generator wrote $(wc -l <"$T/segs") segments, want 5"
read -r _ s1 _ < <(sed -n 2p "$T/segs") # first seqs of the 2nd, 3rd and 4th segments
read -r _ s2 _ < <(sed -n 3p "$T/segs")
read -r _ s3 _ < <(sed -n 4p "$T/segs")
seg() { printf 'audit.log.%020d' "$1"; }
good "a directory" "$T/log" --cert "$T/pub.pem"
grep -qF "in 5 segments" "$T/out" || fail "the verdict does not count 5 segments"
# shellcheck disable=SC2046 # the names are ours, without spaces
good "a file list in reverse order" $(ls -r "$T"/log/*) --cert "$T/pub.pem"
good "without the key" "$T/log"
touch "$T/log/audit.log.next"
printf '{"seq":99,"prev":"x' >"$T/log/audit.log.torn"
echo "unrelated" >"$T/log/README"
good "audit.log.next, audit.log.torn and other files are ignored" "$T/log" --cert "$T/pub.pem"
rm "$T/log/audit.log.next" "$T/log/audit.log.torn" "$T/log/README"

# The same log with its rotated segments gzip'd.
cp -a "$T/log" "$T/gz"
gzip "$T"/gz/audit.log.0*
good "gzip'd rotated segments, as a directory" "$T/gz" --cert "$T/pub.pem"
good "gzip'd and plain segments as files" "$T/gz/$(seg "$s1").gz" "$T/log/$(seg 0)" \
    "$T/gz/audit.log" "$T/log/$(seg "$s2")" "$T/gz/$(seg "$s3").gz" --cert "$T/pub.pem"

# Tampering: each names the segment and the line.
fresh
rm "$T/w/$(seg "$s2")"
bad "a middle segment removed" "BAD in $(seg "$s3") at line 1: the segment starts at seq $s3, but $(seg "$s1") before it ends at seq $((s2 - 1)): segments between them are missing" "$T/w"

fresh
mv "$T/w/$(seg "$s1")" "$T/w/x" && mv "$T/w/$(seg "$s2")" "$T/w/$(seg "$s1")" &&
    mv "$T/w/x" "$T/w/$(seg "$s2")"
bad "two segments swapped by renaming" "BAD in $(seg "$s1") at line 1: the file name says the segment starts at seq $s1, but its first line is seq $s2" "$T/w"

fresh
sed -i '5s/"outcome":"granted"/"outcome":"refused"/' "$T/w/$(seg "$s1")"
grep -q '"outcome":"refused"' <(sed -n 5p "$T/w/$(seg "$s1")") || fail "line 5 of $(seg "$s1") was not edited"
bad "a line edited in a rotated segment" "BAD in $(seg "$s1") at line 6: prev does not match the SHA-256 of line 5" "$T/w" --cert "$T/pub.pem"

fresh
sed -i '$s/"event":"checkpoint"/"event":"checkpoinT"/' "$T/w/$(seg "$s1")"
bad "the last line of a rotated segment edited" "BAD in $(seg "$s2") at line 1: prev does not match the SHA-256 of the last line of $(seg "$s1")" "$T/w"

rm -rf "$T/w" && cp -a "$T/gz" "$T/w"
zcat "$T/w/$(seg "$s2").gz" | sed '3s/"client_id":"client-/"client_id":"klient-/' | gzip >"$T/w/x.gz"
mv "$T/w/x.gz" "$T/w/$(seg "$s2").gz"
bad "a gzip'd segment edited and re-gzip'd" "BAD in $(seg "$s2").gz at line 4: prev does not match the SHA-256 of line 3" "$T/w"

rm -rf "$T/w" && cp -a "$T/gz" "$T/w"
"$PY" - "$T/w/$(seg "$s2").gz" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[len(d) // 2] ^= 0x20
open(sys.argv[1], "wb").write(d)
PY
bad "a gzip'd segment with a flipped byte" "BAD in $(seg "$s2").gz at line 1:" "$T/w"

fresh
# The first subtree of the frontier: its first base64 character, A and B swapped (still canonical).
"$PY" - "$T/w/$(seg "$s3")" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b'"frontier":["') + 13
d = d[:i] + (b"B" if d[i:i + 1] != b"B" else b"A") + d[i + 1:]
open(sys.argv[1], "wb").write(d)
PY
bad "a segment line's frontier altered" "BAD in $(seg "$s3") at line 1: segment line's frontier is not the Merkle tree of lines 0..$((s3 - 1)) (it was altered)" "$T/w"

fresh
# The second checkpoint of the 2nd segment: its root's first character changed, note untouched.
n=$(grep -n '"event":"checkpoint"' "$T/w/$(seg "$s1")" | sed -n 2p | cut -d: -f1)
"$PY" - "$T/w/$(seg "$s1")" "$n" <<'PY'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
n = int(sys.argv[2]) - 1
i = lines[n].index(b'"root":"') + 8
c = lines[n][i:i + 1]
lines[n] = lines[n][:i] + (b"B" if c != b"B" else b"A") + lines[n][i + 1:]
open(sys.argv[1], "wb").write(b"\n".join(lines))
PY
cmp -s "$T/w/$(seg "$s1")" "$T/log/$(seg "$s1")" && fail "the checkpoint root was not changed"
bad "a checkpoint's root altered (no key)" "BAD in $(seg "$s1") at line $n: checkpoint root is not the Merkle tree head" "$T/w"

fresh
rm "$T/w/$(seg 0)"
bad "the first segment missing, from a directory" "BAD in $(seg "$s1") at line 1: segments before seq $s1 are missing" "$T/w"
good "the first segment not given, as files" "$T/w/$(seg "$s1")" "$T/w/$(seg "$s2")" \
    "$T/w/$(seg "$s3")" "$T/w/audit.log" --cert "$T/pub.pem"
grep -qF "starts at seq $s1: earlier segments not checked" "$T/out" || fail "no 'starts at seq $s1' note"

fresh
rm "$T/w/audit.log"
bad "the live segment missing" "BAD in audit.log at line 1: the live segment audit.log is missing" "$T/w"

fresh
cp "$T/w/$(seg "$s1")" "$T/w/other.log"
rc=0
V "$T/w" >"$T/out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -qF "holds two logs, audit.log and other.log" "$T/out" ||
    fail "two logs in one directory: exit $rc: $(cat "$T/out")"
ok "two logs in one directory: $(cat "$T/out")"
rc=0
V "$T/log/$(seg "$s1")" "$T/gz/$(seg "$s1").gz" >"$T/out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -qF "the segment of seq $s1 is there twice" "$T/out" ||
    fail "one segment given plain and gzip'd: exit $rc: $(cat "$T/out")"
ok "one segment given plain and gzip'd: $(cat "$T/out")"

# --checkpoint: the note of a checkpoint (kept by a witness) matches; one beyond the log's end
# says lines were cut; a note signed over another root is a rewrite; a forged signature fails
# with the key.
"$PY" - "$T/log/$(seg "$s2")" "$T/note" <<'PY'
import json, sys
cps = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if '"event":"checkpoint"' in l]
open(sys.argv[2], "w", encoding="utf-8").write(cps[-1]["note"])
PY
size=$(sed -n 2p "$T/note")
good "--checkpoint with a note of the log" "$T/log" --cert "$T/pub.pem" --checkpoint "$T/note"
grep -qF "1 of 1 checkpoints given matched" "$T/out" || fail "the note is not reported matched"
bad "--checkpoint beyond the log's end" "lines were cut off its end: checkpoint $T/note is at size $size, the log has $s2 lines" \
    "$T/log/$(seg 0)" "$T/log/$(seg "$s1")" --checkpoint "$T/note"
"$PY" - "$T/key.pem" "$T/note" "$T/forged" "$T/badsig" <<'PY'
import base64, hashlib, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
text, sigs = open(sys.argv[2], "rb").read().split(b"\n\n", 1)
origin, size, root = text.split(b"\n")
raw = base64.b64decode(sigs.split(b" ")[2])
body = b"%s\n%s\n%s\n" % (origin, size, base64.b64encode(hashlib.sha256(b"other").digest()))
sig = key.sign(body, padding.PKCS1v15(), hashes.SHA256())
line = b"\xe2\x80\x94 " + origin + b" " + base64.b64encode(raw[:4] + sig) + b"\n"
open(sys.argv[3], "wb").write(body + b"\n" + line)
bad = raw[:4] + bytes([raw[4] ^ 1]) + raw[5:]
open(sys.argv[4], "wb").write(text + b"\n\n\xe2\x80\x94 " + origin + b" " +
                              base64.b64encode(bad) + b"\n")
PY
bad "--checkpoint signed over another root" "BAD in $(seg "$s2") at line $((size - s2)): the Merkle tree head of the $size lines up to here differs from checkpoint $T/forged" \
    "$T/log" --cert "$T/pub.pem" --checkpoint "$T/forged"
bad "--checkpoint with a forged signature, with the key" "BAD in $(seg 0) at line 1: checkpoint $T/badsig does not verify with the audit key" \
    "$T/log" --cert "$T/pub.pem" --checkpoint "$T/badsig"
good "--checkpoint with a forged signature, without the key (only the root is checked)" \
    "$T/log" --checkpoint "$T/badsig"
printf 'not a note\n' >"$T/junk"
rc=0
V "$T/log" --checkpoint "$T/junk" >"$T/out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -qF -- "--checkpoint $T/junk:" "$T/out" || fail "a malformed note: exit $rc: $(cat "$T/out")"
ok "a malformed --checkpoint note is refused before the log is read: $(cat "$T/out")"

# A format-1 single-file log (tests/bench/gen_audit_log.py) still verifies, and is caught edited.
"$PY" "$MP_ROOT/tests/bench/gen_audit_log.py" 2500 "$T/f1.log" "$T/f1.pem"
good "a format-1 log" "$T/f1.log" --cert "$T/f1.pem"
sed -i '7s/"outcome":"granted"/"outcome":"refused"/' "$T/f1.log"
bad "a format-1 log edited" "BAD in f1.log at line 8: prev does not match the SHA-256 of line 7" "$T/f1.log"

# show and report read every segment, gzip'd ones too.
want=$(cat "$T"/log/audit.log* | grep -c '"event":"sign"')
got=$("$MP_SIGNER" audit show "$T/gz" --json | wc -l)
[ "$got" = "$want" ] || fail "audit show of the directory printed $got sign lines, want $want"
ok "audit show DIR prints all $want sign lines, in seq order, through .gz segments"
"$MP_SIGNER" audit show "$T/gz" --json | "$PY" -c '
import json, sys
seqs = [json.loads(l)["seq"] for l in sys.stdin]
sys.exit(0 if seqs == sorted(seqs) else 1)' || fail "audit show is not in seq order"
out=$("$MP_SIGNER" audit report "$T/gz" --html "$T/r.html" --pubkey "$T/pub.pem") ||
    fail "audit report of the directory exited $?: $out"
grep -qF 'Audit log VERIFIED' "$T/r.html" || fail "the report does not say VERIFIED"
ok "audit report DIR: $out"
rm -rf "$T/w" && cp -a "$T/log" "$T/w"
sed -i '5s/"outcome":"granted"/"outcome":"refused"/' "$T/w/$(seg "$s1")"
rc=0
out=$("$MP_SIGNER" audit report "$T/w" --html "$T/bad.html") || rc=$?
[ $rc -eq 1 ] && grep -qF "$(seg "$s1"), line 6: " "$T/bad.html" ||
    fail "audit report of an edited segment: exit $rc: $out"
ok "audit report names the segment and line on the page: $out"
