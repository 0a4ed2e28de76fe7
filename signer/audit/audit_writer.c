/* The audit log writer: group commit of hash-chained lines and signed checkpoints; opening
 * the file is audit_file.c. */
#include "signer/audit/audit_writer_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "signer/audit/audit_format.h"
#include "signer/audit/audit_note.h"
#include "signer/audit/audit_relay.h"

#define BATCH_MAX 256

void
audit_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0, i;

    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

enum mp_err
audit_key_sha256(EVP_PKEY *pub, char out[65])
{
    unsigned char *der = NULL;
    int len;

    if ((len = i2d_PUBKEY(pub, &der)) <= 0) {
        ERR_clear_error();
        return MP_ERR_CRYPTO;
    }
    audit_sha256_hex(der, (size_t)len, out);
    OPENSSL_free(der);
    return MP_OK;
}

void
audit_timestamp(char out[32])
{
    struct timeval tv;
    struct tm tm;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
}

/* Serialises one line: {"seq":N,"prev":H,"ts":T, <rec members>}\n, appended to io. */
enum mp_err
audit_line_build(struct audit *a, unsigned long long seq, const char *prev, json_t *rec,
    struct mp_buf *io, char hash[65], struct merkle_frontier *mt)
{
    unsigned char leaf[MERKLE_HASH_LEN];
    char ts[32];
    char *body;
    size_t start = mp_buf_len(io), blen;
    enum mp_err r;

    audit_timestamp(ts);
    if ((body = mp_json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL)
        return MP_ERR_NOMEM;
    blen = strlen(body);
    if (prev != NULL)
        r = mp_buf_putf(io, "{\"seq\":%llu,\"prev\":\"%s\",\"ts\":\"%s\"%s%s\n", seq, prev, ts,
            blen > 2 ? "," : "}", blen > 2 ? body + 1 : "");
    else
        r = mp_buf_putf(io, "{\"seq\":%llu,\"ts\":\"%s\"%s%s\n", seq, ts, blen > 2 ? "," : "}",
            blen > 2 ? body + 1 : "");
    free(body);
    (void)a;
    if (r != MP_OK)
        return r;
    if (mp_buf_len(io) - start - 1 > AUDIT_MAX_LINE)
        return MP_ERR_TOOBIG;
    audit_sha256_hex(mp_buf_ptr(io) + start, mp_buf_len(io) - start - 1, hash);
    if (mt != NULL) {
        if (merkle_leaf_hash(mp_buf_ptr(io) + start, mp_buf_len(io) - start - 1, leaf) != MP_OK)
            return MP_ERR_NOMEM;
        merkle_frontier_push(mt, leaf);
    }
    return MP_OK;
}

static void why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A refusal's reason; one cut to fit ends in '~' (its start names the problem). */
static void
why_set(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    if (n >= (int)whylen)
        why[whylen - 2] = '~';
}

/* The file must be as this writer left it. After logrotate's copytruncate, or another
 * program's write, our lines would land after a hole or over its bytes, and cutting back to
 * our size would destroy what is there: refuse until a restart reads the file afresh. */
static enum mp_err
file_unchanged(struct audit *a, char *why, size_t whylen)
{
    struct stat st;

    if (fstat(a->fd, &st) != 0)
        why_set(why, whylen, "audit log %s cannot be checked: %s", a->path, strerror(errno));
    else if (st.st_size != a->size)
        why_set(why, whylen,
            "audit log %s is %lld bytes, not the %lld it wrote: truncated or written by "
            "another program; restart the signer",
            a->path, (long long)st.st_size, (long long)a->size);
    else
        return MP_OK;
    return MP_ERR_IO;
}

/* write + fdatasync of io at the durable end; on any failure the file is cut back so no
 * partial line stays behind, and the chain state is not advanced. Never retries a failed
 * fdatasync on the same pages: the bytes are cut and written again by a later batch. */
enum mp_err
audit_io_commit(struct audit *a, char *why, size_t whylen)
{
    const unsigned char *p = mp_buf_ptr(a->io);
    size_t left = mp_buf_len(a->io);
    ssize_t k;
    int err = 0;

    if (file_unchanged(a, why, whylen) != MP_OK)
        return MP_ERR_IO;
    while (left > 0) {
        k = pwrite(a->fd, p, left, a->size + (off_t)(p - mp_buf_ptr(a->io)));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            err = k < 0 ? errno : ENOSPC;
            goto out;
        }
        p += k;
        left -= (size_t)k;
    }
    if (fdatasync(a->fd) != 0)
        err = errno;
out:
    if (err == 0) {
        a->size += (off_t)mp_buf_len(a->io);
        return MP_OK;
    }
    why_set(why, whylen, "audit log %s not writable: %s", a->path, strerror(err));
    if (ftruncate(a->fd, a->size) != 0)
        mp_error("audit log %s: cannot cut a partial write: %s", a->path, strerror(errno));
    return MP_ERR_IO;
}

/* Builds the lines of a batch; on success the tentative chain head is returned in seq/prev and
 * the tree in mt. */
static enum mp_err
batch_build(struct audit *a, struct audit_wait *batch, unsigned long long *seq, char prev[65],
    struct merkle_frontier *mt)
{
    struct audit_wait *w;
    char hash[65];
    enum mp_err r;

    mp_buf_reset(a->io);
    *seq = a->seq;
    memcpy(prev, a->prev, 65);
    *mt = a->mt;
    for (w = batch; w != NULL; w = w->next) {
        if ((r = audit_line_build(a, *seq + 1, prev, w->rec, a->io, hash, mt)) != MP_OK)
            return r;
        (*seq)++;
        memcpy(prev, hash, 65);
    }
    return MP_OK;
}

static void
batch_finish(struct audit *a, struct audit_wait *batch, size_t n, enum mp_err r, const char *why)
{
    struct audit_wait *w, *next;

    pthread_mutex_lock(&a->mu);
    if (r == MP_OK) {
        a->nlines += n;
        a->nsyncs++;
    }
    for (w = batch; w != NULL; w = next) {
        next = w->next;
        w->result = r;
        snprintf(w->why, sizeof(w->why), "%s", why);
        w->done = 1;
        if (w->cv != NULL)
            pthread_cond_signal(w->cv);
    }
    pthread_mutex_unlock(&a->mu);
}

static void
batch_write(struct audit *a, struct audit_wait *batch, size_t n)
{
    unsigned long long seq;
    char prev[65], why[160] = "";
    struct merkle_frontier mt;
    enum mp_err r;

    if ((r = batch_build(a, batch, &seq, prev, &mt)) != MP_OK)
        snprintf(why, sizeof(why), "audit record cannot be encoded: %s", mp_strerror(r));
    else if ((r = audit_io_commit(a, why, sizeof(why))) == MP_OK) {
        a->seq = seq;
        memcpy(a->prev, prev, 65);
        a->mt = mt;
        if (a->since_cp == 0)
            a->first_unprotected = time(NULL);
        a->since_cp += (unsigned int)n;
    }
    if (r != MP_OK && !a->broken)
        mp_error("%s: refusing to sign until it can be written", why);
    if (r == MP_OK && a->broken)
        mp_info("audit log %s writable again: signing resumes", a->path);
    a->broken = r != MP_OK;
    batch_finish(a, batch, n, r, why);
}

/* The signed note of the tree over every line on disk: *note receives it (the caller frees). */
static enum mp_err
note_sign(struct audit *a, const unsigned char root[MERKLE_HASH_LEN], struct mp_buf **note)
{
    char body[AUDIT_NOTE_BODY_MAX];
    unsigned char sig[1024];
    size_t siglen = sizeof(sig);
    struct mp_errmsg e = {{0}};
    enum mp_err r;

    if ((r = audit_note_body(a->origin, a->mt.size, root, body)) != MP_OK)
        return r;
    if ((r = a->cp.sign(a->cp.arg, body, sig, &siglen, &e)) != MP_OK) {
        mp_error("audit checkpoint not signed: %s", e.text);
        return r;
    }
    if ((*note = mp_buf_new(AUDIT_NOTE_MAX)) == NULL)
        return MP_ERR_NOMEM;
    return audit_note_assemble(body, a->origin, a->key_id, sig, siglen, *note);
}

/* A checkpoint line commits, through its signed Merkle tree head, to every line before it. */
enum mp_err
audit_checkpoint_write(struct audit *a)
{
    unsigned char root[MERKLE_HASH_LEN];
    struct mp_buf *note = NULL, *root64 = NULL;
    json_t *rec = NULL;
    struct audit_wait w;
    enum mp_err r;

    merkle_frontier_root(&a->mt, root);
    if ((r = note_sign(a, root, &note)) != MP_OK)
        goto out;
    r = MP_ERR_NOMEM;
    if ((root64 = mp_buf_new(64)) == NULL || mp_b64_encode(root64, root, sizeof(root)) != MP_OK)
        goto out;
    rec = json_pack("{s:s, s:I, s:s, s:s, s:I, s:s, s:s}", "event", "checkpoint", "covers",
        (json_int_t)a->seq, "head", a->prev, "key_sha256", a->cp.key_sha256, "tree_size",
        (json_int_t)a->mt.size, "root", mp_buf_str(root64), "note", mp_buf_str(note));
    if (rec == NULL)
        goto out;
    memset(&w, 0, sizeof(w));
    w.rec = rec;
    batch_write(a, &w, 1);
    if ((r = w.result) == MP_OK) {
        a->since_cp = 0;
        a->cp_size = a->mt.size - 1; /* the tree it signed: every line before it */
        snprintf(a->cp_root, sizeof(a->cp_root), "%s", mp_buf_str(root64));
        /* The checkpoint line's own seq and hash, for the journal: kept off the host, it lets
         * `audit verify --anchor` catch lines cut off the end of the file, which the chain
         * alone cannot. Only the writer moves seq and prev, and this thread is it. */
        mp_info("audit log %s checkpoint: anchor %llu:%s", a->path, a->seq, a->prev);
        if (a->relay != NULL)
            audit_relay_send(a->relay, mp_buf_str(note));
    }
out:
    json_decref(rec);
    mp_buf_free(note);
    mp_buf_free(root64);
    return r;
}

/* Not while the log cannot be written: the ticker would have the HSM sign, every second, a
 * checkpoint that cannot be stored. The next record that is written clears broken. */
static int
checkpoint_due(const struct audit *a, time_t now)
{
    if (!a->have_cp || a->since_cp == 0 || a->broken)
        return 0;
    return a->since_cp >= a->cp.every || now - a->first_unprotected >= (time_t)a->cp.seconds;
}

/* Takes up to BATCH_MAX queued records (called with mu held). */
static struct audit_wait *
queue_take(struct audit *a, size_t *n)
{
    struct audit_wait *batch = a->head, *w;

    *n = 0;
    if (batch == NULL)
        return NULL;
    for (*n = 1, w = batch; w->next != NULL && *n < BATCH_MAX; w = w->next)
        (*n)++;
    a->head = w->next;
    if (a->head == NULL)
        a->tail = NULL;
    w->next = NULL;
    a->nqueued -= *n;
    return batch;
}

/* Becomes the leader (called with mu held): waits for the current one to step down. */
static void
lead_acquire(struct audit *a)
{
    a->lead_waiters++;
    while (a->leader)
        pthread_cond_wait(&a->done, &a->mu);
    a->lead_waiters--;
    a->leader = 1;
}

/* Steps down (called with mu held) and wakes one successor: the oldest queued caller, whose
 * batch takes everyone queued behind it. */
static void
lead_release(struct audit *a)
{
    a->leader = 0;
    if (a->head != NULL && a->head->cv != NULL)
        pthread_cond_signal(a->head->cv);
    if (a->lead_waiters > 0)
        pthread_cond_broadcast(&a->done);
}

static int
linger_wanted(const struct audit *a)
{
    return a->wait_max_us > 0 && !a->stop &&
        __atomic_load_n(&a->expected, __ATOMIC_RELAXED) > a->wait_over && a->nqueued < BATCH_MAX;
}

/* Called with mu held after the backlog shrank or grew: a leader waiting for records it no
 * longer needs to wait for is woken. */
static void
linger_recheck(struct audit *a)
{
    if (a->lingering && !linger_wanted(a))
        pthread_cond_signal(&a->linger);
}

/* Called with mu held by a new leader: while signing is the bottleneck, waits for the records
 * under way, so that they share this batch's fdatasync. Each one ends the wait only when it
 * ends the backlog, so the wait costs one wakeup, not one per record. */
static void
lead_linger(struct audit *a)
{
    struct timespec deadline;

    if (!linger_wanted(a))
        return;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += (long)a->wait_max_us * 1000L;
    deadline.tv_sec += deadline.tv_nsec / 1000000000L;
    deadline.tv_nsec %= 1000000000L;
    a->lingering = 1;
    while (linger_wanted(a) && pthread_cond_timedwait(&a->linger, &a->mu, &deadline) == 0)
        ;
    a->lingering = 0;
}

/* Group commit without a hand-off: the first waiting caller writes and syncs everything
 * queued so far, its own record included, while the others wait; then it steps down and a
 * caller still waiting leads the next batch. */
static void
lead_write(struct audit *a)
{
    struct audit_wait *batch;
    size_t n;

    if ((batch = queue_take(a, &n)) == NULL)
        return;
    pthread_mutex_unlock(&a->mu);
    batch_write(a, batch, n);
    if (checkpoint_due(a, time(NULL)))
        audit_checkpoint_write(a);
    pthread_mutex_lock(&a->mu);
}

/* logrotate's create mode renames the log and leaves a new file at the path: the signer goes
 * on writing, durably, to the renamed file. Said once per change (called by the ticker). */
static void
path_check(struct audit *a)
{
    struct stat ps, fs;
    int moved = stat(a->path, &ps) != 0 || fstat(a->fd, &fs) != 0 || ps.st_ino != fs.st_ino ||
        ps.st_dev != fs.st_dev;

    if (moved && !a->moved)
        mp_warn("audit log %s was moved or replaced: the signer still writes to the file it "
                "opened; restart it to log at %s again",
            a->path, a->path);
    else if (!moved && a->moved)
        mp_info("audit log %s is back in place", a->path);
    a->moved = moved;
}

/* Checkpoints on time even when no request comes: every second, look. */
static void *
ticker_thread(void *arg)
{
    struct audit *a = arg;
    struct timespec deadline;

    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 1;
        pthread_cond_timedwait(&a->tick, &a->mu, &deadline);
        if (a->stop)
            break;
        pthread_mutex_unlock(&a->mu);
        path_check(a);
        pthread_mutex_lock(&a->mu);
        lead_acquire(a);
        pthread_mutex_unlock(&a->mu);
        if (checkpoint_due(a, time(NULL)))
            audit_checkpoint_write(a);
        if (audit_rotate_due(a, time(NULL)))
            audit_rotate_now(a);
        pthread_mutex_lock(&a->mu);
        lead_release(a);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static void
audit_free(struct audit *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0)
        close(a->fd);
    mp_buf_free(a->io);
    pthread_cond_destroy(&a->tick);
    pthread_cond_destroy(&a->done);
    pthread_cond_destroy(&a->linger);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static void
linger_init(struct audit *a)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&a->linger, &attr);
    pthread_condattr_destroy(&attr);
}

enum mp_err
audit_open(const char *path, const struct audit_checkpointer *cp, struct audit **out,
    struct mp_errmsg *e)
{
    struct audit *a;
    json_t *recovery = NULL;
    enum mp_err r = MP_ERR_NOMEM;

    if ((a = calloc(1, sizeof(*a))) == NULL)
        return mp_errf(e, r, "out of memory");
    a->fd = -1;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->tick, NULL);
    pthread_cond_init(&a->done, NULL);
    linger_init(a);
    if ((a->io = mp_buf_new((size_t)BATCH_MAX * (AUDIT_MAX_LINE + 1))) == NULL) {
        mp_errf(e, r, "out of memory");
        goto out;
    }
    if (cp != NULL) {
        if (cp->origin != NULL && !audit_origin_valid(cp->origin)) {
            r = mp_errf(e, MP_ERR_INVALID,
                "audit_origin must be 1..%d printable ASCII characters without spaces or '+'",
                AUDIT_ORIGIN_MAX);
            goto out;
        }
        if (cp->every < 1 || cp->every > AUDIT_CP_EVERY_MAX || cp->seconds < 1 ||
            cp->seconds > AUDIT_CP_SECONDS_MAX) {
            r = mp_errf(e, MP_ERR_INVALID, "audit checkpoint interval out of range");
            goto out;
        }
        a->cp = *cp;
        a->have_cp = 1;
    }
    if ((r = audit_file_open(a, path, &recovery, e)) != MP_OK)
        goto out;
    a->cp.origin = NULL; /* borrowed for the header only */
    a->cp.pub = NULL;
    if (a->have_cp &&
        (cp->pub == NULL || audit_note_key_id(a->origin, cp->pub, a->key_id) != MP_OK)) {
        r = mp_errf(e, MP_ERR_CRYPTO, "cannot encode the audit public key");
        goto out;
    }
    /* The last run may have ended before its checkpoint (a crash): checkpoint at the first
     * tick, so that no unprotected tail spans two runs and the verifier's bound holds. */
    if (a->have_cp && a->seq > 0) {
        a->since_cp = 1;
        a->first_unprotected = 0;
    }
    if (pthread_create(&a->ticker, NULL, ticker_thread, a) != 0) {
        r = mp_errf(e, MP_ERR_NOMEM, "cannot start the audit checkpoint timer");
        goto out;
    }
    a->started = 1;
    if (recovery != NULL && (r = audit_submit(a, recovery, e)) != MP_OK)
        goto out;
    *out = a;
    a = NULL;
out:
    json_decref(recovery);
    if (a != NULL)
        audit_close(a);
    return r;
}

/* Called with mu held: only holders of mu lower the count, so it cannot reach 0 between the
 * test and the decrement. */
static void
expected_drop(struct audit *a)
{
    if (__atomic_load_n(&a->expected, __ATOMIC_RELAXED) > 0)
        __atomic_fetch_sub(&a->expected, 1, __ATOMIC_RELAXED);
}

static enum mp_err
submit(struct audit *a, json_t *rec, int announced, struct mp_errmsg *e)
{
    struct audit_wait w;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

    memset(&w, 0, sizeof(w));
    w.rec = rec;
    w.cv = &cv;
    pthread_mutex_lock(&a->mu);
    if (announced)
        expected_drop(a);
    if (a->stop) {
        pthread_mutex_unlock(&a->mu);
        pthread_cond_destroy(&cv);
        return mp_errf(e, MP_ERR_IO, "audit log is closing");
    }
    if (a->tail != NULL)
        a->tail->next = &w;
    else
        a->head = &w;
    a->tail = &w;
    a->nqueued++;
    linger_recheck(a);
    while (!w.done) {
        if (a->leader) {
            pthread_cond_wait(&cv, &a->mu);
            continue;
        }
        a->leader = 1;
        lead_linger(a);
        lead_write(a);
        lead_release(a);
    }
    pthread_mutex_unlock(&a->mu);
    pthread_cond_destroy(&cv);
    if (w.result != MP_OK)
        return mp_errf(e, w.result, "%s", w.why);
    return MP_OK;
}

enum mp_err
audit_submit(struct audit *a, json_t *rec, struct mp_errmsg *e)
{
    return submit(a, rec, 0, e);
}

enum mp_err
audit_submit_expected(struct audit *a, json_t *rec, struct mp_errmsg *e)
{
    return submit(a, rec, 1, e);
}

void
audit_group_wait(struct audit *a, unsigned int over, unsigned int max_us)
{
    pthread_mutex_lock(&a->mu);
    a->wait_over = over;
    a->wait_max_us = max_us < 60000000 ? max_us : 60000000;
    pthread_mutex_unlock(&a->mu);
}

void
audit_expect(struct audit *a)
{
    __atomic_fetch_add(&a->expected, 1, __ATOMIC_RELAXED);
}

void
audit_expect_cancel(struct audit *a)
{
    pthread_mutex_lock(&a->mu);
    expected_drop(a);
    linger_recheck(a);
    pthread_mutex_unlock(&a->mu);
}

void
audit_rotation(struct audit *a, unsigned long long bytes, unsigned int seconds)
{
    pthread_mutex_lock(&a->mu);
    lead_acquire(a); /* the leader reads them without mu */
    a->rotate_bytes = bytes;
    a->rotate_seconds = seconds;
    lead_release(a);
    pthread_mutex_unlock(&a->mu);
}

void
audit_rotate(struct audit *a)
{
    pthread_mutex_lock(&a->mu);
    __atomic_store_n(&a->rotate_asked, 1, __ATOMIC_RELAXED);
    pthread_cond_signal(&a->tick);
    pthread_mutex_unlock(&a->mu);
}

void
audit_relay_attach(struct audit *a, struct audit_relay *relay)
{
    pthread_mutex_lock(&a->mu);
    lead_acquire(a);
    a->relay = relay;
    lead_release(a);
    pthread_mutex_unlock(&a->mu);
}

void
audit_stats(struct audit *a, unsigned long long *lines, unsigned long long *syncs)
{
    pthread_mutex_lock(&a->mu);
    *lines = a->nlines;
    *syncs = a->nsyncs;
    pthread_mutex_unlock(&a->mu);
}

int
audit_broken(struct audit *a)
{
    int b;

    pthread_mutex_lock(&a->mu);
    b = a->broken;
    pthread_mutex_unlock(&a->mu);
    return b;
}

void
audit_close(struct audit *a)
{
    if (a == NULL)
        return;
    if (a->started) {
        pthread_mutex_lock(&a->mu);
        a->stop = 1;
        pthread_cond_signal(&a->tick);
        pthread_cond_signal(&a->linger);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->ticker, NULL);
        /* New submissions are refused now; wait for the last leader, then protect the tail. */
        pthread_mutex_lock(&a->mu);
        lead_acquire(a);
        pthread_mutex_unlock(&a->mu);
        if (a->have_cp && a->since_cp > 0)
            audit_checkpoint_write(a);
        mp_info("audit log %s closed: %llu line(s) written in %llu fdatasync(s)", a->path,
            a->nlines, a->nsyncs);
    }
    audit_free(a);
}
