/* Opening the audit log: a new one gets its header; an old one has its last line checked to
 * chain to the one before it, and a torn tail kept in PATH.torn before it is cut
 * (audit_writer_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/json.h"
#include "common/log.h"
#include "common/uuid.h"
#include "signer/audit/audit_format.h"
#include "signer/audit/audit_note.h"
#include "signer/audit/audit_verify.h"
#include "signer/audit/audit_writer_int.h"

/* Room for a torn tail and the two complete lines before it, each at most a line long. */
#define TAIL_SCAN (3 * (AUDIT_MAX_LINE + 1))

enum mp_err
audit_fsync_dir(const char *path)
{
    char copy[512];
    int fd;
    enum mp_err r = MP_OK;

    snprintf(copy, sizeof(copy), "%s", path);
    if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return MP_ERR_IO;
    if (fsync(fd) != 0)
        r = MP_ERR_IO;
    close(fd);
    return r;
}

/* The line that ends just before buf[end] (which follows a "\n", or is buf[0]) starts at the
 * returned offset; *whole is 0 when it may begin before the window read from the file. */
static size_t
line_start(const unsigned char *buf, size_t end, off_t from, int *whole)
{
    size_t start;

    for (start = end - 1; start > 0 && buf[start - 1] != '\n'; start--)
        ;
    *whole = start > 0 || from == 0;
    return start;
}

/* The last complete line, buf[start, end - 1), must be a record that chains to the line above
 * it (by the verifier's own rule), or the header if it is the only line: otherwise someone
 * forged or edited it, and continuing the chain from it would vouch for it. On success the
 * chain head (a->seq, a->prev) is that line. */
static enum mp_err
tail_check(struct audit *a, const unsigned char *buf, size_t end, off_t from, struct mp_errmsg *e)
{
    const char *p = (const char *)buf;
    struct audit_report rep;
    size_t start, before;
    int whole;
    json_t *j = NULL;
    json_int_t seq = -1;
    enum mp_err r = MP_ERR_PARSE;

    start = line_start(buf, end, from, &whole);
    before = start > 0 ? line_start(buf, start, from, &whole) : 0;
    if (!whole) {
        mp_errf(e, r,
            "audit log %s: its last lines are too long to be audit records: run "
            "mp-signer audit verify %s",
            a->path, a->path);
        goto out;
    }
    j = mp_json_loadb(p + start, end - 1 - start, JSON_REJECT_DUPLICATES, NULL);
    if (j == NULL || json_unpack(j, "{s:I}", "seq", &seq) != 0 || seq < 0) {
        mp_errf(e, r,
            "audit log %s: its last line is not an audit record: run mp-signer audit "
            "verify %s",
            a->path, a->path);
        goto out;
    }
    r = MP_ERR_CRYPTO;
    if (start == 0 && audit_verify_link(NULL, 0, p, end - 1, &rep) != MP_OK) {
        mp_errf(e, r,
            "audit log %s: its only line is not the log's header: run mp-signer "
            "audit verify %s",
            a->path, a->path);
        goto out;
    }
    if (start > 0 &&
        audit_verify_link(p + before, start - 1 - before, p + start, end - 1 - start, &rep) !=
            MP_OK) {
        mp_errf(e, r,
            "audit log %s: last line (seq %lld) does not chain to the line before it: "
            "run mp-signer audit verify %s",
            a->path, (long long)seq, a->path);
        goto out;
    }
    a->seq = (unsigned long long)seq;
    audit_sha256_hex(buf + start, end - 1 - start, a->prev);
    r = MP_OK;
out:
    json_decref(j);
    return r;
}

/* Appends all of data to fd; errno set on failure. */
int
audit_write_all(int fd, const unsigned char *data, size_t len)
{
    ssize_t k;

    while (len > 0) {
        k = write(fd, data, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = ENOSPC;
            return -1;
        }
        data += k;
        len -= (size_t)k;
    }
    return 0;
}

/* Before a torn tail is cut its bytes are appended to torn (PATH.torn), durably, so the cut
 * loses nothing: they may be the start of a record someone needs. *at receives the offset in
 * torn where they begin (several crashes over time share the file). O_NOFOLLOW and the
 * regular-file check: a link planted there must not make the signer write elsewhere;
 * O_NONBLOCK: a FIFO would hang start-up. On failure torn is cut back to its old size. */
static enum mp_err
torn_keep(const char *log, const char *torn, const unsigned char *data, size_t len, off_t *at,
    struct mp_errmsg *e)
{
    const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
    const char *why = NULL;
    struct stat st;
    int fd, created = 1;
    enum mp_err r = MP_ERR_IO;

    if ((fd = open(torn, flags | O_CREAT | O_EXCL, 0600)) < 0 && errno == EEXIST) {
        created = 0;
        fd = open(torn, flags);
    }
    if (fd < 0)
        why = errno == ELOOP ? "it is a symbolic link"
            : errno == ENXIO ? "it is not a regular file" /* a FIFO or socket */
                             : strerror(errno);
    else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        why = "it is not a regular file";
    else if (audit_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        why = strerror(errno);
        if (ftruncate(fd, st.st_size) != 0)
            mp_error("audit log %s: cannot cut a partial write from %s: %s", log, torn,
                strerror(errno));
    } else if (created && audit_fsync_dir(torn) != MP_OK)
        why = "cannot sync its directory";
    if (why != NULL) {
        mp_errf(e, r, "audit log %s: cannot keep its torn tail in %s: %s; nothing was cut", log,
            torn, why);
        goto out;
    }
    *at = st.st_size;
    r = MP_OK;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

/* Cuts the bytes after the last complete line, buf[end, n), once they are kept in PATH.torn;
 * *recovery receives the line that records the cut. */
static enum mp_err
tail_cut(struct audit *a, const unsigned char *buf, size_t end, size_t n, off_t from,
    json_t **recovery, struct mp_errmsg *e)
{
    char torn[sizeof(a->path) + 8], cut_hash[65];
    off_t at = 0;
    enum mp_err r;

    if ((size_t)snprintf(torn, sizeof(torn), "%s.torn", a->path) >= sizeof(torn))
        return mp_errf(e, MP_ERR_TOOBIG, "audit log %s: path too long", a->path);
    if ((r = torn_keep(a->path, torn, buf + end, n - end, &at, e)) != MP_OK)
        return r;
    audit_sha256_hex(buf + end, n - end, cut_hash);
    *recovery = json_pack("{s:s, s:I, s:s, s:s, s:I}", "event", "recovery", "cut_bytes",
        (json_int_t)(n - end), "cut_sha256", cut_hash, "kept_in", torn, "kept_at", (json_int_t)at);
    if (*recovery == NULL || ftruncate(a->fd, from + (off_t)end) != 0 || fsync(a->fd) != 0)
        return mp_errf(e, MP_ERR_IO, "audit log %s: cannot cut its torn tail", a->path);
    mp_warn("audit log %s: cut a torn last line of %zu bytes, kept in %s at offset %lld "
            "(recorded in the log)",
        a->path, n - end, torn, (long long)at);
    a->size = from + (off_t)end;
    return MP_OK;
}

/* Reads the log's tail: checks its last complete line (the chain head it continues from),
 * then keeps and cuts anything after it. Nothing is changed unless the check passes. */
static enum mp_err
tail_recover(struct audit *a, json_t **recovery, struct mp_errmsg *e)
{
    unsigned char *buf = NULL;
    size_t n, end;
    off_t from;
    enum mp_err r = MP_ERR_NOMEM;

    from = a->size > TAIL_SCAN ? a->size - TAIL_SCAN : 0;
    n = (size_t)(a->size - from);
    if ((buf = malloc(n + 1)) == NULL)
        goto out;
    if (pread(a->fd, buf, n, from) != (ssize_t)n) {
        r = mp_errf(e, MP_ERR_IO, "audit log %s: cannot read its tail", a->path);
        goto out;
    }
    for (end = n; end > 0 && buf[end - 1] != '\n'; end--)
        ;
    if (end == 0) {
        r = mp_errf(e, MP_ERR_PARSE,
            "audit log %s: no complete line in its last %zu bytes: run mp-signer audit "
            "verify %s",
            a->path, n, a->path);
        goto out;
    }
    if ((r = tail_check(a, buf, end, from, e)) != MP_OK)
        goto out;
    if (end < n) /* a torn tail: bytes after the last newline */
        r = tail_cut(a, buf, end, n, from, recovery, e);
out:
    free(buf);
    return r;
}

/* A new log starts with its header: the random nonce makes the first prev unpredictable. */
static enum mp_err
header_write(struct audit *a, struct mp_errmsg *e)
{
    unsigned char nonce[32];
    char hex[65], why[160];
    json_t *h;
    enum mp_err r;
    size_t i;

    if (mp_random_bytes(nonce, sizeof(nonce)) != MP_OK)
        return mp_errf(e, MP_ERR_IO, "no randomness for the audit log nonce");
    for (i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", nonce[i]);
    if (a->have_cp && a->cp.origin != NULL)
        snprintf(a->origin, sizeof(a->origin), "%s", a->cp.origin);
    else
        audit_origin_default(hex, a->origin);
    if ((h = json_pack("{s:s, s:i, s:s, s:s}", "event", "header", "v", AUDIT_VERSION, "nonce", hex,
             "origin", a->origin)) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    /* The interval the verifier holds the tail to (audit verify --cert); a checkpoint later
     * commits to it through the chain. */
    if (a->have_cp &&
        (json_object_set_new(h, "checkpoint_every", json_integer(a->cp.every)) != 0 ||
            json_object_set_new(h, "checkpoint_seconds", json_integer(a->cp.seconds)) != 0)) {
        json_decref(h);
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    }
    mp_buf_reset(a->io);
    merkle_frontier_init(&a->mt);
    r = audit_line_build(a, 0, NULL, h, a->io, a->prev, &a->mt);
    json_decref(h);
    if (r == MP_OK && (r = audit_io_commit(a, why, sizeof(why))) != MP_OK)
        mp_errf(e, r, "%s", why);
    if (r == MP_OK && audit_fsync_dir(a->path) != MP_OK)
        r = mp_errf(e, MP_ERR_IO, "audit log %s: cannot sync its directory", a->path);
    a->seq = 0;
    a->seg_first = 0;
    a->seg_started = time(NULL);
    return r;
}

enum mp_err
audit_file_open(struct audit *a, const char *path, json_t **recovery, struct mp_errmsg *e)
{
    struct stat st;
    enum mp_err r;

    snprintf(a->path, sizeof(a->path), "%s", path);
    if (audit_rotate_recover(path, e) != MP_OK)
        return MP_ERR_IO;
    a->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (a->fd < 0)
        return mp_errf(e, MP_ERR_IO, "audit log %s: %s", path, strerror(errno));
    if (flock(a->fd, LOCK_EX | LOCK_NB) != 0)
        return mp_errf(e, MP_ERR_IO, "audit log %s is in use by another process", path);
    if (fstat(a->fd, &st) != 0 || !S_ISREG(st.st_mode))
        return mp_errf(e, MP_ERR_IO, "audit log %s is not a regular file", path);
    a->size = st.st_size;
    if (a->size == 0)
        return header_write(a, e);
    if ((r = tail_recover(a, recovery, e)) != MP_OK)
        return r;
    return audit_segment_scan(a, e);
}
