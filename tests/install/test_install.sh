#!/usr/bin/env bash
# cmake --install with DESTDIR into a temp dir: exactly the expected files (man pages
# included), each with its mode, units whose ExecStart names the installed bindir, example configs that
# `config check` accepts, and a second install that keeps a config the operator changed while
# putting back one that was removed. Env: MP_BUILD (the build dir), MP_ROOT (the source).
set -euo pipefail
MP_SCRIPT=test_install
. "$MP_ROOT/scripts/lib.sh"
. "$MP_BUILD/dist/install-layout.sh"

tmp=$(mktemp -d /tmp/mp-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
fail() { mp_die "$*"; }

DESTDIR=$root cmake --install "$MP_BUILD" >"$tmp/install1.log" 2>&1 ||
    { cat "$tmp/install1.log" >&2; fail "cmake --install failed"; }

# path (relative to DESTDIR) and mode of every file that must be there, and nothing else.
expected=$(sort <<LIST
$MP_BINDIR/mp-signer 755
$MP_BINDIR/mp-exchange 755
$MP_BINDIR/mp-fake 755
$MP_UNITDIR/mp-signer.service 644
$MP_UNITDIR/mp-exchange.service 644
$MP_SYSUSERSDIR/mp-signer.conf 644
$MP_SYSUSERSDIR/mp-exchange.conf 644
$MP_TMPFILESDIR/mp-signer.conf 644
$MP_CONFDIR/signer.conf 644
$MP_CONFDIR/exchange.conf 644
$MP_CONFDIR/softhsm2.conf 644
$MP_MANDIR/man8/mp-signer.8 644
$MP_MANDIR/man8/mp-exchange.8 644
$MP_MANDIR/man5/mp-signer.conf.5 644
$MP_MANDIR/man5/mp-exchange.conf.5 644
$MP_MANDIR/man1/mp-fake.1 644
LIST
)
actual=$(cd "$root" && find . ! -type d -printf '/%P %m\n' | sort)
if [ "$actual" != "$expected" ]; then
    diff <(echo "$expected") <(echo "$actual") >&2 || true
    fail "installed files differ from the expected list (< expected, > installed)"
fi
[ "$(stat -c %a "$root$MP_CONFDIR")" = 755 ] || fail "$MP_CONFDIR is not mode 0755"

# Units and configs name the installed paths, and nothing is left unconfigured.
if grep -l '@[A-Z_]*@' "$root$MP_UNITDIR"/*.service "$root$MP_CONFDIR"/*; then
    fail "an @VARIABLE@ was left in the files above"
fi
grep -qx "ExecStart=$MP_BINDIR/mp-signer serve --config $MP_CONFDIR/signer.conf" \
    "$root$MP_UNITDIR/mp-signer.service" || fail "mp-signer.service: ExecStart is not the installed one"
grep -qx "ExecStart=$MP_BINDIR/mp-exchange serve --config $MP_CONFDIR/exchange.conf" \
    "$root$MP_UNITDIR/mp-exchange.service" || fail "mp-exchange.service: ExecStart is not the installed one"
grep -qx "LoadCredential=pin:$MP_CONFDIR/signer.pin" "$root$MP_UNITDIR/mp-signer.service" ||
    fail "mp-signer.service: the PIN credential is not $MP_CONFDIR/signer.pin"
grep -q '^RuntimeDirectory=' "$root$MP_UNITDIR/mp-signer.service" &&
    fail "mp-signer.service: RuntimeDirectory= would make /run/mp-signer mp-signer:mp-signer"
grep -qx 'd /run/mp-signer *0750 mp-signer mp-callers -' "$root$MP_TMPFILESDIR/mp-signer.conf" ||
    fail "tmpfiles.d: /run/mp-signer is not mp-signer:mp-callers 0750"

for p in mp-signer mp-exchange mp-fake; do
    "$root$MP_BINDIR/$p" --version >/dev/null || fail "$p --version failed"
done

# The examples are valid configs. On a machine without the packages' users the signer's
# profile (allow_uids = mp-exchange) cannot resolve its caller; that, and only that, is allowed.
"$root$MP_BINDIR/mp-exchange" config check --config "$root$MP_CONFDIR/exchange.conf" >/dev/null ||
    fail "the example exchange.conf does not pass config check"
if ! "$root$MP_BINDIR/mp-signer" config check --config "$root$MP_CONFDIR/signer.conf" \
    >/dev/null 2>"$tmp/check.err"; then
    if getent passwd mp-exchange >/dev/null ||
        ! grep -q 'unknown user "mp-exchange"' "$tmp/check.err"; then
        cat "$tmp/check.err" >&2
        fail "the example signer.conf does not pass config check"
    fi
fi

# A second install keeps what the operator changed and puts back what is missing.
echo '# changed by the operator' >>"$root$MP_CONFDIR/signer.conf"
echo '# changed by the operator' >>"$root$MP_CONFDIR/exchange.conf"
rm "$root$MP_CONFDIR/softhsm2.conf"
DESTDIR=$root cmake --install "$MP_BUILD" >"$tmp/install2.log" 2>&1 ||
    { cat "$tmp/install2.log" >&2; fail "the second cmake --install failed"; }
for f in signer.conf exchange.conf; do
    tail -n 1 "$root$MP_CONFDIR/$f" | grep -qx '# changed by the operator' ||
        fail "the second install overwrote the operator's $f"
    grep -q "Keeping: $root$MP_CONFDIR/$f" "$tmp/install2.log" || fail "the second install did not say it kept $f"
done
[ -f "$root$MP_CONFDIR/softhsm2.conf" ] || fail "the second install did not put back softhsm2.conf"
mp_say "ok: $(echo "$expected" | wc -l) files with their modes; operator's configs kept"
