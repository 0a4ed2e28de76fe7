#!/usr/bin/env bash
# The main job on the embedded default: a SoftHSM token whose key never leaves it, mp-fake as
# Maskinporten and Altinn, mp-signer serve and mp-exchange serve; fetches an Altinn token for
# altinn:serviceowner/instances.read, prints its claims and the audit line of the grant behind
# it, shows a refusal, verifies the audit log, writes the auditor's HTML report, and stops
# everything it started.
# Installs what is missing (Debian 12), builds into build/, keeps the token in build/demo/.
set -euo pipefail
MP_SCRIPT=demo
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2086
mp_ensure_packages $MP_PKGS_BUILD $MP_PKGS_RUN curl python3-jwt python3-cryptography
mp_say "building into build/"
mp_build "$MP_ROOT/build" -DBUILD_TESTING=OFF
B=$MP_ROOT/build
dir=${MP_DEMO_DIR:-$B/demo}
bash "$MP_ROOT/scripts/softhsm-init.sh" "$dir"
# A demo token made before serve required `user` (started as root) gets the line it now writes.
grep -q '^user = ' "$dir/signer.conf" || {
    mp_say "adding user = $(id -un) to $dir/signer.conf (made by an older softhsm-init.sh)"
    sed -i "1a user = $(id -un)" "$dir/signer.conf"
}
# And one made before mp-exchange named its callers (forward_caller) gets trusted_forwarders.
grep -q '^trusted_forwarders = ' "$dir/signer.conf" || {
    mp_say "adding trusted_forwarders = $(id -un) to $dir/signer.conf (made by an older softhsm-init.sh)"
    sed -i "/^user = /a trusted_forwarders = $(id -un)" "$dir/signer.conf"
}
run=$(mktemp -d /tmp/mp-demo.XXXXXX)
pids=()
stop_all() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap 'stop_all; rm -rf "$run"' EXIT
wait_for() { # FILE PATTERN; only complete lines count: a half-written port is a wrong port
    for _ in $(seq 1 200); do
        head -n "$(wc -l <"$1")" "$1" 2>/dev/null | grep -q "$2" && return 0
        sleep 0.05
    done
    cat "$1" >&2
    mp_die "timed out waiting for $2"
}

cid=$(sed -n 's/^client_id = //p' "$dir/signer.conf")
cat >"$run/fake.conf" <<CONF
listen = 127.0.0.1:0
issuer = https://test.maskinporten.no/
ca = $dir/ca.pem
[client $cid]
org = 314159268
scopes = altinn:serviceowner/instances.read altinn:serviceowner/instances.write
CONF
"$B/mp-fake" --config "$run/fake.conf" >"$run/fake.out" 2>"$run/fake.err" &
pids+=($!)
wait_for "$run/fake.out" "listening on"
fake=$(sed -n 's/^mp-fake listening on //p' "$run/fake.out")
"$B/mp-signer" serve --config "$dir/signer.conf" 2>"$run/signer.err" &
pids+=($!)
wait_for "$run/signer.err" "info: serving"
"$B/mp-exchange" serve --maskinporten-url "$fake/" --altinn-url "$fake" \
    --signer-socket "$dir/signer.sock" --listen 127.0.0.1:0 --user "$(id -un)" 2>"$run/exchange.err" &
pids+=($!)
wait_for "$run/exchange.err" "info: listening on"
exch=$(sed -n 's/.*info: listening on \(http:.*\)/\1/p' "$run/exchange.err")

echo
echo "== started: mp-fake $fake, mp-signer on $dir/signer.sock, mp-exchange $exch"
echo "== mp-exchange token --altinn --scope altinn:serviceowner/instances.read"
tok=$("$B/mp-exchange" token --url "$exch" --altinn --scope altinn:serviceowner/instances.read)
echo "${tok:0:60}...(${#tok} bytes)"
echo
echo "== its claims"
"$MP_PY" -c 'import json,sys,jwt; print(json.dumps(jwt.decode(sys.argv[1], options={"verify_signature": False}), indent=2))' "$tok"
echo
echo "== a scope the signer's policy does not allow for this profile is refused (and audited)"
"$B/mp-exchange" token --url "$exch" --scope altinn:serviceowner/rolesandrights 2>&1 &&
    mp_die "a scope outside the policy was granted"
echo
echo "== the audit line of the grant behind the token: caller is you (the program that asked"
echo "   mp-exchange), forwarder is mp-exchange (mp-signer audit show --json)"
"$B/mp-signer" audit show "$dir/audit.log" --outcome granted --json | tail -n 1
echo
echo "== stopping; the signer signs a last checkpoint on its way out"
stop_all
anchor=$(grep -o 'checkpoint: anchor [0-9]*:[0-9a-f]*$' "$run/signer.err" | tail -n 1 | cut -d' ' -f3)
[ -n "$anchor" ] || mp_die "the signer logged no checkpoint anchor"
rm -rf "$run"
trap - EXIT
echo "== its log (the journal, in production) names that checkpoint line: anchor $anchor"
"$B/mp-signer" audit verify "$dir/audit.log" --cert "$dir/audit-pub.pem" --anchor "$anchor"
"$B/mp-signer" audit report "$dir/audit.log" --html "$dir/audit-report.html" \
    --pubkey "$dir/audit-pub.pem" --anchor "$anchor"
echo "== the auditor's page: file://$dir/audit-report.html (a sample is in docs/)"
