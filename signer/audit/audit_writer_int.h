/* The audit writer's internals, shared by audit_writer.c (group commit, checkpoints) and
 * audit_file.c (opening the file: header, torn-tail repair, the last line's check). */
#ifndef MP_AUDIT_WRITER_INT_H
#define MP_AUDIT_WRITER_INT_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "common/buf.h"
#include "signer/audit/audit_format.h"
#include "signer/audit/audit_merkle.h"
#include "signer/audit/audit_writer.h"

/* One caller waiting for its record to be durable. Each sleeps on its own condition: with
 * one shared condition every finished batch woke every caller, most of them to sleep again. */
struct audit_wait {
    json_t *rec;
    int done;
    enum mp_err result;
    char why[160];
    pthread_cond_t *cv; /* NULL for a record the leader writes itself (checkpoints) */
    struct audit_wait *next;
};

struct audit {
    int fd;
    char path[512];
    pthread_t ticker;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t tick; /* wakes the ticker early on close */
    pthread_cond_t done; /* the leader stepped down, for lead_acquire (ticker, close) */
    unsigned int lead_waiters; /* threads in lead_acquire */
    struct audit_wait *head, *tail;
    size_t nqueued;
    /* Waiting for announced records (audit_group_wait). */
    pthread_cond_t linger; /* CLOCK_MONOTONIC */
    /* Announced, not yet submitted. Raised without mu (an announcement only makes waiting more
     * wanted, so nobody needs waking for it); lowered and read under mu. */
    unsigned int expected;
    unsigned int wait_over;
    unsigned int wait_max_us; /* 0: never wait */
    int lingering;
    int leader; /* a caller is writing: only the leader touches the chain state */
    int stop;
    int broken;
    int moved; /* the path no longer names our file (ticker-only) */
    /* Leader-only state: the chain as it is on disk. */
    unsigned long long seq; /* seq of the last line on disk */
    char prev[65]; /* SHA-256 of the last line on disk */
    off_t size; /* bytes known durable */
    struct merkle_frontier mt; /* the tree over every line on disk, all segments */
    char origin[AUDIT_ORIGIN_MAX + 1];
    unsigned char key_id[4]; /* the audit key's in notes under origin */
    unsigned long long seg_first; /* seq of the live segment's first line */
    time_t seg_started; /* its first line's ts */
    /* Rotation (audit_rotate.c): asked for by audit_rotate() (under mu), or due by size or age;
     * done by the ticker. */
    unsigned long long rotate_bytes;
    unsigned int rotate_seconds;
    int rotate_asked;
    time_t rotate_retry; /* after a failed rotation, not before */
    struct audit_relay *relay; /* checkpoints shipped off the host, or NULL */
    unsigned long long cp_size; /* the tree head of the last checkpoint written */
    char cp_root[48];
    struct audit_checkpointer cp;
    int have_cp;
    unsigned int since_cp; /* records after the last checkpoint */
    unsigned long long nlines, nsyncs; /* written by this process (under mu) */
    time_t first_unprotected;
    struct mp_buf *io;
};

/* Serialises one line {"seq":N,"prev":H,"ts":T, <rec members>}\n onto io; hash receives its
 * SHA-256 (hex) and, when mt is not NULL, its leaf is pushed onto mt. */
enum mp_err audit_line_build(struct audit *a, unsigned long long seq, const char *prev, json_t *rec,
    struct mp_buf *io, char hash[65], struct merkle_frontier *mt);
/* write + fdatasync of a->io at the durable end; cut back on failure (why says why). */
enum mp_err audit_io_commit(struct audit *a, char *why, size_t whylen);
/* Opens and locks path: a new log gets its header, an old one its tail checked and any torn
 * tail kept in PATH.torn and cut (*recovery: the record of the cut, or NULL). */
enum mp_err audit_file_open(struct audit *a, const char *path, json_t **recovery,
    struct mp_errmsg *e);
/* Writes all of data to fd (at its offset); -1 with errno set, ENOSPC for a write of 0. */
int audit_write_all(int fd, const unsigned char *data, size_t len);
/* fsync of the directory holding path. */
enum mp_err audit_fsync_dir(const char *path);
/* A checkpoint of every line on disk (the writer's leader only). */
enum mp_err audit_checkpoint_write(struct audit *a);

/* Rotation (audit_rotate.c), by the leader: due now? Then end the live segment with a
 * checkpoint and start the next one. */
int audit_rotate_due(const struct audit *a, time_t now);
void audit_rotate_now(struct audit *a);
/* At start-up, before the live segment is read: a PATH.next left by a rotation that did not
 * finish is removed, as is a rotated name that is a second link to the live segment. A
 * missing PATH with rotated segments beside it is an error. */
enum mp_err audit_rotate_recover(const char *path, struct mp_errmsg *e);
/* The live segment's first line (header or segment line) and every line after it: sets
 * origin, seg_first, seg_started and mt (audit_file.c). */
enum mp_err audit_segment_scan(struct audit *a, struct mp_errmsg *e);

#endif
