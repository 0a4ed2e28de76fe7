/* Inclusion and consistency proofs for the audit log's Merkle tree (audit_format.h): made by
 * streaming the log once, checked offline from the proof file and the audit public key alone.
 *
 * A proof file is one JSON object (another, independent checker reads it too):
 *   {"proof":"inclusion","origin":O,"tree_size":N,"index":I,"line":"<line seq I, no \n>",
 *    "path":["<base64 of 32 bytes>",...],"checkpoint":"<signed note of size N>"}
 *   {"proof":"consistency","origin":O,"old_size":M,"new_size":N,"path":[...],
 *    "old_checkpoint":"<note of size M>","new_checkpoint":"<note of size N>"}
 * path is RFC 9162's inclusion path (2.1.3.1) or consistency proof (2.1.4.1). */
#ifndef MP_AUDIT_PROOF_H
#define MP_AUDIT_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "signer/audit/audit_format.h"

#define AUDIT_PROOF_MAX (256 * 1024) /* a proof file: a line, two notes, 128 hashes */
#define AUDIT_JTI_MAX 64

enum audit_proof_kind {
    AUDIT_PROOF_INCLUSION = 1,
    AUDIT_PROOF_CONSISTENCY = 2,
};

/* What to prove. Inclusion: the line seq (or, with jti, the sign line whose claims.jti is
 * jti: the last granted one, else the last one), against note (a signed checkpoint the
 * caller has) or, with note NULL, the last format-2 checkpoint of the log whose tree covers
 * the line. Consistency: old_note's tree against note's or, with note NULL, the last
 * checkpoint at or after old_note's size. Notes are the text of a checkpoint line's "note". */
struct audit_prove_req {
    enum audit_proof_kind kind;
    uint64_t seq;
    const char *jti;
    const char *note, *old_note;
    size_t note_len, old_note_len;
};

struct audit_prover;

/* Checks req (notes are parsed, not yet verified: the prover holds no key). MP_ERR_INVALID
 * with e set for a request that cannot be proved; MP_ERR_NOMEM. */
enum mp_err audit_prover_new(const struct audit_prove_req *req, struct audit_prover **out,
    struct mp_errmsg *e);
/* Feeds the log's lines in seq order, each without its "\n". The first is the header (seq 0)
 * or a segment line, whose frontier stands in for the lines before it. The log's own tree
 * head must equal each given note's root at its size (MP_ERR_CRYPTO: "it was rewritten"),
 * and every format-2 checkpoint line must match the tree too. MP_ERR_PARSE for a line out of
 * seq order or malformed; e names the seq. */
enum mp_err audit_prover_line(struct audit_prover *p, const char *line, size_t len,
    struct mp_errmsg *e);
/* After the last line: the proof JSON (NUL-terminated, ending in "\n"; free()). MP_ERR_NOTFOUND
 * when there is no such line or no checkpoint covers it; the errors above. */
enum mp_err audit_prover_finish(struct audit_prover *p, char **json, struct mp_errmsg *e);
void audit_prover_free(struct audit_prover *p); /* NULL is a no-op */

/* The whole log through audit_segments (one directory, or the segment files, .gz too): the
 * prover over every line of every segment, once. A partial last line of the last segment
 * (the writer mid-append) is not a line yet and is left out. */
enum mp_err audit_prove_files(const char *const *paths, size_t npaths,
    const struct audit_prove_req *req, char **json, struct mp_errmsg *e);

/* What a good proof showed. */
struct audit_proof_info {
    enum audit_proof_kind kind;
    char origin[AUDIT_ORIGIN_MAX + 1];
    uint64_t index, size, old_size;
    char jti[AUDIT_JTI_MAX + 1]; /* the line's claims.jti, "" if none */
};

/* Checks a proof file's text against the audit key pub (required): the strict shape above,
 * the note(s) signed by pub under the proof's origin (audit_note_open) with that origin and
 * size, and the path leading to the note's root. An inclusion proof's line must be a JSON
 * object whose seq is index; want_seq (not NULL) must be index, and want_jti (not NULL) the
 * line's claims.jti on a sign line. MP_OK; MP_ERR_CRYPTO with why set for any fault of the
 * proof; MP_ERR_NOMEM. */
enum mp_err audit_proof_check(const char *text, size_t len, EVP_PKEY *pub, const uint64_t *want_seq,
    const char *want_jti, struct audit_proof_info *out, char *why, size_t whylen);

#endif
