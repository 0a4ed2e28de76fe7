/* Proof generation over the audit log in one pass, O(log^2 n) memory (audit_proof.h). */
#include "signer/audit/audit_proof.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/json.h"
#include "signer/audit/audit_merkle.h"
#include "signer/audit/audit_note.h"
#include "signer/audit/audit_segments.h"

#define LEVELS 64
#define CP_EVENT "\"event\":\"checkpoint\""

/* One proof being gathered as the leaves stream by. Its ranges (audit_merkle.h) for any tree
 * size N are, for inclusion of leaf T (c = T) or consistency from size c = T + 1: subtrees
 * of the tree at c leaves (kept as the frontier `left`), and for each 0-bit h of T the run of
 * leaves [s_h, s_h + 2^h), s_h = ((T >> h) + 1) << h, cut at N: right[h] is a frontier of the
 * leaves of that run seen so far. These runs tile the leaves after T, so each leaf goes to
 * one frontier, and the tree size need not be known until a checkpoint names it. */
struct engine {
    uint64_t target, c;
    int granted; /* --jti: the line was a grant */
    struct merkle_frontier left;
    struct merkle_frontier right[LEVELS];
    char *line; /* inclusion: line T, without "\n" */
    size_t line_len;
    int have; /* the proof against the last tree size resolved */
    uint64_t size;
    size_t npath;
    unsigned char path[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
    char note[AUDIT_NOTE_MAX + 1];
    size_t note_len;
};

struct audit_prover {
    enum audit_proof_kind kind;
    int by_jti;
    uint64_t seq;
    char jti[AUDIT_JTI_MAX + 1];
    struct audit_note given, old; /* given: the note to prove against (size 0: the last) */
    char given_text[AUDIT_NOTE_MAX + 1], old_text[AUDIT_NOTE_MAX + 1];
    size_t given_len, old_len;
    int started;
    uint64_t count; /* leaves pushed: the seq the next line must have */
    struct merkle_frontier tree;
    char origin[AUDIT_ORIGIN_MAX + 1];
    struct engine *e; /* the proof; with --jti the last granted line */
    struct engine *alt; /* --jti: the last line not granted, while no grant is seen */
};

static unsigned int
top_bit(uint64_t v)
{
    unsigned int h = 0;

    while (v >>= 1)
        h++;
    return h;
}

static struct engine *
engine_new(uint64_t target, uint64_t c, const struct merkle_frontier *tree, const char *line,
    size_t len)
{
    struct engine *g = calloc(1, sizeof(*g));

    if (g == NULL)
        return NULL;
    g->target = target;
    g->c = c;
    g->left = *tree;
    if (line != NULL) {
        if ((g->line = malloc(len + 1)) == NULL) {
            free(g);
            return NULL;
        }
        memcpy(g->line, line, len);
        g->line[len] = '\0';
        g->line_len = len;
    }
    return g;
}

static void
engine_free(struct engine *g)
{
    if (g == NULL)
        return;
    free(g->line);
    free(g);
}

static void
engine_push(struct engine *g, uint64_t x, const unsigned char leaf[MERKLE_HASH_LEN])
{
    if (g != NULL && x > g->target)
        merkle_frontier_push(&g->right[top_bit(x ^ g->target)], leaf);
}

/* The head of range r, from the subtrees kept. 0 if it is not one of them (a bug). */
static int
engine_head(const struct engine *g, const struct merkle_range *r, unsigned char *out)
{
    uint64_t off = 0, rem = g->c, sz, start;
    unsigned int i, h;

    if (r->end <= g->c) {
        for (i = 0; i < g->left.n; i++, off += sz, rem -= sz) {
            sz = (uint64_t)1 << top_bit(rem);
            if (off == r->begin && off + sz == r->end) {
                memcpy(out, g->left.h[i], MERKLE_HASH_LEN);
                return 1;
            }
        }
        return 0;
    }
    if (r->begin <= g->target)
        return 0;
    h = top_bit(r->begin ^ g->target);
    start = ((g->target >> h) + 1) << h;
    if (start != r->begin || g->right[h].size != r->end - r->begin)
        return 0;
    merkle_frontier_root(&g->right[h], out);
    return 1;
}

/* The proof against the tree of n leaves (the leaves pushed so far), and the note of it. */
static enum mp_err
engine_resolve(struct engine *g, enum audit_proof_kind kind, uint64_t n, const char *note,
    size_t note_len, struct mp_errmsg *e)
{
    struct merkle_range r[MERKLE_MAX_PROOF];
    size_t cnt, i;
    int ok = 1;

    if (kind == AUDIT_PROOF_INCLUSION)
        cnt = merkle_inclusion_ranges(g->target, n, r);
    else
        cnt = merkle_consistency_ranges(g->c, n, r, &ok);
    for (i = 0; i < cnt; i++)
        if (!engine_head(g, &r[i], g->path[i]))
            ok = 0;
    if (!ok || note_len > AUDIT_NOTE_MAX)
        return mp_errf(e, MP_ERR_INVALID,
            "internal error: the proof of %llu in a tree of %llu is not one of the kept subtrees",
            (unsigned long long)g->target, (unsigned long long)n);
    g->npath = cnt;
    g->size = n;
    memcpy(g->note, note, note_len);
    g->note[note_len] = '\0';
    g->note_len = note_len;
    g->have = 1;
    return MP_OK;
}

static enum mp_err
note_parse(const char *text, size_t len, const char *what, struct audit_note *n, char *copy,
    size_t *copy_len, struct mp_errmsg *e)
{
    char why[200];

    if (audit_note_open(text, len, NULL, n, why, sizeof(why)) != MP_OK)
        return mp_errf(e, MP_ERR_INVALID, "%s is not a checkpoint note: %s", what, why);
    if (n->size == 0)
        return mp_errf(e, MP_ERR_INVALID, "%s is of the empty tree: it proves nothing", what);
    memcpy(copy, text, len);
    copy[len] = '\0';
    *copy_len = len;
    return MP_OK;
}

/* A jti that appears verbatim in a line: JSON would escape '"', '\\' and control bytes. */
static int
jti_plain(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > AUDIT_JTI_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\' || s[i] == 0x7f)
            return 0;
    return 1;
}

enum mp_err
audit_prover_new(const struct audit_prove_req *req, struct audit_prover **out, struct mp_errmsg *e)
{
    struct audit_prover *p = calloc(1, sizeof(*p));
    enum mp_err r = MP_ERR_INVALID;

    if (p == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    p->kind = req->kind;
    p->seq = req->seq;
    merkle_frontier_init(&p->tree);
    if (req->jti != NULL) {
        if (!jti_plain(req->jti)) {
            mp_errf(e, r, "the jti is empty, longer than %d or holds quotes or controls",
                AUDIT_JTI_MAX);
            goto out;
        }
        p->by_jti = 1;
        memcpy(p->jti, req->jti, strlen(req->jti) + 1);
    }
    if (req->note != NULL &&
        (r = note_parse(req->note, req->note_len, "the checkpoint", &p->given, p->given_text,
             &p->given_len, e)) != MP_OK)
        goto out;
    r = MP_ERR_INVALID;
    if (req->kind == AUDIT_PROOF_CONSISTENCY) {
        if (req->old_note == NULL) {
            mp_errf(e, r, "a consistency proof needs the old checkpoint");
            goto out;
        }
        if ((r = note_parse(req->old_note, req->old_note_len, "the old checkpoint", &p->old,
                 p->old_text, &p->old_len, e)) != MP_OK)
            goto out;
        r = MP_ERR_INVALID;
        if (req->note != NULL && p->given.size < p->old.size) {
            mp_errf(e, r, "the old checkpoint (size %llu) is larger than the new (size %llu)",
                (unsigned long long)p->old.size, (unsigned long long)p->given.size);
            goto out;
        }
        if (req->note != NULL && strcmp(p->given.origin, p->old.origin) != 0) {
            mp_errf(e, r, "the two checkpoints are of different logs (%s, %s)", p->old.origin,
                p->given.origin);
            goto out;
        }
    } else if (req->note != NULL && !p->by_jti && p->given.size <= p->seq) {
        mp_errf(e, r, "seq %llu is not in the checkpoint's tree of size %llu (lines 0..%llu)",
            (unsigned long long)p->seq, (unsigned long long)p->given.size,
            (unsigned long long)p->given.size - 1);
        goto out;
    }
    *out = p;
    p = NULL;
    r = MP_OK;
out:
    audit_prover_free(p);
    return r;
}

void
audit_prover_free(struct audit_prover *p)
{
    if (p == NULL)
        return;
    engine_free(p->e);
    engine_free(p->alt);
    free(p);
}

/* {"seq":N, with N the line's decimal seq (no leading zero): 1 and *seq, else 0. */
static int
line_seq(const char *line, size_t len, uint64_t *seq)
{
    static const char pre[] = "{\"seq\":";
    size_t i = sizeof(pre) - 1;
    uint64_t v = 0;

    if (len <= i || memcmp(line, pre, i) != 0 || line[i] < '0' || line[i] > '9')
        return 0;
    if (line[i] == '0' && i + 1 < len && line[i + 1] >= '0' && line[i + 1] <= '9')
        return 0;
    for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(line[i] - '0');
    }
    if (i == len || (line[i] != ',' && line[i] != '}'))
        return 0;
    *seq = v;
    return 1;
}

static const char *
jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int
root_b64_equal(const char *b64, const unsigned char root[MERKLE_HASH_LEN])
{
    unsigned char h[MERKLE_HASH_LEN];

    return b64 != NULL && merkle_hash_b64(b64, strlen(b64), h) &&
        memcmp(h, root, MERKLE_HASH_LEN) == 0;
}

/* The first line: the header (origin, or a format-1 log's default), or a segment line
 * whose frontier is the tree of the lines before it. */
static enum mp_err
first_line(struct audit_prover *p, json_t *j, uint64_t seq, struct mp_errmsg *e)
{
    const char *ev = jstr(j, "event"), *origin = jstr(j, "origin"), *nonce = jstr(j, "nonce");
    unsigned char h[64][MERKLE_HASH_LEN];
    json_t *fr = json_object_get(j, "frontier");
    unsigned int n = 0;
    enum mp_err r = MP_ERR_PARSE;

    if (seq == 0 && ev != NULL && strcmp(ev, "header") == 0) {
        if (origin == NULL && nonce != NULL && strlen(nonce) == 64)
            audit_origin_default(nonce, p->origin);
        else if (origin != NULL && audit_origin_valid(origin))
            memcpy(p->origin, origin, strlen(origin) + 1);
        else
            return mp_errf(e, r, "the header (seq 0) has no valid origin or nonce");
        return MP_OK;
    }
    if (seq == 0 || ev == NULL || strcmp(ev, "segment") != 0)
        return mp_errf(e, r, "the first line (seq %llu) is neither the header nor a segment line",
            (unsigned long long)seq);
    if (origin == NULL || !audit_origin_valid(origin) || !json_is_array(fr) ||
        json_array_size(fr) > LEVELS)
        return mp_errf(e, r, "the segment line (seq %llu) has no valid origin or frontier",
            (unsigned long long)seq);
    memcpy(p->origin, origin, strlen(origin) + 1);
    if (merkle_frontier_json(fr, h, &n) != MP_OK ||
        merkle_frontier_set(&p->tree, seq, (const unsigned char(*)[MERKLE_HASH_LEN])h, n) != MP_OK)
        return mp_errf(e, r, "the segment line (seq %llu) has a malformed frontier",
            (unsigned long long)seq);
    p->count = seq;
    return MP_OK;
}

/* What must happen once the tree holds exactly p->count leaves: the old checkpoint checked
 * and its proof begun, the given checkpoint checked and the proofs resolved against it. */
static enum mp_err
at_size(struct audit_prover *p, struct mp_errmsg *e)
{
    unsigned char root[MERKLE_HASH_LEN];
    enum mp_err r;

    merkle_frontier_root(&p->tree, root);
    if (p->kind == AUDIT_PROOF_CONSISTENCY && p->count == p->old.size) {
        if (memcmp(root, p->old.root, MERKLE_HASH_LEN) != 0)
            return mp_errf(e, MP_ERR_CRYPTO,
                "the log does not match checkpoint A at size %llu: it was rewritten",
                (unsigned long long)p->old.size);
        if ((p->e = engine_new(p->count - 1, p->count, &p->tree, NULL, 0)) == NULL)
            return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    }
    if (p->given.size == 0 || p->count != p->given.size)
        return MP_OK;
    if (memcmp(root, p->given.root, MERKLE_HASH_LEN) != 0)
        return mp_errf(e, MP_ERR_CRYPTO, "the log does not match %s at size %llu: it was rewritten",
            p->kind == AUDIT_PROOF_CONSISTENCY ? "checkpoint B" : "the checkpoint",
            (unsigned long long)p->given.size);
    if (p->e != NULL &&
        (r = engine_resolve(p->e, p->kind, p->count, p->given_text, p->given_len, e)) != MP_OK)
        return r;
    if (p->alt != NULL &&
        (r = engine_resolve(p->alt, p->kind, p->count, p->given_text, p->given_len, e)) != MP_OK)
        return r;
    return MP_OK;
}

/* A format-2 checkpoint line at seq == count: it must match the tree; with no checkpoint
 * given, every proof is resolved against it (the last one wins). */
static enum mp_err
checkpoint_line(struct audit_prover *p, json_t *j, struct mp_errmsg *e)
{
    unsigned char root[MERKLE_HASH_LEN];
    json_t *ts = json_object_get(j, "tree_size"), *note = json_object_get(j, "note");
    struct audit_note n;
    char why[200];
    enum mp_err r;
    int ok;

    if (note == NULL)
        return MP_OK; /* format 1: no tree head */
    merkle_frontier_root(&p->tree, root);
    if (!json_is_string(note) ||
        audit_note_open(json_string_value(note), json_string_length(note), NULL, &n, why,
            sizeof(why)) != MP_OK)
        return mp_errf(e, MP_ERR_PARSE, "the checkpoint at seq %llu has a malformed note",
            (unsigned long long)p->count);
    ok = json_is_integer(ts) && (uint64_t)json_integer_value(ts) == p->count &&
        n.size == p->count && root_b64_equal(jstr(j, "root"), root) &&
        memcmp(n.root, root, MERKLE_HASH_LEN) == 0 && strcmp(n.origin, p->origin) == 0;
    if (!ok)
        return mp_errf(e, MP_ERR_CRYPTO,
            "the checkpoint at seq %llu does not match the log's tree of its lines: the log was "
            "rewritten or damaged (run mp-signer audit verify)",
            (unsigned long long)p->count);
    if (p->given.size != 0)
        return MP_OK;
    if (p->e != NULL && (p->kind == AUDIT_PROOF_CONSISTENCY || p->e->target < p->count) &&
        (r = engine_resolve(p->e, p->kind, p->count, json_string_value(note),
             json_string_length(note), e)) != MP_OK)
        return r;
    if (p->alt != NULL && p->alt->target < p->count &&
        (r = engine_resolve(p->alt, p->kind, p->count, json_string_value(note),
             json_string_length(note), e)) != MP_OK)
        return r;
    return MP_OK;
}

/* --jti: a sign line with that claims.jti starts a proof; a grant replaces any earlier line,
 * a refusal or error only an earlier one not granted, and only while no grant is known. */
static enum mp_err
jti_line(struct audit_prover *p, json_t *j, const char *line, size_t len)
{
    const char *ev = jstr(j, "event"), *jti = jstr(json_object_get(j, "claims"), "jti");
    const char *outcome = jstr(j, "outcome");
    struct engine *g;
    int granted;

    if (ev == NULL || strcmp(ev, "sign") != 0 || jti == NULL || strcmp(jti, p->jti) != 0)
        return MP_OK;
    granted = outcome != NULL && strcmp(outcome, "granted") == 0;
    if (!granted && p->e != NULL)
        return MP_OK;
    if ((g = engine_new(p->count, p->count, &p->tree, line, len)) == NULL)
        return MP_ERR_NOMEM;
    g->granted = granted;
    if (granted) {
        engine_free(p->e);
        engine_free(p->alt);
        p->e = g;
        p->alt = NULL;
    } else {
        engine_free(p->alt);
        p->alt = g;
    }
    return MP_OK;
}

/* The lines worth parsing: the first, the one proved, checkpoints, and lines holding the jti.
 * Field order is fixed (audit_format.h), and a string value cannot hold an unescaped '"'. */
static enum mp_err
line_content(struct audit_prover *p, const char *line, size_t len, struct mp_errmsg *e)
{
    int first = !p->started, cp = memmem(line, len, CP_EVENT, strlen(CP_EVENT)) != NULL;
    int mine = p->by_jti && memmem(line, len, p->jti, strlen(p->jti)) != NULL;
    json_t *j;
    const char *ev;
    enum mp_err r = MP_OK;

    if (!first && !cp && !mine)
        return MP_OK;
    if ((j = mp_json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
        !json_is_object(j)) {
        json_decref(j);
        return mp_errf(e, MP_ERR_PARSE, "the line of seq %llu is not a JSON object",
            (unsigned long long)p->count);
    }
    ev = jstr(j, "event");
    if (cp && ev != NULL && strcmp(ev, "checkpoint") == 0)
        r = checkpoint_line(p, j, e);
    if (r == MP_OK && mine && (r = jti_line(p, j, line, len)) == MP_ERR_NOMEM)
        mp_errf(e, r, "out of memory");
    json_decref(j);
    return r;
}

enum mp_err
audit_prover_line(struct audit_prover *p, const char *line, size_t len, struct mp_errmsg *e)
{
    unsigned char leaf[MERKLE_HASH_LEN];
    uint64_t seq;
    json_t *j;
    enum mp_err r;

    if (len > AUDIT_MAX_LINE || !line_seq(line, len, &seq)) {
        if (!p->started)
            return mp_errf(e, MP_ERR_PARSE, "the first line does not start with {\"seq\":N");
        return mp_errf(e, MP_ERR_PARSE, "the line after seq %llu does not start with {\"seq\":N",
            (unsigned long long)p->count - 1);
    }
    if (!p->started) {
        if ((j = mp_json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
            return mp_errf(e, MP_ERR_PARSE, "the first line is not JSON");
        r = first_line(p, j, seq, e);
        json_decref(j);
        if (r != MP_OK)
            return r;
        if ((p->given.size != 0 && strcmp(p->given.origin, p->origin) != 0) ||
            (p->old.size != 0 && strcmp(p->old.origin, p->origin) != 0))
            return mp_errf(e, MP_ERR_INVALID, "the checkpoint is of origin %s, the log's is %s",
                p->given.size != 0 ? p->given.origin : p->old.origin, p->origin);
        if ((p->kind == AUDIT_PROOF_CONSISTENCY && p->old.size < seq) ||
            (p->given.size != 0 && p->given.size < seq) ||
            (p->kind == AUDIT_PROOF_INCLUSION && !p->by_jti && p->seq < seq))
            return mp_errf(e, MP_ERR_NOTFOUND,
                "the first line given is seq %llu: give the segments before it too",
                (unsigned long long)seq);
    }
    if (seq != p->count)
        return mp_errf(e, MP_ERR_PARSE,
            "seq %llu follows seq %llu: the log is out of order "
            "(run mp-signer audit verify)",
            (unsigned long long)seq, (unsigned long long)p->count - 1);
    if ((r = at_size(p, e)) != MP_OK)
        return r;
    if (p->kind == AUDIT_PROOF_INCLUSION && !p->by_jti && seq == p->seq &&
        (p->e = engine_new(seq, seq, &p->tree, line, len)) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if ((r = line_content(p, line, len, e)) != MP_OK)
        return r;
    p->started = 1;
    if (merkle_leaf_hash(line, len, leaf) != MP_OK)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    merkle_frontier_push(&p->tree, leaf);
    engine_push(p->e, seq, leaf);
    engine_push(p->alt, seq, leaf);
    p->count++;
    return MP_OK;
}

static json_t *
path_json(const struct engine *g)
{
    json_t *a = json_array();
    struct mp_buf *b = mp_buf_new(64);
    size_t i;
    int ok = a != NULL && b != NULL;

    for (i = 0; ok && i < g->npath; i++) {
        mp_buf_reset(b);
        ok = mp_b64_encode(b, g->path[i], MERKLE_HASH_LEN) == MP_OK &&
            json_array_append_new(a, json_string(mp_buf_str(b))) == 0;
    }
    mp_buf_free(b);
    if (!ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* The proof object in the order audit_proof.h gives. */
static json_t *
proof_json(const struct audit_prover *p, const struct engine *g)
{
    const char *origin = p->origin; /* every note's, checked as the lines went by */

    if (p->kind == AUDIT_PROOF_INCLUSION)
        return json_pack("{s:s, s:s, s:I, s:I, s:s%, s:o, s:s%}", "proof", "inclusion", "origin",
            origin, "tree_size", (json_int_t)g->size, "index", (json_int_t)g->target, "line",
            g->line, g->line_len, "path", path_json(g), "checkpoint", g->note, g->note_len);
    return json_pack("{s:s, s:s, s:I, s:I, s:o, s:s%, s:s%}", "proof", "consistency", "origin",
        origin, "old_size", (json_int_t)p->old.size, "new_size", (json_int_t)g->size, "path",
        path_json(g), "old_checkpoint", p->old_text, p->old_len, "new_checkpoint", g->note,
        g->note_len);
}

/* Why there is no proof to give. */
static enum mp_err
not_proved(const struct audit_prover *p, const struct engine *g, struct mp_errmsg *e)
{
    unsigned long long n = (unsigned long long)p->count;

    if (p->kind == AUDIT_PROOF_CONSISTENCY) {
        if (p->old.size > p->count)
            return mp_errf(e, MP_ERR_NOTFOUND,
                "the log holds %llu lines, fewer than checkpoint "
                "A's size %llu",
                n, (unsigned long long)p->old.size);
        if (p->given.size > p->count)
            return mp_errf(e, MP_ERR_NOTFOUND,
                "the log holds %llu lines, fewer than checkpoint "
                "B's size %llu",
                n, (unsigned long long)p->given.size);
        return mp_errf(e, MP_ERR_NOTFOUND, "the log has no checkpoint at or after size %llu",
            (unsigned long long)p->old.size);
    }
    if (g == NULL && p->by_jti)
        return mp_errf(e, MP_ERR_NOTFOUND, "no sign line in the log has claims.jti %s", p->jti);
    if (g == NULL)
        return mp_errf(e, MP_ERR_NOTFOUND, "seq %llu is not in the log (it holds seq 0..%lld)",
            (unsigned long long)p->seq, (long long)n - 1);
    if (p->given.size > p->count)
        return mp_errf(e, MP_ERR_NOTFOUND,
            "the log holds %llu lines, fewer than the "
            "checkpoint's size %llu",
            n, (unsigned long long)p->given.size);
    if (p->given.size != 0)
        return mp_errf(e, MP_ERR_NOTFOUND, "seq %llu is after the checkpoint's tree of size %llu",
            (unsigned long long)g->target, (unsigned long long)p->given.size);
    return mp_errf(e, MP_ERR_NOTFOUND, "no format-2 checkpoint covers seq %llu yet",
        (unsigned long long)g->target);
}

enum mp_err
audit_prover_finish(struct audit_prover *p, char **json, struct mp_errmsg *e)
{
    const struct engine *g;
    json_t *j = NULL;
    char *text = NULL, *out = NULL;
    size_t n;
    enum mp_err r;

    if (!p->started)
        return mp_errf(e, MP_ERR_PARSE, "the log holds no line");
    if ((r = at_size(p, e)) != MP_OK)
        return r;
    g = p->e != NULL ? p->e : p->alt;
    if (g == NULL || !g->have)
        return not_proved(p, g, e);
    r = MP_ERR_NOMEM;
    if ((j = proof_json(p, g)) == NULL ||
        (text = mp_json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL ||
        (out = malloc((n = strlen(text)) + 2)) == NULL) {
        mp_errf(e, r, "cannot write the proof (out of memory, or a line not UTF-8)");
        goto out;
    }
    memcpy(out, text, n);
    memcpy(out + n, "\n", 2);
    *json = out;
    r = MP_OK;
out:
    free(text);
    json_decref(j);
    return r;
}

/* One segment's lines, from its bytes. A last line without "\n" ends the log only in the
 * last segment. */
static enum mp_err
feed(struct audit_prover *p, const char *buf, size_t len, int last, const char *path,
    struct mp_errmsg *e)
{
    const char *q = buf, *end = buf + len, *nl;
    enum mp_err r;

    for (; q < end; q = nl + 1) {
        if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL) {
            if (last)
                return MP_OK;
            return mp_errf(e, MP_ERR_PARSE, "%s: its last line has no newline", path);
        }
        if ((r = audit_prover_line(p, q, (size_t)(nl - q), e)) != MP_OK) {
            mp_err_prefix(e, "%s", path);
            return r;
        }
    }
    return MP_OK;
}

enum mp_err
audit_prove_files(const char *const *paths, size_t npaths, const struct audit_prove_req *req,
    char **json, struct mp_errmsg *e)
{
    struct audit_prover *p = NULL;
    struct audit_segments *s = NULL;
    const char *buf;
    size_t i, n, len;
    enum mp_err r;

    if ((r = audit_prover_new(req, &p, e)) != MP_OK ||
        (r = audit_segments_open(paths, npaths, &s, e)) != MP_OK)
        goto out;
    n = audit_segments_count(s);
    for (i = 0; i < n; i++) {
        if ((r = audit_segments_read(s, i, &buf, &len, e)) != MP_OK)
            goto out;
        r = feed(p, buf, len, i + 1 == n, audit_segments_path(s, i), e);
        audit_segments_release(s, i);
        if (r != MP_OK)
            goto out;
    }
    r = audit_prover_finish(p, json, e);
out:
    audit_segments_free(s);
    audit_prover_free(p);
    return r;
}
