/* The offline verifier, inside: the state shared by audit_verify.c (the chain, the header,
 * format-1 checkpoints, anchors, coverage, segments in order) and audit_verify_tree.c (what
 * format 2 adds: tree heads, notes, segment lines, checkpoints from outside). */
#ifndef MP_AUDIT_VERIFY_INT_H
#define MP_AUDIT_VERIFY_INT_H

#include <stddef.h>

#include <jansson.h>

#include "signer/audit/audit_merkle.h"
#include "signer/audit/audit_note.h"
#include "signer/audit/audit_verify.h"

struct vstate {
    EVP_PKEY *pub;
    const struct audit_anchor *anchors;
    size_t nanchors;
    const struct audit_witnessed *notes;
    struct audit_note wn[AUDIT_MAX_WITNESSED]; /* notes[i], parsed once the origin is known */
    size_t nnotes;
    char key_sha256[65];
    unsigned char prev_hash[32]; /* SHA-256 of the previous line */
    unsigned long long prev_seq;
    struct audit_report *rep;
    struct mp_errmsg *e; /* for failures that are not verdicts */
    /* The checkpoint interval (header or segment line, capped) and the unprotected run of the
     * current signer run: the first and latest ts after the later of the last checkpoint and
     * the last start or recovery line (-1: none yet). */
    unsigned long long cp_every, cp_seconds;
    long long run_first_ts, last_ts;
    /* Format 2. format: the header's v (2 for a log read from a segment line on), 0 unknown
     * (audit_verify_link). origin: "" unknown. tree: fr is the Merkle tree over every line so
     * far (off in audit_verify_link, which sees two lines). */
    int format;
    char origin[AUDIT_ORIGIN_MAX + 1];
    int tree;
    struct merkle_frontier fr;
    int last_cp2; /* the previous line was a format-2 checkpoint, of tree cp_size, cp_root */
    unsigned long long cp_size;
    unsigned char cp_root[MERKLE_HASH_LEN];
    /* Where the walk is: the segment's file name, its line (1-based), the line over all
     * segments (1-based), the seq its first line and its name give, and the segment before. */
    const char *seg;
    unsigned long long seg_line, pos, seg_first;
    int seg_has_seq;
    unsigned long long seg_name_seq;
    const char *prev_seg, *prev_stem;
    unsigned long long prev_seg_first;
    int from_dir;
    /* The first line after the last checkpoint, for the coverage verdict. */
    char tail_seg[256];
    unsigned long long tail_line, tail_pos;
};

/* A verdict at the line being checked: sets the report and returns MP_ERR_CRYPTO. */
enum mp_err vbad(struct vstate *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A verdict at another line: seg (a file name), its line and the line over all segments. */
enum mp_err vbad_at(struct vstate *v, const char *seg, unsigned long long line,
    unsigned long long pos, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 64 lowercase hex digits into 32 bytes; 0 if they are not. */
int vhex32(const char *s, unsigned char out[32]);
/* A header's or segment line's checkpoint_every and checkpoint_seconds, capped. */
void vinterval(struct vstate *v, json_t *j);

/* audit_verify_tree.c */

/* The log's origin, from the header or the first segment line: the notes given from outside
 * must be for it (and, with the key, signed under it). */
enum mp_err vtree_origin(struct vstate *v, const char *origin);
/* A checkpoint line with a note (format 2); seq and prev (64 hex) are its own. */
enum mp_err vtree_checkpoint(struct vstate *v, json_t *j, unsigned long long seq, const char *prev);
/* A segment line; start: it is the first line read, and its frontier is trusted. */
enum mp_err vtree_segment(struct vstate *v, json_t *j, unsigned long long seq, const char *prev,
    int was_cp2, int start);
/* Line seq was added to the tree: the notes from outside of that size must match it. */
enum mp_err vtree_notes_at(struct vstate *v);
/* After the last line: a note beyond it means lines were cut off. */
enum mp_err vtree_notes_end(struct vstate *v);

#endif
