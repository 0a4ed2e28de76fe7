#!/usr/bin/env bash
# Confinement of mp-signer serve once initialised: no_new_privs, a seccomp filter on every
# thread, no core dumps; a hostile PKCS#11 module inside the signer cannot start a process; and
# started as root the signer runs as the config's `user` before it touches the token, and
# without `user` it refuses to start.
. "$(dirname "$0")/lib.sh"
MP_WRAP= # the filter itself is under test: valgrind cannot run it (no seccomp(2))
: "${MP_P11FAULT:?MP_P11FAULT must name the fault-injecting module}"
make_token
SCOPE=altinn:serviceowner/instances.read
cp "$CONF" "$T/bad.conf"
sed -i '1i sandbox = maybe' "$T/bad.conf"
! "$MP_SIGNER" serve --config "$T/bad.conf" 2>"$T/bad.err" || fail "sandbox = maybe accepted"
grep -qx "mp-signer: error: .*bad.conf:1: sandbox must be enforce, log or off" "$T/bad.err" ||
    fail "bad sandbox value: $(cat "$T/bad.err")"
ok "sandbox = maybe: refused at file:line with the three values"
status() { grep "^$2:" "/proc/$1/status" | tr -s '\t ' ' ' | cut -d' ' -f2-; }

# A hostile module: the fault module tries fork and execve inside C_Sign.
softhsm=$(grep '^module = ' "$CONF" | cut -d' ' -f3)
P11LOG=$T/p11.log
echo 'C_Sign OK escape=1' >"$T/faults"
sed -i "s|^module = .*|module = $MP_P11FAULT|" "$CONF"
sed -i "/^module_env/a module_env = P11FAULT_MODULE=$softhsm\nmodule_env = P11FAULT_CONTROL=$T/faults\nmodule_env = P11FAULT_LOG=$P11LOG" "$CONF"
start_signer
[ "$(status "$SERVE_PID" NoNewPrivs)" = 1 ] || fail "no_new_privs not set"
[ "$(status "$SERVE_PID" Seccomp)" = 2 ] || fail "no seccomp filter: $(status "$SERVE_PID" Seccomp)"
for task in /proc/"$SERVE_PID"/task/*; do
    [ "$(grep '^Seccomp:' "$task/status" | cut -f2)" = 2 ] || fail "thread $task runs unfiltered"
done
grep -q '^Max core file size *0 *0 ' "/proc/$SERVE_PID/limits" || fail "core dumps allowed"
nthreads=$(find /proc/"$SERVE_PID"/task -mindepth 1 -maxdepth 1 | wc -l)
grep -q 'sandbox: no_new_privs and a seccomp allowlist' "$T/serve.err" || fail "sandbox not logged"
ok "no_new_privs, no core dumps and a seccomp filter on all $nthreads threads"
request --scope $SCOPE >/dev/null || fail "no grant under the sandbox: $(tail -3 "$T/serve.err")"
grep -q '^escape fork=EPERM execve=EPERM$' "$P11LOG" ||
    fail "the module's escape was not refused: $(grep escape "$P11LOG")"
kill -0 "$SERVE_PID" || fail "the signer died"
ok "a module calling fork and execve inside C_Sign gets EPERM for both; the grant is still made"
[ "$(status "$SERVE_PID" Uid | cut -d' ' -f1)" = "$(id -u)" ] || fail "uid changed without user"
stop_signer

if [ "$(id -u)" -eq 0 ]; then
    # Started as root with no `user`: refused before the module is loaded, so no PIN try, no
    # socket and no audit line (the fault module logs every PKCS#11 call it sees).
    : >"$P11LOG"
    lines=$(wc -l <"$LOG")
    sed '/^user = /d' "$CONF" >"$T/nouser.conf"
    rc=0
    timeout 10 "$MP_SIGNER" serve --config "$T/nouser.conf" 2>"$T/nouser.err" || rc=$?
    [ $rc -eq 1 ] || fail "root without user: exit $rc (124: it served), not 1"
    grep -qx 'mp-signer: error: started as root without `user`: set `user = mp-signer` to drop root, or `user = root` to run as root on purpose' \
        "$T/nouser.err" || fail "root without user: $(cat "$T/nouser.err")"
    [ ! -s "$P11LOG" ] || fail "the module was called before the refusal: $(head -3 "$P11LOG")"
    [ "$(wc -l <"$LOG")" = "$lines" ] || fail "the refused start wrote to the audit log"
    [ ! -e "$SOCK" ] || fail "the refused start left a socket"
    sed 's/^user = .*/user = toor/' "$CONF" >"$T/toor.conf"
    if getent passwd toor >/dev/null; then :; else
        rc=0
        timeout 10 "$MP_SIGNER" serve --config "$T/toor.conf" 2>"$T/toor.err" || rc=$?
        [ $rc -eq 1 ] || fail "an unknown user: exit $rc, not 1"
        grep -qx 'mp-signer: error: user toor does not exist' "$T/toor.err" ||
            fail "unknown user: $(cat "$T/toor.err")"
    fi
    grep -qx 'user = root' "$CONF" || fail "softhsm-init.sh run as root did not write user = root"
    grep -q 'warning: running as root (user = root)' "$T/serve.err" ||
        fail "user = root served without a warning"
    ok "root without user: refused in one line naming the setting, before any PKCS#11 call; user = root serves, warned"

    # Started as root with user = nobody: the token, the PIN and the audit log belong to it.
    : >"$T/faults"
    sed -i 's/^user = .*/user = nobody/' "$CONF"
    chown -R nobody "$T/tok"
    chmod 711 "$T"
    start_signer
    [ "$(status "$SERVE_PID" Uid)" = "65534 65534 65534 65534" ] ||
        fail "still root: Uid $(status "$SERVE_PID" Uid)"
    [ "$(status "$SERVE_PID" Groups)" = "" ] || fail "supplementary groups kept"
    grep -q 'dropped root: running as nobody' "$T/serve.err" || fail "drop not logged"
    request --scope $SCOPE >/dev/null || fail "no grant as nobody: $(tail -3 "$T/serve.err")"
    stop_signer
    "$MP_SIGNER" audit verify "$LOG" --cert "$T/tok/audit-pub.pem" >/dev/null ||
        fail "audit log does not verify after running as nobody"
    ok "started as root with user = nobody: runs as uid 65534, no groups, signs, log verifies"
else
    ok "not root: the drop-root case needs root and was not run (uid $(id -u))"
fi
