/* Reading the live segment when the writer opens it: its origin, first seq and age, and the
 * Merkle tree over every line so far, continued from the frontier its segment line carries
 * (audit_writer_int.h). One sequential read, bounded by the rotation size. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/json.h"
#include "signer/audit/audit_note.h"
#include "signer/audit/audit_writer_int.h"

#define SCAN_CHUNK (1024 * 1024)

/* "YYYY-MM-DDTHH:MM:SS…Z" to seconds; 0 if it does not read so (then the segment counts as
 * new: rotation by age starts over rather than at once). */
static time_t
ts_parse(const char *ts)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (ts == NULL ||
        sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
            &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* A segment line's frontier: the tree over the lines before it (seq of them). */
static enum mp_err
frontier_read(json_t *list, unsigned long long seq, struct merkle_frontier *mt)
{
    unsigned char h[64][MERKLE_HASH_LEN];
    unsigned int n = 0;

    if (merkle_frontier_json(list, h, &n) != MP_OK)
        return MP_ERR_PARSE;
    return merkle_frontier_set(mt, seq, (const unsigned char(*)[MERKLE_HASH_LEN])h, n);
}

/* The segment's first line: a header (seq 0, the tree starts empty) or a segment line. */
static enum mp_err
first_line(struct audit *a, const char *p, size_t len, struct mp_errmsg *e)
{
    json_t *j = mp_json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
    const char *ev = NULL, *origin = NULL, *nonce = NULL, *ts = NULL;
    json_int_t seq = -1;
    enum mp_err r = MP_ERR_PARSE;

    if (j == NULL ||
        json_unpack(j, "{s:I, s:s, s:s, s?s, s?s}", "seq", &seq, "ts", &ts, "event", &ev, "origin",
            &origin, "nonce", &nonce) != 0 ||
        seq < 0)
        goto bad;
    a->seg_first = (unsigned long long)seq;
    a->seg_started = ts_parse(ts);
    merkle_frontier_init(&a->mt);
    if (strcmp(ev, "header") == 0 && seq == 0 && (origin != NULL || nonce != NULL))
        r = MP_OK;
    else if (strcmp(ev, "segment") == 0 && origin != NULL)
        r = frontier_read(json_object_get(j, "frontier"), (unsigned long long)seq, &a->mt);
    if (r != MP_OK)
        goto bad;
    if (origin != NULL && !audit_origin_valid(origin)) {
        r = MP_ERR_PARSE;
        goto bad;
    }
    if (origin != NULL)
        snprintf(a->origin, sizeof(a->origin), "%s", origin);
    else
        audit_origin_default(nonce, a->origin);
    json_decref(j);
    return MP_OK;
bad:
    json_decref(j);
    return mp_errf(e, r,
        "audit log %s: its first line is neither a header nor a segment line: run "
        "mp-signer audit verify %s",
        a->path, a->path);
}

/* Hashes the whole lines in buf[0, n) into the tree; returns the bytes used. */
static size_t
lines_push(struct audit *a, const char *buf, size_t n, int *first, struct mp_errmsg *e,
    enum mp_err *r)
{
    unsigned char leaf[MERKLE_HASH_LEN];
    const char *p = buf, *nl;

    while ((nl = memchr(p, '\n', n - (size_t)(p - buf))) != NULL) {
        if (*first && (*r = first_line(a, p, (size_t)(nl - p), e)) != MP_OK)
            return 0;
        *first = 0;
        if ((*r = merkle_leaf_hash(p, (size_t)(nl - p), leaf)) != MP_OK) {
            mp_errf(e, *r, "out of memory");
            return 0;
        }
        merkle_frontier_push(&a->mt, leaf);
        p = nl + 1;
    }
    return (size_t)(p - buf);
}

enum mp_err
audit_segment_scan(struct audit *a, struct mp_errmsg *e)
{
    char *buf = malloc(SCAN_CHUNK + AUDIT_MAX_LINE + 2);
    size_t have = 0, used;
    off_t at = 0;
    ssize_t k;
    int first = 1;
    enum mp_err r = MP_OK;

    if (buf == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    while (at < a->size) {
        k = pread(a->fd, buf + have, SCAN_CHUNK, at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            r = mp_errf(e, MP_ERR_IO, "audit log %s: cannot read it: %s", a->path,
                k < 0 ? strerror(errno) : "it got shorter");
            goto out;
        }
        at += k;
        have += (size_t)k;
        used = lines_push(a, buf, have, &first, e, &r);
        if (r != MP_OK)
            goto out;
        memmove(buf, buf + used, have - used);
        have -= used;
        if (have > AUDIT_MAX_LINE + 1) {
            r = mp_errf(e, MP_ERR_PARSE, "audit log %s: a line is longer than %d bytes", a->path,
                AUDIT_MAX_LINE);
            goto out;
        }
    }
    /* The tail check saw seq go up by one per line at the end; the count must agree. */
    if (have != 0 || a->mt.size != a->seq + 1)
        r = mp_errf(e, MP_ERR_PARSE,
            "audit log %s: its lines do not run from seq %llu to seq %llu: run mp-signer audit "
            "verify %s",
            a->path, a->seg_first, a->seq, a->path);
out:
    free(buf);
    return r;
}
