/* Offline proof checks: the proof file and the audit public key, never the log (audit_proof.h). */
#include "signer/audit/audit_proof.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/json.h"
#include "signer/audit/audit_merkle.h"
#include "signer/audit/audit_note.h"

static const char *const inclusion_keys[] = {"proof", "origin", "tree_size", "index", "line",
    "path", "checkpoint", NULL};
static const char *const consistency_keys[] = {"proof", "origin", "old_size", "new_size", "path",
    "old_checkpoint", "new_checkpoint", NULL};

struct pcheck {
    char *why;
    size_t whylen;
    unsigned char path[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
    size_t npath;
};

static enum mp_err bad(struct pcheck *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum mp_err
bad(struct pcheck *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->why, c->whylen, fmt, ap);
    va_end(ap);
    return MP_ERR_CRYPTO;
}

/* Exactly the members of the kind: none missing, none unknown (duplicates are refused by
 * the parser). */
static enum mp_err
members(struct pcheck *c, json_t *j, const char *const *keys)
{
    const char *k;
    json_t *v;
    size_t i, n = 0;

    for (i = 0; keys[i] != NULL; i++)
        if (json_object_get(j, keys[i]) == NULL)
            return bad(c, "the proof has no \"%s\"", keys[i]);
    json_object_foreach(j, k, v)
    {
        (void)v;
        n++;
    }
    if (n != i)
        return bad(c, "the proof has members it should not have");
    return MP_OK;
}

static enum mp_err
get_u64(struct pcheck *c, json_t *j, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(j, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(c, "\"%s\" is not a non-negative integer", key);
    *out = (uint64_t)json_integer_value(v);
    return MP_OK;
}

static enum mp_err
get_str(struct pcheck *c, json_t *j, const char *key, const char **s, size_t *len)
{
    json_t *v = json_object_get(j, key);

    if (!json_is_string(v))
        return bad(c, "\"%s\" is not a string", key);
    *s = json_string_value(v);
    *len = json_string_length(v);
    if (strlen(*s) != *len)
        return bad(c, "\"%s\" holds a NUL", key);
    return MP_OK;
}

static enum mp_err
get_path(struct pcheck *c, json_t *j)
{
    json_t *a = json_object_get(j, "path"), *v;
    enum mp_err r = MP_OK;
    size_t i;

    if (!json_is_array(a) || json_array_size(a) > MERKLE_MAX_PROOF)
        return bad(c, "\"path\" is not an array of at most %d hashes", MERKLE_MAX_PROOF);
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) ||
            !merkle_hash_b64(json_string_value(v), json_string_length(v), c->path[i])) {
            r = bad(c, "path[%zu] is not the base64 of 32 bytes", i);
            break;
        }
    }
    c->npath = json_array_size(a);
    return r;
}

/* A note of the proof: signed by pub under origin, of the given size. */
static enum mp_err
get_note(struct pcheck *c, json_t *j, const char *key, EVP_PKEY *pub, const char *origin,
    uint64_t size, struct audit_note *n)
{
    const char *text;
    size_t len;
    char why[200];
    enum mp_err r;

    if ((r = get_str(c, j, key, &text, &len)) != MP_OK)
        return r;
    if ((r = audit_note_open(text, len, pub, n, why, sizeof(why))) == MP_ERR_NOMEM)
        return r;
    if (r != MP_OK)
        return bad(c, "%s: %s", key, why);
    if (strcmp(n->origin, origin) != 0)
        return bad(c, "%s is of origin %s, the proof's is %s", key, n->origin, origin);
    if (n->size != size)
        return bad(c, "%s is of tree size %llu, the proof's is %llu", key,
            (unsigned long long)n->size, (unsigned long long)size);
    return MP_OK;
}

/* The line itself: a JSON object whose seq is the index; what --seq and --jti ask of it. */
static enum mp_err
check_line(struct pcheck *c, const char *line, size_t len, uint64_t index, const uint64_t *want_seq,
    const char *want_jti, struct audit_proof_info *out)
{
    json_t *j = NULL, *seq;
    const char *ev, *jti;
    enum mp_err r = MP_ERR_CRYPTO;

    if (memchr(line, '\n', len) != NULL) {
        bad(c, "the line holds a newline");
        goto out;
    }
    if ((j = mp_json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
        !json_is_object(j)) {
        bad(c, "the line is not a JSON object");
        goto out;
    }
    seq = json_object_get(j, "seq");
    if (!json_is_integer(seq) || json_integer_value(seq) < 0 ||
        (uint64_t)json_integer_value(seq) != index) {
        bad(c, "the line's seq is not the proof's index %llu", (unsigned long long)index);
        goto out;
    }
    ev = json_string_value(json_object_get(j, "event"));
    jti = json_string_value(json_object_get(json_object_get(j, "claims"), "jti"));
    if (jti != NULL && strlen(jti) <= AUDIT_JTI_MAX)
        memcpy(out->jti, jti, strlen(jti) + 1);
    if (want_seq != NULL && *want_seq != index) {
        bad(c, "it proves seq %llu, not seq %llu", (unsigned long long)index,
            (unsigned long long)*want_seq);
        goto out;
    }
    if (want_jti != NULL &&
        (ev == NULL || strcmp(ev, "sign") != 0 || jti == NULL || strcmp(jti, want_jti) != 0)) {
        bad(c, "the line is not a sign line with claims.jti %.64s", want_jti);
        goto out;
    }
    r = MP_OK;
out:
    json_decref(j);
    return r;
}

static enum mp_err
check_inclusion(struct pcheck *c, json_t *j, EVP_PKEY *pub, const uint64_t *want_seq,
    const char *want_jti, struct audit_proof_info *out)
{
    unsigned char leaf[MERKLE_HASH_LEN];
    struct audit_note n;
    const char *line;
    size_t len;
    enum mp_err r;

    if ((r = members(c, j, inclusion_keys)) != MP_OK ||
        (r = get_u64(c, j, "tree_size", &out->size)) != MP_OK ||
        (r = get_u64(c, j, "index", &out->index)) != MP_OK ||
        (r = get_str(c, j, "line", &line, &len)) != MP_OK || (r = get_path(c, j)) != MP_OK)
        return r;
    if (out->index >= out->size)
        return bad(c, "index %llu is not below tree_size %llu", (unsigned long long)out->index,
            (unsigned long long)out->size);
    if ((r = get_note(c, j, "checkpoint", pub, out->origin, out->size, &n)) != MP_OK ||
        (r = check_line(c, line, len, out->index, want_seq, want_jti, out)) != MP_OK)
        return r;
    if (merkle_leaf_hash(line, len, leaf) != MP_OK)
        return MP_ERR_NOMEM;
    if (!merkle_inclusion_check(out->index, out->size, leaf,
            (const unsigned char(*)[MERKLE_HASH_LEN])c->path, c->npath, n.root))
        return bad(c, "the path from the line does not lead to the checkpoint's root");
    return MP_OK;
}

static enum mp_err
check_consistency(struct pcheck *c, json_t *j, EVP_PKEY *pub, const uint64_t *want_seq,
    const char *want_jti, struct audit_proof_info *out)
{
    struct audit_note a, b;
    enum mp_err r;

    if (want_seq != NULL || want_jti != NULL)
        return bad(c, "--seq and --jti are for inclusion proofs; this is a consistency proof");
    if ((r = members(c, j, consistency_keys)) != MP_OK ||
        (r = get_u64(c, j, "old_size", &out->old_size)) != MP_OK ||
        (r = get_u64(c, j, "new_size", &out->size)) != MP_OK || (r = get_path(c, j)) != MP_OK)
        return r;
    if (out->old_size == 0 || out->old_size > out->size)
        return bad(c, "old_size %llu is not in 1..new_size (%llu)",
            (unsigned long long)out->old_size, (unsigned long long)out->size);
    if ((r = get_note(c, j, "old_checkpoint", pub, out->origin, out->old_size, &a)) != MP_OK ||
        (r = get_note(c, j, "new_checkpoint", pub, out->origin, out->size, &b)) != MP_OK)
        return r;
    if (!merkle_consistency_check(out->old_size, out->size, a.root, b.root,
            (const unsigned char(*)[MERKLE_HASH_LEN])c->path, c->npath))
        return bad(c, "the path does not show the old tree is a prefix of the new");
    return MP_OK;
}

enum mp_err
audit_proof_check(const char *text, size_t len, EVP_PKEY *pub, const uint64_t *want_seq,
    const char *want_jti, struct audit_proof_info *out, char *why, size_t whylen)
{
    struct pcheck *c = calloc(1, sizeof(*c));
    json_t *j = NULL;
    const char *kind, *origin;
    size_t olen;
    enum mp_err r = MP_ERR_NOMEM;

    memset(out, 0, sizeof(*out));
    snprintf(why, whylen, "out of memory");
    if (c == NULL)
        goto out;
    r = MP_ERR_INVALID;
    if (pub == NULL) { /* a note parsed without its key proves nothing */
        snprintf(why, whylen, "no audit public key to check the checkpoint with");
        goto out;
    }
    c->why = why;
    c->whylen = whylen;
    r = MP_ERR_CRYPTO;
    if (len > AUDIT_PROOF_MAX) {
        bad(c, "the proof is longer than %d bytes", AUDIT_PROOF_MAX);
        goto out;
    }
    if ((j = mp_json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
        !json_is_object(j)) {
        bad(c, "the proof is not a JSON object");
        goto out;
    }
    if ((r = get_str(c, j, "proof", &kind, &olen)) != MP_OK ||
        (r = get_str(c, j, "origin", &origin, &olen)) != MP_OK)
        goto out;
    r = MP_ERR_CRYPTO;
    if (!audit_origin_valid(origin)) {
        bad(c, "the proof's origin is not a valid origin");
        goto out;
    }
    memcpy(out->origin, origin, olen + 1);
    if (strcmp(kind, "inclusion") == 0) {
        out->kind = AUDIT_PROOF_INCLUSION;
        r = check_inclusion(c, j, pub, want_seq, want_jti, out);
    } else if (strcmp(kind, "consistency") == 0) {
        out->kind = AUDIT_PROOF_CONSISTENCY;
        r = check_consistency(c, j, pub, want_seq, want_jti, out);
    } else
        bad(c, "\"proof\" is neither \"inclusion\" nor \"consistency\"");
out:
    json_decref(j);
    free(c);
    return r;
}
