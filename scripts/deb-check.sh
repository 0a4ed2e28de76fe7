#!/usr/bin/env bash
# The Debian packages checked where nothing was installed by hand: copies the current commit
# (git archive HEAD) to a temp dir, builds the .debs there with `dpkg-buildpackage -us -uc -b`,
# runs lintian on them (any error fails), makes a minimal Debian 12 (mmdebstrap
# --variant=minbase bookworm) and installs the .debs in it with apt, so their Depends come from
# the mirror. Inside (chroot with /proc, /dev and /sys mounted) it checks --version of the three
# programs, the users, the group and the directories with their modes, that no unit was
# enabled and the example configs pass `config check`; sets up a SoftHSM token as
# /usr/share/doc/mp-signer/README.Debian says; signs a grant as the service would (user
# mp-signer, PIN as a systemd credential) and verifies it with openssl; runs `mp-signer serve`
# as mp-signer and asks it for a grant as mp-exchange through /run/mp-signer (a user outside
# mp-callers is shut out); verifies the audit log; and last installs systemd there for
# `systemd-analyze verify` on the units (with their man: Documentation=) and systemd-tmpfiles / systemd-sysusers on the
# package's files; finally purges the packages (the audit log must stay). Prints how long
# each phase took. Everything it mounted or made is removed on any exit. Needs root and
# Debian's package mirror.
# Usage: bash scripts/deb-check.sh [--keep DIR]  (DIR keeps the .debs, the logs and the system)
set -euo pipefail
MP_SCRIPT=deb-check
. "$(dirname "$0")/lib.sh"

keep=
[ "${1:-}" = "--keep" ] && keep=${2:?--keep takes a directory}
[ "$(id -u)" -eq 0 ] || mp_die "needs root (chroot and mounts)"

work=$(mktemp -d /tmp/mp-deb.XXXXXX)
root=$work/root
mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -R -l "${mounted[i]}" 2>/dev/null || true; done
    # Never delete through a mount that is still there: /dev of the host is bound under root.
    if grep -q " $root/" /proc/mounts; then
        mp_say "error: mounts under $root remain; not removing $work"
        return
    fi
    if [ -n "$keep" ]; then
        mkdir -p "$keep" && mv "$work/debs" "$work"/*.log "$keep/"
        if [ -d "$root" ]; then mv "$root" "$keep/"; fi
        mp_say "kept the .debs (and the system, if made) in $keep"
    fi
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

timings=()
t_phase=$(date +%s)
phase_done() { # NAME: records how long the phase since the last one took
    local now
    now=$(date +%s)
    timings+=("$1 $((now - t_phase)) s")
    t_phase=$now
}

# shellcheck disable=SC2086 # MP_PKGS_BUILD is a word list
mp_ensure_packages git debhelper dpkg-dev lintian mmdebstrap $MP_PKGS_BUILD
phase_done "host packages"

# The commit being checked, as a clean tree: nothing untracked, nothing built.
git -C "$MP_ROOT" rev-parse HEAD >/dev/null || mp_die "$MP_ROOT is not a git checkout"
[ -z "$(git -C "$MP_ROOT" status --porcelain)" ] ||
    mp_say "warning: uncommitted changes in $MP_ROOT are not part of the check (HEAD is)"
mkdir -p "$work/src/mp-hsm" "$work/debs"
git -C "$MP_ROOT" archive HEAD | tar -x -C "$work/src/mp-hsm"
mp_say "building the .debs from $(git -C "$MP_ROOT" rev-parse --short HEAD) (dpkg-buildpackage -us -uc -b)"
(cd "$work/src/mp-hsm" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 ||
    { tail -40 "$work/build.log" >&2; mp_die "dpkg-buildpackage failed"; }
cp "$work"/src/*.deb "$work"/src/*.changes "$work"/src/*.buildinfo "$work/debs/"
ls "$work/debs"/*.deb | sed 's|.*/|  |' >&2
phase_done "dpkg-buildpackage"

lintian --pedantic "$work"/debs/*.changes >"$work/lintian.log" 2>&1 || true
grep -v 'running with root privileges' "$work/lintian.log" >&2 || true
grep -q '^E:' "$work/lintian.log" && mp_die "lintian reports errors"
mp_say "lintian: $(grep -c '^E:' "$work/lintian.log" || true) errors, $(grep -c '^W:' "$work/lintian.log" || true) warnings"
phase_done "lintian"

mp_say "making a minimal Debian 12 in $root (mmdebstrap --variant=minbase bookworm)"
mmdebstrap --quiet --variant=minbase bookworm "$root" >"$work/mmdebstrap.log" 2>&1 ||
    { tail -20 "$work/mmdebstrap.log" >&2; mp_die "mmdebstrap failed"; }
mount_in() { # TYPE-OR-BIND SOURCE TARGET
    mkdir -p "$3"
    if [ "$1" = bind ]; then mount --rbind "$2" "$3"; else mount -t "$1" "$2" "$3"; fi
    mounted+=("$3")
}
mount_in proc proc "$root/proc"
mount_in sysfs sys "$root/sys"
mount_in bind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mkdir -p "$root/debs"
cp "$work"/debs/mp-signer_*.deb "$work"/debs/mp-exchange_*.deb "$work"/debs/mp-fake_*.deb "$root/debs/"
phase_done "mmdebstrap"

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
run_in() { # NAME LOG SCRIPT: runs the bash SCRIPT in the fresh system, its output in LOG
    mp_say "$1"
    in_root bash -euo pipefail -c "$3" >"$work/$2" 2>&1 ||
        { tail -40 "$work/$2" >&2; mp_die "$1 failed (see above)"; }
}

run_in "installing the .debs with apt" install.log '
apt-get update -qq
apt-get install -y -qq --no-install-recommends /debs/*.deb
'
phase_done "apt install of the .debs"

# What the packages did, before anything else is installed.
run_in "checking users, directories, units and configs" packages.log '
fail() { echo "FAIL: $*" >&2; exit 1; }
for p in mp-signer mp-exchange mp-fake; do $p --version; done
getent passwd mp-signer | grep -q ":/var/lib/mp-signer:/usr/sbin/nologin$" ||
    fail "no system user mp-signer (home /var/lib/mp-signer, no login)"
getent passwd mp-exchange | grep -q ":/usr/sbin/nologin$" || fail "no system user mp-exchange"
for u in mp-signer mp-exchange; do
    [ "$(id -u $u)" -lt 1000 ] || fail "$u is not a system user"
done
getent group mp-callers >/dev/null || fail "no group mp-callers"
id -nG mp-exchange | tr " " "\n" | grep -qx mp-callers || fail "mp-exchange is not in mp-callers"
id -nG mp-signer | tr " " "\n" | grep -qx mp-callers && fail "mp-signer should not need mp-callers as a member"
[ "$(stat -c "%U %G %a" /run/mp-signer)" = "mp-signer mp-callers 750" ] ||
    fail "/run/mp-signer is $(stat -c "%U %G %a" /run/mp-signer), not mp-signer mp-callers 750"
[ "$(stat -c "%U %G %a" /var/lib/mp-signer)" = "mp-signer mp-signer 750" ] ||
    fail "/var/lib/mp-signer is $(stat -c "%U %G %a" /var/lib/mp-signer)"
dpkg-query -W -f="\${Conffiles}\n" mp-signer mp-exchange | grep -q "/etc/mp-hsm/signer.conf " ||
    fail "signer.conf is not a conffile"
dpkg-query -W -f="\${Conffiles}\n" mp-exchange | grep -q "/etc/mp-hsm/exchange.conf " ||
    fail "exchange.conf is not a conffile"
if find /etc/systemd -name "mp-*" 2>/dev/null | grep .; then
    fail "a unit was enabled (the links above)"
fi
mp-signer config check --config /etc/mp-hsm/signer.conf >/dev/null
mp-exchange config check --config /etc/mp-hsm/exchange.conf >/dev/null
for m in mp-signer:man8/mp-signer.8 mp-signer:man5/mp-signer.conf.5 mp-exchange:man8/mp-exchange.8 \
    mp-exchange:man5/mp-exchange.conf.5 mp-fake:man1/mp-fake.1; do
    pkg=${m%%:*}
    page=${m#*:}
    f=$(dpkg -L "$pkg" | grep "/usr/share/man/$page\\(\\.gz\\)\\?$") || fail "$pkg ships no $page"
    zcat -f "$f" | grep -q "^\\.TH" || fail "$f is not a manual page"
done
echo "users, group, directories, conffiles ok; no unit enabled; both configs pass config check; 5 man pages"
'
phase_done "package checks"

# The operator's steps of README.Debian, for SoftHSM, then a grant as the service makes it.
run_in "SoftHSM token, a grant as mp-signer, serve and request" grant.log '
fail() { echo "FAIL: $*" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends softhsm2 openssl >/dev/null
conf=/etc/mp-hsm/signer.conf
umask 077
head -c 18 /dev/urandom | base64 | tr "+/" "-_" >/etc/mp-hsm/signer.pin
head -c 18 /dev/urandom | base64 | tr "+/" "-_" >/root/so-pin
install -d -o mp-signer -g mp-signer -m 0700 /var/lib/mp-signer/softhsm
pin=(--pin-file /etc/mp-hsm/signer.pin)
mp-signer token-init --config $conf "${pin[@]}" --label mp-hsm --so-pin-file /root/so-pin
mp-signer key generate --config $conf "${pin[@]}" --label virksomhetssertifikat --id 01 --bits 2048
mp-signer key generate --config $conf "${pin[@]}" --label audit --id 02 --bits 2048
mp-signer key pubkey --config $conf "${pin[@]}" --key "pkcs11:token=mp-hsm;object=audit;type=private" \
    --out /root/audit-pub.pem
cd /root
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 30 \
    -subj "/CN=deb-check throwaway CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign" 2>/dev/null
mp-signer key csr --config $conf "${pin[@]}" --org 314159268 --cn "deb-check" --o "deb-check" --out leaf.csr
printf "keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n" >leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca-key.pem -set_serial 1 -days 30 \
    -extfile leaf.ext -out cert.pem 2>/dev/null
mp-signer key import-cert --config $conf "${pin[@]}" cert.pem
chown -R mp-signer:mp-signer /var/lib/mp-signer/softhsm

# What systemd would do: the PIN as a credential the service user owns, mode 0400.
install -d -m 0700 -o mp-signer /run/credentials/mp-signer.service
install -m 0400 -o mp-signer /etc/mp-hsm/signer.pin /run/credentials/mp-signer.service/pin
as_signer=(setpriv --reuid mp-signer --regid mp-signer --groups "$(getent group mp-callers | cut -d: -f3)" --reset-env)
"${as_signer[@]}" mp-signer grant --config $conf --scope altinn:serviceowner/instances.read >grant.jws

verify() { # FILE: the JWS verifies with the certificate, and says what the profile says
    local h p s
    IFS=. read -r h p s <"$1"
    b64d() { local x=$1; while [ $((${#x} % 4)) -ne 0 ]; do x+="="; done; echo "$x" | tr "_-" "/+" | base64 -d; }
    printf "%s.%s" "$h" "$p" >"$1.input"
    b64d "$s" >"$1.sig"
    openssl x509 -in cert.pem -pubkey -noout >cert-pub.pem
    openssl dgst -sha256 -verify cert-pub.pem -signature "$1.sig" "$1.input" >/dev/null ||
        fail "$1: the signature does not verify"
    b64d "$h" | grep -q "\"alg\":\"RS256\"" || fail "$1: alg is not RS256"
    b64d "$p" >"$1.claims"
    grep -q "\"iss\":\"00000000-0000-4000-8000-000000000000\"" "$1.claims" || fail "$1: iss"
    grep -q "\"aud\":\"https://test.maskinporten.no/\"" "$1.claims" || fail "$1: aud"
    grep -q "\"scope\":\"altinn:serviceowner/instances.read\"" "$1.claims" || fail "$1: scope"
}
verify grant.jws
echo "grant as mp-signer: signature verified by openssl; claims: $(cat grant.jws.claims)"

# The daemon as the unit runs it, and a caller through /run/mp-signer.
"${as_signer[@]}" mp-signer serve --config $conf 2>serve.log &
serve=$!
trap "kill $serve 2>/dev/null || true" EXIT
for _ in $(seq 100); do [ -S /run/mp-signer/signer.sock ] && break; sleep 0.1; done
[ -S /run/mp-signer/signer.sock ] || { cat serve.log >&2; fail "serve made no socket"; }
[ "$(stat -c "%U %G %a" /run/mp-signer/signer.sock)" = "mp-signer mp-callers 660" ] ||
    fail "the socket is $(stat -c "%U %G %a" /run/mp-signer/signer.sock)"
# The shipped config: mp-exchange is a trusted forwarder and the profile allows root. Asking on
# behalf of root it gets a grant; asking for itself it gets nothing.
as_exchange=(setpriv --reuid mp-exchange --regid mp-exchange --init-groups --reset-env mp-signer request
    --socket /run/mp-signer/signer.sock --scope altinn:serviceowner/instances.read)
"${as_exchange[@]}" --on-behalf-of 0:0 >request.jws
verify request.jws
if "${as_exchange[@]}" >/dev/null 2>self.err; then fail "mp-exchange got a grant for itself"; fi
grep -q "may not use profile default" self.err || { cat self.err >&2; fail "mp-exchange was refused for another reason"; }
xu=$(id -u mp-exchange)
tail -n 3 /var/lib/mp-signer/audit.log | grep "\"outcome\":\"granted\"" |
    grep -q "\"caller\":{\"uid\":0,.*\"forwarder\":{\"uid\":$xu," ||
    fail "the forwarded grant is not audited with caller root and forwarder mp-exchange"
if setpriv --reuid nobody --regid nogroup --clear-groups --reset-env \
    mp-signer request --socket /run/mp-signer/signer.sock --scope altinn:serviceowner/instances.read \
    >/dev/null 2>nobody.err; then
    fail "nobody (not in mp-callers) got a grant"
fi
grep -qi "permission denied" nobody.err || { cat nobody.err >&2; fail "nobody was refused for another reason"; }
kill -TERM $serve
wait $serve || { cat serve.log >&2; fail "serve did not stop cleanly"; }
trap - EXIT
mp-signer audit verify /var/lib/mp-signer/audit.log --cert /root/audit-pub.pem
echo "serve as mp-signer: mp-exchange got a verified grant on behalf of root through /run/mp-signer, none for itself; nobody was shut out; audit log verifies"
'
phase_done "token + grant + serve"

# systemd only now, so that nothing above could lean on it.
run_in "systemd-analyze verify, systemd-tmpfiles and systemd-sysusers" systemd.log '
fail() { echo "FAIL: $*" >&2; exit 1; }
# man-db: verify looks up every man: page in Documentation= with man(1).
apt-get install -y -qq --no-install-recommends systemd man-db >/dev/null
systemd-analyze verify /lib/systemd/system/mp-signer.service \
    /lib/systemd/system/mp-exchange.service >verify.out 2>&1 || { cat verify.out; fail "systemd-analyze verify failed"; }
if grep -E "mp-(signer|exchange)" verify.out; then fail "systemd-analyze verify complains"; fi
echo "systemd-analyze verify: $(wc -l <verify.out) lines of output"
for u in mp-signer mp-exchange; do
    systemd-analyze security --offline=yes /lib/systemd/system/$u.service 2>&1 | grep "Overall exposure"
done
systemd-tmpfiles --create mp-signer.conf
[ "$(stat -c "%U %G %a" /run/mp-signer)" = "mp-signer mp-callers 750" ] || fail "tmpfiles: /run/mp-signer"
[ "$(stat -c "%U %G %a" /var/lib/mp-signer)" = "mp-signer mp-signer 750" ] || fail "tmpfiles: /var/lib/mp-signer"
# sysusers.d must describe what adduser made: running it changes no byte of the user
# database. (With `m` lines systemd 252 rewrites /etc/group even when nothing changes, so
# --dry-run cannot tell.)
for f in passwd group shadow gshadow; do cp /etc/$f /tmp/$f.before; done
systemd-sysusers mp-signer.conf mp-exchange.conf
for f in passwd group shadow gshadow; do
    diff /tmp/$f.before /etc/$f || fail "systemd-sysusers changed /etc/$f: sysusers.d and the postinst disagree"
done
if find /etc/systemd -name "mp-*" | grep .; then fail "a unit is enabled"; fi
for u in mp-signer mp-exchange; do
    [ "$(systemctl is-enabled $u.service || true)" = disabled ] || fail "$u.service is not disabled"
done
echo "units verify; tmpfiles.d and sysusers.d agree with what the postinst made"
'
phase_done "systemd checks"

run_in "purging the packages" purge.log '
fail() { echo "FAIL: $*" >&2; exit 1; }
apt-get purge -y -qq mp-exchange mp-signer mp-fake 2>&1 | tee purge.out
[ -s /var/lib/mp-signer/audit.log ] || fail "purge deleted the audit log"
grep -q "kept /var/lib/mp-signer" purge.out || fail "purge did not say it kept /var/lib/mp-signer"
[ ! -e /etc/mp-hsm/signer.conf ] && [ ! -e /etc/mp-hsm/exchange.conf ] || fail "purge left the conffiles"
[ -e /etc/mp-hsm/signer.pin ] || fail "purge deleted the PIN file the operator wrote"
[ ! -e /run/mp-signer ] || fail "purge left /run/mp-signer"
echo "purge: conffiles and /run/mp-signer gone; audit log and operator PIN kept, and said so"
'
phase_done "purge"

for f in packages grant systemd purge; do grep -h '^users\|^grant as\|^serve as\|^units verify\|Overall exposure\|^purge:' "$work/$f.log" >&2 || true; done
summary=$(printf ' · %s' "${timings[@]}")
mp_say "ok${summary}"
