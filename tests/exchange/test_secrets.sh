#!/usr/bin/env bash
# Secret hygiene across the whole product: after grants, tokens, refusals, upstream failures, a
# wrong PIN and the audit tools have run, no PIN, grant or token appears in any log, error
# message, metrics page or audit output. Every secret the test saw is searched for whole and by
# its signature part (a log that cut a JWS short would still leak its signature).
. "$(dirname "$0")/lib.sh"
setup_fake
echo "resources = $(printf 'https://r%s.example/ ' 1 2 3 4)" >>"$CONF" # a cold key per fault
start_signer
start_exchange
R=altinn:serviceowner/instances.read
SECRETS=$T/secrets # one per line; never printed
: >"$SECRETS"
keep() { [ -n "$1" ] && { printf '%s\n' "$1" >>"$SECRETS"; printf '%s\n' "${1##*.}" >>"$SECRETS"; }; }

keep "$(cat "$T/tok/pin")"
jws=$("$MP_SIGNER" request --socket "$T/tok/signer.sock" --scope "$R" 2>>"$T/cli.err")
keep "$jws"
mp=$(curl -s -H "$XH" "$EXCH/v1/maskinporten?scope=$R" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
keep "$mp"
alt=$("$MP_EXCHANGE" token --url "$EXCH" --altinn --scope "$R" 2>>"$T/cli.err")
keep "$alt"
grant=$("$MP_SIGNER" grant --config "$CONF" 2>>"$T/cli.err")
keep "$grant"
[ "$(wc -l <"$SECRETS")" -eq 10 ] || fail "did not collect every secret"

# Failure paths that carry a grant or token nearby: refusals, upstream errors, garbage, 401.
"$MP_SIGNER" request --socket "$T/tok/signer.sock" --scope foo:bar 2>>"$T/cli.err" && fail "foo:bar"
i=0
for f in '{"target":"token","error":"MP-130","count":2}' '{"target":"token","garbage":true}' \
    '{"target":"exchange","status":401,"count":3}' '{"target":"token","status":500}'; do
    fake_fault "$f"
    i=$((i + 1))
    curl -s -H "$XH" "$EXCH/v1/altinn?scope=$R&resource=https://r$i.example/" >>"$T/answers"
    "$MP_EXCHANGE" token --url "$EXCH" --scope "$R" --resource "https://r$i.example/" \
        2>>"$T/cli.err" >>"$T/token-out" || true
    fake_reset
done
grep -q "MP-130" "$T/exchange.err" && grep -q "HTTP 401" "$T/answers" ||
    fail "the failure paths did not run: $(cut -c1-200 "$T/answers")"
curl -s -H "$XH" "$EXCH/metrics" >"$T/metrics.txt"
"$MP_SIGNER" audit verify "$T/tok/audit.log" --cert "$T/tok/audit-pub.pem" >"$T/verify.out" 2>&1
"$MP_SIGNER" audit show "$T/tok/audit.log" >"$T/show.out" 2>&1

# A wrong PIN: the error names the problem, never the PIN.
printf 'not-the-pin-%s\n' "$RANDOM$RANDOM" >"$T/badpin"
chmod 600 "$T/badpin"
keep "$(cat "$T/badpin")"
"$MP_SIGNER" grant --config "$CONF" --pin-file "$T/badpin" \
    >"$T/badpin.out" 2>"$T/badpin.err" && fail "a wrong PIN signed"
grep -qi "pin" "$T/badpin.err" || fail "wrong PIN not named: $(cat "$T/badpin.err")"

kill -TERM "${PIDS[1]}" "$EXCH_PID"
sleep 0.5
logs=("$T/signer.err" "$T/exchange.err" "$T/cli.err" "$T/answers" "$T/metrics.txt"
    "$T/tok/audit.log" "$T/verify.out" "$T/show.out" "$T/badpin.err" "$T/badpin.out")
for f in "${logs[@]}"; do [ -e "$f" ] || fail "missing $f"; done
n=0
while IFS= read -r s; do
    n=$((n + 1))
    for f in "${logs[@]}"; do
        ! grep -qF -- "$s" "$f" || fail "secret #$n found in $(basename "$f")"
    done
done <"$SECRETS"
lines=$(cat "${logs[@]}" | wc -l)
ok "no PIN, grant or token (whole or its signature) in $lines lines of ${#logs[@]} logs, answers and audit outputs ($n strings)"
