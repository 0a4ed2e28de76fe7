/* mp-signer audit report: verification, then one pass over the segments that aggregates the log
 * into fixed-capacity tables (layout in audit_report_int.h); the page itself is written by
 * audit_report_html.c. */
#include "signer/audit/audit_report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/json.h"
#include "signer/audit/audit_writer.h"
#include "signer/audit/audit_format.h"
#include "signer/audit/audit_report_int.h"
#include "signer/audit/audit_segments.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long
days_from_civil(long y, unsigned m, unsigned d)
{
    long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static unsigned
digits(const char *s, int n)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return UINT_MAX;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v;
}

/* The UTC day of a ts "YYYY-MM-DD…"; 0 if it does not start with a real date. */
static int
ts_day(const char *ts, long *day)
{
    static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, m, d;

    if (ts == NULL || strlen(ts) < 10 || ts[4] != '-' || ts[7] != '-')
        return 0;
    y = digits(ts, 4);
    m = digits(ts + 5, 2);
    d = digits(ts + 8, 2);
    if (y == UINT_MAX || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    if (m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)))
        return 0;
    *day = days_from_civil((long)y, m, d);
    return 1;
}

static void
day_add(struct ar_stats *st, const char *ts, enum ar_outcome o)
{
    size_t lo = 0, hi = st->ndays, mid;
    long day;

    if (!ts_day(ts, &day)) {
        st->undated.n[o]++;
        return;
    }
    /* Logs are in time order: the last day is nearly always the one. */
    if (st->ndays > 0 && st->days[st->ndays - 1].day <= day)
        lo = st->days[st->ndays - 1].day == day ? st->ndays - 1 : st->ndays;
    else
        while (lo < hi) {
            mid = lo + (hi - lo) / 2;
            if (st->days[mid].day < day)
                lo = mid + 1;
            else
                hi = mid;
        }
    if (lo < st->ndays && st->days[lo].day == day) {
        st->days[lo].c.n[o]++;
        return;
    }
    if (st->ndays == AR_MAX_DAYS) {
        st->days_more.n[o]++;
        return;
    }
    memmove(&st->days[lo + 1], &st->days[lo], (st->ndays - lo) * sizeof(st->days[0]));
    memset(&st->days[lo], 0, sizeof(st->days[0]));
    st->days[lo].day = day;
    st->days[lo].c.n[o]++;
    st->ndays++;
}

static uint64_t
fnv1a(const char *s, size_t len, int cut)
{
    uint64_t h = 14695981039346656037ULL;
    size_t i;

    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h ^ (uint64_t)cut;
}

/* Counts one request under s (len bytes, not NUL-terminated); a longer key than AR_KEY_MAX is
 * cut at a UTF-8 character boundary and kept apart from an equal short key. */
static void
table_add(struct ar_table *t, const char *s, size_t len, enum ar_outcome o)
{
    int cut = len > AR_KEY_MAX;
    size_t i;
    struct ar_key *k;

    if (cut)
        for (len = AR_KEY_MAX; len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80; len--)
            ;
    for (i = fnv1a(s, len, cut) & (AR_HASH_SLOTS - 1); t->slot[i] != 0;
         i = (i + 1) & (AR_HASH_SLOTS - 1)) {
        k = &t->keys[t->slot[i] - 1];
        if (k->cut == cut && strlen(k->s) == len && memcmp(k->s, s, len) == 0) {
            k->c.n[o]++;
            return;
        }
    }
    if (t->nkeys == AR_MAX_KEYS) {
        t->more.n[o]++;
        return;
    }
    k = &t->keys[t->nkeys++];
    memcpy(k->s, s, len);
    k->s[len] = '\0';
    k->cut = cut;
    k->c.n[o]++;
    t->slot[i] = (unsigned short)t->nkeys;
}

/* A string member counts under its value; absent, empty or of another type, under "not set". */
static void
table_member(struct ar_table *t, json_t *obj, const char *name, enum ar_outcome o)
{
    json_t *v = json_object_get(obj, name);

    if (json_is_string(v) && json_string_length(v) > 0)
        table_add(t, json_string_value(v), json_string_length(v), o);
    else
        t->none.n[o]++;
}

/* A request for "a b" counts once under a and once under b. */
static void
table_scopes(struct ar_table *t, json_t *claims, enum ar_outcome o)
{
    json_t *v = json_object_get(claims, "scope");
    const char *s = json_string_value(v), *end, *sp;
    int any = 0;

    for (end = s + json_string_length(v); s != NULL && s < end; s = sp + 1) {
        if ((sp = memchr(s, ' ', (size_t)(end - s))) == NULL)
            sp = end;
        if (sp > s) {
            table_add(t, s, (size_t)(sp - s), o);
            any = 1;
        }
    }
    if (!any)
        t->none.n[o]++;
}

/* The caller's key is "UID EXE": a uid has no space, so the page can split it again. */
static void
table_caller(struct ar_table *t, json_t *caller, enum ar_outcome o)
{
    json_t *uid = json_object_get(caller, "uid"), *exe = json_object_get(caller, "exe");
    const char *x = json_is_string(exe) ? json_string_value(exe) : "?";
    size_t xlen = json_is_string(exe) ? json_string_length(exe) : 1;
    char key[AR_KEY_MAX + 32];
    int n;

    if (!json_is_integer(uid) && !json_is_string(exe)) {
        t->none.n[o]++;
        return;
    }
    if (json_is_integer(uid))
        n = snprintf(key, sizeof(key), "%lld ", (long long)json_integer_value(uid));
    else
        n = snprintf(key, sizeof(key), "? ");
    /* table_add reads no more than AR_KEY_MAX + 1 bytes of a key it cuts: copy no more. */
    memcpy(key + n, x, xlen < sizeof(key) - (size_t)n ? xlen : sizeof(key) - (size_t)n);
    table_add(t, key, (size_t)n + xlen, o);
}

static enum ar_outcome
outcome_of(json_t *j)
{
    const char *o = json_string_value(json_object_get(j, "outcome"));

    if (o != NULL && strcmp(o, "granted") == 0)
        return AR_GRANTED;
    if (o != NULL && strcmp(o, "refused") == 0)
        return AR_REFUSED;
    return AR_ERROR;
}

static void
take_sign(struct ar_stats *st, json_t *j, unsigned long long line)
{
    enum ar_outcome o = outcome_of(j);
    json_t *claims = json_object_get(j, "claims");
    int suspect = !st->verified && line >= st->suspect_from;

    st->total.n[o]++;
    day_add(st, json_string_value(json_object_get(j, "ts")), o);
    table_member(&st->t[AR_T_CLIENT], j, "client_id", o);
    table_scopes(&st->t[AR_T_SCOPE], claims, o);
    table_member(&st->t[AR_T_ORG], claims, "consumer_org", o);
    table_caller(&st->t[AR_T_CALLER], json_object_get(j, "caller"), o);
    if (o != AR_GRANTED) {
        ar_refusal_row(st->spool, j, o, line, suspect);
        st->spooled++;
    }
}

static enum ar_event
event_of(const char *ev)
{
    static const char *const names[] = {"header", "start", "stop", "reload", "recovery",
        "checkpoint", "sign"};
    size_t i;

    for (i = 0; ev != NULL && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(ev, names[i]) == 0)
            return (enum ar_event)i;
    return AR_EV_OTHER;
}

static void
take_line(struct ar_stats *st, const char *p, size_t len, unsigned long long line)
{
    json_t *j = mp_json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
    const char *ts = json_string_value(json_object_get(j, "ts"));
    enum ar_event ev;

    if (!json_is_object(j)) {
        st->unreadable++;
        json_decref(j);
        return;
    }
    if (ts != NULL) {
        if (st->first_ts[0] == '\0')
            snprintf(st->first_ts, sizeof(st->first_ts), "%s", ts);
        snprintf(st->last_ts, sizeof(st->last_ts), "%s", ts);
    }
    ev = event_of(json_string_value(json_object_get(j, "event")));
    st->events[ev]++;
    if (ev == AR_EV_SIGN)
        take_sign(st, j, line);
    json_decref(j);
}

/* The lines of one segment's bytes; a line longer than AUDIT_MAX_LINE is counted unreadable, and
 * the last one may lack its "\n" (a torn tail). */
static void
scan_bytes(struct ar_stats *st, const char *buf, size_t len, EVP_MD_CTX *md)
{
    const char *p = buf, *end = buf + len, *nl;
    size_t n;

    while (p < end && !(st->verified && st->lines == st->rep->lines)) {
        nl = memchr(p, '\n', (size_t)(end - p));
        n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        st->lines++;
        if (n > AUDIT_MAX_LINE)
            st->unreadable++;
        else
            take_line(st, p, n, st->lines);
        n += nl != NULL;
        EVP_DigestUpdate(md, p, n);
        st->bytes += n;
        p += n;
    }
}

/* One pass over the segments, in order; a log that verified is read up to the lines the
 * verifier saw. Every byte read goes into the SHA-256 the page quotes. */
static enum mp_err
scan(struct ar_stats *st, struct audit_segments *s, struct mp_errmsg *e)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char h[32];
    const char *buf;
    size_t len, i;
    enum mp_err ret = MP_ERR_NOMEM;

    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        mp_errf(e, ret, "out of memory");
        goto out;
    }
    for (i = 0; i < audit_segments_count(s); i++) {
        if (st->verified && st->lines == st->rep->lines)
            break;
        if ((ret = audit_segments_read(s, i, &buf, &len, e)) != MP_OK)
            goto out;
        scan_bytes(st, buf, len, md);
        audit_segments_release(s, i);
    }
    EVP_DigestFinal_ex(md, h, NULL);
    for (i = 0; i < sizeof(h); i++)
        snprintf(st->sha256 + 2 * i, 3, "%02x", h[i]);
    ret = MP_OK;
out:
    EVP_MD_CTX_free(md);
    return ret;
}

static const char *const table_meta[AR_NTABLES][3] = {
    {"t-client_id", "Requests per client_id", "client_id"},
    {"t-scope", "Requests per scope", "scope"},
    {"t-consumer_org", "Requests per consumer_org", "consumer_org"},
    {"t-caller", "Requests per caller", "caller"},
};

static void
stats_free(struct ar_stats *st)
{
    int i;

    if (st == NULL)
        return;
    if (st->spool != NULL)
        fclose(st->spool);
    for (i = 0; i < AR_NTABLES; i++) {
        free(st->t[i].keys);
        free(st->t[i].slot);
    }
    free(st->days);
    free(st);
}

static struct ar_stats *
stats_new(void)
{
    struct ar_stats *st = calloc(1, sizeof(*st));
    int i, ok;

    if (st == NULL)
        return NULL;
    ok = (st->days = calloc(AR_MAX_DAYS, sizeof(*st->days))) != NULL &&
        (st->spool = tmpfile()) != NULL;
    for (i = 0; i < AR_NTABLES; i++) {
        st->t[i].id = table_meta[i][0];
        st->t[i].title = table_meta[i][1];
        st->t[i].column = table_meta[i][2];
        ok = ok && (st->t[i].keys = calloc(AR_MAX_KEYS, sizeof(struct ar_key))) != NULL &&
            (st->t[i].slot = calloc(AR_HASH_SLOTS, sizeof(unsigned short))) != NULL;
    }
    if (!ok) {
        stats_free(st);
        st = NULL;
    }
    return st;
}

/* Writes the page to a temporary file next to html_path and renames it into place, so a
 * reader never sees half a report and a failed run leaves no page behind. */
static enum mp_err
write_page(struct ar_stats *st, const char *html_path, struct mp_errmsg *e)
{
    char tmp[PATH_MAX];
    FILE *fp = NULL;
    int fd = -1, ok;
    enum mp_err ret = MP_ERR_IO;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", html_path, (long)getpid()) >= (int)sizeof(tmp))
        return mp_errf(e, MP_ERR_TOOBIG, "output path is too long");
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) < 0 ||
        (fp = fdopen(fd, "w")) == NULL) {
        mp_errf(e, MP_ERR_IO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    ok = ar_write_page(fp, st) == MP_OK && !ferror(fp);
    ok = fclose(fp) == 0 && ok;
    fp = NULL;
    if (!ok || rename(tmp, html_path) != 0) {
        mp_errf(e, MP_ERR_IO, "cannot write %s: %s", html_path,
            ok ? strerror(errno) : "write error");
        unlink(tmp);
        goto out;
    }
    ret = MP_OK;
out:
    if (fp != NULL) {
        fclose(fp);
        unlink(tmp);
    }
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    return ret;
}

enum mp_err
audit_report_html(struct audit_segments *s, const char *log_name, const struct audit_trust *t,
    const char *html_path, struct audit_report *rep, struct mp_errmsg *e)
{
    EVP_PKEY *pub = t != NULL ? t->pub : NULL;
    struct ar_stats *st = NULL;
    enum mp_err ret, verdict;

    memset(rep, 0, sizeof(*rep));
    if ((verdict = audit_verify_segments(s, t, rep, e)) != MP_OK && verdict != MP_ERR_CRYPTO) {
        ret = verdict;
        goto out;
    }
    if ((st = stats_new()) == NULL) {
        ret = mp_errf(e, MP_ERR_NOMEM, "out of memory");
        goto out;
    }
    st->rep = rep;
    st->verified = verdict == MP_OK;
    st->suspect_from = rep->suspect_from > 0 ? rep->suspect_from : 1;
    st->key_checked = pub != NULL;
    st->anchors_given = t != NULL ? t->nanchors : 0;
    st->log_name = log_name;
    if (pub == NULL || audit_key_sha256(pub, st->key_sha256) != MP_OK)
        st->key_sha256[0] = '\0';
    if ((ret = scan(st, s, e)) != MP_OK)
        goto out;
    if (st->verified && st->lines != rep->lines) {
        ret = mp_errf(e, MP_ERR_IO, "%s shrank while it was read (%llu lines, %llu verified)",
            log_name, st->lines, rep->lines);
        goto out;
    }
    if ((ret = write_page(st, html_path, e)) == MP_OK)
        ret = verdict;
out:
    stats_free(st);
    return ret;
}
