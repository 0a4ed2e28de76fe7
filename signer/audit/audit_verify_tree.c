/* What format 2 adds to the verifier (audit_verify_int.h): checkpoints' tree heads against the
 * Merkle tree recomputed over the lines, their notes, segment lines against the segment before
 * them, and checkpoint notes kept outside the log. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "signer/audit/audit_verify_int.h"

/* base64 of a 32-byte hash, strictly (the writer's padded encoding is the only text). */
static int
b64_hash(const char *s, unsigned char out[MERKLE_HASH_LEN])
{
    return merkle_hash_b64(s, strlen(s), out);
}

/* A note's parse or signature failure as a verdict ("WHAT is malformed: …", "WHAT does not
 * verify with the audit key: …"); other failures (memory, key encoding) are errors. */
static enum mp_err
note_verdict(struct vstate *v, enum mp_err r, const char *what, const char *why)
{
    if (r == MP_ERR_PARSE)
        return vbad(v, "%s is malformed: %s", what, why);
    if (r == MP_ERR_CRYPTO)
        return vbad(v, "%s does not verify with the audit key: %s", what, why);
    return mp_errf(v->e, r, "%s: %s", what, why);
}

enum mp_err
vtree_origin(struct vstate *v, const char *origin)
{
    char why[200], what[300];
    size_t i;
    enum mp_err r;

    snprintf(v->origin, sizeof(v->origin), "%s", origin);
    for (i = 0; i < v->nnotes; i++) {
        snprintf(what, sizeof(what), "checkpoint %.255s", v->notes[i].name);
        r = audit_note_open(v->notes[i].text, v->notes[i].len, v->pub, &v->wn[i], why, sizeof(why));
        if (r != MP_OK)
            return note_verdict(v, r, what, why);
        if (strcmp(v->wn[i].origin, v->origin) != 0)
            return vbad(v, "%s is for the log %s, but this log's origin is %s", what,
                v->wn[i].origin, v->origin);
    }
    return vtree_notes_at(v);
}

enum mp_err
vtree_notes_at(struct vstate *v)
{
    unsigned char root[MERKLE_HASH_LEN];
    int have = 0;
    size_t i;

    if (!v->tree || v->origin[0] == '\0')
        return MP_OK;
    for (i = 0; i < v->nnotes; i++) {
        if (v->wn[i].size != v->fr.size)
            continue;
        if (!have)
            merkle_frontier_root(&v->fr, root);
        have = 1;
        if (memcmp(root, v->wn[i].root, MERKLE_HASH_LEN) != 0) {
            vbad(v,
                "the Merkle tree head of the %llu lines up to here differs from checkpoint "
                "%.200s: the log was rewritten up to here",
                (unsigned long long)v->fr.size, v->notes[i].name);
            v->rep->suspect_from = 1; /* the tree covers every line before */
            return MP_ERR_CRYPTO;
        }
        v->rep->notes_matched++;
    }
    return MP_OK;
}

enum mp_err
vtree_notes_end(struct vstate *v)
{
    unsigned long long have = v->rep->lines > 0 ? v->prev_seq + 1 : 0;
    size_t i;

    if (v->origin[0] == '\0')
        return MP_OK;
    for (i = 0; i < v->nnotes; i++) {
        if (v->wn[i].size <= have)
            continue;
        vbad_at(v, v->seg, v->seg_line + 1, v->pos + 1,
            "lines were cut off its end: checkpoint %.200s is at size %llu, the log has %llu "
            "lines",
            v->notes[i].name, (unsigned long long)v->wn[i].size, have);
        v->rep->suspect_from = v->pos + 1;
        return MP_ERR_CRYPTO;
    }
    return MP_OK;
}

/* The note of a format-2 checkpoint says what its line says, under the log's origin, and with
 * the key is signed by it. */
static enum mp_err
cp_note(struct vstate *v, const char *note, size_t nlen, unsigned long long size,
    const unsigned char root[MERKLE_HASH_LEN])
{
    struct audit_note n;
    char why[200];
    enum mp_err r = audit_note_open(note, nlen, v->pub, &n, why, sizeof(why));

    if (r != MP_OK)
        return note_verdict(v, r, r == MP_ERR_CRYPTO ? "checkpoint signature" : "checkpoint note",
            why);
    if (n.size != size || memcmp(n.root, root, MERKLE_HASH_LEN) != 0)
        return vbad(v, "checkpoint note's tree size or root is not the line's tree_size and root");
    if (v->origin[0] != '\0' && strcmp(n.origin, v->origin) != 0)
        return vbad(v, "checkpoint note is for origin %s, but this log's is %s", n.origin,
            v->origin);
    return MP_OK;
}

enum mp_err
vtree_checkpoint(struct vstate *v, json_t *j, unsigned long long seq, const char *prev)
{
    const char *head = NULL, *key = NULL, *root = NULL, *note = NULL;
    unsigned char want[MERKLE_HASH_LEN], got[MERKLE_HASH_LEN];
    json_int_t covers = -1, size = -1;
    size_t nlen = 0;
    enum mp_err r;

    if (json_unpack(j, "{s:I, s:s, s:s, s:I, s:s, s:s%}", "covers", &covers, "head", &head,
            "key_sha256", &key, "tree_size", &size, "root", &root, "note", &note, &nlen) != 0)
        return vbad(v, "checkpoint line is malformed");
    if ((unsigned long long)covers != seq - 1 || strcmp(head, prev) != 0)
        return vbad(v, "checkpoint does not cover the line before it");
    if ((unsigned long long)size != seq)
        return vbad(v, "checkpoint tree_size %lld is not covers + 1 (%llu)", (long long)size, seq);
    if (!b64_hash(root, got))
        return vbad(v, "checkpoint root is not the base64 of 32 bytes");
    if (v->tree) {
        merkle_frontier_root(&v->fr, want);
        if (v->fr.size != seq || memcmp(want, got, MERKLE_HASH_LEN) != 0)
            return vbad(v,
                "checkpoint root is not the Merkle tree head of lines 0..%llu recomputed from "
                "the log (the root was altered)",
                seq - 1);
    }
    if (v->pub != NULL && strcmp(key, v->key_sha256) != 0)
        return vbad(v, "checkpoint was signed by another key (key_sha256 differs from --cert)");
    if ((r = cp_note(v, note, nlen, seq, got)) != MP_OK)
        return r;
    v->rep->checkpoints++;
    v->rep->checkpoints_verified += v->pub != NULL;
    v->rep->last_covers = (unsigned long long)covers;
    v->rep->after_checkpoint = 0;
    v->last_cp2 = 1;
    v->cp_size = seq;
    memcpy(v->cp_root, got, MERKLE_HASH_LEN);
    return MP_OK;
}

/* What a segment line says about the segment before it. */
struct segline {
    json_int_t ver, first, last, size;
    const char *origin, *file, *last_sha, *root;
    json_t *frontier;
    int has_head; /* previous.tree_size and root: the previous segment ends in a checkpoint */
    unsigned char root_h[MERKLE_HASH_LEN];
    unsigned char h[64][MERKLE_HASH_LEN];
    unsigned int n;
};

static enum mp_err
segline_read(struct vstate *v, json_t *j, struct segline *s)
{
    json_t *pv = NULL, *ts, *rt;

    s->size = -1;
    s->root = NULL;
    if (json_unpack(j, "{s:I, s:s, s:o, s:o}", "v", &s->ver, "origin", &s->origin, "previous", &pv,
            "frontier", &s->frontier) != 0 ||
        json_unpack(pv, "{s:s, s:I, s:I, s:s}", "file", &s->file, "first_seq", &s->first,
            "last_seq", &s->last, "last_sha256", &s->last_sha) != 0)
        return vbad(v, "segment line is malformed");
    ts = json_object_get(pv, "tree_size");
    rt = json_object_get(pv, "root");
    s->has_head = ts != NULL || rt != NULL;
    if (s->has_head &&
        (!json_is_integer(ts) || !json_is_string(rt) ||
            !b64_hash(json_string_value(rt), s->root_h)))
        return vbad(v, "segment line's previous tree head is malformed");
    if (s->has_head)
        s->size = json_integer_value(ts);
    if (merkle_frontier_json(s->frontier, s->h, &s->n) != MP_OK)
        return vbad(v, "segment line's frontier is malformed");
    return MP_OK;
}

/* What the line must say of itself, whoever wrote the segment before it. */
static enum mp_err
segline_self(struct vstate *v, const struct segline *s, unsigned long long seq, const char *prev)
{
    if (s->ver != 2)
        return vbad(v, "segment line of format %lld, this verifier knows 2", (long long)s->ver);
    if (!audit_origin_valid(s->origin))
        return vbad(v,
            "segment line's origin is not 1 to %d printable characters without space "
            "or '+'",
            AUDIT_ORIGIN_MAX);
    if ((unsigned long long)s->last != seq - 1 || strcmp(s->last_sha, prev) != 0)
        return vbad(v,
            "segment line's previous.last_seq and last_sha256 are not the line before "
            "it");
    if (s->first < 0 || s->first > s->last)
        return vbad(v, "segment line's previous.first_seq is after its last_seq");
    /* The final checkpoint (seq L) holds the L lines before it. */
    if (s->has_head && s->size != s->last)
        return vbad(v, "segment line's previous.tree_size %lld is not its last_seq %lld",
            (long long)s->size, (long long)s->last);
    if (merkle_subtrees(seq) != s->n)
        return vbad(v, "segment line's frontier lists %u subtrees, but a tree of %llu lines has %u",
            s->n, seq, merkle_subtrees(seq));
    return MP_OK;
}

/* What it must say of the segment just read. */
static enum mp_err
segline_prev(struct vstate *v, const struct segline *s, unsigned long long seq, int was_cp2)
{
    if (strcmp(s->origin, v->origin) != 0)
        return vbad(v, "segment line's origin %s is not the log's, %s", s->origin, v->origin);
    if (strcmp(s->file, v->prev_stem) != 0)
        return vbad(v,
            "segment line says the segment before it is %.100s, but it is %.100s (segments "
            "missing, renamed or swapped)",
            s->file, v->prev_stem);
    if ((unsigned long long)s->first != v->prev_seg_first)
        return vbad(v, "segment line says %.100s starts at seq %lld, but it starts at seq %llu",
            s->file, (long long)s->first, v->prev_seg_first);
    if (s->has_head && !was_cp2)
        return vbad(v,
            "segment line repeats a tree head, but %.100s does not end with a "
            "checkpoint",
            v->prev_seg);
    if (!s->has_head && was_cp2)
        return vbad(v, "segment line omits the tree head of the checkpoint that ends %.100s",
            v->prev_seg);
    if (s->has_head &&
        ((unsigned long long)s->size != v->cp_size ||
            memcmp(s->root_h, v->cp_root, MERKLE_HASH_LEN) != 0))
        return vbad(v, "segment line's tree head is not that of the checkpoint ending %.100s",
            v->prev_seg);
    if (v->tree &&
        (v->fr.size != seq || v->fr.n != s->n ||
            memcmp(v->fr.h, s->h, (size_t)s->n * MERKLE_HASH_LEN) != 0))
        return vbad(v,
            "segment line's frontier is not the Merkle tree of lines 0..%llu (it was altered)",
            seq - 1);
    return MP_OK;
}

enum mp_err
vtree_segment(struct vstate *v, json_t *j, unsigned long long seq, const char *prev, int was_cp2,
    int start)
{
    struct segline s;
    enum mp_err r;

    if ((r = segline_read(v, j, &s)) != MP_OK || (r = segline_self(v, &s, seq, prev)) != MP_OK)
        return r;
    vinterval(v, j);
    if (!start)
        return segline_prev(v, &s, seq, was_cp2);
    /* The first line read: its frontier stands in for the segments not given. */
    if (merkle_frontier_set(&v->fr, seq, (const unsigned char(*)[MERKLE_HASH_LEN])s.h, s.n) !=
        MP_OK)
        return vbad(v, "segment line's frontier is malformed");
    v->format = 2;
    return vtree_origin(v, s.origin);
}
