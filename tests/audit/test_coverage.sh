#!/usr/bin/env bash
# audit verify --cert and audit report --pubkey hold the tail after the last checkpoint to the
# writer's interval: a log rebuilt without its checkpoints, or rewritten after an early one,
# fails with a line saying why; the daemon's own logs, including one left by a crash, pass.
. "$MP_ROOT/tests/daemon/lib.sh"
HERE=$MP_ROOT/tests/audit

# rebuild.py IN OUT MODE: re-chains IN as someone without the audit key would. MODE "strip"
# drops every checkpoint; "after:K" keeps lines up to the K-th checkpoint and drops the later
# ones; "tail:N" drops the checkpoints after line N, as "after" does from a line on. Each kept
# sign line is re-hashed into a consistent seq/prev chain; one granted line becomes "refused".
cat >"$T/rebuild.py" <<'PY'
import hashlib, json, sys
src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lines = [json.loads(l) for l in open(src, encoding="utf-8")]
kind, _, arg = mode.partition(":")
out, cps, edited = [lines[0]], 0, False
for rec in lines[1:]:
    if rec["event"] == "checkpoint":
        cps += 1
        if kind == "strip" or (kind == "after" and cps > int(arg)):
            continue
    elif not edited and rec.get("outcome") == "granted" and (kind == "strip" or cps >= int(arg)):
        rec["outcome"], rec["reason"], edited = "refused", "rewritten", True
    out.append(rec)
dump = lambda o: json.dumps(o, separators=(",", ":"), ensure_ascii=False)
with open(dst, "w", encoding="utf-8") as f:
    prev = None
    for seq, rec in enumerate(out):
        body = {"seq": seq}
        if seq:
            body["prev"] = prev
        body.update({k: v for k, v in rec.items() if k not in ("seq", "prev")})
        line = dump(body)
        f.write(line + "\n")
        prev = hashlib.sha256(line.encode()).hexdigest()
print(len(out))
PY

# A writer-faithful synthetic log: 3000 records a day apart by 28.8 s, checkpoints by time.
"$PY" "$HERE/gen_report_log.py" "$T/s.log" "$T/s.pem" --days 1 --per-day 3000 >/dev/null
"$MP_SIGNER" audit verify "$T/s.log" --cert "$T/s.pem" >"$T/out" || fail "the synthetic log: $(cat "$T/out")"
ok "a log checkpointed as the writer does verifies with --cert: $(cat "$T/out")"

n=$("$PY" "$T/rebuild.py" "$T/s.log" "$T/strip.log" strip)
"$MP_SIGNER" audit verify "$T/strip.log" >"$T/out" || fail "without --cert the stripped log should pass the chain"
rc=0
"$MP_SIGNER" audit verify "$T/strip.log" --cert "$T/s.pem" >"$T/out" || rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$T/out")" = 1 ] &&
    grep -qF "and no checkpoint, but this log checkpoints every 1000: checkpoints were removed" "$T/out" ||
    fail "every checkpoint deleted and seq/prev rebuilt ($n lines): rc $rc, $(cat "$T/out")"
ok "every checkpoint deleted, chain rebuilt: --cert fails: $(cat "$T/out")"

"$PY" "$T/rebuild.py" "$T/s.log" "$T/after.log" after:5 >/dev/null
rc=0
"$MP_SIGNER" audit verify "$T/after.log" --cert "$T/s.pem" >"$T/out" || rc=$?
[ $rc = 1 ] && grep -qF "lines after the last checkpoint" "$T/out" ||
    fail "rewritten after the 5th checkpoint: rc $rc, $(cat "$T/out")"
ok "everything after an early checkpoint rewritten: --cert fails: $(cat "$T/out")"

# Fewer lines than the count allows, but spread over more time than one run may go unprotected.
head -n 200 "$T/s.log" >"$T/short.log"
"$PY" "$T/rebuild.py" "$T/short.log" "$T/short-strip.log" after:1 >/dev/null
rc=0
"$MP_SIGNER" audit verify "$T/short-strip.log" --cert "$T/s.pem" >"$T/out" || rc=$?
[ $rc = 1 ] && grep -qE "span [0-9]+ s of one signer run, but this log checkpoints within 60 s" "$T/out" ||
    fail "a short rewritten tail spanning an hour: rc $rc, $(cat "$T/out")"
ok "a short tail rewritten over more than 60 s: --cert fails: $(cat "$T/out")"

# audit report gives the same verdict: exit 1, the page says FAILED and why.
rc=0
"$MP_SIGNER" audit report "$T/strip.log" --pubkey "$T/s.pem" --html "$T/strip.html" >"$T/out" || rc=$?
[ $rc = 1 ] && grep -qF "checkpoints were removed" "$T/out" && grep -qF "checkpoints were removed" "$T/strip.html" ||
    fail "audit report on the stripped log: rc $rc, $(cat "$T/out")"
ok "audit report --pubkey on the stripped log: exit 1, the page says why"

# The daemon's own log: the header states the interval, and a crash before a checkpoint is
# covered at the restart's first tick, so the log passes again.
make_token
start_signer
for _ in 1 2 3; do request --scope altinn:serviceowner/instances.read >/dev/null; done
head -n 1 "$LOG" | grep -q '"checkpoint_every":1000,"checkpoint_seconds":60' ||
    fail "the header does not state the interval: $(head -n 1 "$LOG")"
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
tail -n 1 "$LOG" | grep -q '"event":"sign"' || fail "the crash left no unprotected tail"
n=$(wc -l <"$LOG")
start_signer
for _ in $(seq 1 100); do
    tail -n +$((n + 1)) "$LOG" | grep -q '"event":"checkpoint"' && break
    sleep 0.1
done
tail -n +$((n + 1)) "$LOG" | grep -q '"event":"checkpoint"' || fail "no checkpoint within 10 s of the restart"
audit_verify >"$T/out" || fail "the log after a crash and restart: $(cat "$T/out")"
stop_signer
ok "the daemon states its interval in the header and checkpoints at once after a crash: $(cat "$T/out")"
