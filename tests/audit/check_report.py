#!/usr/bin/python3
"""Checks an `mp-signer audit report` page against its log, counting from the JSON lines
independently of the C code. Usage: check_report.py LOG HTML verified|unverified|failed

Checks: the verdict at the top of the page; no script, no external resource, no link out of
the page; the summary counts, the per-day bar count, the client_id / scope / consumer_org /
caller tables (including the "not set" and "…and N more" rows), and every refused or failed
request with its reason, all equal to what this script counts from the log."""
import collections
import datetime
import html.parser
import json
import re
import sys

MAX_KEYS, KEY_MAX = 1000, 200  # signer/audit/audit_report_int.h
OUTCOMES = ("granted", "refused", "error")


def fail(msg):
    sys.exit("check_report: FAIL - " + msg)


def shown(s):
    """What the page shows for a log string: controls as their Unicode pictures, bidi marks
    and overrides as [U+XXXX]."""
    out = []
    for ch in s:
        c = ord(ch)
        if c < 0x20:
            out.append(chr(0x2400 + c))
        elif c == 0x7F:
            out.append("\u2421")
        elif c in (0x200E, 0x200F) or 0x202A <= c <= 0x202E or 0x2066 <= c <= 0x2069:
            out.append("[U+%04X]" % c)
        else:
            out.append(ch)
    return "".join(out)


def key_shown(k):
    b = k.encode()
    if len(b) <= KEY_MAX:
        return k
    return b[:KEY_MAX].decode("utf-8", "ignore") + "\u2026 (cut)"


VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "base", "col", "source"}


class Page(html.parser.HTMLParser):
    """Tables by id (rows of cell texts), the text of every element with an id, and anything
    that could run code or reach outside the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.ids, self.table = {}, {}, None
        self.row = self.cell = None
        self.stack, self.first_in_body, self.bad = [], None, []

    def check_attrs(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "img", "link", "base", "form"):
            self.bad.append("<%s>" % tag)
        for name, value in attrs:
            if name in ("src", "srcset", "action", "formaction", "background", "xlink:href"):
                self.bad.append("%s=%r" % (name, value))
            if name == "href" and not (value or "").startswith("#"):
                self.bad.append("href=%r" % value)
            if name.startswith("on"):
                self.bad.append("event handler %s" % name)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.check_attrs(tag, attrs)
        if self.first_in_body is None and self.stack and self.stack[-1][0] == "body":
            self.first_in_body = (tag, a.get("id"))
        if "id" in a:
            self.ids[a["id"]] = {"attrs": a, "text": []}
        if tag not in VOID:
            self.stack.append((tag, a.get("id")))
        if tag == "table" and "id" in a:
            self.table = self.tables.setdefault(a["id"], [])
        elif tag == "tr" and self.table is not None:
            self.row = {"class": a.get("class"), "cells": []}
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_startendtag(self, tag, attrs):
        self.check_attrs(tag, attrs)
        if "id" in dict(attrs):
            self.ids[dict(attrs)["id"]] = {"attrs": dict(attrs), "text": []}

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass
        if tag in ("td", "th") and self.cell is not None:
            self.row["cells"].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.table.append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        for _, i in self.stack:
            if i is not None:
                self.ids[i]["text"].append(data)

    def text(self, i):
        return "".join(self.ids.get(i, {}).get("text", []))


def read_log(path):
    recs = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                r = json.loads(raw.rstrip(b"\n").decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
            if isinstance(r, dict):
                recs.append((n, r))
    return recs


def outcome(r):
    o = r.get("outcome")
    return o if o in ("granted", "refused") else "error"


def expected(recs):
    tables = {t: collections.OrderedDict() for t in ("client_id", "scope", "consumer_org", "caller")}
    none = {t: collections.Counter() for t in tables}
    more = {t: collections.Counter() for t in tables}
    totals, days, refusals = collections.Counter(), set(), []

    def add(t, key, o):
        key = key_shown(key) if key is not None else None
        if key is None:
            none[t][o] += 1
        elif key in tables[t] or len(tables[t]) < MAX_KEYS:
            tables[t].setdefault(key, collections.Counter())[o] += 1
        else:
            more[t][o] += 1

    for n, r in recs:
        if r.get("event") != "sign":
            continue
        o = outcome(r)
        totals[o] += 1
        claims = r.get("claims") if isinstance(r.get("claims"), dict) else {}
        caller = r.get("caller") if isinstance(r.get("caller"), dict) else {}
        cid = r.get("client_id")
        add("client_id", cid if isinstance(cid, str) and cid else None, o)
        scope = claims.get("scope")
        words = [w for w in scope.split(" ") if w] if isinstance(scope, str) else []
        for w in words:
            add("scope", w, o)
        if not words:
            add("scope", None, o)
        org = claims.get("consumer_org")
        add("consumer_org", org if isinstance(org, str) and org else None, o)
        uid, exe = caller.get("uid"), caller.get("exe")
        uid_ok = isinstance(uid, int) and not isinstance(uid, bool)
        if not uid_ok and not isinstance(exe, str):
            add("caller", None, o)
        else:
            add("caller", "%s %s" % (uid if uid_ok else "?", exe if isinstance(exe, str) else "?"),
                o)
        ts = r.get("ts")
        try:
            days.add(datetime.date.fromisoformat(ts[:10]))
        except (TypeError, ValueError):
            pass
        if o != "granted":
            reason = r.get("reason")
            refusals.append((n, o, shown(reason) if isinstance(reason, str)
                             else "(no reason recorded)"))
    return tables, none, more, totals, days, refusals


def counts(cells):
    return tuple(int(c) for c in cells[-4:])


def check_table(page, t, want, none, more):
    rows = page.tables.get("t-" + t)
    if rows is None:
        fail("no table t-%s" % t)
    got, got_none, got_more = {}, None, None
    for row in rows[1:]:
        cells = row["cells"]
        if row["class"] == "none":
            got_none = counts(cells)
        elif row["class"] == "more":
            got_more = counts(cells)
            if not cells[0].startswith("\u2026and %d more" % sum(more.values())):
                fail("t-%s: more row says %r" % (t, cells[0]))
        else:
            key = cells[0] + " " + cells[1] if t == "caller" else cells[0]
            got[key] = counts(cells)
    exp = {shown(k): tuple(v[o] for o in OUTCOMES) + (sum(v.values()),) for k, v in want.items()}
    if got != exp:
        diff = set(got.items()) ^ set(exp.items())
        fail("t-%s differs from the log: %s" % (t, sorted(diff)[:6]))
    tot = lambda c: tuple(c[o] for o in OUTCOMES) + (sum(c.values()),)
    if (got_none or (0, 0, 0, 0)) != tot(none):
        fail("t-%s 'not set' row %s, log says %s" % (t, got_none, tot(none)))
    if (got_more or (0, 0, 0, 0)) != tot(more):
        fail("t-%s 'more' row %s, log says %s" % (t, got_more, tot(more)))
    return len(got)


def check_safety(raw, page):
    low = raw.lower()
    for needle in ("<script", "javascript:", "url(", "@import", "<link", "<img", "<iframe"):
        if needle in low:
            fail("page contains %r" % needle)
    if page.bad:
        fail("page has active or external content: %s" % page.bad[:5])
    if "default-src 'none'" not in raw:
        fail("page has no Content-Security-Policy default-src 'none'")


def check_verdict(raw, page, mode):
    text = page.text("verdict")
    if page.first_in_body != ("header", "verdict"):
        fail("the verdict is not the first thing in the body: %s" % (page.first_in_body,))
    verdict_class = page.ids["verdict"]["attrs"].get("class")
    want = {"verified": ("verdict ok", "VERIFIED"),
            "unverified": ("verdict warn", "NOT verified"),
            "failed": ("verdict fail", "verification FAILED")}[mode]
    if verdict_class != want[0] or want[1] not in text:
        fail("verdict is %r %r, want %r" % (verdict_class, text[:200], want))
    if mode == "failed" and not re.search(r"<title>FAILED", raw):
        fail("the title of a failed report does not start with FAILED")


def main():
    log, page_path, mode = sys.argv[1:4]
    raw = open(page_path, encoding="utf-8").read()
    page = Page()
    page.feed(raw)
    check_safety(raw, page)
    check_verdict(raw, page, mode)
    tables, none, more, totals, days, refusals = expected(read_log(log))
    for o in OUTCOMES:
        got = page.text("n-" + o)
        if int(got) != totals[o]:
            fail("summary says %s %s, log says %d" % (got, o, totals[o]))
    sizes = {t: check_table(page, t, tables[t], none[t], more[t]) for t in tables}
    if days:
        span = (max(days) - min(days)).days + 1
        per = -(-span // 500)
        chart = page.ids["chart"]["attrs"]
        if int(chart["data-bars"]) != -(-span // per) or int(chart["data-days-per-bar"]) != per:
            fail("chart has %s bars of %s days for a span of %d days" %
                 (chart["data-bars"], chart["data-days-per-bar"], span))
    rows = page.tables.get("t-refusals", [None])[1:]
    if len(rows) != len(refusals):
        fail("%d refusal rows, log has %d refused or failed requests" % (len(rows), len(refusals)))
    for row, (n, o, reason) in zip(rows, refusals):
        c = row["cells"]
        if c[0].lstrip("\u26a0 ") != str(n) or c[2] != o or c[7] != reason:
            fail("refusal row %s, want line %d %s %r" % (c, n, o, reason))
    print("%s page matches the log: %s; distinct keys %s; %d refusal rows; %d days" % (
        mode, dict(totals), sizes, len(rows), len(days)))


if __name__ == "__main__":
    main()
