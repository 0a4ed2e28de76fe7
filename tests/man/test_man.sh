# The manual pages against the programs they describe: every option and subcommand that a real
# --help names is in the page of its program (an option in the section of its command), every
# key that config check prints has an entry in the .conf(5) page, and mandoc and groff find
# nothing to warn about. Pages are rendered to text first (mandoc -T ascii), so roff escapes
# such as \- neither hide an option nor fake one. MP_SIGNER, MP_EXCHANGE, MP_FAKE and
# MP_MANDIR (the built pages) come from ctest.
# shellcheck shell=bash
set -Eeuo pipefail
: "${MP_SIGNER:?}" "${MP_EXCHANGE:?}" "${MP_FAKE:?}" "${MP_MANDIR:?}"
T=$(mktemp -d /tmp/mp-man-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'echo "FAIL - line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
ok() { echo "ok - $*"; }
FAILS=0
# Every miss is reported, not just the first, so one run lists all that a page lacks.
miss() { echo "FAIL - $*" >&2; FAILS=$((FAILS + 1)); }

for tool in mandoc man; do
    command -v "$tool" >/dev/null || { echo "FAIL - $tool is not installed (apt-get install mandoc man-db)" >&2; exit 1; }
done

declare -A PAGE_OF=([mp-signer]=mp-signer.8 [mp-exchange]=mp-exchange.8 [mp-fake]=mp-fake.1)
declare -A BIN_OF=([mp-signer]=$MP_SIGNER [mp-exchange]=$MP_EXCHANGE [mp-fake]=$MP_FAKE)
PAGES="mp-signer.8 mp-exchange.8 mp-signer.conf.5 mp-exchange.conf.5 mp-fake.1"

# --- each page renders, lints clean and has the sections a manual page needs
for page in $PAGES; do
    src=$MP_MANDIR/$page
    [ -s "$src" ] || { miss "$page: not built at $src"; continue; }
    # One paragraph a line (width 1000), bold and underline overstrikes removed.
    mandoc -T ascii -O width=1000 "$src" | sed 's/.\x08//g' >"$T/$page.txt"
    # scdoc writes a .P after every heading and blank line; mandoc reports each as skipped.
    # Everything else it warns about is a fault of the page.
    mandoc -T lint -W warning "$src" 2>&1 | grep -v 'WARNING: skipping paragraph macro' \
        >"$T/$page.lint" || true
    [ ! -s "$T/$page.lint" ] || miss "$page: mandoc -T lint: $(cat "$T/$page.lint")"
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$src" >/dev/null 2>"$T/$page.groff" || true
    [ ! -s "$T/$page.groff" ] || miss "$page: man --warnings -l: $(cat "$T/$page.groff")"
    want="NAME SYNOPSIS DESCRIPTION FILES|OPTIONS SEE_ALSO"
    case $page in *.[18]) want="$want EXIT_STATUS" ;; esac
    for s in $want; do
        grep -qxE "${s//_/ }" "$T/$page.txt" || miss "$page: no ${s//_/ } section"
    done
done
ok "pages rendered and linted: $PAGES"

# PAGE: the headers of its subsections (mandoc puts them at column 3).
subsections() { sed -n 's/^   \([^ ].*\)$/\1/p' "$T/$1.txt"; }
# PAGE HEADER: the text of that subsection, or with SECTION=1 of that section.
section_text() {
    awk -v h="$2" -v sec="${SECTION:-0}" '
        in_s && (/^[^ ]/ || (!sec && /^   [^ ]/)) { exit }
        in_s { print }
        (sec && $0 == h) || (!sec && $0 == "   " h) { in_s = 1 }
    ' "$T/$1.txt"
}
# Words (options, names) of a text: runs of [A-Za-z0-9_-], one a line.
words() { tr -c 'A-Za-z0-9_-' '\n' | grep -v '^$' || true; }
# A text as " w1 w2 ... ", so a command path is found with grep -F " mp-signer key generate ".
flat() { printf ' %s ' "$(tr -c 'A-Za-z0-9_-' ' ' | tr -s ' ')"; }

# PAGE BIN PATH...: the subsection that documents PATH: the longest prefix of PATH whose
# subsection is "BIN PREFIX" or starts with "BIN PREFIX "; empty (the whole page) if none.
section_for() {
    local page=$1 bin=$2 n h
    shift 2
    local path=("$@")
    for ((n = ${#path[@]}; n > 0; n--)); do
        h="$bin ${path[*]:0:n}"
        while IFS= read -r s; do
            if [ "$s" = "$h" ] || [ "${s#"$h "}" != "$s" ]; then
                printf '%s\n' "$s"
                return 0
            fi
        done < <(subsections "$page")
    done
    return 0
}

# HELPFILE BIN PATH...: the subcommands a --help names: "BIN PATH WORD" in its usage lines,
# and, when its usage is "BIN PATH COMMAND [OPTIONS]", the names its command list starts with
# ("  name  what", "  keys add ID", "  show ID | list").
subcommands_of() {
    local help=$1 bin=$2
    shift 2
    local prefix="$bin${*:+ $*}"
    sed -nE "s/^(usage:)? *${prefix} ([a-z][a-z-]*)( .*)?$/\2/p" "$help"
    if head -n 1 "$help" | grep -qxF "usage: $prefix COMMAND [OPTIONS]"; then
        awk '/^  [a-z]/ {
            s = substr($0, 3); i = index(s, "  "); if (i) s = substr(s, 1, i - 1)
            n = split(s, alt, / \| /)
            for (k = 1; k <= n; k++) {
                m = split(alt[k], w, " "); name = ""
                for (j = 1; j <= m && w[j] ~ /^[a-z][a-z-]*$/; j++)
                    name = name (name == "" ? "" : " ") w[j]
                if (name != "") print name
            }
        }' "$help"
    fi
}

declare -A SEEN=()
NOPTS=0
NCMDS=0
# BIN PATH...: runs "BIN PATH... --help", checks its options against the page, then does the
# same for every subcommand it names.
check_help() {
    local bin=$1
    shift
    local path=("$@") page key help sect text rc=0 opt sub
    page=${PAGE_OF[$bin]}
    key="$bin${path[*]:+ ${path[*]}}"
    [ -z "${SEEN[$key]:-}" ] || return 0
    SEEN[$key]=1
    [ ${#path[@]} -le 3 ] || { miss "$key: subcommands nested deeper than 3"; return 0; }
    help=$T/help.$((${#SEEN[@]}))
    "${BIN_OF[$bin]}" "${path[@]}" --help >"$help" 2>"$help.err" || rc=$?
    if [ $rc -ne 0 ] || [ ! -s "$help" ]; then
        miss "'$key --help' exited $rc with no usage: $(cat "$help.err")"
        return 0
    fi
    sect=$(section_for "$page" "$bin" "${path[@]}")
    if [ -n "$sect" ]; then
        text=$(section_text "$page" "$sect")
    else
        text=$(cat "$T/$page.txt")
        sect="(the whole page)"
    fi
    words <<<"$text" | sort -u >"$help.words"
    while IFS= read -r opt; do
        NOPTS=$((NOPTS + 1))
        grep -qxF -- "$opt" "$help.words" ||
            miss "$page: option $opt of '$key --help' is not in section \"$sect\""
    done < <(words <"$help" | { grep -xE -- '--[A-Za-z][A-Za-z0-9-]*|-[A-Za-z]' || true; } | sort -u)
    while IFS= read -r sub; do
        [ -n "$sub" ] || continue
        NCMDS=$((NCMDS + 1))
        flat <"$T/$page.txt" | grep -qF " $key $sub " ||
            miss "$page: subcommand '$key $sub' (named by '$key --help') is not in the page"
        if [ ${#path[@]} -eq 0 ] && [ -z "$(section_for "$page" "$bin" "$sub")" ]; then
            miss "$page: no subsection \"$bin $sub\" for the command '$bin $sub'"
        fi
        # shellcheck disable=SC2086 # "keys add" is two words of the path
        check_help "$bin" "${path[@]}" $sub
    done < <(subcommands_of "$help" "$bin" "${path[@]}" | awk '!seen[$0]++')
}

for bin in mp-signer mp-exchange mp-fake; do
    check_help "$bin"
done
ok "$NOPTS options and $NCMDS subcommands from ${#SEEN[@]} --help texts checked against the pages"

# --- every key config check prints (unset ones as "# key =") has an entry "key = ..." in its
# section of the .conf(5) page.
# PAGE SECTION FILE: each key of FILE must head an entry (column 7, "key = ") in SECTION.
check_keys() {
    local page=$1 sect=$2 file=$3 k n=0
    SECTION=1 section_text "$page" "$sect" >"$T/sect.txt"
    [ -s "$T/sect.txt" ] || { miss "$page: no section \"$sect\""; return 0; }
    while IFS= read -r k; do
        n=$((n + 1))
        grep -qE "^ {7}$k = " "$T/sect.txt" ||
            miss "$page: key $k (printed by config check) has no entry \"$k = ...\" in section \"$sect\""
    done < <(sed -nE 's/^(# )?([a-z][a-z0-9_]*) =.*/\2/p' "$file" | sort -u)
    [ $n -gt 0 ] || miss "$page: config check printed no keys for section \"$sect\""
    KEYS=$((KEYS + n))
}
KEYS=0
cat >"$T/signer.conf" <<CONF
module = /usr/lib/softhsm/libsofthsm2.so
pin_file = $T/pin
socket = $T/signer.sock
audit_log = $T/audit.log
[profile default]
key = pkcs11:token=mp-dev;object=virksomhetssertifikat;type=private
env = test
scopes = altinn:serviceowner/instances.read
allow_uids = 0
CONF
"$MP_SIGNER" config check --config "$T/signer.conf" >"$T/signer.out" 2>"$T/err" ||
    { echo "FAIL - mp-signer config check on a minimal config: $(cat "$T/err")" >&2; exit 1; }
sed '/^\[profile /,$d' "$T/signer.out" >"$T/signer.global"
sed -n '/^\[profile /,$p' "$T/signer.out" >"$T/signer.profile"
check_keys mp-signer.conf.5 "GLOBAL SETTINGS" "$T/signer.global"
check_keys mp-signer.conf.5 "PROFILE SECTIONS" "$T/signer.profile"

cat >"$T/exchange.conf" <<CONF
env = test
signer_socket = $T/signer.sock
listen = 127.0.0.1:8471
CONF
"$MP_EXCHANGE" config check --config "$T/exchange.conf" >"$T/exchange.out" 2>"$T/err" ||
    { echo "FAIL - mp-exchange config check on a minimal config: $(cat "$T/err")" >&2; exit 1; }
check_keys mp-exchange.conf.5 "SETTINGS" "$T/exchange.out"
ok "$KEYS config keys checked against mp-signer.conf(5) and mp-exchange.conf(5)"

[ $FAILS -eq 0 ] || { echo "FAIL - $FAILS problem(s) with the manual pages" >&2; exit 1; }
ok "the manual pages document every option, subcommand and config key"
