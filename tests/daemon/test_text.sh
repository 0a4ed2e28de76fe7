#!/usr/bin/env bash
# Bytes that are not UTF-8 text never drop a field from an audit line: a caller whose
# executable path holds 0xff is granted with its path escaped in the line; a scope, resource,
# systemuser_ref or profile with 0xff or a control byte is refused with one line naming the
# field, and its refused line shows the bytes escaped. Every line verifies.
. "$(dirname "$0")/lib.sh"
make_token
sed -i '/^\[profile default\]/a consumer_orgs = 991825827\nsystemuser_orgs = 991825827' "$CONF"
echo "resources = https://a.example/" >>"$CONF"
start_signer
R=altinn:serviceowner/instances.read
# field N KEY...: the value at the path KEY... of line N of the log ("<absent>" if missing).
field() {
    "$PY" - "$LOG" "$@" <<'PY'
import json, sys
line = open(sys.argv[1], encoding="utf-8").read().splitlines()[int(sys.argv[2]) - 1]
v = json.loads(line)
for k in sys.argv[3:]:
    v = v.get(k, "<absent>") if isinstance(v, dict) else v[int(k)]
print(v)
PY
}
last() { wc -l <"$LOG"; }

odd="$T/odd-"$'\xff'"-exe"
cp "$MP_SIGNER" "$odd"
jws=$("$odd" request --socket "$SOCK" --scope $R) || fail "the odd-named caller was not granted"
verify_jwt "$jws" >/dev/null || fail "its grant does not verify"
n=$(last)
[ "$(field "$n" outcome)" = granted ] && [ "$(field "$n" caller exe)" = "$T/odd-\\xff-exe" ] ||
    fail "granted line's caller: $(field "$n" caller)"
ok "a caller whose path holds 0xff: granted, caller.exe recorded as …odd-\\xff-exe"

# refused WHAT WANT_REASON KEYS... -- ARGS: refused with WANT_REASON; the line at KEYS shows WANT.
refused() {
    local what=$1 want=$2 key=$3 shown=$4
    shift 4
    expect_refusal "$want" request --scope "${SCOPE:-$R}" "$@"
    n=$(last)
    [ "$(field "$n" outcome)" = refused ] || fail "$what: line $n is $(field "$n" outcome)"
    # shellcheck disable=SC2086
    [ "$(field "$n" $key)" = "$shown" ] || fail "$what: the line holds $(field "$n" $key), want $shown"
    ok "$what: refused ($want), the line shows $shown"
}
SCOPE="$R"$'\xff' refused "scope with 0xff" "scope is not UTF-8 text: byte 0xff at offset 34" \
    "claims scope" "$R\\xff"
SCOPE="$R"$'\x01' refused "scope with a control byte" "scope is not UTF-8 text: byte 0x01 at offset 34" \
    "claims scope" "$R\\x01"
refused "resource with 0xff" "resource is not UTF-8 text: byte 0xff" "claims resource 0" \
    'https://a.example/\xff' --resource "https://a.example/"$'\xff'
refused "systemuser_ref with 0xff" "systemuser_ref is not UTF-8 text: byte 0xff at offset 2" \
    "claims systemuser_ref" 'r1\xff' --consumer-org 991825827 --systemuser-org 991825827 \
    --systemuser-ref "r1"$'\xff'
refused "systemuser_ref cut inside a character" "systemuser_ref is not UTF-8 text: byte 0xc3" \
    "claims systemuser_ref" 'r\xc3' --consumer-org 991825827 --systemuser-org 991825827 \
    --systemuser-ref "r"$'\xc3'
refused "profile with 0xff" "profile name may hold only" profile 'de\xfffault' \
    --profile "de"$'\xff'"fault"
refused "profile with a newline" "profile name may hold only" profile 'a\x0ab' --profile $'a\nb'

# A valid non-ASCII value is text: it reaches policy as it is.
SCOPE="bl"$'\xc3\xa5' refused "a scope in UTF-8 outside the profile" "is not allowed" "claims scope" \
    "bl"$'\xc3\xa5'

stop_signer
audit_verify >"$T/out" || fail "the log does not verify: $(cat "$T/out")"
"$PY" - "$LOG" <<'PY' || fail "a line is not strict UTF-8 JSON with every field"
import json, sys
for n, raw in enumerate(open(sys.argv[1], "rb").read().split(b"\n")[:-1], 1):
    rec = json.loads(raw.decode("utf-8", errors="strict"))
    if rec.get("event") == "sign":
        missing = {"outcome", "caller", "profile", "claims"} - rec.keys()
        assert not missing, (n, missing)
        assert {"uid", "gid", "pid", "exe"} <= rec["caller"].keys(), (n, rec["caller"])
PY
ok "every line verifies, decodes as strict UTF-8 and has its caller, profile and claims: $(cat "$T/out")"
