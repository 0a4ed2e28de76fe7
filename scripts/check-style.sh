#!/usr/bin/env bash
# Machine-enforced style (STYLE.md §23): clang-format, banned functions, function length, and
# which room of the tree may include which.
set -euo pipefail
MP_SCRIPT=check-style
. "$(dirname "$0")/lib.sh"
cd "$MP_ROOT"

mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find common pkcs11 signer exchange tests -name '*.[ch]')
status=0

if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/mp-clang-format.$$; then
    head -20 /tmp/mp-clang-format.$$ >&2
    mp_say "clang-format: the files above differ from .clang-format (run clang-format -i)"
    status=1
fi
rm -f /tmp/mp-clang-format.$$

# Unbounded or unsafe calls the house style bans, and PINs on argv.
if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)\s*\(' "${files[@]}"; then
    mp_say "banned function used (use snprintf, memcpy with a length, strtok_r, mp_parse_u64)"
    status=1
fi

# Functions over 100 lines are exceptional (STYLE.md §24): list them, fail above 150.
awk '
    /^[a-z_][a-z0-9_]*\(/ && prev ~ /^[a-z]/ { name = FILENAME ":" $0; start = FNR }
    /^{$/ && name != "" { open = FNR }
    /^}$/ && open { len = FNR - open; if (len > 150) { print name " is " len " lines"; bad = 1 }
                   open = 0; name = "" }
    { prev = $0 }
    END { exit bad }
' "${files[@]}" || { mp_say "function longer than 150 lines"; status=1; }

# Which room may include which (docs/ARCHITECTURE.md). Each rule: the files it covers, then the
# project headers they may include; system headers are free, except that PKCS#11 itself is
# spoken in pkcs11/ only (and by the test modules that wrap a real one).
include_rules=(
    "common/|common/"
    "pkcs11/|common/ pkcs11/"
    "signer/audit/|common/ signer/audit/"
    "signer/grant/|common/ pkcs11/hsm.h signer/signer_conf.h signer/grant/ signer/audit/"
    "signer/signer_conf|common/ signer/signer_conf.h signer/grant/grant_claims.h signer/grant/jws.h signer/audit/audit_note.h"
    "signer/daemon/|common/ pkcs11/hsm.h signer/signer_conf.h signer/grant/ signer/audit/ signer/daemon/"
    "signer/cli/|common/ pkcs11/hsm.h signer/"
    "exchange/|common/ exchange/"
    "tests/fakes/|common/ signer/grant/ signer/daemon/policy.h signer/signer_conf.h tests/fakes/"
)
include_ok() { # file header
    local rule prefix allowed a
    for rule in "${include_rules[@]}"; do
        prefix=${rule%%|*}
        allowed=${rule#*|}
        case $1 in "$prefix"*) ;; *) continue ;; esac
        for a in $allowed; do
            case $2 in "$a"*) return 0 ;; esac
        done
        return 1
    done
    return 0 # tests/ and tools may include any room
}
for f in "${files[@]}"; do
    while IFS= read -r inc; do
        if ! include_ok "$f" "$inc"; then
            echo "$f: includes $inc, which its room may not (docs/ARCHITECTURE.md)" >&2
            status=1
        fi
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
    # A newcomer reads the first line to know what a file is for (docs/ARCHITECTURE.md).
    case $f in
    *.c) if ! head -n 1 "$f" | grep -q '^/\* '; then
            echo "$f: does not open with a comment line saying what it is for" >&2
            status=1
        fi ;;
    esac
    case $f in
    pkcs11/* | tests/p11fault/* | tests/grant/mkkey.c) ;;
    *) if grep -qE '^#include [<"](p11-kit/)?pkcs11\.h[>"]' "$f"; then
            echo "$f: includes pkcs11.h: PKCS#11 is spoken in pkcs11/ only" >&2
            status=1
        fi ;;
    esac
done

[ $status -eq 0 ] && mp_say "style ok (${#files[@]} files)"
exit $status
