/* signer/audit/audit_merkle: RFC 9162 (= RFC 6962) tree heads, frontiers, proof ranges and
 * proof checks against the published test vectors, plus every proof of every small tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "signer/audit/audit_merkle.h"

/* Test vectors (data only) from transparency-dev/merkle, Apache-2.0:
 *   leaf inputs and roots: testonly/constants.go at 77f1b57d7aa25fcd2e51273166b6b2b0e74923b1
 *   inclusion and consistency proofs: cmd/proofgen/main.go at
 *   428c4c0fea495ba87eaa7f7d5588d50b7cab772b (inclusionProofs, consistencyProofs; their leaf
 *   numbers are 1-based, the indexes below 0-based). */
static const char *const leaf_hex[8] = {"", "00", "10", "2021", "3031", "40414243",
    "5051525354555657", "606162636465666768696a6b6c6d6e6f"};

static const char *const leaf_hash_hex[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};

/* root_hex[n]: the tree of the first n leaves. */
static const char *const root_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct vector {
    uint64_t a, b; /* inclusion: index, size; consistency: m, n */
    size_t n;
    const char *h[3];
};

static const struct vector inclusion_vectors[] = {
    {0, 1, 0, {NULL}},
    {0, 8, 3,
        {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8, 3,
        {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5, 3,
        {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const struct vector consistency_vectors[] = {
    {1, 1, 0, {NULL}},
    {1, 8, 3,
        {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6, 8, 3,
        {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 5, 2,
        {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6, 7, 3,
        {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

#define NLEAVES 64 /* leaves of the generated trees: the 8 vectors, then 2 bytes each */

static unsigned char leaves[NLEAVES][MERKLE_HASH_LEN];
static unsigned char roots[NLEAVES + 1][MERKLE_HASH_LEN];

static void
unhex(const char *s, unsigned char *out, size_t *len)
{
    size_t i, n = strlen(s) / 2;

    for (i = 0; i < n; i++) {
        unsigned int v;

        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
    if (len != NULL)
        *len = n;
}

static void
hash_of(const char *hex, unsigned char out[MERKLE_HASH_LEN])
{
    size_t n;

    assert_int_equal(strlen(hex), 2 * MERKLE_HASH_LEN);
    unhex(hex, out, &n);
}

/* The head of leaves [b, e), by a frontier of just those leaves. */
static void
range_head(const struct merkle_range *r, unsigned char out[MERKLE_HASH_LEN])
{
    struct merkle_frontier f;
    uint64_t i;

    merkle_frontier_init(&f);
    for (i = r->begin; i < r->end; i++)
        merkle_frontier_push(&f, leaves[i]);
    merkle_frontier_root(&f, out);
}

static int
setup(void **state)
{
    struct merkle_frontier f;
    unsigned char data[16];
    size_t i, n;

    (void)state;
    merkle_frontier_init(&f);
    merkle_frontier_root(&f, roots[0]);
    for (i = 0; i < NLEAVES; i++) {
        if (i < 8)
            unhex(leaf_hex[i], data, &n);
        else {
            data[0] = (unsigned char)i;
            data[1] = 0xa5;
            n = 2;
        }
        merkle_leaf_hash(data, n, leaves[i]);
        merkle_frontier_push(&f, leaves[i]);
        merkle_frontier_root(&f, roots[i + 1]);
    }
    return 0;
}

static void
leaf_hashes_match_the_vectors(void **state)
{
    unsigned char want[MERKLE_HASH_LEN];
    size_t i;

    (void)state;
    for (i = 0; i < 8; i++) {
        hash_of(leaf_hash_hex[i], want);
        assert_memory_equal(leaves[i], want, MERKLE_HASH_LEN);
    }
}

static void
frontier_roots_match_the_vectors_for_sizes_0_to_8(void **state)
{
    unsigned char want[MERKLE_HASH_LEN];
    size_t i;

    (void)state;
    for (i = 0; i <= 8; i++) {
        hash_of(root_hex[i], want);
        assert_memory_equal(roots[i], want, MERKLE_HASH_LEN);
    }
}

static void
node_hash_is_sha256_of_01_left_right(void **state)
{
    unsigned char want[MERKLE_HASH_LEN], got[MERKLE_HASH_LEN];

    (void)state;
    /* The tree of two leaves is one node: its root is the node of the two leaf hashes. */
    merkle_node_hash(leaves[0], leaves[1], got);
    hash_of(root_hex[2], want);
    assert_memory_equal(got, want, MERKLE_HASH_LEN);
}

/* A frontier restored from its own subtrees (as a segment line lists them) continues to the
 * same roots; a subtree count that is not the popcount of the size is refused. */
static void
frontier_set_restores_and_checks_the_count(void **state)
{
    struct merkle_frontier f, g;
    unsigned char r[MERKLE_HASH_LEN];
    uint64_t i, s;

    (void)state;
    for (s = 0; s <= 40; s++) {
        merkle_frontier_init(&f);
        for (i = 0; i < s; i++)
            merkle_frontier_push(&f, leaves[i]);
        assert_int_equal(merkle_frontier_set(&g, s, (const unsigned char(*)[MERKLE_HASH_LEN])f.h,
                             f.n),
            MP_OK);
        for (i = s; i < NLEAVES; i++)
            merkle_frontier_push(&g, leaves[i]);
        merkle_frontier_root(&g, r);
        assert_memory_equal(r, roots[NLEAVES], MERKLE_HASH_LEN);
        assert_int_equal(merkle_frontier_set(&g, s, (const unsigned char(*)[MERKLE_HASH_LEN])f.h,
                             f.n + 1),
            MP_ERR_PARSE);
    }
}

/* proof[n] from the ranges, each range's head made with a frontier. */
static size_t
make_inclusion(uint64_t index, uint64_t size, unsigned char (*proof)[MERKLE_HASH_LEN])
{
    struct merkle_range r[MERKLE_MAX_PROOF];
    size_t n = merkle_inclusion_ranges(index, size, r), i;

    for (i = 0; i < n; i++)
        range_head(&r[i], proof[i]);
    return n;
}

static size_t
make_consistency(uint64_t m, uint64_t size, unsigned char (*proof)[MERKLE_HASH_LEN])
{
    struct merkle_range r[MERKLE_MAX_PROOF];
    int ok = 0;
    size_t n = merkle_consistency_ranges(m, size, r, &ok), i;

    assert_true(ok);
    for (i = 0; i < n; i++)
        range_head(&r[i], proof[i]);
    return n;
}

#define CPROOF (const unsigned char(*)[MERKLE_HASH_LEN])

/* Every way of spoiling a good inclusion proof fails. */
static void
inclusion_tampered_fails(uint64_t idx, uint64_t size, unsigned char (*p)[MERKLE_HASH_LEN], size_t n)
{
    unsigned char bad[MERKLE_MAX_PROOF + 1][MERKLE_HASH_LEN];
    const unsigned char *leaf = leaves[idx], *root = roots[size];
    size_t i;

    assert_true(merkle_inclusion_check(idx, size, leaf, CPROOF p, n, root));
    assert_false(merkle_inclusion_check(idx + 1, size, leaf, CPROOF p, n, root));
    if (idx > 0)
        assert_false(merkle_inclusion_check(idx - 1, size, leaf, CPROOF p, n, root));
    assert_false(merkle_inclusion_check(idx ^ 2, size, leaf, CPROOF p, n, root));
    assert_false(merkle_inclusion_check(idx, size * 2, leaf, CPROOF p, n, root));
    if (size / 2 > idx)
        assert_false(merkle_inclusion_check(idx, size / 2, leaf, CPROOF p, n, root));
    assert_false(merkle_inclusion_check(idx, size, leaves[(idx + 1) % NLEAVES], CPROOF p, n, root));
    assert_false(merkle_inclusion_check(idx, size, leaf, CPROOF p, n, roots[0]));
    assert_false(merkle_inclusion_check(idx, idx, leaf, CPROOF p, n, root));
    memcpy(bad, p, n * MERKLE_HASH_LEN);
    memcpy(bad[n], root, MERKLE_HASH_LEN);
    assert_false(merkle_inclusion_check(idx, size, leaf, CPROOF bad, n + 1, root));
    if (n > 0)
        assert_false(merkle_inclusion_check(idx, size, leaf, CPROOF p, n - 1, root));
    for (i = 0; i < n; i++) {
        memcpy(bad, p, n * MERKLE_HASH_LEN);
        bad[i][0] ^= 8;
        assert_false(merkle_inclusion_check(idx, size, leaf, CPROOF bad, n, root));
    }
    if (n > 1) { /* two hashes swapped */
        memcpy(bad, p, n * MERKLE_HASH_LEN);
        memcpy(bad[0], p[1], MERKLE_HASH_LEN);
        memcpy(bad[1], p[0], MERKLE_HASH_LEN);
        assert_false(merkle_inclusion_check(idx, size, leaf, CPROOF bad, n, root));
    }
}

static void
inclusion_proofs_match_the_vectors(void **state)
{
    unsigned char p[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], want[MERKLE_HASH_LEN];
    size_t v, i, n;

    (void)state;
    for (v = 0; v < sizeof(inclusion_vectors) / sizeof(inclusion_vectors[0]); v++) {
        const struct vector *t = &inclusion_vectors[v];

        n = make_inclusion(t->a, t->b, p);
        assert_int_equal(n, t->n);
        for (i = 0; i < n; i++) {
            hash_of(t->h[i], want);
            assert_memory_equal(p[i], want, MERKLE_HASH_LEN);
        }
        inclusion_tampered_fails(t->a, t->b, p, n);
    }
}

/* Every way of spoiling a good consistency proof fails. */
static void
consistency_tampered_fails(uint64_t m, uint64_t size, unsigned char (*p)[MERKLE_HASH_LEN], size_t n)
{
    unsigned char bad[MERKLE_MAX_PROOF + 1][MERKLE_HASH_LEN];
    const unsigned char *r1 = roots[m], *r2 = roots[size];
    size_t i;

    assert_true(merkle_consistency_check(m, size, r1, r2, CPROOF p, n));
    if (m == size) {
        assert_false(merkle_consistency_check(m, size, r1, r2, CPROOF leaves, 1));
        assert_false(merkle_consistency_check(0, 0, r1, r2, CPROOF p, 0));
        return;
    }
    assert_false(merkle_consistency_check(m - 1, size, r1, r2, CPROOF p, n));
    assert_false(merkle_consistency_check(m + 1, size, r1, r2, CPROOF p, n));
    assert_false(merkle_consistency_check(m ^ 2, size, r1, r2, CPROOF p, n));
    assert_false(merkle_consistency_check(m, size * 2, r1, r2, CPROOF p, n));
    assert_false(merkle_consistency_check(m, size / 2, r1, r2, CPROOF p, n));
    assert_false(merkle_consistency_check(size, m, r2, r1, CPROOF p, n));
    assert_false(merkle_consistency_check(m, size, r2, r1, CPROOF p, n));
    assert_false(merkle_consistency_check(m, size, roots[0], r2, CPROOF p, n));
    assert_false(merkle_consistency_check(m, size, r1, roots[0], CPROOF p, n));
    assert_false(merkle_consistency_check(m, size, r1, r2, CPROOF p, 0));
    assert_false(merkle_consistency_check(m, size, r1, r2, CPROOF p, n - 1));
    memcpy(bad, p, n * MERKLE_HASH_LEN);
    memcpy(bad[n], r2, MERKLE_HASH_LEN);
    assert_false(merkle_consistency_check(m, size, r1, r2, CPROOF bad, n + 1));
    memcpy(bad[0], r1, MERKLE_HASH_LEN);
    memcpy(bad + 1, p, n * MERKLE_HASH_LEN);
    assert_false(merkle_consistency_check(m, size, r1, r2, CPROOF bad, n + 1));
    for (i = 0; i < n; i++) {
        memcpy(bad, p, n * MERKLE_HASH_LEN);
        bad[i][0] ^= 16;
        assert_false(merkle_consistency_check(m, size, r1, r2, CPROOF bad, n));
    }
}

static void
consistency_proofs_match_the_vectors(void **state)
{
    unsigned char p[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], want[MERKLE_HASH_LEN];
    size_t v, i, n;

    (void)state;
    for (v = 0; v < sizeof(consistency_vectors) / sizeof(consistency_vectors[0]); v++) {
        const struct vector *t = &consistency_vectors[v];

        n = make_consistency(t->a, t->b, p);
        assert_int_equal(n, t->n);
        for (i = 0; i < n; i++) {
            hash_of(t->h[i], want);
            assert_memory_equal(p[i], want, MERKLE_HASH_LEN);
        }
        consistency_tampered_fails(t->a, t->b, p, n);
    }
}

/* Beyond the vectors: every leaf of every tree up to NLEAVES, every pair of sizes. */
static void
every_small_proof_verifies_and_tampering_fails(void **state)
{
    unsigned char p[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
    uint64_t size, i;
    size_t n;

    (void)state;
    for (size = 1; size <= NLEAVES; size++)
        for (i = 0; i < size; i++) {
            n = make_inclusion(i, size, p);
            assert_true(n <= 2 * 7);
            inclusion_tampered_fails(i, size, p, n);
            if (size < NLEAVES)
                assert_false(
                    merkle_inclusion_check(i, size + 1, leaves[i], CPROOF p, n, roots[size + 1]));
        }
    for (size = 1; size <= NLEAVES; size++)
        for (i = 1; i <= size; i++) {
            n = make_consistency(i, size, p);
            consistency_tampered_fails(i, size, p, n);
        }
}

static void
ranges_refuse_what_cannot_be_proved(void **state)
{
    struct merkle_range r[MERKLE_MAX_PROOF];
    int ok = 1;

    (void)state;
    assert_int_equal(merkle_inclusion_ranges(0, 0, r), 0);
    assert_int_equal(merkle_inclusion_ranges(7, 7, r), 0);
    assert_int_equal(merkle_inclusion_ranges(9, 8, r), 0);
    assert_int_equal(merkle_consistency_ranges(0, 5, r, &ok), 0);
    assert_false(ok);
    assert_int_equal(merkle_consistency_ranges(9, 8, r, &ok), 0);
    assert_false(ok);
    assert_int_equal(merkle_consistency_ranges(5, 5, r, &ok), 0);
    assert_true(ok);
    assert_false(merkle_inclusion_check(0, 0, leaves[0], CPROOF leaves, 0, roots[0]));
    assert_false(merkle_consistency_check(0, 1, roots[0], roots[1], CPROOF leaves, 1));
}

/* Sizes near 2^64: the split point must not overflow (a loop that doubled past 2^63 never
 * ended), and the paths have one hash per level. */
static void
ranges_of_huge_trees(void **state)
{
    struct merkle_range r[MERKLE_MAX_PROOF];
    const uint64_t top = (uint64_t)1 << 63;
    int ok = 0;

    (void)state;
    assert_int_equal(merkle_inclusion_ranges(top, top + 1, r), 1);
    assert_true(r[0].begin == 0 && r[0].end == top);
    assert_int_equal(merkle_inclusion_ranges(0, UINT64_MAX, r), 64);
    assert_true(r[0].begin == 1 && r[0].end == 2);
    assert_true(r[63].begin == top && r[63].end == UINT64_MAX);
    assert_int_equal(merkle_inclusion_ranges(UINT64_MAX - 1, UINT64_MAX, r), 63);
    /* The old tree is the new one's left half: the right half alone proves it. */
    assert_int_equal(merkle_consistency_ranges(top, UINT64_MAX, r, &ok), 1);
    assert_true(ok);
    assert_true(r[0].begin == top && r[0].end == UINT64_MAX);
    assert_int_equal(merkle_consistency_ranges(3, UINT64_MAX, r, &ok), 65);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leaf_hashes_match_the_vectors),
        cmocka_unit_test(frontier_roots_match_the_vectors_for_sizes_0_to_8),
        cmocka_unit_test(node_hash_is_sha256_of_01_left_right),
        cmocka_unit_test(frontier_set_restores_and_checks_the_count),
        cmocka_unit_test(inclusion_proofs_match_the_vectors),
        cmocka_unit_test(consistency_proofs_match_the_vectors),
        cmocka_unit_test(every_small_proof_verifies_and_tampering_fails),
        cmocka_unit_test(ranges_refuse_what_cannot_be_proved),
        cmocka_unit_test(ranges_of_huge_trees),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
