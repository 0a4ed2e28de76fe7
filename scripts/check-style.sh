#!/usr/bin/env bash
# Machine-enforced style (STYLE.md §23): clang-format, banned functions, function length.
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

[ $status -eq 0 ] && mp_say "style ok (${#files[@]} files)"
exit $status
