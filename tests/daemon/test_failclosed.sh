#!/usr/bin/env bash
# The audit log cannot be written (a file-size limit makes write(2) fail like a full disk):
# the signer refuses to sign and says why, loses no line and leaves no partial line, and signs
# again as soon as writing works. The log renamed under it (logrotate create): one warning,
# grants go on. Truncated or written by another program (copytruncate): refused until restart.
. "$(dirname "$0")/lib.sh"
make_token
start_signer
request --scope altinn:serviceowner/instances.read >/dev/null || fail "first grant failed"

size=$(stat -c %s "$LOG")
lines=$(wc -l <"$LOG")
# Only the soft limit: raising a hard limit needs CAP_SYS_RESOURCE.
prlimit --pid "$SERVE_PID" --fsize=$((size + 64)):unlimited || fail "prlimit failed"
expect_refusal "not writable" request --scope altinn:serviceowner/instances.read
expect_refusal "not writable" request --scope altinn:serviceowner/instances.read
[ "$(stat -c %s "$LOG")" -eq "$size" ] || fail "log size changed while not writable"
[ "$(tail -c 1 "$LOG" | od -An -c | tr -d ' ')" = '\n' ] || fail "log does not end in a newline"
grep -q 'not writable: File too large: refusing to sign' "$T/serve.err" ||
    fail "the signer did not say why it refuses"
ok "log not writable: requests refused with the reason, no partial line, $lines lines kept"

prlimit --pid "$SERVE_PID" --fsize=unlimited:unlimited
jws=$(request --scope altinn:serviceowner/instances.read) || fail "no grant after recovery"
verify_jwt "$jws" >/dev/null || fail "grant after recovery does not verify"
grep -q "\"jws_sha256\":\"$(sha256 "$jws")\"" "$LOG" || fail "recovered grant not audited"
grep -q 'writable again: signing resumes' "$T/serve.err" || fail "no recovery log line"
ok "writing works again: signing resumes by itself"

stop_signer
audit_verify >"$T/verify.out" || { cat "$T/verify.out"; fail "audit verify failed"; }
ok "audit verify: $(cat "$T/verify.out")"

# logrotate's create mode: the log renamed, a new empty file at its path. Records still reach
# a durable file (the renamed one), so the signer goes on, and says so once.
start_signer
mv "$LOG" "$LOG.1" && : >"$LOG"
for _ in $(seq 1 200); do
    grep -q "audit log $LOG was moved or replaced" "$T/serve.err" && break
    sleep 0.05
done
grep -q "audit log $LOG was moved or replaced" "$T/serve.err" || fail "no warning that the log moved"
jws=$(request --scope altinn:serviceowner/instances.read) || fail "no grant after the log moved"
grep -q "\"jws_sha256\":\"$(sha256 "$jws")\"" "$LOG.1" || fail "the grant is not in the moved log"
[ -s "$LOG" ] && fail "the signer wrote to the new file at the path"
[ "$(grep -c 'was moved or replaced' "$T/serve.err")" -eq 1 ] || fail "the warning repeats"
mv "$LOG.1" "$LOG"
for _ in $(seq 1 200); do grep -q "audit log $LOG is back in place" "$T/serve.err" && break; sleep 0.05; done
grep -q "audit log $LOG is back in place" "$T/serve.err" || fail "no notice that the log is back"
ok "log renamed under the signer: one warning, grants go on into the renamed file"

# logrotate's copytruncate: the file emptied under the signer. Writing at its old end would
# leave a hole, and cutting back would destroy whatever is there: refuse until restarted.
cp "$LOG" "$T/copy.log"
truncate -s 0 "$LOG"
expect_refusal "truncated or written by another program" \
    request --scope altinn:serviceowner/instances.read
[ -s "$LOG" ] && fail "the signer wrote into the truncated log"
grep -q "audit log $LOG is 0 bytes, not the $(stat -c %s "$T/copy.log") it wrote" "$T/serve.err" ||
    fail "the signer did not say why it refuses: $(tail -n 3 "$T/serve.err")"
printf 'x\n' >>"$LOG"
expect_refusal "truncated or written by another program" \
    request --scope altinn:serviceowner/instances.read
[ "$(cat "$LOG")" = x ] || fail "the signer wrote over another program's bytes"
ok "log truncated or written under the signer: refused with the reason, nothing written into it"
: >"$LOG"
stop_signer
[ -s "$LOG" ] && fail "the final checkpoint went into the truncated log"
start_signer
jws=$(request --scope altinn:serviceowner/instances.read) || fail "no grant after the restart"
grep -q "\"jws_sha256\":\"$(sha256 "$jws")\"" "$LOG" || fail "the grant after restart is not audited"
stop_signer
audit_verify >"$T/verify.out" || { cat "$T/verify.out"; fail "the new log does not verify"; }
"$MP_SIGNER" audit verify "$T/copy.log" >/dev/null || fail "the copy logrotate kept does not verify"
ok "restarted: a new log starts at the path and verifies: $(cat "$T/verify.out")"

# A real full filesystem: the audit log on a 256 KiB tmpfs (needs root to mount).
if [ "$(id -u)" -eq 0 ] && mkdir "$T/small" && mount -t tmpfs -o size=256k,mode=0700 tmpfs "$T/small"; then
    trap 'umount -l "$T/small" 2>/dev/null; cleanup' EXIT
    sed -i "s|^audit_log = .*|audit_log = $T/small/audit.log|" "$CONF"
    LOG=$T/small/audit.log
    start_signer
    request --scope altinn:serviceowner/instances.read >/dev/null || fail "no grant on tmpfs"
    dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null || true # until ENOSPC
    refused=0
    for i in $(seq 1 200); do
        if ! request --scope altinn:serviceowner/instances.read >/dev/null 2>"$T/req.err"; then
            refused=$i
            break
        fi
    done
    [ "$refused" -gt 0 ] || fail "the filesystem never filled up"
    grep -q "not writable" "$T/req.err" || fail "refusal does not say why: $(cat "$T/req.err")"
    grep -q 'not writable: No space left on device: refusing to sign' "$T/serve.err" ||
        fail "the signer did not name ENOSPC: $(grep -i writable "$T/serve.err" | tail -2)"
    [ "$(tail -c 1 "$LOG" | od -An -c | tr -d ' ')" = '\n' ] || fail "a partial line on the full disk"
    full_lines=$(wc -l <"$LOG")
    ok "tmpfs full after $((refused - 1)) more grants: refused with ENOSPC named, $full_lines whole lines"
    rm "$T/small/filler"
    jws=$(request --scope altinn:serviceowner/instances.read) || fail "no grant after space returned"
    grep -q "\"jws_sha256\":\"$(sha256 "$jws")\"" "$LOG" || fail "grant after ENOSPC not audited"
    stop_signer
    audit_verify >"$T/verify.out" || { cat "$T/verify.out"; fail "audit verify failed after ENOSPC"; }
    ok "space returns: signing resumes by itself; audit verify: $(cat "$T/verify.out")"
else
    ok "not root or no tmpfs mount here: the full-filesystem case was not run (uid $(id -u))"
fi
