/* The offline audit log verifier: chain across segments, header, format-1 checkpoints,
 * anchors, checkpoint coverage (audit_verify.h; format 2 in audit_verify_tree.c). */
#include "signer/audit/audit_verify.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/hex.h"
#include "common/json.h"
#include "common/num.h"
#include "signer/audit/audit_format.h"
#include "signer/audit/audit_segments.h"
#include "signer/audit/audit_verify_int.h"
#include "signer/audit/audit_writer.h"

static enum mp_err vbad_va(struct vstate *v, const char *seg, unsigned long long line,
    unsigned long long pos, const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static enum mp_err
vbad_va(struct vstate *v, const char *seg, unsigned long long line, unsigned long long pos,
    const char *fmt, va_list ap)
{
    v->rep->bad_line = line;
    snprintf(v->rep->segment, sizeof(v->rep->segment), "%s", seg != NULL ? seg : "");
    /* A broken link at line N says line N - 1 (or N) was changed. */
    v->rep->suspect_from = pos > 1 ? pos - 1 : 1;
    vsnprintf(v->rep->reason, sizeof(v->rep->reason), fmt, ap);
    return MP_ERR_CRYPTO;
}

enum mp_err
vbad(struct vstate *v, const char *fmt, ...)
{
    va_list ap;
    enum mp_err r;

    va_start(ap, fmt);
    r = vbad_va(v, v->seg, v->seg_line, v->pos, fmt, ap);
    va_end(ap);
    return r;
}

enum mp_err
vbad_at(struct vstate *v, const char *seg, unsigned long long line, unsigned long long pos,
    const char *fmt, ...)
{
    va_list ap;
    enum mp_err r;

    va_start(ap, fmt);
    r = vbad_va(v, seg, line, pos, fmt, ap);
    va_end(ap);
    return r;
}

/* 64 lowercase hex digits into 32 bytes: the writer emits lowercase only, so "AB" is not the
 * text it wrote. */
int
vhex32(const char *s, unsigned char out[32])
{
    size_t n;

    return mp_hex_decode(s, 64, MP_HEX_LOWER, out, 32, &n) == MP_OK;
}

int
audit_anchor_parse(const char *s, struct audit_anchor *a)
{
    const char *colon = strchr(s, ':');
    char seq[21], hex[65];
    uint64_t v;
    size_t i;

    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(seq) ||
        strlen(colon + 1) != 64)
        return 0;
    memcpy(seq, s, (size_t)(colon - s));
    seq[colon - s] = '\0';
    for (i = 0; i < 64; i++) /* the log writes lowercase; a pasted anchor may not be */
        hex[i] = (char)tolower((unsigned char)colon[1 + i]);
    hex[64] = '\0';
    if (mp_parse_u64(seq, 0, ~0ULL, &v) != MP_OK || !vhex32(hex, a->sha256))
        return 0;
    a->seq = v;
    return 1;
}

/* The first 8 bytes of an anchor's hash in hex, to name it in a verdict. */
static void
anchor_name(const struct audit_anchor *a, char out[48])
{
    snprintf(out, 48, "%llu:%02x%02x%02x%02x%02x%02x%02x%02x...", a->seq, a->sha256[0],
        a->sha256[1], a->sha256[2], a->sha256[3], a->sha256[4], a->sha256[5], a->sha256[6],
        a->sha256[7]);
}

/* The line of seq prev_seq was just hashed into prev_hash: every anchor on it must match. */
static enum mp_err
anchor_check(struct vstate *v)
{
    char name[48];
    size_t i;

    for (i = 0; i < v->nanchors; i++) {
        if (v->anchors[i].seq != v->prev_seq)
            continue;
        if (memcmp(v->anchors[i].sha256, v->prev_hash, 32) != 0) {
            anchor_name(&v->anchors[i], name);
            vbad(v, "the line's SHA-256 differs from anchor %s: the log was rewritten up to here",
                name);
            v->rep->suspect_from = 1; /* a rebuilt chain may differ anywhere before */
            return MP_ERR_CRYPTO;
        }
        v->rep->anchors_matched++;
    }
    return MP_OK;
}

/* After the last line: an anchor beyond it means lines were cut off the end. */
static enum mp_err
anchors_reached(struct vstate *v)
{
    char name[48];
    size_t i;

    for (i = 0; i < v->nanchors; i++) {
        if (v->anchors[i].seq <= v->prev_seq)
            continue;
        anchor_name(&v->anchors[i], name);
        vbad_at(v, v->seg, v->seg_line + 1, v->pos + 1,
            "the log ends at seq %llu but anchor %s shows it reached seq %llu: lines were cut "
            "off its end",
            v->prev_seq, name, v->anchors[i].seq);
        v->rep->suspect_from = v->pos + 1; /* what is there chains; what is gone is gone */
        return MP_ERR_CRYPTO;
    }
    return MP_OK;
}

/* {"seq":N, … : reads N positionally; *rest points after the comma. */
static int
read_seq(const char *p, const char *end, unsigned long long *seq, const char **rest)
{
    unsigned long long v = 0;
    const char *q = p + 7;

    if (end - p < 9 || memcmp(p, "{\"seq\":", 7) != 0 || *q < '0' || *q > '9')
        return 0;
    for (; q < end && *q >= '0' && *q <= '9'; q++) {
        if (v > (~0ULL - 9) / 10)
            return 0;
        v = v * 10 + (unsigned long long)(*q - '0');
    }
    if (q >= end || *q != ',')
        return 0;
    *seq = v;
    *rest = q + 1;
    return 1;
}

/* The value of "name":"…" at p exactly (no escapes in our fixed fields); NULL if absent. */
static const char *
fixed_str(const char *p, const char *end, const char *name, size_t *len)
{
    size_t n = strlen(name);
    const char *v, *q;

    if ((size_t)(end - p) < n + 4 || p[0] != '"' || memcmp(p + 1, name, n) != 0 ||
        memcmp(p + 1 + n, "\":\"", 3) != 0)
        return NULL;
    v = p + n + 4;
    if ((q = memchr(v, '"', (size_t)(end - v))) == NULL)
        return NULL;
    *len = (size_t)(q - v);
    return v;
}

/* A header field the writer put there, or max when absent or beyond it: the header is
 * protected only once a checkpoint follows, so it is never trusted to loosen the bound. */
static unsigned long long
header_uint(json_t *j, const char *name, unsigned long long max)
{
    json_t *f = json_object_get(j, name);
    json_int_t n = json_is_integer(f) ? json_integer_value(f) : 0;

    return n >= 1 && (unsigned long long)n <= max ? (unsigned long long)n : max;
}

void
vinterval(struct vstate *v, json_t *j)
{
    v->cp_every = header_uint(j, "checkpoint_every", AUDIT_CP_EVERY_MAX);
    v->cp_seconds = header_uint(j, "checkpoint_seconds", AUDIT_CP_SECONDS_MAX);
}

/* "YYYY-MM-DDTHH:MM:SS…Z" to seconds since the epoch; -1 if it does not read so. */
static long long
ts_seconds(const char *ts, size_t n)
{
    struct tm tm;
    char buf[20];

    if (n < 20 || ts[n - 1] != 'Z')
        return -1;
    memcpy(buf, ts, 19);
    buf[19] = '\0';
    memset(&tm, 0, sizeof(tm));
    if (sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
            &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm);
}

static int
is_event(const char *ev, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(ev, name, n) == 0;
}

/* Keeps the unprotected run's first and last time: a checkpoint ends it, a start or recovery
 * line (a new signer run) begins a new one. */
static void
run_track(struct vstate *v, const char *ev, size_t evlen, long long t)
{
    int restart = is_event(ev, evlen, "start") || is_event(ev, evlen, "recovery");

    if (is_event(ev, evlen, "checkpoint")) {
        v->run_first_ts = -1;
        return;
    }
    if (restart || v->run_first_ts < 0)
        v->run_first_ts = t;
    v->last_ts = t;
}

/* One more line the last checkpoint does not cover; the first of them is kept to name it. */
static void
tail_grow(struct vstate *v)
{
    if (v->rep->after_checkpoint++ > 0)
        return;
    snprintf(v->tail_seg, sizeof(v->tail_seg), "%s", v->seg != NULL ? v->seg : "");
    v->tail_line = v->seg_line;
    v->tail_pos = v->pos;
}

/* With the audit key: a tail longer than the writer ever leaves one means checkpoints were
 * removed (the chain rebuilt without them) or the lines after the last one were rewritten. */
static enum mp_err
coverage_check(struct vstate *v)
{
    const struct audit_report *r = v->rep;

    if (v->pub == NULL || r->lines == 0 || r->after_checkpoint == 0)
        return MP_OK;
    if (r->after_checkpoint > v->cp_every + AUDIT_CP_SLACK_LINES)
        return vbad_at(v, v->tail_seg, v->tail_line, v->tail_pos,
            "%llu lines %s, but this log checkpoints every %llu: checkpoints were removed or "
            "the lines after the last one rewritten (or the signer could not sign checkpoints: "
            "see its journal)",
            r->after_checkpoint,
            r->checkpoints > 0 ? "after the last checkpoint" : "and no checkpoint", v->cp_every);
    if (v->run_first_ts >= 0 &&
        v->last_ts - v->run_first_ts > (long long)(v->cp_seconds + AUDIT_CP_SLACK_SECONDS))
        return vbad_at(v, v->tail_seg, v->tail_line, v->tail_pos,
            "the lines after the last checkpoint span %lld s of one signer run, but this log "
            "checkpoints within %llu s: checkpoints were removed or the tail rewritten (or the "
            "signer could not sign checkpoints: see its journal)",
            v->last_ts - v->run_first_ts, v->cp_seconds);
    return MP_OK;
}

static enum mp_err
check_header(struct vstate *v, const char *p, size_t len)
{
    json_t *j = mp_json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
    const char *ev = NULL, *nonce = NULL, *origin = NULL;
    char dflt[AUDIT_ORIGIN_MAX + 1];
    json_int_t seq = -1, ver = -1;
    unsigned char n[32];
    enum mp_err r = MP_OK;

    if (j == NULL ||
        json_unpack(j, "{s:I, s:s, s:I, s:s, s?s}", "seq", &seq, "event", &ev, "v", &ver, "nonce",
            &nonce, "origin", &origin) != 0 ||
        seq != 0 || strcmp(ev, "header") != 0)
        r = vbad(v, "line 1 is not the log's header (seq 0, event header)");
    else if (ver != 1 && ver != 2)
        r = vbad(v, "log format version %lld, this verifier knows 1 and 2", (long long)ver);
    else if (strlen(nonce) != 64 || !vhex32(nonce, n))
        r = vbad(v, "the header's nonce is not 64 hex digits");
    else if (ver == 2 && (origin == NULL || !audit_origin_valid(origin)))
        r = vbad(v,
            "the header's origin is missing or not 1 to %d printable characters without "
            "space or '+'",
            AUDIT_ORIGIN_MAX);
    if (r == MP_OK) {
        vinterval(v, j);
        v->format = (int)ver;
        if (ver == 1)
            audit_origin_default(nonce, dflt);
        r = vtree_origin(v, ver == 1 ? dflt : origin);
    }
    json_decref(j);
    return r;
}

static enum mp_err
sig_verify(struct vstate *v, json_int_t covers, const char *head, const char *sig)
{
    char statement[160];
    struct mp_buf *raw = mp_buf_new(2048);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = 0;

    snprintf(statement, sizeof(statement), AUDIT_STATEMENT_FMT, (unsigned long long)covers, head);
    if (raw != NULL && ctx != NULL && mp_b64url_decode(raw, sig, strlen(sig)) == MP_OK &&
        EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, v->pub) == 1)
        ok = EVP_DigestVerify(ctx, mp_buf_ptr(raw), mp_buf_len(raw),
                 (const unsigned char *)statement, strlen(statement)) == 1;
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    mp_buf_free(raw);
    return ok ? MP_OK : MP_ERR_CRYPTO;
}

/* Format 1: {"covers","head","alg","key_sha256","sig"}, signed over AUDIT_STATEMENT_FMT. */
static enum mp_err
check_cp1(struct vstate *v, json_t *j, unsigned long long seq, const char *prev)
{
    const char *head = NULL, *alg = NULL, *key = NULL, *sig = NULL;
    json_int_t covers = -1;
    enum mp_err r = MP_OK;

    if (json_unpack(j, "{s:I, s:s, s:s, s:s, s:s}", "covers", &covers, "head", &head, "alg", &alg,
            "key_sha256", &key, "sig", &sig) != 0)
        r = vbad(v, "checkpoint line is malformed");
    else if ((unsigned long long)covers != seq - 1 || strcmp(head, prev) != 0)
        r = vbad(v, "checkpoint does not cover the line before it");
    else if (v->format == 2)
        r = vbad(v, "a format-1 checkpoint (no tree head) in a format-2 log");
    else if (strcmp(alg, "RS256") != 0)
        r = vbad(v, "checkpoint algorithm %.16s is not RS256", alg);
    else if (v->pub != NULL && strcmp(key, v->key_sha256) != 0)
        r = vbad(v, "checkpoint was signed by another key (key_sha256 differs from --cert)");
    else if (v->pub != NULL && sig_verify(v, covers, head, sig) != MP_OK)
        r = vbad(v, "checkpoint signature does not verify with the audit key");
    if (r == MP_OK) {
        v->rep->checkpoints++;
        v->rep->checkpoints_verified += v->pub != NULL;
        v->rep->last_covers = (unsigned long long)covers;
        v->rep->after_checkpoint = 0;
    }
    return r;
}

static enum mp_err
check_checkpoint(struct vstate *v, const char *p, size_t len, unsigned long long seq,
    const char *prev)
{
    json_t *j = mp_json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
    enum mp_err r;

    if (j == NULL)
        r = vbad(v, "checkpoint line is malformed");
    else if (json_object_get(j, "note") != NULL)
        r = vtree_checkpoint(v, j, seq, prev);
    else
        r = check_cp1(v, j, seq, prev);
    json_decref(j);
    return r;
}

static enum mp_err
check_segment(struct vstate *v, const char *p, size_t len, unsigned long long seq, const char *prev,
    int was_cp2, int start)
{
    json_t *j = mp_json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
    enum mp_err r;

    if (j == NULL)
        r = vbad(v, "segment line is malformed");
    else
        r = vtree_segment(v, j, seq, prev, was_cp2, start);
    json_decref(j);
    return r;
}

static void
count_outcome(struct vstate *v, const char *rest, const char *end)
{
    size_t n = 0;
    const char *o = fixed_str(rest, end, "outcome", &n);

    if (o == NULL)
        return;
    if (n == 7 && memcmp(o, "granted", 7) == 0)
        v->rep->granted++;
    else if (n == 7 && memcmp(o, "refused", 7) == 0)
        v->rep->refused++;
    else
        v->rep->errors++;
}

/* What follows seq on every line but the header: prev, ts and event. */
struct vline {
    unsigned long long seq;
    const char *rest, *end, *ev;
    char prev[65];
    unsigned char prev_hash[32];
    size_t evlen;
    long long t;
};

static enum mp_err
read_prev(struct vstate *v, struct vline *l)
{
    const char *prev;
    size_t n = 0;

    if ((prev = fixed_str(l->rest, l->end, "prev", &n)) == NULL || n != 64 ||
        !vhex32(prev, l->prev_hash))
        return vbad(v, "line has no prev hash after its seq");
    memcpy(l->prev, prev, 64);
    l->prev[64] = '\0';
    l->rest = prev + 65;
    return MP_OK;
}

static enum mp_err
read_ts_event(struct vstate *v, struct vline *l)
{
    const char *rest = l->rest, *end = l->end, *ts;
    size_t tslen = 0;

    if (rest >= end || *rest != ',' || (ts = fixed_str(rest + 1, end, "ts", &tslen)) == NULL)
        return vbad(v, "line has no ts after its prev");
    rest = ts + tslen + 1;
    if (rest >= end || *rest != ',' ||
        (l->ev = fixed_str(rest + 1, end, "event", &l->evlen)) == NULL)
        return vbad(v, "line has no event after its ts");
    l->rest = l->ev + l->evlen + 1;
    if ((l->t = ts_seconds(ts, tslen)) < 0)
        return vbad(v, "line's ts is not YYYY-MM-DDTHH:MM:SS.uuuuuuZ");
    return MP_OK;
}

/* A rotated segment's name gives its first seq: a segment renamed (two swapped, one moved
 * into a gap) says otherwise inside. */
static enum mp_err
name_check(struct vstate *v, unsigned long long seq)
{
    if (v->seg_line != 1)
        return MP_OK;
    v->seg_first = seq;
    if (v->seg_has_seq && seq != v->seg_name_seq)
        return vbad(v,
            "the file name says the segment starts at seq %llu, but its first line is seq %llu "
            "(segments renamed or swapped)",
            v->seg_name_seq, seq);
    return MP_OK;
}

/* A gap or overlap between two segments. */
static enum mp_err
seq_gap(struct vstate *v, unsigned long long seq)
{
    if (v->seg_line == 1 && v->prev_seg != NULL)
        return vbad(v, "the segment starts at seq %llu, but %s before it ends at seq %llu: %s", seq,
            v->prev_seg, v->prev_seq,
            seq > v->prev_seq ? "segments between them are missing"
                              : "the segments overlap or are out of order");
    return vbad(v, "seq %llu follows seq %llu (a line was removed, inserted or reordered)", seq,
        v->prev_seq);
}

/* One line after the first: seq, prev, then what its event needs. */
static enum mp_err
check_line(struct vstate *v, const char *p, size_t len)
{
    struct vline l;
    int was_cp2 = v->last_cp2;
    enum mp_err r;

    l.end = p + len;
    v->last_cp2 = 0;
    if (!read_seq(p, l.end, &l.seq, &l.rest))
        return vbad(v, "line does not start with {\"seq\":N,");
    if ((r = name_check(v, l.seq)) != MP_OK)
        return r;
    if (l.seq != v->prev_seq + 1)
        return seq_gap(v, l.seq);
    if ((r = read_prev(v, &l)) != MP_OK)
        return r;
    if (memcmp(l.prev_hash, v->prev_hash, 32) != 0) {
        if (v->seg_line == 1 && v->prev_seg != NULL)
            return vbad(v,
                "prev does not match the SHA-256 of the last line of %s (a line was changed, "
                "removed, inserted or reordered)",
                v->prev_seg);
        return vbad(v,
            "prev does not match the SHA-256 of line %llu (a line was changed, "
            "removed, inserted or reordered)",
            v->seg_line - 1);
    }
    v->prev_seq = l.seq;
    if ((r = read_ts_event(v, &l)) != MP_OK)
        return r;
    run_track(v, l.ev, l.evlen, l.t);
    if (is_event(l.ev, l.evlen, "sign") && l.rest < l.end && *l.rest == ',')
        count_outcome(v, l.rest + 1, l.end);
    tail_grow(v);
    if (is_event(l.ev, l.evlen, "segment")) {
        if (v->seg_line != 1)
            return vbad(v, "a segment line that is not the first line of its segment");
        return check_segment(v, p, len, l.seq, l.prev, was_cp2, 0);
    }
    if (v->seg_line == 1 && v->prev_seg != NULL)
        return vbad(v,
            "the segment does not start with a segment line (every one after the "
            "first does)");
    if (is_event(l.ev, l.evlen, "checkpoint"))
        return check_checkpoint(v, p, len, l.seq, l.prev);
    return MP_OK;
}

/* The first line read: the header or, when earlier segments are not given, a segment line. */
static enum mp_err
first_line(struct vstate *v, const char *p, size_t len)
{
    struct vline l;
    enum mp_err r;

    l.end = p + len;
    if (!read_seq(p, l.end, &l.seq, &l.rest))
        return vbad(v, "line 1 is not the log's header (seq 0, event header)");
    if ((r = name_check(v, l.seq)) != MP_OK)
        return r;
    if (l.seq == 0)
        return check_header(v, p, len);
    if ((r = read_prev(v, &l)) != MP_OK || (r = read_ts_event(v, &l)) != MP_OK)
        return r;
    if (!is_event(l.ev, l.evlen, "segment"))
        return vbad(v,
            "line 1 is neither the log's header (seq 0, event header) nor a segment "
            "line");
    if (v->from_dir)
        return vbad(v, "segments before seq %llu are missing", l.seq);
    /* Taken on trust: the line before it is not here to hash. */
    memcpy(v->prev_hash, l.prev_hash, 32);
    v->prev_seq = l.seq;
    v->rep->first_seq = l.seq;
    run_track(v, l.ev, l.evlen, l.t);
    tail_grow(v);
    return check_segment(v, p, len, l.seq, l.prev, 0, 1);
}

/* The lines of one segment (v->seg). */
static enum mp_err
verify_segment(struct vstate *v, const char *buf, size_t size)
{
    const char *p = buf, *nl;
    unsigned char leaf[MERKLE_HASH_LEN];
    size_t len;
    unsigned int mdlen;
    enum mp_err r;

    v->seg_line = 0;
    if (size == 0) {
        v->seg_line = 1;
        v->pos++;
        return vbad(v,
            v->pos == 1 ? "the log is empty (not even its header)"
                        : "the segment is empty (not even its segment line)");
    }
    while ((size_t)(p - buf) < size) {
        v->seg_line++;
        v->pos++;
        nl = memchr(p, '\n', size - (size_t)(p - buf));
        if (nl == NULL)
            return vbad(v, "line is incomplete (no newline): the log was truncated or torn");
        len = (size_t)(nl - p);
        if (len > AUDIT_MAX_LINE)
            return vbad(v, "line is longer than %d bytes", AUDIT_MAX_LINE);
        r = v->pos == 1 ? first_line(v, p, len) : check_line(v, p, len);
        if (r != MP_OK)
            return r;
        EVP_Digest(p, len, v->prev_hash, &mdlen, EVP_sha256(), NULL);
        if (v->tree) {
            merkle_leaf_hash(p, len, leaf);
            merkle_frontier_push(&v->fr, leaf);
        }
        if ((r = anchor_check(v)) != MP_OK || (r = vtree_notes_at(v)) != MP_OK)
            return r;
        v->rep->lines++;
        p = nl + 1;
    }
    return MP_OK;
}

/* After the last segment: what only the whole log can show. */
static enum mp_err
verify_end(struct vstate *v, int live_missing, const char *base)
{
    enum mp_err r;

    if (live_missing)
        return vbad_at(v, base, 1, v->pos + 1,
            "the live segment %s is missing (only rotated segments are there)", base);
    if ((r = anchors_reached(v)) != MP_OK || (r = vtree_notes_end(v)) != MP_OK)
        return r;
    return coverage_check(v);
}

static enum mp_err
vstate_init(struct vstate *v, const struct audit_trust *t, struct audit_report *out,
    struct mp_errmsg *e)
{
    memset(out, 0, sizeof(*out));
    memset(v, 0, sizeof(*v));
    v->rep = out;
    v->e = e;
    v->seg = "";
    v->cp_every = AUDIT_CP_EVERY_MAX;
    v->cp_seconds = AUDIT_CP_SECONDS_MAX;
    v->run_first_ts = -1;
    v->tree = 1;
    merkle_frontier_init(&v->fr);
    if (t == NULL)
        return MP_OK;
    v->pub = t->pub;
    v->anchors = t->anchors;
    v->nanchors = t->nanchors;
    v->notes = t->notes;
    v->nnotes = t->nnotes < AUDIT_MAX_WITNESSED ? t->nnotes : AUDIT_MAX_WITNESSED;
    /* Not MP_ERR_CRYPTO: that code means "the log is bad" to callers. */
    if (t->pub != NULL && audit_key_sha256(t->pub, v->key_sha256) != MP_OK)
        return mp_errf(e, MP_ERR_INVALID, "cannot encode the audit public key");
    return MP_OK;
}

enum mp_err
audit_verify_link(const char *before, size_t blen, const char *line, size_t len,
    struct audit_report *out)
{
    struct vstate v;
    const char *rest;
    unsigned int mdlen;

    (void)vstate_init(&v, NULL, out, NULL); /* no trust: cannot fail */
    v.tree = 0;
    v.seg_line = v.pos = before != NULL ? 2 : 1;
    if (len > AUDIT_MAX_LINE || blen > AUDIT_MAX_LINE)
        return vbad(&v, "line is longer than %d bytes", AUDIT_MAX_LINE);
    if (before == NULL)
        return first_line(&v, line, len);
    /* Only before's seq and hash matter here: the lines above it are the verifier's job. */
    if (!read_seq(before, before + blen, &v.prev_seq, &rest)) {
        v.seg_line = v.pos = 1;
        return vbad(&v, "line does not start with {\"seq\":N,");
    }
    EVP_Digest(before, blen, v.prev_hash, &mdlen, EVP_sha256(), NULL);
    return check_line(&v, line, len);
}

enum mp_err
audit_verify_buffer(const char *buf, size_t len, const struct audit_trust *t,
    struct audit_report *out, struct mp_errmsg *e)
{
    struct vstate v;
    enum mp_err r;

    if ((r = vstate_init(&v, t, out, e)) != MP_OK)
        return r;
    if ((r = verify_segment(&v, buf, len)) != MP_OK)
        return r;
    out->segments = 1;
    return verify_end(&v, 0, "");
}

/* A .gz that does not inflate was damaged or tampered with: a verdict, not a read error. */
static enum mp_err
read_segment(struct vstate *v, struct audit_segments *s, size_t i, const char **buf, size_t *len)
{
    enum mp_err r = audit_segments_read(s, i, buf, len, v->e);

    if (r == MP_ERR_PARSE)
        return vbad_at(v, v->seg, 1, v->pos + 1, "%s", v->e != NULL ? v->e->text : "bad gzip");
    return r;
}

enum mp_err
audit_verify_segments(struct audit_segments *s, const struct audit_trust *t,
    struct audit_report *out, struct mp_errmsg *e)
{
    struct vstate v;
    const char *buf, *base;
    size_t len, i, n = audit_segments_count(s);
    int live;
    enum mp_err r;

    if ((r = vstate_init(&v, t, out, e)) != MP_OK)
        return r;
    v.from_dir = audit_segments_from_dir(s);
    live = audit_segments_live(s, &base);
    for (i = 0; i < n; i++) {
        v.seg = audit_segments_name(s, i);
        v.seg_has_seq = audit_segments_name_seq(s, i, &v.seg_name_seq);
        if ((r = read_segment(&v, s, i, &buf, &len)) != MP_OK)
            return r;
        r = verify_segment(&v, buf, len);
        audit_segments_release(s, i);
        if (r != MP_OK)
            return r;
        v.prev_seg = v.seg;
        v.prev_stem = audit_segments_stem(s, i);
        v.prev_seg_first = v.seg_first;
        out->segments++;
    }
    return verify_end(&v, v.from_dir && !live, base);
}

enum mp_err
audit_verify_file(const char *path, const struct audit_trust *t, struct audit_report *out,
    struct mp_errmsg *e)
{
    struct audit_segments *s = NULL;
    enum mp_err r;

    memset(out, 0, sizeof(*out));
    if ((r = audit_segments_open(&path, 1, &s, e)) == MP_OK)
        r = audit_verify_segments(s, t, out, e);
    audit_segments_free(s);
    return r;
}
