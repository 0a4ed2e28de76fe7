#!/usr/bin/env bash
# The README's promise checked where nothing was installed by hand: makes a minimal Debian 12
# (mmdebstrap --variant=minbase bookworm) in a temp dir, clones the current commit into it, and
# runs scripts/demo.sh and scripts/test.sh --quick inside (chroot with /proc, /dev and /sys
# mounted). Everything it mounted or made is removed on any exit. Needs root and Debian's
# package mirror. Usage: scripts/fresh-check.sh [--keep DIR]  (DIR keeps the system for a look)
set -euo pipefail
MP_SCRIPT=fresh-check
. "$(dirname "$0")/lib.sh"

keep=
[ "${1:-}" = "--keep" ] && keep=${2:?--keep takes a directory}
[ "$(id -u)" -eq 0 ] || mp_die "needs root (chroot and mounts)"
mp_ensure_packages mmdebstrap git

work=$(mktemp -d /tmp/mp-fresh.XXXXXX)
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
        mkdir -p "$keep" && mv "$root" "$keep/" && mp_say "kept the system in $keep/root"
    fi
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

t0=$(date +%s)
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
# The host network's own trust anchors (a TLS-inspecting egress proxy's CA), like its resolver:
# placed before ca-certificates is installed, whose update-ca-certificates then adds them.
# Nothing of the project's; a machine on the open internet has none and needs none.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi

# The commit being checked, as a user's clone would have it (nothing untracked, nothing built).
git -C "$MP_ROOT" rev-parse HEAD >/dev/null || mp_die "$MP_ROOT is not a git checkout"
git clone --quiet --no-hardlinks "$MP_ROOT" "$root/src"
git -C "$root/src" checkout --quiet "$(git -C "$MP_ROOT" rev-parse HEAD)"
t1=$(date +%s)

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb LANG=C.UTF-8 "$@"; }
status=0
results=()
# What each failed ctest test printed (ctest --output-on-failure puts it after the test's result
# line), at most 200 lines a test: the summary alone says which test failed, not why, and CI
# shows only the end of this script's output.
failed_tests_output() { # LOG
    awk '/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: .*\*\*\*/ { p = 1; n = 0 }
         /^ *Start +[0-9]+: / || /^[0-9]+% tests passed/ { p = 0 }
         p && n++ < 200' "$1"
}
step() { # NAME LOG COMMAND: runs COMMAND in /src of the fresh system
    local name=$1 log=$work/$2 t=$(date +%s)
    mp_say "$name in the fresh system"
    if in_root bash -c "cd /src && $3" >"$log" 2>&1; then
        results+=("$name passed ($(($(date +%s) - t)) s)")
    else
        results+=("$name FAILED ($(($(date +%s) - t)) s)")
        status=1
        failed_tests_output "$log" >&2
        tail -40 "$log" >&2
    fi
}
step demo.sh demo.log 'bash scripts/demo.sh'
step "test.sh --quick" test.log 'bash scripts/test.sh --quick'
grep -E 'tests passed|tests failed' "$work/test.log" | tail -1 >&2 || true
mp_say "system made in $((t1 - t0)) s · ${results[0]} · ${results[1]}"
exit $status
