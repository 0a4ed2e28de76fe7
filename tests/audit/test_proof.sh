#!/usr/bin/env bash
# mp-signer audit prove / check-proof on generated format-2 logs in segments: inclusion proofs
# of several lines and of a jti, consistency between checkpoints, each also checked by the
# independent tests/audit/tlog_check.py; tampered paths, indexes, lines, notes signed by
# another key or with an edited size are BAD; a rewritten log (a fork signed by the same key)
# cannot be proved against the old checkpoints.
. "$MP_ROOT/tests/daemon/lib.sh"
GEN=$MP_ROOT/tests/bench/gen_merkle_log.py
TLOG=$MP_ROOT/tests/audit/tlog_check.py

prove() { ${MP_WRAP:-} "$MP_SIGNER" audit prove "$@"; }
check() { ${MP_WRAP:-} "$MP_SIGNER" audit check-proof "$@"; }
# tlog FILE: the independent checker must accept FILE (skipped until it exists).
tlog() {
    [ -f "$TLOG" ] || return 0
    "$PY" "$TLOG" proof --pubkey "$T/pub.pem" "$1" >/dev/null 2>"$T/tlog.err" ||
        fail "tlog_check.py rejects $1: $(cat "$T/tlog.err")"
}
# tlog_bad FILE: and must reject a tampered one.
tlog_bad() {
    [ -f "$TLOG" ] || return 0
    if "$PY" "$TLOG" proof --pubkey "$T/pub.pem" "$1" >/dev/null 2>&1; then
        fail "tlog_check.py accepts the tampered $1"
    fi
}
# bad WHAT PROOF [OPTIONS]: check-proof must say "proof BAD: ..." and exit 1.
bad() {
    local what=$1 f=$2 rc=0 out
    shift 2
    out=$(check "$f" --pubkey "$T/pub.pem" "$@") || rc=$?
    [ $rc -eq 1 ] || fail "$what: check-proof exited $rc, want 1: $out"
    case $out in "proof BAD: "*) ;; *) fail "$what: stdout is not 'proof BAD: ...': $out" ;; esac
}
# edit IN OUT PYTHON: OUT is IN's proof object p after PYTHON ran on it.
edit() {
    "$PY" - "$1" "$2" "$3" <<'PY'
import base64, json, sys
p = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(p, open(sys.argv[2], "w"), ensure_ascii=False)
PY
}

# 60 lines and the checkpoint over them: checkpoints at seq 8, 16, ..., 56 and 60, a segment
# rotated at the first checkpoint past each 20 lines (segment lines at seq 25 and 49). seq 10,
# 12 and 14 share one jti: 10 and 12 granted, 14 refused.
mkdir -p "$T/log" "$T/other" "$T/fork"
"$PY" "$GEN" 60 "$T/log/audit.log" "$T/pub.pem" --key "$T/key.pem" --every 8 \
    --segment-every 20 --same-jti 10,12,14 --refused 14 --origin mp-signer.test/audit/proof
SEGS=("$T"/log/audit.log.0* "$T/log/audit.log")
[ ${#SEGS[@]} -eq 3 ] || fail "the generator wrote ${#SEGS[@]} segments, want 3"
# The notes of every checkpoint, one file per tree size.
"$PY" - "$T" "${SEGS[@]}" <<'PY'
import json, sys
for f in sys.argv[2:]:
    for line in open(f, encoding="utf-8"):
        o = json.loads(line)
        if o["event"] == "checkpoint":
            open("%s/note.%d" % (sys.argv[1], o["tree_size"]), "w", encoding="utf-8").write(o["note"])
PY
[ -s "$T/note.16" ] && [ -s "$T/note.40" ] && [ -s "$T/note.60" ] || fail "no notes written"

for s in 0 1 7 8 10 24 25 26 48 49 59; do
    prove --seq "$s" "${SEGS[@]}" >"$T/p$s.json" || fail "prove --seq $s exited $?"
    out=$(check "$T/p$s.json" --pubkey "$T/pub.pem" --seq "$s") ||
        fail "check-proof of seq $s exited $?: $out"
    case $out in "inclusion proof OK: seq $s "*"is in mp-signer.test/audit/proof at tree size 60") ;;
    *) fail "check-proof of seq $s: $out" ;; esac
    tlog "$T/p$s.json"
done
out=$(check "$T/p1.json" --pubkey "$T/pub.pem")
[ "$out" = "inclusion proof OK: seq 1 (jti 00000000-0000-4000-8000-000000000001) is in mp-signer.test/audit/proof at tree size 60" ] ||
    fail "check-proof of seq 1: $out"
ok "inclusion proofs of the header, sign lines, checkpoints and segment lines verify (and by tlog_check.py)"

# The directory, and the last segments alone (the segment line's frontier stands in for
# the lines before it); a line before the first segment given cannot be proved.
prove --seq 33 "$T/log" >"$T/dir.json" || fail "prove over the directory exited $?"
check "$T/dir.json" --pubkey "$T/pub.pem" --seq 33 >/dev/null || fail "the directory's proof is BAD"
prove --seq 33 "${SEGS[@]}" >"$T/files.json"
cmp -s "$T/dir.json" "$T/files.json" || fail "the directory and its files give different proofs"
prove --seq 50 "${SEGS[1]}" "${SEGS[2]}" >"$T/late.json" || fail "prove from the second segment exited $?"
check "$T/late.json" --pubkey "$T/pub.pem" --seq 50 >/dev/null || fail "the late segments' proof is BAD"
tlog "$T/late.json"
rc=0
out=$(prove --seq 5 "${SEGS[2]}" 2>&1) || rc=$?
[ $rc -eq 1 ] || fail "prove of a line before the segments given exited $rc"
case $out in *"give the segments before it too"*) ;; *) fail "before the segments: $out" ;; esac
ok "prove over the directory, and over the later segments alone (from the segment line's frontier)"

# A compressed, rotated segment reads the same.
cp -a "$T/log" "$T/gz"
gzip "$T/gz/$(basename "${SEGS[0]}")"
prove --seq 33 "$T/gz" >"$T/gz.json" || fail "prove over a directory with a .gz segment exited $?"
cmp -s "$T/gz.json" "$T/dir.json" || fail "a .gz segment gives another proof"
ok "a .gz segment"

# --jti: the last granted line of the three (seq 12), not the later refusal.
JTI=00000000-0000-4000-8000-00000000000a
prove --jti "$JTI" "${SEGS[@]}" >"$T/jti.json" || fail "prove --jti exited $?"
out=$(check "$T/jti.json" --pubkey "$T/pub.pem" --jti "$JTI") || fail "check-proof --jti: $out"
[ "$out" = "inclusion proof OK: seq 12 (jti $JTI) is in mp-signer.test/audit/proof at tree size 60" ] ||
    fail "--jti chose another line than the last grant: $out"
tlog "$T/jti.json"
bad "--jti of another line" "$T/p1.json" --jti "$JTI"
bad "--seq of another line" "$T/jti.json" --seq 10
rc=0
out=$(prove --jti 00000000-0000-4000-8000-0000000000ff "${SEGS[@]}" 2>&1) || rc=$?
[ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] ||
    fail "prove of an unknown jti: exit $rc, want 1 and one line: $out"
case $out in *"no sign line in the log has claims.jti"*) ;; *) fail "unknown jti: $out" ;; esac
ok "--jti: the last grant of a jti is proved, check-proof --jti/--seq hold the line to it, an unknown jti is one line, exit 1"

# Against a checkpoint given: its tree, not the last.
prove --seq 3 --checkpoint "$T/note.16" "${SEGS[@]}" >"$T/cp16.json" || fail "prove --checkpoint exited $?"
out=$(check "$T/cp16.json" --pubkey "$T/pub.pem") || fail "check-proof of --checkpoint: $out"
case $out in *" at tree size 16") ;; *) fail "--checkpoint: $out" ;; esac
tlog "$T/cp16.json"
rc=0
prove --seq 16 --checkpoint "$T/note.16" "${SEGS[@]}" >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "prove of a line outside the given checkpoint exited $rc"
ok "--checkpoint: proved against the tree of the note given"

# Tampering: every one is BAD to check-proof and to tlog_check.py.
P=$T/p26.json
edit "$P" "$T/t.json" 'h = bytearray(base64.b64decode(p["path"][1])); h[0] ^= 1; p["path"][1] = base64.b64encode(h).decode()'
bad "a path hash flipped" "$T/t.json"
tlog_bad "$T/t.json"
edit "$P" "$T/t.json" 'p["path"] = p["path"][:-1]'
bad "a path hash dropped" "$T/t.json"
edit "$P" "$T/t.json" 'p["index"] = 27'
bad "another index" "$T/t.json"
tlog_bad "$T/t.json"
edit "$P" "$T/t.json" 'p["index"] = 27; p["line"] = p["line"].replace("\"seq\":26,", "\"seq\":27,")'
bad "another index, and the line's seq to match" "$T/t.json"
tlog_bad "$T/t.json"
edit "$P" "$T/t.json" 'p["line"] = p["line"].replace("granted", "refused")'
bad "the line edited" "$T/t.json"
tlog_bad "$T/t.json"
edit "$P" "$T/t.json" 'p["tree_size"] = 59'
bad "another tree_size" "$T/t.json"
edit "$P" "$T/t.json" 'p["checkpoint"] = p["checkpoint"].replace("\n60\n", "\n61\n"); p["tree_size"] = 61'
bad "the note's size edited" "$T/t.json"
tlog_bad "$T/t.json"
edit "$P" "$T/t.json" 'p["checkpoint"] = open(sys.argv[1].rsplit("/", 1)[0] + "/note.56").read()'
bad "the note of another size" "$T/t.json"
edit "$P" "$T/t.json" 'p["surplus"] = 1'
bad "an unknown member" "$T/t.json"
# The same lines under the same origin, signed by another key: its note of size 8 has the
# root of the real log's first 8 lines, but not the audit key's signature.
# (Its seq 20 and 22 share a jti, both refused: --jti proves the last, 22.)
"$PY" "$GEN" 60 "$T/other/audit.log" "$T/other/pub.pem" --key "$T/other/key.pem" --every 8 \
    --segment-every 20 --same-jti 20,22 --refused 20,22 --origin mp-signer.test/audit/proof
J20=00000000-0000-4000-8000-000000000014
prove --jti "$J20" "$T/other" >"$T/o.json" || fail "prove --jti of refusals exited $?"
out=$(check "$T/o.json" --pubkey "$T/other/pub.pem" --jti "$J20")
case $out in "inclusion proof OK: seq 22 (jti $J20) "*) ;; *) fail "--jti of two refusals: $out" ;; esac
ok "--jti of a jti only refused: the last of its lines"
prove --seq 3 --checkpoint "$T/note.8" "${SEGS[@]}" >"$T/p3.json" || fail "prove against note 8 exited $?"
edit "$T/p3.json" "$T/t.json" 'o = [l for l in open(sys.argv[1].rsplit("/", 1)[0] + "/other/audit.log.00000000000000000000") if "\"tree_size\":8," in l]
assert p["checkpoint"].split("\n")[:3] == json.loads(o[0])["note"].split("\n")[:3]
p["checkpoint"] = json.loads(o[0])["note"]'
bad "the note signed by another key" "$T/t.json"
tlog_bad "$T/t.json"
bad "the right proof with another key" "$T/p3.json" --pubkey "$T/other/pub.pem"
ok "tampered path, index, line, tree size, note size, another size's note, unknown member, another key: all BAD"

# Consistency: checkpoint 16 is a prefix of 40, and of the last one.
prove --from "$T/note.16" --to "$T/note.40" "${SEGS[@]}" >"$T/c.json" || fail "prove --from --to exited $?"
out=$(check "$T/c.json" --pubkey "$T/pub.pem") || fail "check-proof of consistency: $out"
[ "$out" = "consistency proof OK: mp-signer.test/audit/proof at size 16 is a prefix of size 40" ] ||
    fail "consistency: $out"
tlog "$T/c.json"
prove --from "$T/note.16" "${SEGS[@]}" >"$T/c60.json" || fail "prove --from exited $?"
out=$(check "$T/c60.json" --pubkey "$T/pub.pem")
[ "$out" = "consistency proof OK: mp-signer.test/audit/proof at size 16 is a prefix of size 60" ] ||
    fail "consistency to the last checkpoint: $out"
tlog "$T/c60.json"
edit "$T/c.json" "$T/t.json" 'h = bytearray(base64.b64decode(p["path"][0])); h[5] ^= 4; p["path"][0] = base64.b64encode(h).decode()'
bad "a consistency path hash flipped" "$T/t.json"
tlog_bad "$T/t.json"
edit "$T/c.json" "$T/t.json" 'p["old_size"], p["new_size"] = 40, 16; p["old_checkpoint"], p["new_checkpoint"] = p["new_checkpoint"], p["old_checkpoint"]'
bad "the sizes swapped" "$T/t.json"
bad "--seq with a consistency proof" "$T/c.json" --seq 3
ok "consistency 16 -> 40 and 16 -> last verify; a flipped hash and swapped sizes are BAD"

# A fork: the log rewritten from seq 1 on and re-signed with the same key. The old
# checkpoints do not match it.
"$PY" "$GEN" 60 "$T/fork/audit.log" "$T/fork/pub.pem" --key "$T/key.pem" --every 8 \
    --segment-every 20 --variant 1 --origin mp-signer.test/audit/proof
for args in "--from $T/note.16" "--seq 3 --checkpoint $T/note.16"; do
    rc=0
    # shellcheck disable=SC2086 # two words of options
    out=$(prove $args "$T/fork" 2>&1) || rc=$?
    [ $rc -eq 1 ] || fail "prove $args on the rewritten log exited $rc"
    case $out in *"does not match "*" at size 16: it was rewritten") ;; *) fail "rewritten: $out" ;; esac
done
ok "a rewritten log (re-signed by the same key) cannot be proved against the old checkpoint 16"

# Usage.
for args in "" "--seq 1" "--seq 1 --jti $JTI $T/log" "--from $T/note.16 --checkpoint $T/note.40 $T/log" \
    "--seq x $T/log" "--jti nope $T/log"; do
    rc=0
    # shellcheck disable=SC2086
    prove $args >/dev/null 2>&1 || rc=$?
    [ $rc -eq 2 ] || fail "prove $args exited $rc, want 2"
done
rc=0
check "$T/c.json" >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "check-proof without --pubkey exited $rc, want 2"
ok "bad command lines exit 2"
