#!/usr/bin/env bash
# Audit log rotation (#17) on a real daemon: segments by size and by SIGUSR1 under load with no
# request refused; kill -9 at random moments while rotations run, and the two states a crash
# inside a rotation leaves, rebuilt by hand; then every grant a client received is in the log,
# `audit verify DIR` passes, an independent checker (tests/audit/tlog_check.py, written from
# RFC 9162 and C2SP alone) recomputes every checkpoint, a witness process received the
# checkpoints through anchor_command, and its checkpoints prove truncation and consistency.
. "$(dirname "$0")/lib.sh"
CHECK="$PY $MP_ROOT/tests/audit/tlog_check.py"
make_token
PUB=$T/tok/audit-pub.pem

"$PY" "$MP_ROOT/tests/audit/witness.py" serve "$T/witness" "$T/witness.port" &
WITNESS=$!
trap 'kill $WITNESS 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$T/witness.port" ] && break; sleep 0.05; done
[ -s "$T/witness.port" ] || fail "the witness did not start"
printf '#!/bin/sh\nexec %s %s send %s\n' "$PY" "$MP_ROOT/tests/audit/witness.py" \
    "$(cat "$T/witness.port")" >"$T/anchor.sh"
chmod 755 "$T/anchor.sh"
sed -i "1a audit_rotate_bytes = 65536\naudit_origin = test.example/mp-signer\nanchor_command = $T/anchor.sh" "$CONF"
start_signer

segments() { ls "$LOG".[0-9]* 2>/dev/null | wc -l; }
# Every segment in seq order, the live one last (what the checker is given).
in_order() { ls "$LOG".[0-9]* | sort; echo "$LOG"; }

# 1. Under load (8 at once), rotations by size and by SIGUSR1 every 0.1 s: none refused.
(while :; do sleep 0.1; kill -USR1 "$SERVE_PID" 2>/dev/null || exit 0; done) &
KICK=$!
# Fewer under valgrind, where each costs ~30 times more.
nreq=1500
[ -z "${MP_WRAP:-}" ] || nreq=400
"$MP_SIGNER" bench --socket "$SOCK" --requests $nreq --concurrency 8 >"$T/bench.out" ||
    fail "requests failed while the log rotated: $(cat "$T/bench.out")"
kill "$KICK"
wait "$KICK" 2>/dev/null || true
# The ticker may be inside a rotation the last SIGUSR1 started: its segment is renamed
# before the rotation is logged. Count once both have settled (a rotation takes ms).
rotations() { grep -c 'audit log rotated' "$T/serve.err" || true; }
for _ in $(seq 1 50); do
    rot=$(rotations)
    sleep 0.1
    [ "$rot" = "$(rotations)" ] && [ "$(segments)" -eq "$rot" ] && break
done
[ "$rot" -ge 5 ] || fail "only $rot rotations under load"
[ "$(segments)" -eq "$rot" ] || fail "$rot rotations but $(segments) rotated segments"
ok "$nreq requests at c=8 through $rot rotations, none refused"

# 2. kill -9 under load with rotations running; each restart must find the log whole.
clients=()
for i in 1 2 3 4; do
    (while :; do
        j=$("$MP_SIGNER" request --socket "$SOCK" --scope altinn:serviceowner/instances.read \
            2>/dev/null) && printf '%s\n' "$j" >>"$T/got.$i"
    done) &
    clients+=($!)
done
for round in 1 2 3 4 5; do
    (while :; do sleep 0.05; kill -USR1 "$SERVE_PID" 2>/dev/null || exit 0; done) &
    KICK=$!
    sleep "0.$((RANDOM % 9 + 1))"
    kill -KILL "$SERVE_PID"
    wait "$SERVE_PID" 2>/dev/null || true
    kill "$KICK" 2>/dev/null || true
    wait "$KICK" 2>/dev/null || true
    SERVE_PID=
    start_signer
done
sleep 0.5
kill -KILL "${clients[@]}" 2>/dev/null || true
wait "${clients[@]}" 2>/dev/null || true
ok "killed 5 times while rotating under load; restarted each time"

# 3. The two states a crash inside a rotation leaves: PATH.next written (torn here), and a
# rotated name linked to the live segment before the rename.
stop_signer
ln "$LOG" "$LOG.99999999999999999999"
printf '{"seq":1' >"$LOG.next"
start_signer
[ ! -e "$LOG.next" ] || fail "a leftover $LOG.next was kept"
[ ! -e "$LOG.99999999999999999999" ] || fail "a second name of the live segment was kept"
grep -q "removed $LOG.next, left by a rotation that did not finish" "$T/serve.err" ||
    fail "the removal of $LOG.next was not logged"
ok "a half-done rotation's PATH.next and second link are removed at start-up, and said so"
request --scope altinn:serviceowner/instances.read >/dev/null || fail "no grant after recovery"
stop_signer

# A missing live segment beside rotated ones is refused, not restarted as a new chain.
mv "$LOG" "$T/live.keep"
"$MP_SIGNER" serve --config "$CONF" 2>"$T/missing.err" && fail "serve started without its live segment"
grep -q "audit log $LOG is missing but [0-9]* rotated segment(s) of it are beside it" "$T/missing.err" ||
    fail "unclear refusal: $(cat "$T/missing.err")"
mv "$T/live.keep" "$LOG"
ok "a missing live segment is refused: $(grep -o 'is missing but.*beside it' "$T/missing.err")"

# 4. Nothing lost: every grant a client received has its line in some segment.
received=$(cat "$T"/got.* 2>/dev/null | wc -l)
[ "$received" -gt 0 ] || fail "clients received no grants"
cat "$LOG" "$LOG".[0-9]* >"$T/all.log"
missing=0
while read -r jws; do
    grep -q "\"jws_sha256\":\"$(sha256 "$jws")\"" "$T/all.log" || missing=$((missing + 1))
done < <(cat "$T"/got.*)
[ "$missing" -eq 0 ] || fail "$missing of $received received grants have no audit line"
ok "all $received grants received during the kills are in the $(($(segments) + 1)) segments"

"$MP_SIGNER" audit verify "$T/tok" --cert "$PUB" >"$T/verify.out" ||
    fail "audit verify DIR: $(cat "$T/verify.out")"
ok "audit verify DIR: $(cat "$T/verify.out")"
# shellcheck disable=SC2046 # one path per segment
$CHECK log --pubkey "$PUB" $(in_order) >"$T/check.out" || fail "tlog_check log failed"
ok "independent checker: $(cat "$T/check.out") over $(($(segments) + 1)) segments"

# An old segment compressed still verifies.
first=$(in_order | sed -n 1p)
gzip "$first"
"$MP_SIGNER" audit verify "$T/tok" --cert "$PUB" >/dev/null || fail "verify fails with $first.gz"
ok "with $(basename "$first").gz compressed, verify still passes"

# 5. The witness got the checkpoints; they verify independently and are consistent.
nw=$(ls "$T/witness" | grep -c '\.note$' || true)
[ "$nw" -ge 5 ] || fail "the witness received only $nw checkpoints"
for n in "$T"/witness/*.note; do
    $CHECK note --pubkey "$PUB" "$n" >/dev/null || fail "witness note $n does not verify"
done
# By tree size, not arrival: a killed signer's relay still ships its queue beside the next one's.
by_size() { for n in "$T"/witness/*.note; do printf '%s %s\n' "$(sed -n 2p "$n")" "$n"; done | sort -n; }
early=$(by_size | sed -n 3p | cut -d' ' -f2)
late=$(by_size | tail -n 1 | cut -d' ' -f2)
"$MP_SIGNER" audit prove --from "$early" --to "$late" "$T/tok" >"$T/cons.json" ||
    fail "no consistency proof between witness checkpoints"
$CHECK proof --pubkey "$PUB" "$T/cons.json" || fail "independent checker refuses the consistency proof"
"$MP_SIGNER" audit check-proof "$T/cons.json" --pubkey "$PUB" >/dev/null ||
    fail "check-proof refuses the consistency proof"
ok "$nw checkpoints reached the witness; each verifies, and $(basename "$early") to $(basename "$late") is consistent"

# 6. Truncation, proven with the witness's last checkpoint: cut the live segment back to its
# first line, as someone hiding the latest grants would.
cp -a "$T/tok" "$T/cut"
head -n 1 "$T/cut/audit.log" >"$T/cut/audit.log.new"
mv "$T/cut/audit.log.new" "$T/cut/audit.log"
rc=0
"$MP_SIGNER" audit verify "$T/cut" --cert "$PUB" --checkpoint "$late" >"$T/cut.out" || rc=$?
[ $rc -eq 1 ] || fail "verify of a truncated log with the witness checkpoint: exit $rc: $(cat "$T/cut.out"); live segment: $(wc -l <"$T/tok/audit.log") lines, note: $(sed -n 2p "$late")"
grep -q 'cut off' "$T/cut.out" || fail "truncation not named: $(cat "$T/cut.out")"
ok "truncated log refused with the witness checkpoint: $(cat "$T/cut.out")"
rc=0
"$MP_SIGNER" audit prove --from "$late" "$T/cut" >/dev/null 2>"$T/prove.err" || rc=$?
[ $rc -eq 1 ] || fail "a consistency proof from the witness checkpoint to the cut log: exit $rc"
ok "no consistency proof from the witness checkpoint to the cut log: $(cat "$T/prove.err")"

# 7. A log begun by a signer of format 1 (header "v":1, no origin) is continued: its new
# checkpoints carry the tree over its old lines too, under the origin its nonce gives.
rm -f "$LOG" "$LOG".[0-9]* "$LOG".*.gz
nonce=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '{"seq":0,"ts":"2026-11-01T00:00:00.000000Z","event":"header","v":1,"nonce":"%s"}\n' \
    "$nonce" >"$LOG"
sed -i '/^audit_origin = /d' "$CONF"
start_signer
request --scope altinn:serviceowner/instances.read >/dev/null || fail "no grant on a format-1 log"
stop_signer
"$MP_SIGNER" audit verify "$LOG" --cert "$PUB" >"$T/v1.out" || fail "format-1 log continued: $(cat "$T/v1.out")"
$CHECK log --pubkey "$PUB" "$LOG" >/dev/null || fail "tlog_check refuses the continued format-1 log"
grep -q "\"note\":\"mp-signer.invalid/audit/${nonce:0:16}\\\\n" "$LOG" ||
    fail "the continued log's checkpoints lack the origin its nonce gives"
ok "a format-1 log is continued with checkpoints of its whole tree: $(cat "$T/v1.out")"

# 8. An anchor_command that hangs is killed after anchor_timeout, and signing never waits.
printf '#!/bin/sh\nexec sleep 100\n' >"$T/hang.sh"
chmod 755 "$T/hang.sh"
sed -i "s|^anchor_command = .*|anchor_command = $T/hang.sh|; 1a anchor_timeout = 1" "$CONF"
start_signer
for _ in 1 2 3; do
    kill -USR1 "$SERVE_PID"
    sleep 0.3
    s=$(date +%s%N)
    request --scope altinn:serviceowner/instances.read >/dev/null || fail "no grant while anchor_command hangs"
    [ $((($(date +%s%N) - s) / 1000000)) -lt 5000 ] || fail "a request waited for the hanging anchor_command"
done
for _ in $(seq 1 60); do grep -q 'anchor_command .*hang.sh killed after 1 s' "$T/serve.err" && break; sleep 0.1; done
grep -q 'anchor_command .*hang.sh killed after 1 s' "$T/serve.err" || fail "the hanging anchor_command was not killed"
stop_signer
ok "a hanging anchor_command is killed after 1 s; requests meanwhile were answered"
