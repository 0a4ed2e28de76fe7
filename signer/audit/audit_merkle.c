/* RFC 9162 Merkle trees: frontier, proof ranges and proof checks (audit_merkle.h). */
#include "signer/audit/audit_merkle.h"

#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/b64.h"
#include "common/buf.h"

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched;

static void
sha256_fetch(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* SHA-256 fetched once: passing EVP_sha256() makes OpenSSL 3 fetch it again on every digest,
 * under a lock, which was most of the time `audit prove` spent on a long log. The fetched
 * method lives as long as the process; if the fetch failed, the implicit one still works. */
static const EVP_MD *
sha256_md(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_fetched != NULL ? sha256_fetched : EVP_sha256();
}

enum mp_err
merkle_leaf_hash(const void *data, size_t len, unsigned char out[MERKLE_HASH_LEN])
{
    static const unsigned char zero = 0x00;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestInit_ex(c, sha256_md(), NULL) == 1 &&
        EVP_DigestUpdate(c, &zero, 1) == 1 && EVP_DigestUpdate(c, data, len) == 1 &&
        EVP_DigestFinal_ex(c, out, NULL) == 1;

    EVP_MD_CTX_free(c);
    return ok ? MP_OK : MP_ERR_NOMEM;
}

void
merkle_node_hash(const unsigned char left[MERKLE_HASH_LEN],
    const unsigned char right[MERKLE_HASH_LEN], unsigned char out[MERKLE_HASH_LEN])
{
    unsigned char in[1 + 2 * MERKLE_HASH_LEN];

    in[0] = 0x01;
    memcpy(in + 1, left, MERKLE_HASH_LEN);
    memcpy(in + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
    EVP_Digest(in, sizeof(in), out, NULL, sha256_md(), NULL);
}

void
merkle_frontier_init(struct merkle_frontier *f)
{
    f->size = 0;
    f->n = 0;
}

/* Each 1-bit carried out of size merges the two rightmost subtrees, as binary addition. */
void
merkle_frontier_push(struct merkle_frontier *f, const unsigned char leaf[MERKLE_HASH_LEN])
{
    uint64_t s;

    memcpy(f->h[f->n++], leaf, MERKLE_HASH_LEN);
    for (s = f->size; s & 1; s >>= 1) {
        merkle_node_hash(f->h[f->n - 2], f->h[f->n - 1], f->h[f->n - 2]);
        f->n--;
    }
    f->size++;
}

void
merkle_frontier_root(const struct merkle_frontier *f, unsigned char out[MERKLE_HASH_LEN])
{
    unsigned int i;

    if (f->n == 0) {
        EVP_Digest("", 0, out, NULL, sha256_md(), NULL);
        return;
    }
    memcpy(out, f->h[f->n - 1], MERKLE_HASH_LEN);
    for (i = f->n - 1; i > 0; i--)
        merkle_node_hash(f->h[i - 1], out, out);
}

unsigned int
merkle_subtrees(uint64_t size)
{
    unsigned int bits = 0;

    for (; size != 0; size &= size - 1)
        bits++;
    return bits;
}

int
merkle_hash_b64(const char *s, size_t len, unsigned char out[MERKLE_HASH_LEN])
{
    struct mp_buf *raw = mp_buf_new(64);
    int ok =
        raw != NULL && mp_b64_decode(raw, s, len) == MP_OK && mp_buf_len(raw) == MERKLE_HASH_LEN;

    if (ok)
        memcpy(out, mp_buf_ptr(raw), MERKLE_HASH_LEN);
    mp_buf_free(raw);
    return ok;
}

enum mp_err
merkle_frontier_json(json_t *list, unsigned char h[64][MERKLE_HASH_LEN], unsigned int *n)
{
    json_t *v;
    size_t i;

    if (!json_is_array(list) || json_array_size(list) > 64)
        return MP_ERR_PARSE;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v) ||
            !merkle_hash_b64(json_string_value(v), json_string_length(v), h[i]))
            return MP_ERR_PARSE;
    }
    *n = (unsigned int)json_array_size(list);
    return MP_OK;
}

enum mp_err
merkle_frontier_set(struct merkle_frontier *f, uint64_t size,
    const unsigned char (*h)[MERKLE_HASH_LEN], unsigned int n)
{
    if (merkle_subtrees(size) != n)
        return MP_ERR_PARSE;
    f->size = size;
    f->n = n;
    if (n > 0)
        memcpy(f->h, h, (size_t)n * MERKLE_HASH_LEN);
    return MP_OK;
}

/* The largest power of two below n (n >= 2). Compared as k <= (n - 1) / 2, not 2k < n: for
 * n > 2^63, 2k wraps to 0 and the loop would never end. */
static uint64_t
split_point(uint64_t n)
{
    uint64_t k = 1;

    while (k <= (n - 1) / 2)
        k <<= 1;
    return k;
}

/* PATH(m, D[off:off+n]) of RFC 9162 2.1.3.1: the inner proof first, then the sibling. */
static size_t
path_ranges(uint64_t m, uint64_t off, uint64_t n, struct merkle_range *out)
{
    uint64_t k;
    size_t c;

    if (n <= 1)
        return 0;
    k = split_point(n);
    if (m < k) {
        c = path_ranges(m, off, k, out);
        out[c].begin = off + k;
        out[c].end = off + n;
    } else {
        c = path_ranges(m - k, off + k, n - k, out);
        out[c].begin = off;
        out[c].end = off + k;
    }
    return c + 1;
}

size_t
merkle_inclusion_ranges(uint64_t index, uint64_t size, struct merkle_range *out)
{
    if (index >= size)
        return 0;
    return path_ranges(index, 0, size, out);
}

/* SUBPROOF(m, D[off:off+n], b) of RFC 9162 2.1.4.1. */
static size_t
sub_ranges(uint64_t m, uint64_t off, uint64_t n, int b, struct merkle_range *out)
{
    uint64_t k;
    size_t c;

    if (m == n) {
        if (b)
            return 0;
        out[0].begin = off;
        out[0].end = off + n;
        return 1;
    }
    k = split_point(n);
    if (m <= k) {
        c = sub_ranges(m, off, k, b, out);
        out[c].begin = off + k;
        out[c].end = off + n;
    } else {
        c = sub_ranges(m - k, off + k, n - k, 0, out);
        out[c].begin = off;
        out[c].end = off + k;
    }
    return c + 1;
}

size_t
merkle_consistency_ranges(uint64_t m, uint64_t n, struct merkle_range *out, int *ok)
{
    *ok = m > 0 && m <= n;
    if (!*ok || m == n)
        return 0;
    return sub_ranges(m, 0, n, 1, out);
}

/* Shifts fn and sn right together until fn's low bit is set or fn is 0. */
static void
shift_to_odd(uint64_t *fn, uint64_t *sn)
{
    while ((*fn & 1) == 0 && *fn != 0) {
        *fn >>= 1;
        *sn >>= 1;
    }
}

int
merkle_inclusion_check(uint64_t index, uint64_t size, const unsigned char leaf[MERKLE_HASH_LEN],
    const unsigned char (*path)[MERKLE_HASH_LEN], size_t npath,
    const unsigned char root[MERKLE_HASH_LEN])
{
    unsigned char r[MERKLE_HASH_LEN];
    uint64_t fn = index, sn;
    size_t i;

    if (index >= size)
        return 0;
    sn = size - 1;
    memcpy(r, leaf, MERKLE_HASH_LEN);
    for (i = 0; i < npath; i++) {
        if (sn == 0)
            return 0;
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(path[i], r, r);
            shift_to_odd(&fn, &sn);
        } else
            merkle_node_hash(r, path[i], r);
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, MERKLE_HASH_LEN) == 0;
}

int
merkle_consistency_check(uint64_t m, uint64_t n, const unsigned char old_root[MERKLE_HASH_LEN],
    const unsigned char new_root[MERKLE_HASH_LEN], const unsigned char (*proof)[MERKLE_HASH_LEN],
    size_t nproof)
{
    unsigned char fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
    uint64_t fn, sn;
    size_t i = 0;

    if (m == 0 || m > n)
        return 0;
    if (m == n)
        return nproof == 0 && memcmp(old_root, new_root, MERKLE_HASH_LEN) == 0;
    if (nproof == 0)
        return 0;
    /* A power-of-two old tree is itself a node of the new one: the path starts at its head. */
    if ((m & (m - 1)) == 0)
        memcpy(fr, old_root, MERKLE_HASH_LEN);
    else
        memcpy(fr, proof[i++], MERKLE_HASH_LEN);
    memcpy(sr, fr, MERKLE_HASH_LEN);
    fn = m - 1;
    sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < nproof; i++) {
        if (sn == 0)
            return 0;
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(proof[i], fr, fr);
            merkle_node_hash(proof[i], sr, sr);
            shift_to_odd(&fn, &sn);
        } else
            merkle_node_hash(sr, proof[i], sr);
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, old_root, MERKLE_HASH_LEN) == 0 &&
        memcmp(sr, new_root, MERKLE_HASH_LEN) == 0;
}
