# mp-signer config check and mp-exchange config check (sshd -T): the effective settings from a
# real file, defaults filled in and overrides applied, a bad file as one FILE:LINE: line with
# exit 1, usage errors with exit 2, and never the contents of the PIN file.
# shellcheck shell=bash
set -Eeuo pipefail
: "${MP_SIGNER:?}" "${MP_EXCHANGE:?}"
T=$(mktemp -d /tmp/mp-config-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'echo "FAIL - line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*" >&2; [ -f "$T/out" ] && sed 's/^/  out: /' "$T/out" >&2; [ -f "$T/err" ] && sed 's/^/  err: /' "$T/err" >&2; exit 1; }

# BIN CONF: runs "BIN config check --config CONF", stdout to $T/out, stderr to $T/err; sets RC.
check() {
    RC=0
    ${MP_WRAP:-} "$1" config check --config "$2" >"$T/out" 2>"$T/err" || RC=$?
}
has() { grep -qxF -- "$1" "$T/out" || fail "$2: no line \"$1\""; }
# BIN CONF LINE MESSAGE: the check fails with exit 1 and exactly one line naming CONF:LINE.
refused() {
    check "$1" "$2"
    [ "$RC" = 1 ] || fail "$4: exit $RC, not 1"
    [ ! -s "$T/out" ] || fail "$4: printed a config for a bad file"
    [ "$(wc -l <"$T/err")" = 1 ] || fail "$4: not one line of error"
    grep -qF -- "$2:$3: $4" "$T/err" || fail "$4: not \"$2:$3: $4\" in $(cat "$T/err")"
}

# --- mp-signer
printf 'SECRET-PIN-4711\n' >"$T/pin"
chmod 600 "$T/pin"
cat >"$T/signer.conf" <<CONF
# a comment
module = /usr/lib/softhsm/libsofthsm2.so
module_env = SOFTHSM2_CONF=$T/softhsm2.conf
pin_file = $T/pin
socket_mode = 0600
workers = 5
[profile default]
key = pkcs11:token=mp-dev;object=vs;type=private
env = test
scopes = altinn:a altinn:b
[profile other]
aud = https://sys.example.no/
lifetime = 30
allow_uids = 0 root
CONF
check "$MP_SIGNER" "$T/signer.conf"
[ "$RC" = 0 ] || fail "signer: valid config exited $RC: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "signer: a valid config wrote to stderr"
has "module = /usr/lib/softhsm/libsofthsm2.so" "signer override"
has "module_env = SOFTHSM2_CONF=$T/softhsm2.conf" "signer repeatable"
has "pin_file = $T/pin" "signer pin_file path"
has "socket_mode = 0600" "signer octal override"
has "workers = 5" "signer range override"
has "# socket =" "signer unset key"
has "sandbox = enforce" "signer default"
has "[profile default]" "signer first profile"
has "aud = https://test.maskinporten.no/" "signer env = test"
has "scopes = altinn:a altinn:b" "signer list"
has "alg = RS256" "signer default alg"
has "lifetime = 60" "signer default lifetime"
has "max_lifetime = 120" "signer default max_lifetime"
has "[profile other]" "signer second profile"
has "lifetime = 30" "signer lifetime override"
has "allow_uids = 0 0" "signer uids as numbers"
[ "$(grep -c '^\[profile ' "$T/out")" = 2 ] || fail "signer: not two profiles"
grep -q SECRET-PIN "$T/out" "$T/err" && fail "signer: the PIN file's contents were printed"
ok "mp-signer config check prints defaults, overrides and profiles, and only the pin_file path"

cp "$T/out" "$T/printed.conf"
check "$MP_SIGNER" "$T/printed.conf"
[ "$RC" = 0 ] && cmp -s "$T/out" "$T/printed.conf" || fail "signer: printed config does not read back"
ok "mp-signer: the printed config reads back to the same output"

printf 'module = m\n\nbogus = 1\n' >"$T/bad1.conf"
refused "$MP_SIGNER" "$T/bad1.conf" 3 'unknown setting "bogus"'
printf 'workers = 65\n' >"$T/bad2.conf"
refused "$MP_SIGNER" "$T/bad2.conf" 1 "workers must be 1..64"
printf '[profile p]\nkey = k\nresources = urn:a, urn:b\n' >"$T/bad3.conf"
refused "$MP_SIGNER" "$T/bad3.conf" 3 "resources is a space-separated list: no commas"
printf '[profile p]\n[profile q]\n[profile p]\n' >"$T/bad4.conf"
refused "$MP_SIGNER" "$T/bad4.conf" 3 "duplicate [profile p]"
printf '[profile p]\nmax_lifetime = 121\n' >"$T/bad5.conf"
refused "$MP_SIGNER" "$T/bad5.conf" 2 "max_lifetime must be 1..120 seconds"
ok "mp-signer config check: a bad file is one FILE:LINE: error and exit 1"

# --- mp-exchange
cat >"$T/exchange.conf" <<CONF
env = test
signer_socket = $T/signer.sock
listen = 127.0.0.1:8471
threads = 16
retries = 0
CONF
check "$MP_EXCHANGE" "$T/exchange.conf"
[ "$RC" = 0 ] || fail "exchange: valid config exited $RC: $(cat "$T/err")"
has "env = test" "exchange env"
has "maskinporten_url = https://test.maskinporten.no/" "exchange env preset"
has "altinn_url = https://platform.tt02.altinn.no" "exchange env preset"
has "signer_socket = $T/signer.sock" "exchange string"
has "threads = 16" "exchange override"
has "retries = 0" "exchange override at the range's low end"
has "connect_timeout_ms = 3000" "exchange default"
has "timeout_ms = 10000" "exchange default"
has "unix_mode = 0660" "exchange default mode"
has "key_watch_interval_s = 3600" "exchange default"
has "# ca_file =" "exchange unset key"
grep -q '^\[' "$T/out" && fail "exchange: printed a section"
ok "mp-exchange config check prints defaults and overrides"

cp "$T/out" "$T/printed.conf"
check "$MP_EXCHANGE" "$T/printed.conf"
[ "$RC" = 0 ] && cmp -s "$T/out" "$T/printed.conf" || fail "exchange: printed config does not read back"
ok "mp-exchange: the printed config reads back to the same output"

printf 'env = test\nretries = 6\n' >"$T/xbad1.conf"
refused "$MP_EXCHANGE" "$T/xbad1.conf" 2 "retries must be 0..5"
printf 'env = test\n[profile a]\n' >"$T/xbad2.conf"
refused "$MP_EXCHANGE" "$T/xbad2.conf" 2 "unknown section [profile a]"
printf 'env = staging\n' >"$T/xbad3.conf"
refused "$MP_EXCHANGE" "$T/xbad3.conf" 1 "env must be test or prod"
printf 'env = test\nlisten = 127.0.0.1:1\n' >"$T/xbad4.conf"
check "$MP_EXCHANGE" "$T/xbad4.conf"
[ "$RC" = 1 ] && grep -qF "$T/xbad4.conf: signer_socket is not set" "$T/err" ||
    fail "exchange: a missing signer_socket is not named with the file"
ok "mp-exchange config check: a bad file is one FILE:LINE: (or FILE:) error and exit 1"

# --- the command line, both binaries alike
for bin in "$MP_SIGNER" "$MP_EXCHANGE"; do
    name=$(basename "$bin")
    rc=0; "$bin" config check >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" = 2 ] && grep -q -- "--config FILE is required" "$T/err" || fail "$name: no --config: exit $rc"
    rc=0; "$bin" config >/dev/null 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "$name config: exit $rc, not 2"
    rc=0; "$bin" config check --config "$T/exchange.conf" extra >/dev/null 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "$name: an extra argument: exit $rc, not 2"
    rc=0; "$bin" config check --bogus >/dev/null 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "$name: an unknown option: exit $rc, not 2"
    "$bin" config check --help | grep -q "^usage: $name config check --config FILE" ||
        fail "$name: no usage for --help"
    "$bin" --help | grep -q "^  config " || fail "$name: config missing from the usage"
    rc=0; "$bin" config check --config "$T/missing.conf" >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" = 1 ] && grep -qF "$T/missing.conf" "$T/err" || fail "$name: a missing file: exit $rc"
done
ok "config check: usage errors exit 2, --help exits 0, a missing file exits 1"
