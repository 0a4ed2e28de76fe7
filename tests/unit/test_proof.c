/* signer/audit/audit_proof: the one-pass prover against every checkpoint size of small logs
 * (each proof checked with audit_merkle's RFC 9162 checks), the last covering checkpoint,
 * segment frontiers, and the refusals: a rewritten log, lines out of order, nothing to prove.
 * Notes here carry a dummy signature: the prover parses notes but holds no key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "common/b64.h"
#include "common/buf.h"
#include "signer/audit/audit_merkle.h"
#include "signer/audit/audit_note.h"
#include "signer/audit/audit_proof.h"

#define ORIGIN "mp-signer.test/unit"
#define NLINES 48

static char lines[NLINES][1536];
static unsigned char roots[NLINES + 1][MERKLE_HASH_LEN];
static struct merkle_frontier fronts[NLINES + 1];

/* A note of the tree of size n, signed by nobody (the signature line is well formed). */
static void
note_of(uint64_t n, const unsigned char *root, char *out, size_t cap)
{
    char body[AUDIT_NOTE_BODY_MAX];

    assert_int_equal(audit_note_body(ORIGIN, n, root, body), MP_OK);
    snprintf(out, cap, "%s\n\xe2\x80\x94 " ORIGIN " AAAAAAAAAAA=\n", body);
}

static void
b64_of(const unsigned char *h, char *out, size_t cap)
{
    struct mp_buf *b = mp_buf_new(64);

    assert_non_null(b);
    assert_int_equal(mp_b64_encode(b, h, MERKLE_HASH_LEN), MP_OK);
    snprintf(out, cap, "%s", mp_buf_str(b));
    mp_buf_free(b);
}

/* Line seq i of the test log; cp: a checkpoint line over lines 0..i-1. */
static void
make_line(size_t i, int cp)
{
    char note[1024], root[64], esc[1200];
    size_t j, k = 0;

    if (i == 0) {
        snprintf(lines[0], sizeof(lines[0]),
            "{\"seq\":0,\"ts\":\"t\",\"event\":\"header\",\"v\":2,\"nonce\":\"00\",\"origin\":"
            "\"" ORIGIN "\"}");
        return;
    }
    if (!cp) {
        snprintf(lines[i], sizeof(lines[i]),
            "{\"seq\":%zu,\"prev\":\"p\",\"ts\":\"t\",\"event\":\"sign\",\"outcome\":\"%s\","
            "\"claims\":{\"jti\":\"jti-%zu\"}}",
            i, i % 5 == 0 ? "refused" : "granted", i % 3);
        return;
    }
    note_of(i, roots[i], note, sizeof(note));
    b64_of(roots[i], root, sizeof(root));
    for (j = 0; note[j] != '\0'; j++) { /* the note as a JSON string */
        if (note[j] == '\n') {
            esc[k++] = '\\';
            esc[k++] = 'n';
        } else
            esc[k++] = note[j];
    }
    esc[k] = '\0';
    snprintf(lines[i], sizeof(lines[i]),
        "{\"seq\":%zu,\"prev\":\"p\",\"ts\":\"t\",\"event\":\"checkpoint\",\"covers\":%zu,"
        "\"head\":\"p\",\"key_sha256\":\"k\",\"tree_size\":%zu,\"root\":\"%s\",\"note\":\"%s\"}",
        i, i - 1, i, root, esc);
}

static void
segment_line(size_t from)
{
    char b[64];
    size_t i, k;

    k = (size_t)snprintf(lines[from], sizeof(lines[from]),
        "{\"seq\":%zu,\"prev\":\"p\",\"ts\":\"t\",\"event\":\"segment\",\"v\":2,\"origin\":"
        "\"" ORIGIN "\",\"frontier\":[",
        from);
    for (i = 0; i < fronts[from].n; i++) {
        b64_of(fronts[from].h[i], b, sizeof(b));
        k +=
            (size_t)snprintf(lines[from] + k, sizeof(lines[from]) - k, "%s\"%s\"", i ? "," : "", b);
    }
    snprintf(lines[from] + k, sizeof(lines[from]) - k, "]}");
}

/* The test log, checkpoint lines at seq 10, 23 and 37; with seg > 0, line seg is a segment
 * line (the first line of a later segment) and the tree goes on from it. */
static void
build(size_t seg)
{
    unsigned char leaf[MERKLE_HASH_LEN];
    size_t i;

    merkle_frontier_init(&fronts[0]);
    merkle_frontier_root(&fronts[0], roots[0]);
    for (i = 0; i < NLINES; i++) {
        if (seg > 0 && i == seg)
            segment_line(i);
        else
            make_line(i, i == 10 || i == 23 || i == 37);
        merkle_leaf_hash(lines[i], strlen(lines[i]), leaf);
        fronts[i + 1] = fronts[i];
        merkle_frontier_push(&fronts[i + 1], leaf);
        merkle_frontier_root(&fronts[i + 1], roots[i + 1]);
    }
}

static int
setup(void **state)
{
    (void)state;
    build(0);
    return 0;
}

/* Runs the prover over lines [from, NLINES) and returns its result, *json the proof. */
static enum mp_err
run(const struct audit_prove_req *req, size_t from, char **json)
{
    struct audit_prover *p = NULL;
    struct mp_errmsg e = {{0}};
    size_t i;
    enum mp_err r;

    *json = NULL;
    if ((r = audit_prover_new(req, &p, &e)) != MP_OK)
        return r;
    for (i = from; i < NLINES && r == MP_OK; i++)
        r = audit_prover_line(p, lines[i], strlen(lines[i]), &e);
    if (r == MP_OK)
        r = audit_prover_finish(p, json, &e);
    audit_prover_free(p);
    return r;
}

/* The path of a proof JSON into h; its number. */
static size_t
path_of(json_t *j, unsigned char (*h)[MERKLE_HASH_LEN])
{
    json_t *a = json_object_get(j, "path"), *v;
    struct mp_buf *b = mp_buf_new(64);
    size_t i;

    assert_true(json_is_array(a));
    json_array_foreach(a, i, v)
    {
        mp_buf_reset(b);
        assert_int_equal(mp_b64_decode(b, json_string_value(v), json_string_length(v)), MP_OK);
        assert_int_equal(mp_buf_len(b), MERKLE_HASH_LEN);
        memcpy(h[i], mp_buf_ptr(b), MERKLE_HASH_LEN);
    }
    mp_buf_free(b);
    return json_array_size(a);
}

static void
check_inclusion(const char *text, uint64_t idx, uint64_t size)
{
    unsigned char h[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    size_t n;

    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "proof")), "inclusion");
    assert_string_equal(json_string_value(json_object_get(j, "origin")), ORIGIN);
    assert_int_equal(json_integer_value(json_object_get(j, "tree_size")), size);
    assert_int_equal(json_integer_value(json_object_get(j, "index")), idx);
    assert_string_equal(json_string_value(json_object_get(j, "line")), lines[idx]);
    n = path_of(j, h);
    merkle_leaf_hash(lines[idx], strlen(lines[idx]), leaf);
    assert_true(merkle_inclusion_check(idx, size, leaf, (const unsigned char(*)[MERKLE_HASH_LEN])h,
        n, roots[size]));
    json_decref(j);
}

static void
inclusion_against_every_given_checkpoint(void **state)
{
    char note[1024], *json;
    struct audit_prove_req req = {AUDIT_PROOF_INCLUSION, 0, NULL, note, NULL, 0, 0};
    uint64_t n, i;

    (void)state;
    for (n = 1; n <= NLINES; n++)
        for (i = 0; i < n; i++) {
            note_of(n, roots[n], note, sizeof(note));
            req.seq = i;
            req.note_len = strlen(note);
            assert_int_equal(run(&req, 0, &json), MP_OK);
            check_inclusion(json, i, n);
            free(json);
        }
}

static void
consistency_between_every_pair(void **state)
{
    unsigned char h[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
    char a[1024], b[1024], *json;
    struct audit_prove_req req = {AUDIT_PROOF_CONSISTENCY, 0, NULL, b, a, 0, 0};
    uint64_t m, n;
    json_t *j;
    size_t k;

    (void)state;
    for (n = 1; n <= NLINES; n++)
        for (m = 1; m <= n; m++) {
            note_of(m, roots[m], a, sizeof(a));
            note_of(n, roots[n], b, sizeof(b));
            req.old_note_len = strlen(a);
            req.note_len = strlen(b);
            assert_int_equal(run(&req, 0, &json), MP_OK);
            assert_non_null(j = json_loads(json, 0, NULL));
            assert_int_equal(json_integer_value(json_object_get(j, "old_size")), m);
            assert_int_equal(json_integer_value(json_object_get(j, "new_size")), n);
            k = path_of(j, h);
            assert_true(merkle_consistency_check(m, n, roots[m], roots[n],
                (const unsigned char(*)[MERKLE_HASH_LEN])h, k));
            json_decref(j);
            free(json);
        }
}

/* Without a checkpoint given: the last checkpoint line of the log whose tree holds the line;
 * a line after the last checkpoint has none. */
static void
the_last_covering_checkpoint_is_used(void **state)
{
    struct audit_prove_req req = {AUDIT_PROOF_INCLUSION, 0, NULL, NULL, NULL, 0, 0};
    char *json;
    uint64_t i;

    (void)state;
    for (i = 0; i < NLINES; i++) {
        req.seq = i;
        if (i >= 37) {
            assert_int_equal(run(&req, 0, &json), MP_ERR_NOTFOUND);
            continue;
        }
        assert_int_equal(run(&req, 0, &json), MP_OK);
        check_inclusion(json, i, 37);
        free(json);
    }
}

/* --jti: "jti-1" is on seq 1, 4, 7, ...: the last granted line before the last checkpoint's
 * reach is chosen even if later ones exist (the proof is then not found). */
static void
jti_picks_the_last_grant(void **state)
{
    struct audit_prove_req req = {AUDIT_PROOF_INCLUSION, 0, "jti-1", NULL, NULL, 0, 0};
    char note[1024], *json;

    (void)state;
    /* jti-1: seq 1, 4, 7, 13, 16, 19, 22, 25, ... 46; 46 is granted and after seq 37. */
    assert_int_equal(run(&req, 0, &json), MP_ERR_NOTFOUND);
    /* jti-2: seq 2, 5 (refused), 8, 11, 14, 17, 20, 26, 29, 32, 35 (refused), 38, 41, 44, 47. */
    req.jti = "jti-2";
    note_of(NLINES, roots[NLINES], note, sizeof(note));
    req.note = note;
    req.note_len = strlen(note);
    assert_int_equal(run(&req, 0, &json), MP_OK);
    check_inclusion(json, 47, NLINES);
    free(json);
    req.jti = "nobody";
    assert_int_equal(run(&req, 0, &json), MP_ERR_NOTFOUND);
}

/* A log read from a segment line on: its frontier stands in for the lines before it, for
 * lines from there and trees from there; earlier ones need the earlier segments. */
static void
a_segment_line_restores_the_tree(void **state)
{
    char note[1024], old[1024], *json;
    struct audit_prove_req req = {AUDIT_PROOF_INCLUSION, 0, NULL, note, NULL, 0, 0};
    uint64_t i;

    (void)state;
    build(24);
    note_of(40, roots[40], note, sizeof(note));
    req.note_len = strlen(note);
    for (i = 24; i < 40; i++) {
        req.seq = i;
        assert_int_equal(run(&req, 24, &json), MP_OK);
        check_inclusion(json, i, 40);
        free(json);
        /* The whole log gives the same proof. */
        assert_int_equal(run(&req, 0, &json), MP_OK);
        check_inclusion(json, i, 40);
        free(json);
    }
    req.seq = 20;
    assert_int_equal(run(&req, 24, &json), MP_ERR_NOTFOUND);
    req.kind = AUDIT_PROOF_CONSISTENCY;
    req.old_note = old;
    note_of(30, roots[30], old, sizeof(old));
    req.old_note_len = strlen(old);
    assert_int_equal(run(&req, 24, &json), MP_OK);
    free(json);
    note_of(20, roots[20], old, sizeof(old));
    req.old_note_len = strlen(old);
    assert_int_equal(run(&req, 24, &json), MP_ERR_NOTFOUND);
    build(0);
}

static void
a_rewritten_log_or_bad_order_is_refused(void **state)
{
    unsigned char bad[MERKLE_HASH_LEN];
    char note[1024], old[1024], *json, saved[1536];
    struct audit_prove_req req = {AUDIT_PROOF_INCLUSION, 3, NULL, note, NULL, 0, 0};

    (void)state;
    memcpy(bad, roots[20], MERKLE_HASH_LEN);
    bad[0] ^= 1;
    note_of(20, bad, note, sizeof(note));
    req.note_len = strlen(note);
    assert_int_equal(run(&req, 0, &json), MP_ERR_CRYPTO);
    req.kind = AUDIT_PROOF_CONSISTENCY;
    req.old_note = note;
    req.old_note_len = strlen(note);
    note_of(30, roots[30], old, sizeof(old));
    req.note = old;
    req.note_len = strlen(old);
    assert_int_equal(run(&req, 0, &json), MP_ERR_CRYPTO);
    /* Lines out of order. */
    req.kind = AUDIT_PROOF_INCLUSION;
    req.old_note = NULL;
    memcpy(saved, lines[5], sizeof(saved));
    memcpy(lines[5], lines[6], sizeof(saved));
    assert_int_equal(run(&req, 0, &json), MP_ERR_PARSE);
    memcpy(lines[5], saved, sizeof(saved));
    /* A checkpoint line that does not match the tree (line 3 changed before it). */
    req.note = NULL;
    lines[3][strlen(lines[3]) - 3] ^= 1;
    assert_int_equal(run(&req, 0, &json), MP_ERR_CRYPTO);
    lines[3][strlen(lines[3]) - 3] ^= 1;
    /* Nothing to prove: a seq outside the note's tree, a malformed note. */
    note_of(3, roots[3], note, sizeof(note));
    req.note = note;
    req.note_len = strlen(note);
    assert_int_equal(run(&req, 0, &json), MP_ERR_INVALID);
    req.note = "x\n";
    req.note_len = 2;
    assert_int_equal(run(&req, 0, &json), MP_ERR_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inclusion_against_every_given_checkpoint),
        cmocka_unit_test(consistency_between_every_pair),
        cmocka_unit_test(the_last_covering_checkpoint_is_used),
        cmocka_unit_test(jti_picks_the_last_grant),
        cmocka_unit_test(a_segment_line_restores_the_tree),
        cmocka_unit_test(a_rewritten_log_or_bad_order_is_refused),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
