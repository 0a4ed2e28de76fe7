/* Offline verification of the audit log (format in audit_format.h). */
#ifndef MP_AUDIT_VERIFY_H
#define MP_AUDIT_VERIFY_H

#include <stddef.h>

#include <openssl/evp.h>

#include "common/err.h"

/* A line's seq and SHA-256 learned outside the file. The signer logs one for every checkpoint
 * line it writes ("anchor SEQ:HEX", that line's own seq and hash), so a journal shipped off
 * the host lets an auditor catch what the chain alone cannot: lines cut off the end of the log,
 * or the whole chain regenerated up to there. */
struct audit_anchor {
    unsigned long long seq;
    unsigned char sha256[32];
};
#define AUDIT_MAX_ANCHORS 16

/* What the auditor brings: the audit key (NULL: checkpoint signatures are not checked) and
 * anchors (the log must reach each one's seq, and that line must hash to its SHA-256). */
struct audit_trust {
    EVP_PKEY *pub;
    const struct audit_anchor *anchors;
    size_t nanchors;
};

/* Parses "SEQ:HEX" (64 hex digits) as the signer logs it; 0 if malformed. */
int audit_anchor_parse(const char *s, struct audit_anchor *a);

/* What the verifier saw: plain data for the one-line verdict. */
struct audit_report {
    unsigned long long lines;
    unsigned long long granted, refused, errors;
    unsigned long long checkpoints, checkpoints_verified;
    unsigned long long last_covers; /* seq covered by the last checkpoint */
    unsigned long long after_checkpoint; /* lines after the last checkpoint */
    unsigned long long anchors_matched;
    unsigned long long bad_line; /* 1-based; 0 when the log is good */
    unsigned long long suspect_from; /* the first line a failure casts doubt on */
    char reason[256];
};

/* Checks line 1 is the header; every later line's seq is the previous + 1 and its prev is
 * the SHA-256 of the previous line; every line ends in "\n"; each checkpoint covers the line
 * before it and, when t->pub is given, is signed by that key (key_sha256 must match too); each
 * anchor's line is present and hashes to it. t may be NULL (no key, no anchors).
 * MP_OK: good. MP_ERR_CRYPTO: bad, with bad_line and reason set. Others: could not read. */
enum mp_err audit_verify_file(const char *path, const struct audit_trust *t,
    struct audit_report *out, struct mp_errmsg *e);

/* The last link of a log, for the writer before it continues one: line (len bytes, without its
 * "\n") must follow before (blen bytes, the line above it) by the rules of audit_verify_file:
 * its seq is before's + 1, its prev is the SHA-256 of before, ts and event are in place, and a
 * checkpoint covers before (its signature is not checked). before NULL: line is the log's only
 * line and must be its header. MP_OK, or MP_ERR_CRYPTO with out->reason set (out->bad_line
 * counts before as line 1). */
enum mp_err audit_verify_link(const char *before, size_t blen, const char *line, size_t len,
    struct audit_report *out);

/* The same over bytes in memory (the fuzz target's entry). */
enum mp_err audit_verify_buffer(const char *buf, size_t len, const struct audit_trust *t,
    struct audit_report *out, struct mp_errmsg *e);

#endif
