/* Segment rotation (audit_format.h, Segments): the live segment ends with a checkpoint, a
 * rotated name is linked to it, and the next segment, whose first line names it, replaces it
 * at the configured path; and the clean-up of a rotation a crash interrupted. */
#include <dirent.h>
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

#include "common/b64.h"
#include "common/log.h"
#include "signer/audit/audit_writer_int.h"

#define ROTATE_RETRY_SECONDS 60

int
audit_rotate_due(const struct audit *a, time_t now)
{
    if (a->broken || a->seq <= a->seg_first) /* nothing after the segment's first line */
        return 0;
    if (__atomic_load_n(&a->rotate_asked, __ATOMIC_RELAXED))
        return 1;
    if (now < a->rotate_retry)
        return 0;
    if (a->rotate_bytes > 0 && (unsigned long long)a->size >= a->rotate_bytes)
        return 1;
    return a->rotate_seconds > 0 && now - a->seg_started >= (time_t)a->rotate_seconds;
}

static enum mp_err
b64_array_add(json_t *arr, const unsigned char *h)
{
    struct mp_buf *b = mp_buf_new(64);
    enum mp_err r = MP_ERR_NOMEM;

    if (b != NULL && mp_b64_encode(b, h, MERKLE_HASH_LEN) == MP_OK &&
        json_array_append_new(arr, json_string(mp_buf_str(b))) == 0)
        r = MP_OK;
    mp_buf_free(b);
    return r;
}

/* The next segment's first line (audit_format.h, "segment"). */
static json_t *
segment_record(struct audit *a, const char *rotated_base)
{
    json_t *rec = NULL, *prev = NULL, *fr = json_array();
    unsigned int i;

    for (i = 0; fr != NULL && i < a->mt.n; i++)
        if (b64_array_add(fr, a->mt.h[i]) != MP_OK)
            goto fail;
    prev = json_pack("{s:s, s:I, s:I, s:s}", "file", rotated_base, "first_seq",
        (json_int_t)a->seg_first, "last_seq", (json_int_t)a->seq, "last_sha256", a->prev);
    if (fr == NULL || prev == NULL)
        goto fail;
    /* A segment that ends in its checkpoint repeats that tree head (without an audit key
     * there is none). */
    if (a->have_cp && a->since_cp == 0 &&
        (json_object_set_new(prev, "tree_size", json_integer((json_int_t)a->cp_size)) != 0 ||
            json_object_set_new(prev, "root", json_string(a->cp_root)) != 0))
        goto fail;
    rec = json_pack("{s:s, s:i, s:s, s:O, s:O}", "event", "segment", "v", AUDIT_VERSION, "origin",
        a->origin, "previous", prev, "frontier", fr);
    if (rec != NULL && a->have_cp &&
        (json_object_set_new(rec, "checkpoint_every", json_integer(a->cp.every)) != 0 ||
            json_object_set_new(rec, "checkpoint_seconds", json_integer(a->cp.seconds)) != 0)) {
        json_decref(rec);
        rec = NULL;
    }
fail:
    json_decref(prev);
    json_decref(fr);
    return rec;
}

/* PATH.next with the segment line (in a->io), durable and locked; -1 with errno. */
static int
next_create(const char *next)
{
    const int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
    int fd;

    if ((fd = open(next, flags, 0640)) < 0 && errno == EEXIST && unlink(next) == 0)
        fd = open(next, flags, 0640); /* a rotation of this run that failed */
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

struct rotation {
    char next[sizeof(((struct audit *)0)->path) + 8];
    char rotated[sizeof(((struct audit *)0)->path) + 32];
    const char *base; /* of rotated */
    char hash[65];
    struct merkle_frontier mt;
    int fd, linked, renamed;
};

/* Everything up to the switch; on failure what was made is taken back, and the live segment
 * goes on as it was. */
static int
rotation_prepare(struct audit *a, struct rotation *ro, const char **step)
{
    json_t *rec;
    enum mp_err r;

    *step = "cannot build the segment line";
    if ((rec = segment_record(a, ro->base)) == NULL)
        return -1;
    mp_buf_reset(a->io);
    ro->mt = a->mt;
    r = audit_line_build(a, a->seq + 1, a->prev, rec, a->io, ro->hash, &ro->mt);
    json_decref(rec);
    if (r != MP_OK)
        return -1;
    *step = "cannot create the next segment";
    if ((ro->fd = next_create(ro->next)) < 0)
        return -1;
    *step = "cannot write the next segment";
    if (audit_write_all(ro->fd, mp_buf_ptr(a->io), mp_buf_len(a->io)) != 0 ||
        fdatasync(ro->fd) != 0)
        return -1;
    /* A second name for the live segment first: at no moment is the path missing, and a crash
     * before the rename leaves PATH whole (audit_rotate_recover drops the extra name). */
    *step = "cannot link the rotated name";
    if (link(a->path, ro->rotated) != 0)
        return -1;
    ro->linked = 1;
    *step = "cannot rename the next segment into place";
    if (rename(ro->next, a->path) != 0)
        return -1;
    ro->renamed = 1;
    *step = "cannot sync the directory";
    /* Records go to the new segment only once its name is durable. */
    return audit_fsync_dir(a->path) == MP_OK ? 0 : -1;
}

static void
rotation_switch(struct audit *a, struct rotation *ro)
{
    close(a->fd);
    a->fd = ro->fd;
    a->size = (off_t)mp_buf_len(a->io);
    a->seq++;
    memcpy(a->prev, ro->hash, 65);
    a->mt = ro->mt;
    a->seg_first = a->seq;
    a->seg_started = time(NULL);
    if (a->have_cp) { /* the segment line awaits the next checkpoint */
        a->since_cp = 1;
        a->first_unprotected = a->seg_started;
    }
}

static long
us_between(const struct timespec *a, const struct timespec *b)
{
    return (long)((b->tv_sec - a->tv_sec) * 1000000L + (b->tv_nsec - a->tv_nsec) / 1000);
}

void
audit_rotate_now(struct audit *a)
{
    struct rotation ro;
    const char *step = "";
    unsigned long long first = a->seg_first, last;
    struct timespec t0, tc, t1;
    int err;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    __atomic_store_n(&a->rotate_asked, 0, __ATOMIC_RELAXED);
    memset(&ro, 0, sizeof(ro));
    ro.fd = -1;
    if (a->have_cp && a->since_cp > 0 && audit_checkpoint_write(a) != MP_OK) {
        mp_error("audit log %s not rotated: its final checkpoint could not be written", a->path);
        a->rotate_retry = time(NULL) + ROTATE_RETRY_SECONDS;
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &tc);
    last = a->seq;
    snprintf(ro.next, sizeof(ro.next), "%s.next", a->path);
    snprintf(ro.rotated, sizeof(ro.rotated), "%s.%0*llu", a->path, AUDIT_SEGMENT_DIGITS, first);
    ro.base = strrchr(ro.rotated, '/') != NULL ? strrchr(ro.rotated, '/') + 1 : ro.rotated;
    if (rotation_prepare(a, &ro, &step) == 0) {
        rotation_switch(a, &ro);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        /* Requests wait for all of it: the SRE's figure of what a rotation costs, the final
         * checkpoint (an HSM signature and a sync) apart from the switch (two syncs). */
        mp_info("audit log rotated: %s holds seq %llu..%llu, %s goes on from seq %llu "
                "(checkpoint %ld us, switch %ld us)",
            ro.rotated, first, last, a->path, a->seq, us_between(&t0, &tc), us_between(&tc, &t1));
        return;
    }
    err = errno;
    if (ro.renamed) {
        /* The new segment is in place but its name may not be durable: a crash now leaves the
         * old one at PATH and this one at PATH.next, which start-up removes. Going on is the
         * lesser harm than writing to a file no longer at PATH; the journal says so. */
        rotation_switch(a, &ro);
        mp_error("audit log %s rotated, but its directory could not be synced (%s): a crash "
                 "before the next sync may lose the records after seq %llu",
            a->path, strerror(err), last);
        return;
    }
    if (ro.fd >= 0)
        close(ro.fd);
    if (ro.linked)
        unlink(ro.rotated); /* only a second name of the live segment */
    unlink(ro.next);
    a->rotate_retry = time(NULL) + ROTATE_RETRY_SECONDS;
    mp_error("audit log %s not rotated (%s: %s); it goes on, next try in %d s", a->path, step,
        strerror(err), ROTATE_RETRY_SECONDS);
}

/* name is BASE.<AUDIT_SEGMENT_DIGITS digits>, with .gz after it when gz is set. */
static int
rotated_name(const char *name, const char *base, int gz)
{
    size_t bl = strlen(base), i;
    const char *p = name + bl + 1;

    if (strncmp(name, base, bl) != 0 || name[bl] != '.')
        return 0;
    for (i = 0; i < AUDIT_SEGMENT_DIGITS; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return strcmp(p + AUDIT_SEGMENT_DIGITS, gz ? ".gz" : "") == 0;
}

/* Drops a rotated name that is a second link to the live segment (a rotation stopped between
 * its link and its rename); *segments counts the rotated segments there. */
static enum mp_err
rotated_scan(const char *path, const struct stat *live, unsigned int *segments, struct mp_errmsg *e)
{
    char dcopy[512], bcopy[512], full[1024];
    const char *dir, *base;
    struct dirent *d;
    struct stat st;
    DIR *dh;

    snprintf(dcopy, sizeof(dcopy), "%s", path);
    snprintf(bcopy, sizeof(bcopy), "%s", path);
    dir = dirname(dcopy);
    base = basename(bcopy);
    if ((dh = opendir(dir)) == NULL)
        return mp_errf(e, MP_ERR_IO, "audit log directory %s: %s", dir, strerror(errno));
    while ((d = readdir(dh)) != NULL) {
        if (!rotated_name(d->d_name, base, 0) && !rotated_name(d->d_name, base, 1))
            continue;
        snprintf(full, sizeof(full), "%s/%s", dir, d->d_name);
        if (live != NULL && lstat(full, &st) == 0 && st.st_ino == live->st_ino &&
            st.st_dev == live->st_dev) {
            mp_warn("audit log %s: removed %s, a second name of it left by a rotation that did "
                    "not finish",
                path, full);
            unlink(full);
            continue;
        }
        (*segments)++;
    }
    closedir(dh);
    return MP_OK;
}

enum mp_err
audit_rotate_recover(const char *path, struct mp_errmsg *e)
{
    char next[600];
    struct stat st, live;
    unsigned int segments = 0;
    int have_live = lstat(path, &live) == 0;
    enum mp_err r;

    snprintf(next, sizeof(next), "%s.next", path);
    if (lstat(next, &st) == 0 && S_ISREG(st.st_mode)) {
        if (unlink(next) != 0)
            return mp_errf(e, MP_ERR_IO, "audit log %s: cannot remove %s: %s", path, next,
                strerror(errno));
        mp_warn("audit log %s: removed %s, left by a rotation that did not finish (no record "
                "had been written to it)",
            path, next);
    }
    if ((r = rotated_scan(path, have_live ? &live : NULL, &segments, e)) != MP_OK)
        return r;
    if (!have_live && segments > 0)
        return mp_errf(e, MP_ERR_IO,
            "audit log %s is missing but %u rotated segment(s) of it are beside it: restore it "
            "(a new log would start a second chain), or move the segments away to start one",
            path, segments);
    return audit_fsync_dir(path) == MP_OK
        ? MP_OK
        : mp_errf(e, MP_ERR_IO, "audit log %s: cannot sync its directory", path);
}
