#!/usr/bin/env bash
# mp-signer audit report: a real log from a daemon on a throwaway token (grants, refusals, a
# caller whose path and requests carry markup), its report checked against counts made
# independently from the JSON lines, escaping, no script or external resource, a tampered log
# (non-zero exit, FAILED at the top), synthetic logs over 400 and 1200 days with more
# client_ids than a table keeps and hostile content, and headless Chromium renderings.
. "$MP_ROOT/tests/daemon/lib.sh"
HERE=$MP_ROOT/tests/audit
EVIL='<script>alert("&'"'"'")</script>'

report() { ${MP_WRAP:-} "$MP_SIGNER" audit report "$@"; }
check() { "$PY" "$HERE/check_report.py" "$@" || fail "report does not match its log: $*"; }

make_token
start_signer
request --scope altinn:serviceowner/instances.read >/dev/null
request --scope altinn:serviceowner/instances.read >/dev/null
request --scope altinn:serviceowner/instances.write >/dev/null
request --scope "altinn:serviceowner/instances.read altinn:serviceowner/instances.write" >/dev/null
expect_refusal "is not allowed" request --scope "$EVIL"
expect_refusal "is not allowed" request --scope altinn:serviceowner/instances.read \
    --resource "https://x.example/$EVIL"
expect_refusal "consumer_org 991825827 is not allowed" request \
    --scope altinn:serviceowner/instances.read --consumer-org 991825827
expect_refusal "profile name may hold only" request --profile "<b>\"&'" --scope a
expect_refusal "lifetime must be 1..120" request --scope altinn:serviceowner/instances.read \
    --lifetime 121
# A caller whose executable path is markup: "<script>alert(1)</script>\"&'" under $T.
mkdir -p "$T/<script>alert(1)<"
cp "$MP_SIGNER" "$T/<script>alert(1)</script>\"&'"
"$T/<script>alert(1)</script>\"&'" request --socket "$SOCK" \
    --scope altinn:serviceowner/instances.read >/dev/null
"$T/<script>alert(1)</script>\"&'" request --socket "$SOCK" --scope "x $EVIL" 2>/dev/null &&
    fail "scope x was granted"
stop_signer
audit_verify >/dev/null || fail "the daemon's log does not verify"
grep -qF '<script>alert(1)</script>' "$LOG" || fail "the markup caller is not in the log"
ok "a real log: 5 grants, 6 refusals, markup in a scope, a resource, a profile and an exe"

out=$(report "$LOG" --html "$T/r.html" --pubkey "$T/tok/audit-pub.pem") ||
    fail "audit report of a good log exited $?: $out"
case $out in "report written to $T/r.html; audit log OK: "*) ;; *) fail "stdout: $out" ;; esac
check "$LOG" "$T/r.html" verified
grep -qF '&lt;script&gt;alert(&quot;&amp;&#39;&quot;)&lt;/script&gt; is not allowed' "$T/r.html" ||
    fail "the refusal reason is not in the page, escaped"
grep -qF '/&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;</code>' "$T/r.html" ||
    fail "the markup executable is not in the page, escaped"
grep -qi '<script' "$T/r.html" && fail "the page holds a <script"
ok "report of the real log: VERIFIED at the top, counts equal the log's, markup escaped, no script, nothing external"

out=$(report "$LOG" --html "$T/u.html") || fail "report without --pubkey exited $?"
check "$LOG" "$T/u.html" unverified
ok "without --pubkey: exit 0, the top says checkpoints NOT verified"

# The anchor the signer logged for its final checkpoint: matched on the good log; on a log
# whose last line was cut, the page says FAILED.
anchor=$(last_anchor)
[ -n "$anchor" ] || fail "the signer logged no checkpoint anchor"
report "$LOG" --html "$T/a.html" --pubkey "$T/tok/audit-pub.pem" --anchor "$anchor" >/dev/null ||
    fail "report with the signer's anchor failed"
grep -q '<td id="cp-anchors">1 of 1</td>' "$T/a.html" ||
    fail "the page does not show the anchor matched"
grep -q '<td id="cp-anchors">none given' "$T/r.html" ||
    fail "a page without --anchor does not say so"
head -n -1 "$LOG" >"$T/cut.log"
rc=0
out=$(report "$T/cut.log" --html "$T/cut.html" --pubkey "$T/tok/audit-pub.pem" --anchor "$anchor") || rc=$?
[ $rc -eq 1 ] || fail "report of a log with its last line cut exited $rc, want 1: $out"
case $out in *"lines were cut off its end"*) ;; *) fail "stdout: $out" ;; esac
check "$T/cut.log" "$T/cut.html" failed
ok "--anchor: matched on the log, and a log with its last line cut is reported FAILED"

# One byte of the first grant's scope flipped: 'i' to 'h'.
"$PY" - "$LOG" "$T/bad.log" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[d.index(b"instances.read")] ^= 1
open(sys.argv[2], "wb").write(d)
PY
rc=0
out=$(report "$T/bad.log" --html "$T/bad.html" --pubkey "$T/tok/audit-pub.pem") || rc=$?
[ $rc -eq 1 ] || fail "report of a tampered log exited $rc, want 1: $out"
case $out in *"audit log BAD in bad.log at line 4: prev does not match"*) ;; *) fail "stdout: $out" ;; esac
check "$T/bad.log" "$T/bad.html" failed
head -c 3000 "$T/bad.html" | grep -q 'Audit log verification FAILED</h1>' ||
    fail "FAILED is not at the top of the page"
# The break is at line 4 (line 3 changed): all six refusals come after it and are marked.
[ "$(grep -c '<tr class="suspect"><td class="n">&#x26A0; ' "$T/bad.html")" -eq 6 ] ||
    fail "the refusals after the break are not marked"
ok "a tampered log: exit 1, the page is still written and says verification FAILED at its top"

rc=0
report "$LOG" >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "report without --html exited $rc, want 2"
rc=0
"$MP_SIGNER" audit verify "$LOG" --html "$T/x.html" >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "verify --html exited $rc, want 2"
rc=0
report "$T/nosuch.log" --html "$T/n.html" >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/n.html" ] || fail "a missing log: exit $rc, or a page was written"
rc=0
report "$LOG" --html "$T/nodir/r.html" >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "an unwritable output exited $rc, want 1"
ls "$T" | grep -q '\.tmp' && fail "a temporary page was left behind"
"$MP_SIGNER" audit --help | grep -q 'Exit status: 0 the log verified' || fail "--help lacks exit codes"
ok "usage errors exit 2; an unreadable log or unwritable page exits 1 and leaves no page"

"$PY" "$HERE/gen_report_log.py" "$T/s.log" "$T/s.pem" --days 400 --per-day 5 --clients 3000 \
    --hostile >/dev/null
report "$T/s.log" --html "$T/s.html" --pubkey "$T/s.pem" >/dev/null || fail "400-day report failed"
check "$T/s.log" "$T/s.html" verified
grep -q 'data-bars="400" data-days-per-bar="1"' "$T/s.html" || fail "400 days are not 400 bars"
grep -q '<tr class="more"><td colspan="1">&#x2026;and [0-9]* more requests' "$T/s.html" ||
    fail "no '…and N more' row past 1000 client_ids"
grep -q '\[U+202E\]evil' "$T/s.html" || fail "a bidi override is not shown as [U+202E]"
ok "400 days, ~1450 client_ids (capped at 1000 with a '…and N more' row), hostile content"

"$PY" "$HERE/gen_report_log.py" "$T/l.log" "$T/l.pem" --days 1200 --per-day 1 >/dev/null
report "$T/l.log" --html "$T/l.html" --pubkey "$T/l.pem" >/dev/null || fail "1200-day report failed"
check "$T/l.log" "$T/l.html" verified
ok "1200 days: 400 bars of 3 days"

# Headless Chromium renders each page; its screenshot must be a real page with the verdict's
# colour at the top. A slow machine gets a minute per page.
command -v chromium >/dev/null || fail "chromium is not installed (scripts/lib.sh MP_PKGS_TEST)"
shot() { # HTML PNG COLOUR
    HOME=$T timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu \
        --user-data-dir="$T/chromium" --screenshot="$2" --window-size=1200,2000 \
        "file://$1" >"$T/chromium.log" 2>&1 || { tail -5 "$T/chromium.log" >&2; fail "chromium failed on $1"; }
    "$PY" "$HERE/check_png.py" "$2" "$3" || fail "screenshot of $1"
}
shot "$T/r.html" "$T/r.png" green
shot "$T/u.html" "$T/u.png" amber
shot "$T/bad.html" "$T/bad.png" red
shot "$T/s.html" "$T/s.png" green
ok "Chromium renders the pages: green, amber and red verdict banners at the top"
