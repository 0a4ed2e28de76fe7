/* The audit writer: appends records to the hash-chained log (audit_format.h) and makes them
 * durable in groups (one write + one fdatasync per batch, done by the first waiting caller for
 * everyone queued), then releases every caller of the batch. A JWS is handed out only after
 * audit_submit() returned MP_OK for it. */
#ifndef MP_AUDIT_WRITER_H
#define MP_AUDIT_WRITER_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/err.h"

struct audit;
struct audit_relay;

/* Signs the checkpoint statement inside the token: sig receives the raw RSA signature. */
typedef enum mp_err (*audit_sign_fn)(void *arg, const char *statement, unsigned char *sig,
    size_t *siglen, struct mp_errmsg *e);

struct audit_checkpointer {
    audit_sign_fn sign;
    void *arg;
    char key_sha256[65]; /* hex SHA-256 of the audit key's SubjectPublicKeyInfo */
    unsigned int every; /* records between checkpoints */
    unsigned int seconds; /* and at most this long with unprotected records */
    /* The origin (and key name) of a new log's checkpoint notes, or NULL for
     * AUDIT_ORIGIN_DEFAULT and the nonce; a log already there keeps its own. */
    const char *origin;
    EVP_PKEY *pub; /* the audit public key, for the notes' key ID (read in audit_open only) */
};

/* Opens (creating it with a header line if new, mode 0640) and locks the log; cuts a torn tail
 * and records the cut; starts the writer thread. cp may be NULL (no checkpoints). */
enum mp_err audit_open(const char *path, const struct audit_checkpointer *cp, struct audit **out,
    struct mp_errmsg *e);

/* Appends rec (fields after seq/prev/ts, in order; the caller keeps its reference) and waits
 * until it is on disk. MP_ERR_IO with the reason when the log cannot be written: the caller
 * must then refuse (fail closed). Later submissions retry the log. */
enum mp_err audit_submit(struct audit *a, json_t *rec, struct mp_errmsg *e);

/* Group commit can wait for records it knows are coming. A caller that starts a signature
 * announces its record with audit_expect(), then hands it in with audit_submit_expected() or
 * withdraws it with audit_expect_cancel(). While more than `over` records are announced (more
 * signatures under way than workers to sign them: signing, not the log, is the bottleneck),
 * the caller that writes the next batch first waits up to max_us for them, so that one
 * fdatasync covers more lines. With `over` or fewer under way nobody waits: a lone caller's
 * latency is untouched. max_us 0 (the default) turns waiting off. */
void audit_group_wait(struct audit *a, unsigned int over, unsigned int max_us);
void audit_expect(struct audit *a);
void audit_expect_cancel(struct audit *a);
enum mp_err audit_submit_expected(struct audit *a, json_t *rec, struct mp_errmsg *e);

/* Rotation (audit_format.h, Segments): the live segment is ended with a checkpoint and the next
 * one started once it holds at least bytes (0: never), or its first line is seconds old (0:
 * never), or audit_rotate() asked. Done by the checkpoint timer, within a second; requests
 * meanwhile wait, none is refused. */
void audit_rotation(struct audit *a, unsigned long long bytes, unsigned int seconds);
void audit_rotate(struct audit *a);
/* Every signed checkpoint note, once durable, is also handed to relay (audit_relay.h). */
void audit_relay_attach(struct audit *a, struct audit_relay *relay);

/* Lines this process made durable, and the fdatasyncs it took: their ratio is the group
 * commit's batch size. */
void audit_stats(struct audit *a, unsigned long long *lines, unsigned long long *syncs);

/* True while the last write or sync failed (for readiness and logs). */
int audit_broken(struct audit *a);

/* Writes a checkpoint now (if any record is unprotected), then stops the writer and closes. */
void audit_close(struct audit *a);

/* Lowercase hex of SHA-256 over data: 64 characters and a NUL. */
void audit_sha256_hex(const void *data, size_t len, char out[65]);
/* The audit key's name in checkpoints (key_sha256): audit_sha256_hex of its DER
 * SubjectPublicKeyInfo. MP_ERR_CRYPTO if the key cannot be encoded. */
enum mp_err audit_key_sha256(EVP_PKEY *pub, char out[65]);
/* UTC "YYYY-MM-DDTHH:MM:SS.uuuuuuZ". */
void audit_timestamp(char out[32]);

#endif
