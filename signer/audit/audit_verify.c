/* The offline audit log verifier: chain, checkpoints, anchors, checkpoint coverage
 * (audit_verify.h). */
#include "signer/audit/audit_verify.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/hex.h"
#include "common/json.h"
#include "common/num.h"
#include "signer/audit/audit_writer.h"
#include "signer/audit/audit_format.h"

struct vstate {
    EVP_PKEY *pub;
    const struct audit_anchor *anchors;
    size_t nanchors;
    char key_sha256[65];
    unsigned char prev_hash[32]; /* SHA-256 of the previous line */
    unsigned long long prev_seq;
    struct audit_report *rep;
    /* The checkpoint interval (header, capped) and the unprotected run of the current
     * signer run: the first and latest ts after the later of the last checkpoint and the
     * last start or recovery line (-1: none yet). */
    unsigned long long cp_every, cp_seconds;
    long long run_first_ts, last_ts;
};

static enum mp_err bad(struct vstate *v, unsigned long long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum mp_err
bad(struct vstate *v, unsigned long long line, const char *fmt, ...)
{
    va_list ap;

    v->rep->bad_line = line;
    /* A broken link at line N says line N - 1 (or N) was changed. */
    v->rep->suspect_from = line > 1 ? line - 1 : 1;
    va_start(ap, fmt);
    vsnprintf(v->rep->reason, sizeof(v->rep->reason), fmt, ap);
    va_end(ap);
    return MP_ERR_CRYPTO;
}

/* 64 lowercase hex digits into 32 bytes: the writer emits lowercase only, so "AB" is not the
 * text it wrote. */
static int
hex32(const char *s, unsigned char out[32])
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
    if (mp_parse_u64(seq, 0, ~0ULL, &v) != MP_OK || !hex32(hex, a->sha256))
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

/* Line `line` (seq line - 1) was just hashed into prev_hash: every anchor on it must match. */
static enum mp_err
anchor_check(struct vstate *v, unsigned long long line)
{
    char name[48];
    size_t i;

    for (i = 0; i < v->nanchors; i++) {
        if (v->anchors[i].seq != line - 1)
            continue;
        if (memcmp(v->anchors[i].sha256, v->prev_hash, 32) != 0) {
            anchor_name(&v->anchors[i], name);
            bad(v, line,
                "the line's SHA-256 differs from anchor %s: the log was rewritten up to here",
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
        if (v->anchors[i].seq < v->rep->lines)
            continue;
        anchor_name(&v->anchors[i], name);
        bad(v, v->rep->lines + 1,
            "the log ends at seq %llu but anchor %s shows it reached seq %llu: lines were cut "
            "off its end",
            v->rep->lines - 1, name, v->anchors[i].seq);
        v->rep->suspect_from = v->rep->lines + 1; /* what is there chains; what is gone is gone */
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

static void
header_interval(struct vstate *v, json_t *j)
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

/* Keeps the unprotected run's first and last time: a checkpoint ends it, a start or recovery
 * line (a new signer run) begins a new one. */
static void
run_track(struct vstate *v, const char *ev, size_t evlen, long long t)
{
    int restart = (evlen == 5 && memcmp(ev, "start", 5) == 0) ||
        (evlen == 8 && memcmp(ev, "recovery", 8) == 0);

    if (evlen == 10 && memcmp(ev, "checkpoint", 10) == 0) {
        v->run_first_ts = -1;
        return;
    }
    if (restart || v->run_first_ts < 0)
        v->run_first_ts = t;
    v->last_ts = t;
}

/* With the audit key: a tail longer than the writer ever leaves one means checkpoints were
 * removed (the chain rebuilt without them) or the lines after the last one were rewritten. */
static enum mp_err
coverage_check(struct vstate *v)
{
    const struct audit_report *r = v->rep;

    if (v->pub == NULL || r->lines == 0)
        return MP_OK;
    if (r->after_checkpoint > v->cp_every + AUDIT_CP_SLACK_LINES)
        return bad(v, r->lines - r->after_checkpoint + 1,
            "%llu lines %s, but this log checkpoints every %llu: checkpoints were removed or "
            "the lines after the last one rewritten (or the signer could not sign checkpoints: "
            "see its journal)",
            r->after_checkpoint,
            r->checkpoints > 0 ? "after the last checkpoint" : "and no checkpoint", v->cp_every);
    if (v->run_first_ts >= 0 &&
        v->last_ts - v->run_first_ts > (long long)(v->cp_seconds + AUDIT_CP_SLACK_SECONDS))
        return bad(v, r->lines - r->after_checkpoint + 1,
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
    const char *ev = NULL, *nonce = NULL;
    json_int_t seq = -1, ver = -1;
    unsigned char n[32];
    enum mp_err r = MP_OK;

    if (j == NULL ||
        json_unpack(j, "{s:I, s:s, s:I, s:s}", "seq", &seq, "event", &ev, "v", &ver, "nonce",
            &nonce) != 0 ||
        seq != 0 || strcmp(ev, "header") != 0)
        r = bad(v, 1, "line 1 is not the log's header (seq 0, event header)");
    else if (ver != AUDIT_VERSION)
        r = bad(v, 1, "log format version %lld, this verifier knows %d", (long long)ver,
            AUDIT_VERSION);
    else if (strlen(nonce) != 64 || !hex32(nonce, n))
        r = bad(v, 1, "the header's nonce is not 64 hex digits");
    if (r == MP_OK)
        header_interval(v, j);
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

static enum mp_err
check_checkpoint(struct vstate *v, unsigned long long line, const char *p, size_t len,
    unsigned long long seq, const char *prev)
{
    json_t *j = mp_json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
    const char *head = NULL, *alg = NULL, *key = NULL, *sig = NULL;
    json_int_t covers = -1;
    enum mp_err r = MP_OK;

    if (j == NULL ||
        json_unpack(j, "{s:I, s:s, s:s, s:s, s:s}", "covers", &covers, "head", &head, "alg", &alg,
            "key_sha256", &key, "sig", &sig) != 0)
        r = bad(v, line, "checkpoint line is malformed");
    else if ((unsigned long long)covers != seq - 1 || strcmp(head, prev) != 0)
        r = bad(v, line, "checkpoint does not cover the line before it");
    else if (strcmp(alg, "RS256") != 0)
        r = bad(v, line, "checkpoint algorithm %.16s is not RS256", alg);
    else if (v->pub != NULL && strcmp(key, v->key_sha256) != 0)
        r = bad(v, line, "checkpoint was signed by another key (key_sha256 differs from --cert)");
    else if (v->pub != NULL && sig_verify(v, covers, head, sig) != MP_OK)
        r = bad(v, line, "checkpoint signature does not verify with the audit key");
    if (r == MP_OK) {
        v->rep->checkpoints++;
        v->rep->checkpoints_verified += v->pub != NULL;
        v->rep->last_covers = (unsigned long long)covers;
        v->rep->after_checkpoint = 0;
    }
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

/* One line after the header: seq, prev, then what its event needs. */
static enum mp_err
check_line(struct vstate *v, unsigned long long line, const char *p, size_t len)
{
    const char *end = p + len, *rest, *prev, *ts, *ev;
    unsigned long long seq;
    unsigned char want[32];
    char prevhex[65];
    size_t n = 0, tslen = 0;
    long long t;

    if (!read_seq(p, end, &seq, &rest))
        return bad(v, line, "line does not start with {\"seq\":N,");
    if (seq != v->prev_seq + 1)
        return bad(v, line,
            "seq %llu follows seq %llu (a line was removed, inserted or "
            "reordered)",
            seq, v->prev_seq);
    if ((prev = fixed_str(rest, end, "prev", &n)) == NULL || n != 64 || !hex32(prev, want))
        return bad(v, line, "line has no prev hash after its seq");
    if (memcmp(want, v->prev_hash, 32) != 0)
        return bad(v, line,
            "prev does not match the SHA-256 of line %llu (a line was changed, "
            "removed, inserted or reordered)",
            line - 1);
    v->prev_seq = seq;
    rest = prev + 65;
    if (rest >= end || *rest != ',' || (ts = fixed_str(rest + 1, end, "ts", &tslen)) == NULL)
        return bad(v, line, "line has no ts after its prev");
    rest = ts + tslen + 1;
    if (rest >= end || *rest != ',' || (ev = fixed_str(rest + 1, end, "event", &n)) == NULL)
        return bad(v, line, "line has no event after its ts");
    rest = ev + n + 1;
    if ((t = ts_seconds(ts, tslen)) < 0)
        return bad(v, line, "line's ts is not YYYY-MM-DDTHH:MM:SS.uuuuuuZ");
    run_track(v, ev, n, t);
    if (n == 4 && memcmp(ev, "sign", 4) == 0 && rest < end && *rest == ',')
        count_outcome(v, rest + 1, end);
    v->rep->after_checkpoint++;
    if (n == 10 && memcmp(ev, "checkpoint", 10) == 0) {
        memcpy(prevhex, prev, 64);
        prevhex[64] = '\0';
        return check_checkpoint(v, line, p, len, seq, prevhex);
    }
    return MP_OK;
}

static enum mp_err
verify_bytes(struct vstate *v, const char *buf, size_t size)
{
    const char *p = buf, *nl;
    unsigned long long line = 0;
    size_t len;
    unsigned int mdlen;
    enum mp_err r;

    if (size == 0)
        return bad(v, 1, "the log is empty (not even its header)");
    while ((size_t)(p - buf) < size) {
        line++;
        nl = memchr(p, '\n', size - (size_t)(p - buf));
        if (nl == NULL)
            return bad(v, line, "line is incomplete (no newline): the log was truncated or torn");
        len = (size_t)(nl - p);
        if (len > AUDIT_MAX_LINE)
            return bad(v, line, "line is longer than %d bytes", AUDIT_MAX_LINE);
        r = line == 1 ? check_header(v, p, len) : check_line(v, line, p, len);
        if (r != MP_OK)
            return r;
        EVP_Digest(p, len, v->prev_hash, &mdlen, EVP_sha256(), NULL);
        if ((r = anchor_check(v, line)) != MP_OK)
            return r;
        v->rep->lines = line;
        p = nl + 1;
    }
    if ((r = anchors_reached(v)) != MP_OK)
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
    v->cp_every = AUDIT_CP_EVERY_MAX;
    v->cp_seconds = AUDIT_CP_SECONDS_MAX;
    v->run_first_ts = -1;
    if (t == NULL)
        return MP_OK;
    v->pub = t->pub;
    v->anchors = t->anchors;
    v->nanchors = t->nanchors;
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
    if (len > AUDIT_MAX_LINE || blen > AUDIT_MAX_LINE)
        return bad(&v, 2, "line is longer than %d bytes", AUDIT_MAX_LINE);
    if (before == NULL)
        return check_header(&v, line, len);
    /* Only before's seq and hash matter here: the lines above it are the verifier's job. */
    if (!read_seq(before, before + blen, &v.prev_seq, &rest))
        return bad(&v, 1, "line does not start with {\"seq\":N,");
    EVP_Digest(before, blen, v.prev_hash, &mdlen, EVP_sha256(), NULL);
    return check_line(&v, 2, line, len);
}

enum mp_err
audit_verify_buffer(const char *buf, size_t len, const struct audit_trust *t,
    struct audit_report *out, struct mp_errmsg *e)
{
    struct vstate v;
    enum mp_err r;

    if ((r = vstate_init(&v, t, out, e)) != MP_OK)
        return r;
    return verify_bytes(&v, buf, len);
}

enum mp_err
audit_verify_file(const char *path, const struct audit_trust *t, struct audit_report *out,
    struct mp_errmsg *e)
{
    struct vstate v;
    struct stat st;
    void *map = MAP_FAILED;
    int fd;
    enum mp_err r;

    if ((r = vstate_init(&v, t, out, e)) != MP_OK)
        return r;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return mp_errf(e, MP_ERR_IO, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mp_errf(e, MP_ERR_IO, "%s is not a regular file", path);
    }
    if (st.st_size > 0 &&
        (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        close(fd);
        return mp_errf(e, MP_ERR_IO, "%s: %s", path, strerror(errno));
    }
    close(fd);
    if (map != MAP_FAILED)
        madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    r = verify_bytes(&v, map != MAP_FAILED ? map : "", (size_t)st.st_size);
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    return r;
}
