/* RFC 9162 section 2.1 Merkle trees over the audit log's lines (audit_format.h): tree heads
 * kept incrementally as a frontier, the subtrees a proof is made of, and proof checks. */
#ifndef MP_AUDIT_MERKLE_H
#define MP_AUDIT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"

#define MERKLE_HASH_LEN 32
#define MERKLE_MAX_PROOF 128 /* hashes in a proof: at most 2 per level of a 2^64 tree */

/* The perfect subtrees of a tree of `size` leaves, left to right (largest first): one per
 * 1-bit of size. A value type: a few KiB, copied to try a batch before it is durable. */
struct merkle_frontier {
    uint64_t size;
    unsigned int n;
    unsigned char h[64][MERKLE_HASH_LEN];
};

/* A contiguous range of leaves, [begin, end). */
struct merkle_range {
    uint64_t begin, end;
};

/* MP_ERR_NOMEM when OpenSSL cannot make a digest context. */
enum mp_err merkle_leaf_hash(const void *data, size_t len, unsigned char out[MERKLE_HASH_LEN]);
void merkle_node_hash(const unsigned char left[MERKLE_HASH_LEN],
    const unsigned char right[MERKLE_HASH_LEN], unsigned char out[MERKLE_HASH_LEN]);

void merkle_frontier_init(struct merkle_frontier *f);
/* Appends a leaf by its leaf hash. */
void merkle_frontier_push(struct merkle_frontier *f, const unsigned char leaf[MERKLE_HASH_LEN]);
/* The tree head; SHA-256 of nothing for the empty tree. */
void merkle_frontier_root(const struct merkle_frontier *f, unsigned char out[MERKLE_HASH_LEN]);
/* Restores a frontier from its subtrees (as a segment line lists them): n must be the number
 * of 1-bits of size. MP_ERR_PARSE otherwise. */
enum mp_err merkle_frontier_set(struct merkle_frontier *f, uint64_t size,
    const unsigned char (*h)[MERKLE_HASH_LEN], unsigned int n);

/* The number of perfect subtrees (1-bits) of a tree of size leaves. */
unsigned int merkle_subtrees(uint64_t size);
/* A hash as the log writes it: padded base64 of exactly 32 bytes (len characters at s). 0 if it
 * is not one. */
int merkle_hash_b64(const char *s, size_t len, unsigned char out[MERKLE_HASH_LEN]);
/* A segment line's "frontier": an array of at most 64 such strings, decoded into h with *n
 * their count; MP_ERR_PARSE otherwise. Whether n fits the size is merkle_frontier_set's. */
enum mp_err merkle_frontier_json(json_t *list, unsigned char h[64][MERKLE_HASH_LEN],
    unsigned int *n);

/* The subtrees whose heads make up an inclusion proof of leaf `index` in a tree of `size`
 * (RFC 9162 2.1.3.1), or a consistency proof from size m to size n (2.1.4.1), in the order
 * the proof lists them. out has room for MERKLE_MAX_PROOF; returns how many, or 0 with
 * nothing to prove (index >= size, or m = 0, m > n; m = n proves with no hashes: *ok 1). */
size_t merkle_inclusion_ranges(uint64_t index, uint64_t size, struct merkle_range *out);
size_t merkle_consistency_ranges(uint64_t m, uint64_t n, struct merkle_range *out, int *ok);

/* RFC 9162 2.1.3.2: 1 if leaf at index, with path, gives root for a tree of size. */
int merkle_inclusion_check(uint64_t index, uint64_t size, const unsigned char leaf[MERKLE_HASH_LEN],
    const unsigned char (*path)[MERKLE_HASH_LEN], size_t npath,
    const unsigned char root[MERKLE_HASH_LEN]);
/* RFC 9162 2.1.4.2: 1 if proof shows the tree of size m (old_root) is a prefix of the tree of
 * size n (new_root). */
int merkle_consistency_check(uint64_t m, uint64_t n, const unsigned char old_root[MERKLE_HASH_LEN],
    const unsigned char new_root[MERKLE_HASH_LEN], const unsigned char (*proof)[MERKLE_HASH_LEN],
    size_t nproof);

#endif
