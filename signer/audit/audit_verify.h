/* Offline verification of the audit log (format in audit_format.h). */
#ifndef MP_AUDIT_VERIFY_H
#define MP_AUDIT_VERIFY_H

#include <stddef.h>

#include <openssl/evp.h>

#include "common/err.h"

struct audit_segments;

/* A line's seq and SHA-256 learned outside the file. The signer logs one for every checkpoint
 * line it writes ("anchor SEQ:HEX", that line's own seq and hash), so a journal shipped off
 * the host lets an auditor catch what the chain alone cannot: lines cut off the end of the log,
 * or the whole chain regenerated up to there. */
struct audit_anchor {
    unsigned long long seq;
    unsigned char sha256[32];
};
#define AUDIT_MAX_ANCHORS 16

/* A checkpoint note (audit_format.h) kept outside the log, by a witness or an auditor: the
 * log's tree head at the note's size must be its root, and with the audit key its signature
 * by the log's origin must verify. */
struct audit_witnessed {
    const char *name; /* where it came from (NOTEFILE), for verdicts */
    const char *text;
    size_t len;
};
#define AUDIT_MAX_WITNESSED 16

/* What the auditor brings: the audit key (NULL: checkpoint signatures are not checked),
 * anchors (the log must reach each one's seq, and that line must hash to its SHA-256) and
 * checkpoint notes from outside. */
struct audit_trust {
    EVP_PKEY *pub;
    const struct audit_anchor *anchors;
    size_t nanchors;
    const struct audit_witnessed *notes;
    size_t nnotes;
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
    unsigned long long notes_matched; /* of trust->notes */
    unsigned long long segments; /* segments read */
    /* The seq of the first line read: not 0 when the first segment given starts with a segment
     * line, whose frontier then stands in for the lines before it, not checked. */
    unsigned long long first_seq;
    char segment[256]; /* the file bad_line is in (no directory); "" for a buffer */
    unsigned long long bad_line; /* 1-based within segment; 0 when the log is good */
    /* The first line a failure casts doubt on, 1-based over all segments read in order. */
    unsigned long long suspect_from;
    char reason[256];
};

/* Checks the log's segments in order as one sequence of lines: line 1 is the header (or, in the
 * first segment given, a segment line: see first_seq); every later line's seq is the previous
 * + 1 and its prev is the SHA-256 of the previous line, across segments too; every line ends in
 * "\n"; each checkpoint covers the line before it, a format-2 one's tree head is the Merkle
 * tree recomputed over every line before it and its note says so under the log's origin, and
 * when t->pub is given each is signed by that key (key_sha256 and the note's key ID must match
 * too); every later segment starts with a segment line that names the segment before it and
 * repeats its end, its final tree head and the tree's frontier; each anchor's line is present
 * and hashes to it, each of t's notes matches the tree at its size; with t->pub, the lines
 * after the last checkpoint are no more than the writer leaves. From a directory the log must
 * start at seq 0 and its live segment be there. t may be NULL (no key, no anchors).
 * MP_OK: good. MP_ERR_CRYPTO: bad, with segment, bad_line and reason set. Others: could not
 * read (e says why). */
enum mp_err audit_verify_segments(struct audit_segments *s, const struct audit_trust *t,
    struct audit_report *out, struct mp_errmsg *e);

/* audit_verify_segments over the one segment at path. */
enum mp_err audit_verify_file(const char *path, const struct audit_trust *t,
    struct audit_report *out, struct mp_errmsg *e);

/* The last link of a log, for the writer before it continues one: line (len bytes, without its
 * "\n") must follow before (blen bytes, the line above it) by the rules of audit_verify_file:
 * its seq is before's + 1, its prev is the SHA-256 of before, ts and event are in place, and a
 * checkpoint covers before (its signature and tree head are not checked). before NULL: line is
 * its segment's only line and must be the log's header or a segment line. MP_OK, or
 * MP_ERR_CRYPTO with out->reason set (out->bad_line counts before as line 1). */
enum mp_err audit_verify_link(const char *before, size_t blen, const char *line, size_t len,
    struct audit_report *out);

/* The same over one segment's bytes in memory (the fuzz target's entry). */
enum mp_err audit_verify_buffer(const char *buf, size_t len, const struct audit_trust *t,
    struct audit_report *out, struct mp_errmsg *e);

#endif
