#!/usr/bin/env bash
# NSS softokn (libsoftokn3.so, a database made by certutil -N in a temp dir, reached with
# module_init_args). It makes keys in the token with CKA_SENSITIVE true and CKA_EXTRACTABLE
# false, as mp-signer asks, but does not enforce them: C_WrapKey wraps such a private key, and
# once a certificate sits beside it pk12util exports it in clear (measured with NSS 3.87; see
# README, "Modules"). So the signer treats every NSS softokn key as exportable: key generate
# works, key list says why the key is refused, and grant, key csr and serve refuse to use it.
# Not the full suite (tests/modules/lib.sh): there is no key on this module it would sign with.
# Also: a module failing C_Initialize, and one missing, each get one line naming it and why.
. "$(dirname "$0")/lib.sh"
NAME=nss
MOD=
for m in /usr/lib/x86_64-linux-gnu/libsoftokn3.so /usr/lib/aarch64-linux-gnu/libsoftokn3.so; do
    [ -f "$m" ] && MOD=$m
done
[ -n "$MOD" ] || fail "libsoftokn3.so not found (apt-get install libnss3)"
make_pins
mkdir -p "$T/db"
certutil -N -d "sql:$T/db" -f "$T/pin"
# The database's password is the user PIN of the token "NSS Certificate DB".
MOD_INIT_ARGS="configdir='sql:$T/db' certPrefix='' keyPrefix='' secmod='secmod.db' flags="
TOKEN=NSS%20Certificate%20DB TOKEN_LABEL="NSS Certificate DB"
write_conf
"$MP_SIGNER" config check --config "$CONF" >/dev/null
module_make_keys 2>"$T/gen.err" || fail "key generate on NSS softokn: $(cat "$T/gen.err")"
certutil -K -d "sql:$T/db" -f "$T/pin" | grep -q 'virksomhetssertifikat' ||
    fail "certutil -K does not see the key mp-signer generated"
"$MP_SIGNER" key list --config "$CONF" >"$T/list"
key_entry virksomhetssertifikat | grep -q "sensitive=1 extractable=0 never_extractable=1" ||
    fail "key list attributes: $(key_entry virksomhetssertifikat)"
key_entry virksomhetssertifikat | grep -q "verdict: .*exportable: NSS softokn does not enforce CKA_EXTRACTABLE" ||
    fail "key list verdict: $(key_entry virksomhetssertifikat)"
ok "nss: keys generated in the token (certutil -K sees them) with the attributes asked for; key list names NSS softokn's unenforced CKA_EXTRACTABLE"
expect_refusal "NSS softokn does not enforce CKA_EXTRACTABLE" grant --scope $S
expect_refusal "NSS softokn does not enforce CKA_EXTRACTABLE" "$MP_SIGNER" key csr --config "$CONF" \
    --org 314159268 --out "$T/leaf.csr"
[ ! -e "$T/leaf.csr" ] || fail "a CSR was written"
rc=0
timeout 20 "$MP_SIGNER" serve --config "$CONF" 2>"$T/serve.err" || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "serve on NSS softokn: exit $rc"
grep -q "NSS softokn does not enforce CKA_EXTRACTABLE" "$T/serve.err" || fail "serve: $(cat "$T/serve.err")"
ok "nss: grant, key csr and serve refuse the key, naming why"

# A module that fails C_Initialize (NSS without its database) or is missing: one line naming
# the module and the CKR code or the loader's reason.
sed 's/^module_init_args = .*//' "$CONF" >"$T/noargs.conf"
expect_refusal "$MOD: C_Initialize failed: CKR_ARGUMENTS_BAD (0x7)" "$MP_SIGNER" key list --config "$T/noargs.conf"
sed "s|^module = .*|module = $T/no-such-module.so|" "$CONF" >"$T/nomod.conf"
expect_refusal "cannot load PKCS#11 module $T/no-such-module.so: $T/no-such-module.so: cannot open shared object file" \
    "$MP_SIGNER" key list --config "$T/nomod.conf"
ok "nss: C_Initialize failing (no database) and a missing module: one line each, naming the module and why"
