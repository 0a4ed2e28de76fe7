#!/usr/bin/env bash
# mp-signer bench: one JSON line of figures, and every request through the daemon audited;
# --raw (and --sync-file) on the same key; a run that cannot start, or whose requests fail,
# says why in one line and exits non-zero. With more callers than workers, audit lines share
# fdatasyncs, as the signer's closing log line counts them.
. "$(dirname "$0")/lib.sh"
make_token
start_signer
SCOPE=altinn:serviceowner/instances.read

count() { grep -c "$1" "$LOG" || true; }

# check_line LINE MODE REQUESTS CONCURRENCY ERRORS: one bench line whose figures agree.
check_line() {
    "$PY" - "$@" <<'PY'
import json, sys
line, mode = sys.argv[1], sys.argv[2]
requests, concurrency, errors = (int(a) for a in sys.argv[3:6])
assert "\n" not in line, repr(line)
b = json.loads(line)
assert (b["mode"], b["requests"], b["concurrency"], b["errors"]) == (mode, requests, concurrency, errors), b
assert b["seconds"] > 0 and b["rps"] > 0, b
s = b["seconds"]  # printed to 0.001 s, rps to 0.1
assert requests / (s + 0.0005) - 0.05 <= b["rps"] <= requests / max(s - 0.0005, 1e-9) + 0.05, b
assert 0 < b["p50_us"] <= b["p99_us"], b
PY
}

before=$(count '"outcome":"granted"')
out=$(${MP_WRAP:-} "$MP_SIGNER" bench --socket "$SOCK" --scope $SCOPE --requests 60 --concurrency 4)
check_line "$out" daemon 60 4 0 || fail "bench line wrong: $out"
[ "$(count '"outcome":"granted"')" -eq $((before + 60)) ] ||
    fail "60 bench requests did not make 60 granted audit lines"
ok "bench through the daemon: figures line, 60 requests = 60 granted audit lines"

before=$(count '"event":"sign"')
out=$(${MP_WRAP:-} "$MP_SIGNER" bench --raw --config "$CONF" --requests 40 --concurrency 2)
check_line "$out" raw 40 2 0 || fail "raw bench line wrong: $out"
out=$(${MP_WRAP:-} "$MP_SIGNER" bench --raw --config "$CONF" --sync-file "$T/sync" --requests 40 --concurrency 2)
check_line "$out" raw+fdatasync 40 2 0 || fail "raw+fdatasync line wrong: $out"
[ "$(count '"event":"sign"')" -eq "$before" ] || fail "--raw went through the daemon"
"$PY" - "$T/sync" <<'PY' || fail "--sync-file lines wrong"
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"" and len(lines) == 41, len(lines)
for l in lines[:-1]:
    assert len(l) > 600 and json.loads(l)["event"] == "bench", l[:40]
PY
ok "bench --raw on the same key, and --sync-file: 40 durable audit-sized lines"
cp "$LOG" "$T/copy.log" # a still copy: the live log may get a timed checkpoint meanwhile
cp "$LOG" "$T/log.before"
expect_refusal "give a path that does not exist yet" ${MP_WRAP:-} "$MP_SIGNER" bench --raw \
    --config "$CONF" --sync-file "$T/copy.log" --requests 5 --concurrency 1
cmp -s "$T/copy.log" "$T/log.before" || fail "--sync-file wrote into an existing file"
ok "--sync-file refuses an existing file (the audit log given by mistake stays intact)"

before=$(count '"outcome":"refused"')
rc=0
out=$(${MP_WRAP:-} "$MP_SIGNER" bench --socket "$SOCK" --scope not:allowed --requests 10 --concurrency 2 \
    2>"$T/err") || rc=$?
[ $rc -eq 1 ] || fail "refused requests: bench exited $rc"
check_line "$out" daemon 10 2 10 || fail "refused bench line wrong: $out"
[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '10 of 10 requests failed; the first: .*not allowed' \
    "$T/err" || fail "refusals not named in one line: $(cat "$T/err")"
[ "$(count '"outcome":"refused"')" -eq $((before + 10)) ] || fail "refusals not audited"
ok "refused bench requests: counted, audited, the reason in one stderr line, exit 1"

expect_refusal "cannot reach the signer" ${MP_WRAP:-} "$MP_SIGNER" bench --socket "$T/nobody.sock" \
    --requests 5 --concurrency 3
ok "unreachable socket: no figures, one line, non-zero"
rc=0
${MP_WRAP:-} "$MP_SIGNER" bench --socket "$SOCK" --sync-file "$T/x" --requests 1 --concurrency 1 \
    >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "--sync-file without --raw: exit $rc, not a usage error"
[ ! -e "$T/x" ] || fail "--sync-file without --raw created its file"
ok "--sync-file without --raw is a usage error"
expect_refusal "leave out --socket" ${MP_WRAP:-} "$MP_SIGNER" bench --raw --config "$CONF" \
    --socket "$SOCK" --requests 1 --concurrency 1
expect_refusal "--config goes with --raw" ${MP_WRAP:-} "$MP_SIGNER" bench --config "$CONF" \
    --socket "$SOCK" --requests 1 --concurrency 1
ok "--raw with --socket, or --config without --raw: one usage line, nothing measured"
expect_refusal "--config is for mp-signer bench only" ${MP_WRAP:-} "$MP_SIGNER" request \
    --socket "$SOCK" --scope altinn:serviceowner/instances.read --config "$CONF"
ok "request names a bench-only option, not its value"
rc=0
${MP_WRAP:-} "$MP_SIGNER" bench --socket "$SOCK" --scope "$(printf 'a%.0s' $(seq 1 1100))" \
    --requests 4 --concurrency 4 >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 2 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
    grep -q -- '--scope must be' "$T/err" ||
    fail "an oversized --scope: exit $rc, stderr: $(cat "$T/err")"
ok "an oversized --scope is one usage error, not one per bench thread"

stop_signer
audit_verify >/dev/null || fail "audit verify after the bench runs"
ok "audit log verifies after the bench runs"

# closed_stats: "LINES SYNCS" from the last closing log line of the signer.
closed_stats() {
    sed -n 's/.*audit log .* closed: \([0-9]*\) line(s) written in \([0-9]*\) fdatasync(s)$/\1 \2/p' \
        "$T/serve.err" | tail -n 1
}
read -r lines syncs <<<"$(closed_stats)"
[ "${lines:-x}" = $(($(wc -l <"$LOG") - 1)) ] && [ "$syncs" -ge 1 ] && [ "$syncs" -le "$lines" ] ||
    fail "closing log line does not count the lines written: '$lines $syncs', log $(wc -l <"$LOG")"
ok "at shutdown the signer logs the lines it wrote ($lines) and the fdatasyncs they took ($syncs)"

# Group commit with more callers than workers: a batch waits for the signatures still queued
# for a worker, so they share its fdatasync (measured: 0.3-0.52 per line here, also under
# valgrind and with two CPU hogs running; 0.95 per line without the wait).
sed -i '/^workers *=/d; 1i workers = 2' "$CONF"
before=$(wc -l <"$LOG")
start_signer
out=$(${MP_WRAP:-} "$MP_SIGNER" bench --socket "$SOCK" --scope $SCOPE --requests 160 --concurrency 8)
check_line "$out" daemon 160 8 0 || fail "bench line wrong: $out"
stop_signer
read -r lines syncs <<<"$(closed_stats)"
[ "$lines" = $(($(wc -l <"$LOG") - before)) ] || fail "second run: $lines lines counted"
[ $((syncs * 4)) -le $((lines * 3)) ] || fail "c=8 with 2 workers: $lines lines took $syncs fdatasyncs"
ok "c=8 with 2 workers: $lines audit lines shared $syncs fdatasyncs"
audit_verify >/dev/null || fail "audit verify after the c=8 run"

# scripts/bench-signer.sh: every baseline and the daemon in one round, then the ratios.
MP_SIGNER=$MP_SIGNER bash "$MP_ROOT/scripts/bench-signer.sh" --requests 20 --rounds 1 \
    --dir "$T/bs" >"$T/bs.out" 2>"$T/bs.err" || fail "bench-signer.sh: $(cat "$T/bs.err")"
for label in "raw c=1" "raw c=2" "raw+sync c=1" "raw+sync c=2" "daemon c=1" "daemon c=2" \
    "daemon c=8" "raw after c=2" "raw after c=1"; do
    grep -q "^$label {" "$T/bs.out" || fail "bench-signer.sh printed no '$label' line"
done
grep -Eq '^round 1: daemon c=8 / raw c=2 = [0-9]+\.[0-9]{2} \(raw c=2 [0-9]+ then [0-9]+ rps\), .* RSS [0-9]+ KiB$' \
    "$T/bs.out" ||
    fail "bench-signer.sh summary missing: $(tail -n 2 "$T/bs.out")"
ok "scripts/bench-signer.sh: baselines, daemon and summary in one round"
