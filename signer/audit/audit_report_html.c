/* The auditor's report page: verdict first, then checkpoints, a summary, the chart, the
 * per-field tables and every refusal. Every string that comes from the log goes through
 * ar_esc(); literal markup here is the only markup on the page. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/version.h"
#include "signer/audit/audit_report_int.h"

/* default-src 'none' is a second fence behind the escaping: even injected markup could load
 * nothing and run nothing. Inline styles only, no url(), no fonts but the reader's own. */
static const char page_css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff}"
    "main{padding:0 24px 32px}"
    ".verdict{padding:18px 24px;color:#fff}"
    ".verdict h1{margin:0 0 6px;font-size:28px}.verdict p{margin:4px 0;max-width:1100px}"
    ".ok{background:#1b5e20}.warn{background:#8a5300}"
    ".fail{background:#b71c1c;border-bottom:8px solid #5f0000}.fail h1{font-size:34px}"
    ".fail .why{font-size:18px;font-weight:bold;background:#fff;color:#b71c1c;"
    "padding:6px 10px;display:inline-block}"
    "nav{padding:8px 24px;background:#f2f2f2;border-bottom:1px solid #ddd}"
    "nav a{margin-right:16px;color:#0b4f8a}"
    "h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:2px}"
    "table{border-collapse:collapse;margin:4px 0 12px;max-width:100%}"
    "th,td{border:1px solid #d0d0d0;padding:3px 8px;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}"
    "th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".kv th{width:230px}tr.none td,tr.more td{font-style:italic;color:#555}"
    "tr.suspect td{background:#fff3cd}code{font-family:ui-monospace,monospace;"
    "overflow-wrap:anywhere}td.ts{white-space:nowrap}td.reason{color:#8b0000}.cut,.k,.note{color:#"
    "666}"
    ".g{color:#2e7d32}.r{color:#c62828}.e{color:#d66a00}"
    "svg{max-width:100%;height:auto}svg text{font:12px sans-serif;fill:#333}";

/* HTML entity, control picture or visible code point for one awkward character at u; the
 * number of bytes it took, or 0 if the byte can be written as it is. */
static size_t
esc_one(FILE *fp, const unsigned char *u, size_t left)
{
    unsigned cp;

    switch (u[0]) {
    case '&': fputs("&amp;", fp); return 1;
    case '<': fputs("&lt;", fp); return 1;
    case '>': fputs("&gt;", fp); return 1;
    case '"': fputs("&quot;", fp); return 1;
    case '\'': fputs("&#39;", fp); return 1;
    default: break;
    }
    if (u[0] < 0x20 || u[0] == 0x7f) {
        fprintf(fp, "&#x%X;", u[0] == 0x7f ? 0x2421u : 0x2400u + u[0]);
        return 1;
    }
    /* Bidirectional marks and overrides would let a value reorder what the auditor reads. */
    if (u[0] == 0xE2 && left >= 3) {
        cp = (u[0] & 0x0Fu) << 12 | (u[1] & 0x3Fu) << 6 | (u[2] & 0x3Fu);
        if (cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
            (cp >= 0x2066 && cp <= 0x2069)) {
            fprintf(fp, "[U+%04X]", cp);
            return 3;
        }
    }
    return 0;
}

void
ar_esc(FILE *fp, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = len, i, k;

    if (n > AR_SHOW_MAX)
        for (n = AR_SHOW_MAX; n > 0 && (u[n] & 0xC0) == 0x80; n--)
            ;
    for (i = 0; i < n; i += k)
        if ((k = esc_one(fp, u + i, n - i)) == 0) {
            putc(u[i], fp);
            k = 1;
        }
    if (n < len)
        fprintf(fp, "<span class=\"cut\">&#x2026; (%zu bytes in all)</span>", len);
}

static void
esc_str(FILE *fp, const char *s)
{
    ar_esc(fp, s, strlen(s));
}

void
ar_esc_member(FILE *fp, json_t *obj, const char *name, const char *dflt)
{
    json_t *v = json_object_get(obj, name);

    if (json_is_string(v))
        ar_esc(fp, json_string_value(v), json_string_length(v));
    else
        fputs(dflt, fp);
}

static void
scalar(FILE *fp, json_t *v)
{
    if (json_is_string(v))
        ar_esc(fp, json_string_value(v), json_string_length(v));
    else if (json_is_integer(v))
        fprintf(fp, "%lld", (long long)json_integer_value(v));
    else if (v == NULL)
        fputs("?", fp);
    else
        fputs("<span class=\"k\">(wrong type)</span>", fp);
}

/* What the caller asked for: the claims a refused line records. */
static void
asked(FILE *fp, json_t *claims)
{
    static const char *const names[] = {"scope", "resource", "consumer_org", "systemuser_org",
        "systemuser_ref"};
    json_t *v, *iat = json_object_get(claims, "iat"), *exp = json_object_get(claims, "exp");
    size_t i, k;
    int any = 0;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((v = json_object_get(claims, names[i])) == NULL)
            continue;
        fprintf(fp, "<div><span class=\"k\">%s</span> ", names[i]);
        if (!json_is_array(v))
            scalar(fp, v);
        for (k = 0; json_is_array(v) && k < json_array_size(v) && k < 16; k++) {
            fputs(k > 0 ? ", " : "", fp);
            scalar(fp, json_array_get(v, k));
        }
        if (json_is_array(v) && json_array_size(v) > 16)
            fprintf(fp, " &#x2026;and %zu more", json_array_size(v) - 16);
        fputs("</div>", fp);
        any = 1;
    }
    if (json_is_integer(iat) && json_is_integer(exp)) {
        fprintf(fp, "<div><span class=\"k\">lifetime</span> %lld s</div>",
            (long long)(json_integer_value(exp) - json_integer_value(iat)));
        any = 1;
    }
    if (!any)
        fputs("<span class=\"k\">nothing recorded</span>", fp);
}

void
ar_refusal_row(FILE *fp, json_t *j, enum ar_outcome o, unsigned long long line, int suspect)
{
    json_t *caller = json_object_get(j, "caller"), *uid, *pid;

    uid = json_object_get(caller, "uid");
    pid = json_object_get(caller, "pid");
    fprintf(fp, "<tr%s><td class=\"n\">%s%llu</td><td class=\"ts\">",
        suspect ? " class=\"suspect\"" : "", suspect ? "&#x26A0; " : "", line);
    ar_esc_member(fp, j, "ts", "?");
    fprintf(fp, "</td><td class=\"%s\">%s</td><td>uid ", o == AR_REFUSED ? "r" : "e",
        o == AR_REFUSED ? "refused" : "error");
    scalar(fp, uid);
    fputs(" &#xB7; pid ", fp);
    scalar(fp, pid);
    fputs("<br><code>", fp);
    ar_esc_member(fp, caller, "exe", "?");
    fputs("</code></td><td>", fp);
    ar_esc_member(fp, j, "profile", "&#x2014;");
    fputs("</td><td><code>", fp);
    ar_esc_member(fp, j, "client_id", "&#x2014;");
    fputs("</code></td><td>", fp);
    asked(fp, json_object_get(j, "claims"));
    fputs("</td><td class=\"reason\">", fp);
    ar_esc_member(fp, j, "reason", "(no reason recorded)");
    fputs("</td></tr>\n", fp);
}

static void
page_head(FILE *fp, const struct ar_stats *st)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
        fp);
    fputs(!st->verified ? "FAILED: " : "", fp);
    fputs("mp-signer audit report: ", fp);
    esc_str(fp, st->log_name);
    fprintf(fp, "</title>\n<style>%s</style>\n</head>\n<body>\n", page_css);
}

/* "SEGMENT, line N: ": the file the verdict names, and the line within it. */
static void
bad_where(FILE *fp, const struct audit_report *r)
{
    if (r->segment[0] != '\0') {
        esc_str(fp, r->segment);
        fputs(", ", fp);
    }
    fprintf(fp, "line %llu: ", r->bad_line);
}

static void
verdict_fail(FILE *fp, const struct ar_stats *st)
{
    const struct audit_report *r = st->rep;

    fputs("<header id=\"verdict\" class=\"verdict fail\">\n"
          "<h1>&#x2716; Audit log verification FAILED</h1>\n<p class=\"why\">First problem: ",
        fp);
    bad_where(fp, r);
    esc_str(fp, r->reason);
    fputs("</p>\n<p>", fp);
    if (st->suspect_from > 1)
        fprintf(fp, "Lines 1 to %llu chain correctly. ", st->suspect_from - 1);
    fprintf(fp,
        "The figures below are read from the whole file as it stands and are NOT verified: "
        "rows from line %llu on are marked &#x26A0;.</p>\n</header>\n",
        st->suspect_from);
}

static void
verdict(FILE *fp, const struct ar_stats *st)
{
    const struct audit_report *r = st->rep;

    if (!st->verified) {
        verdict_fail(fp, st);
        return;
    }
    if (st->key_checked && r->checkpoints > 0)
        fprintf(fp,
            "<header id=\"verdict\" class=\"verdict ok\">\n<h1>&#x2714; Audit log VERIFIED</h1>\n"
            "<p>%llu lines: hash chain intact; checkpoint signatures verified with the audit "
            "key: %llu of %llu.",
            r->lines, r->checkpoints_verified, r->checkpoints);
    else
        fprintf(fp,
            "<header id=\"verdict\" class=\"verdict warn\">\n<h1>Hash chain intact: "
            "checkpoints NOT verified</h1>\n<p>%llu lines: hash chain intact, but %s, so "
            "whoever could rewrite the whole file could also have rebuilt the chain.",
            r->lines,
            st->key_checked ? "the log has no signed checkpoint yet"
                            : "no audit public key was given (--pubkey)");
    if (r->after_checkpoint > 0)
        fprintf(fp, " %llu lines after the last checkpoint are protected by the chain only.",
            r->after_checkpoint);
    fputs("</p>\n</header>\n", fp);
}

static void
nav(FILE *fp, const struct ar_stats *st)
{
    int i;

    fputs("<nav><a href=\"#checkpoints\">Checkpoints</a><a href=\"#summary\">Summary</a>"
          "<a href=\"#per-day\">Per day</a>",
        fp);
    for (i = 0; i < AR_NTABLES; i++)
        fprintf(fp, "<a href=\"#%s\">Per %s</a>", st->t[i].id, st->t[i].column);
    fputs("<a href=\"#refusals\">Refusals</a></nav>\n<main>\n", fp);
}

static void
checkpoints(FILE *fp, const struct ar_stats *st)
{
    const struct audit_report *r = st->rep;

    fputs("<h2 id=\"checkpoints\">Checkpoints</h2>\n<table class=\"kv\">\n", fp);
    fprintf(fp, "<tr><th>Checkpoints</th><td id=\"cp-count\">%llu</td></tr>\n", r->checkpoints);
    if (st->key_checked)
        fprintf(fp,
            "<tr><th>Signatures verified</th><td>%llu, with the audit key SHA-256 "
            "<code>%s</code></td></tr>\n",
            r->checkpoints_verified, st->key_sha256);
    else
        fputs("<tr><th>Signatures verified</th><td>none: no --pubkey given</td></tr>\n", fp);
    if (st->anchors_given > 0)
        fprintf(fp, "<tr><th>Anchors matched</th><td id=\"cp-anchors\">%llu of %zu</td></tr>\n",
            r->anchors_matched, st->anchors_given);
    else
        fputs("<tr><th>Anchors matched</th><td id=\"cp-anchors\">none given (--anchor): lines cut "
              "off the end would not show</td></tr>\n",
            fp);
    if (r->checkpoints > 0)
        fprintf(fp,
            "<tr><th>Last checkpoint covers</th><td id=\"cp-last\">seq %llu (line %llu)"
            "</td></tr>\n",
            r->last_covers, r->last_covers + 1);
    else
        fputs("<tr><th>Last checkpoint covers</th><td id=\"cp-last\">no checkpoint</td></tr>\n",
            fp);
    fprintf(fp,
        "<tr><th>Lines after the last checkpoint</th><td id=\"cp-after\">%llu (protected by "
        "the hash chain only)</td></tr>\n<tr><th>First problem</th><td id=\"cp-problem\">",
        r->after_checkpoint);
    if (st->verified)
        fputs("none", fp);
    else {
        fputs("<b>", fp);
        bad_where(fp, r);
        fputs("</b>", fp);
        esc_str(fp, r->reason);
        fputs(" (the counts above stop there)", fp);
    }
    fputs("</td></tr>\n</table>\n", fp);
}

static void
summary(FILE *fp, const struct ar_stats *st)
{
    static const char *const ev[AR_NEVENTS] = {"header", "start", "stop", "reload", "recovery",
        "checkpoint", "sign", "other"};
    const struct ar_count *t = &st->total;
    int i;

    fputs("<h2 id=\"summary\">Summary</h2>\n<table class=\"kv\">\n<tr><th>File</th><td><code>", fp);
    esc_str(fp, st->log_name);
    fprintf(fp,
        "</code></td></tr>\n<tr><th>Read</th><td>%llu bytes, %llu lines (%llu unreadable); "
        "SHA-256 <code>%s</code></td></tr>\n<tr><th>Time span (UTC)</th><td>",
        st->bytes, st->lines, st->unreadable, st->sha256);
    esc_str(fp, st->first_ts[0] ? st->first_ts : "?");
    fputs(" &#x2013; ", fp);
    esc_str(fp, st->last_ts[0] ? st->last_ts : "?");
    fputs("</td></tr>\n<tr><th>Events</th><td>", fp);
    for (i = 0; i < AR_NEVENTS; i++)
        fprintf(fp, "%s%s <span id=\"ev-%s\">%llu</span>", i ? ", " : "", ev[i], ev[i],
            st->events[i]);
    fprintf(fp,
        "</td></tr>\n<tr><th>Sign requests</th><td><span class=\"g\">granted <b "
        "id=\"n-granted\">%llu</b></span>, <span class=\"r\">refused <b id=\"n-refused\">%llu"
        "</b></span>, <span class=\"e\">error <b id=\"n-error\">%llu</b></span></td></tr>\n"
        "</table>\n",
        t->n[AR_GRANTED], t->n[AR_REFUSED], t->n[AR_ERROR]);
    if (st->verified &&
        (st->rep->granted != t->n[AR_GRANTED] || st->rep->refused != t->n[AR_REFUSED] ||
            st->rep->errors != t->n[AR_ERROR]))
        fprintf(fp,
            "<p class=\"note\">The verifier counted %llu granted, %llu refused and %llu "
            "errors from the fixed fields of each line; the figures here come from parsing "
            "each line whole.</p>\n",
            st->rep->granted, st->rep->refused, st->rep->errors);
}

static unsigned long long
total(const struct ar_count *c)
{
    return c->n[AR_GRANTED] + c->n[AR_REFUSED] + c->n[AR_ERROR];
}

static void
count_cells(FILE *fp, const struct ar_count *c)
{
    fprintf(fp,
        "<td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
        "<td class=\"n\">%llu</td></tr>\n",
        c->n[AR_GRANTED], c->n[AR_REFUSED], c->n[AR_ERROR], total(c));
}

/* Most requests first; equal counts in byte order, so the page is deterministic. */
static int
key_cmp(const void *a, const void *b)
{
    const struct ar_key *x = a, *y = b;
    unsigned long long tx = total(&x->c), ty = total(&y->c);

    if (tx != ty)
        return tx > ty ? -1 : 1;
    return strcmp(x->s, y->s);
}

static void
key_cell(FILE *fp, const struct ar_key *k, int caller)
{
    const char *sp = caller ? strchr(k->s, ' ') : NULL;

    if (sp != NULL) {
        fputs("<td class=\"n\">", fp);
        ar_esc(fp, k->s, (size_t)(sp - k->s));
        fputs("</td><td><code>", fp);
        esc_str(fp, sp + 1);
    } else {
        fputs("<td><code>", fp);
        esc_str(fp, k->s);
    }
    fprintf(fp, "%s</code></td>", k->cut ? "<span class=\"cut\">&#x2026; (cut)</span>" : "");
}

static void
key_table(FILE *fp, struct ar_table *t)
{
    int caller = strcmp(t->column, "caller") == 0, span = caller ? 2 : 1;
    size_t i;

    qsort(t->keys, t->nkeys, sizeof(t->keys[0]), key_cmp);
    fprintf(fp, "<h2>%s</h2>\n<table id=\"%s\">\n<thead><tr>", t->title, t->id);
    if (caller)
        fputs("<th>uid</th><th>executable</th>", fp);
    else
        fprintf(fp, "<th>%s</th>", t->column);
    fputs("<th>granted</th><th>refused</th><th>error</th><th>total</th></tr></thead>\n<tbody>\n",
        fp);
    for (i = 0; i < t->nkeys; i++) {
        fputs("<tr>", fp);
        key_cell(fp, &t->keys[i], caller);
        count_cells(fp, &t->keys[i].c);
    }
    if (total(&t->none) > 0) {
        fprintf(fp, "<tr class=\"none\"><td colspan=\"%d\">not set</td>", span);
        count_cells(fp, &t->none);
    }
    if (total(&t->more) > 0) {
        fprintf(fp,
            "<tr class=\"more\"><td colspan=\"%d\">&#x2026;and %llu more requests with "
            "other values (this table keeps the first %d distinct ones)</td>",
            span, total(&t->more), AR_MAX_KEYS);
        count_cells(fp, &t->more);
    }
    fputs("</tbody></table>\n", fp);
}

static enum mp_err
refusals(FILE *fp, struct ar_stats *st)
{
    char buf[16384];
    size_t n;

    fprintf(fp, "<h2 id=\"refusals\">Refused and failed requests (%llu)</h2>\n", st->spooled);
    if (st->spooled == 0) {
        fputs("<p>No request was refused or failed.</p>\n", fp);
        return MP_OK;
    }
    fputs("<table id=\"t-refusals\">\n<thead><tr><th>line</th><th>time (UTC)</th>"
          "<th>outcome</th><th>caller</th><th>profile</th><th>client_id</th>"
          "<th>asked for</th><th>reason</th></tr></thead>\n<tbody>\n",
        fp);
    if (fflush(st->spool) != 0 || fseek(st->spool, 0, SEEK_SET) != 0)
        return MP_ERR_IO;
    while ((n = fread(buf, 1, sizeof(buf), st->spool)) > 0)
        fwrite(buf, 1, n, fp);
    fputs("</tbody></table>\n", fp);
    return ferror(st->spool) ? -1 : 0;
}

static void
footer(FILE *fp)
{
    char when[32] = "?";
    time_t now = time(NULL);
    struct tm tm;

    if (gmtime_r(&now, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(fp,
        "<p class=\"note\">Made by mp-signer %s (audit report) at %s. This page is "
        "self-contained: it has no scripts and loads nothing.</p>\n</main>\n</body>\n</html>\n",
        mp_version(), when);
}

enum mp_err
ar_write_page(FILE *fp, struct ar_stats *st)
{
    int i;

    page_head(fp, st);
    verdict(fp, st);
    nav(fp, st);
    checkpoints(fp, st);
    summary(fp, st);
    ar_write_chart(fp, st);
    for (i = 0; i < AR_NTABLES; i++)
        key_table(fp, &st->t[i]);
    if (refusals(fp, st) != MP_OK)
        return MP_ERR_IO;
    footer(fp);
    return MP_OK;
}
