#!/usr/bin/env bash
# The audit log cannot be written (a file-size limit makes write(2) fail like a full disk):
# the signer refuses to sign and says why, loses no line and leaves no partial line, and signs
# again as soon as writing works.
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
