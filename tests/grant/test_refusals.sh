#!/usr/bin/env bash
# Everything mp-signer grant must refuse: one clear line on stderr, non-zero exit, nothing on
# stdout, and the PIN in no output at all.
. "$MP_ROOT/tests/grant/lib.sh"
: "${MP_MKKEY:?}" "${MP_P11FAULT:?}"
make_token
S=altinn:serviceowner/instances.read
softhsm=$(sed -n 's/^module = //p' "$CONF")
mk() { SOFTHSM2_CONF=$T/tok/softhsm2.conf "$MP_MKKEY" "$softhsm" mp-dev "$T/tok/pin" "$1" "k-$1" "$2"; }
key() { echo "pkcs11:token=mp-dev;object=k-$1;type=private"; }

mk extractable 11
mk nonsensitive 12
mk ec 13
mk rsa1024 14
mk imported 15
expect_refusal "CKA_EXTRACTABLE is true" grant --scope $S --kid k --key "$(key extractable)"
expect_refusal "CKA_SENSITIVE is false" grant --scope $S --kid k --key "$(key nonsensitive)"
expect_refusal "only RSA keys" grant --scope $S --kid k --key "$(key ec)"
expect_refusal "at least 2048 bits" grant --scope $S --kid k --key "$(key rsa1024)"
ok "extractable, non-sensitive, EC and RSA-1024 keys refused, each naming the reason"
jws=$(grant --scope $S --kid k --key "$(key imported)" 2>"$T/warn") || fail "imported key refused"
[ -n "$jws" ] || fail "no grant from the imported key"
grep -q "was imported" "$T/warn" || fail "no warning for an imported key: $(cat "$T/warn")"
ok "an imported key (CKA_NEVER_EXTRACTABLE false) signs, with a warning on stderr"
"$MP_SIGNER" key list --config "$CONF" >"$T/list"
verdict() { grep -A1 "^k-$1  id=" "$T/list" | sed -n 's/^  verdict: //p'; }
case $(verdict imported) in "imported (allowed, warned and audited)"*) ;; *) fail "key list: imported: $(verdict imported)" ;; esac
case $(verdict extractable) in *"CKA_EXTRACTABLE is true"*) ;; *) fail "key list: extractable: $(verdict extractable)" ;; esac
case $(verdict nonsensitive) in *"CKA_SENSITIVE is false"*) ;; *) fail "key list: nonsensitive: $(verdict nonsensitive)" ;; esac
grep -A2 '^k-imported  id=' "$T/list" | grep -q 'never_extractable=0' ||
    fail "key list does not show the attribute behind 'imported': $(grep -A2 '^k-imported  id=' "$T/list")"
ok "key list: the imported key (CKA_NEVER_EXTRACTABLE false) shows as imported; extractable and non-sensitive keys show why they are refused"

expect_refusal "exclude each other" grant --scope $S --kid k --chain "$T/tok/ca.pem"
for l in 0 121 abc; do expect_refusal "--lifetime must be 1..120" grant --scope $S --lifetime $l; done
expect_refusal "not a valid organisation number" grant --scope $S --consumer-org 123456789
expect_refusal "not a valid organisation number" grant --scope $S --consumer-org 12345
expect_refusal "not a valid organisation number" grant --scope $S --systemuser-org 99182582X
expect_refusal "is the certificate's own organisation" grant --scope $S --consumer-org 314159268
expect_refusal "--alg must be RS256, RS384 or RS512" grant --scope $S --alg PS256
expect_refusal "--alg must be RS256, RS384 or RS512" grant --scope $S --alg none
expect_refusal "--env must be test or prod" grant --scope $S --env staging
expect_refusal "carries pin-value" grant --scope $S --key "pkcs11:token=mp-dev;object=virksomhetssertifikat?pin-value=1234"
expect_refusal "no private key on token mp-dev matches" grant --scope $S --key "pkcs11:token=mp-dev;object=nope"
expect_refusal "unknown option --bogus" grant --scope $S --bogus
expect_refusal "use --pin-file" grant --scope $S --pin 1234
printf '[profile default]\nkey = x\nfrobnicate = 1\n' >"$T/bad.conf"
expect_refusal "bad.conf:3: unknown profile setting" "$MP_SIGNER" grant --config "$T/bad.conf"
ok "bad options and values: one line each (lifetime, org numbers, own org, alg, env, URI, unknown option, --pin, config file:line)"

# PIN file hygiene, with the token reached through the fault module so its calls are counted.
sed -i "s|^module = .*|module = $MP_P11FAULT|" "$CONF"
sed -i "/^module_env/a module_env = P11FAULT_MODULE=$softhsm\nmodule_env = P11FAULT_LOG=$T/calls" "$CONF"
grant --scope $S >/dev/null || fail "no grant through the fault module"
for mode in 640 604 660; do
    : >"$T/calls"
    chmod $mode "$T/tok/pin"
    expect_refusal "group and others must have no access" grant --scope $S
    [ ! -s "$T/calls" ] || fail "mode $mode: the token was touched"
done
chmod 600 "$T/tok/pin"
ok "PIN file readable by group or others: refused before the token is touched"
cp "$T/tok/pin" "$T/pin.good"
printf 'wrong-pin-9\n' >"$T/tok/pin"
: >"$T/calls"
expect_refusal "wrong PIN" grant --scope $S
[ "$(grep -c '^C_Login ' "$T/calls")" = 1 ] || fail "C_Login called $(grep -c '^C_Login ' "$T/calls") times"
ok "wrong PIN: refused, exactly one C_Login (never retried)"
for f in "$T"/err "$T"/warn; do
    ! grep -qF -- "$(cat "$T/pin.good")" "$f" || fail "the PIN appears in $f"
    ! grep -qF "wrong-pin-9" "$f" || fail "the wrong PIN appears in $f"
done
ok "neither PIN appears in any error output"

# A FIFO would hang start-up until someone writes to it; a symlink could point anywhere.
mkfifo "$T/pin.fifo"
ln -s "$T/pin.good" "$T/pin.link"
mkdir -m 700 "$T/pin.dir"
for kind in fifo:"is not a regular file" link:"is a symbolic link" dir:"is not a regular file"; do
    p=${kind%%:*}
    : >"$T/calls"
    rc=0
    timeout 5 "$MP_SIGNER" grant --config "$CONF" --pin-file "$T/pin.$p" --scope $S \
        >"$T/out" 2>"$T/err" || rc=$?
    [ $rc -ne 124 ] || fail "PIN file as $p: still waiting after 5 s"
    [ $rc -ne 0 ] && [ ! -s "$T/out" ] || fail "PIN file as $p: not refused (rc $rc)"
    [ "$(wc -l <"$T/err")" = 1 ] && grep -qF "${kind#*:}" "$T/err" ||
        fail "PIN file as $p: stderr is not one line naming it: $(cat "$T/err")"
    ! grep -q '^C_Login ' "$T/calls" || fail "PIN file as $p: C_Login was called"
done
ok "PIN file that is a FIFO, a symlink or a directory: one-line refusal at once, no login tried"
