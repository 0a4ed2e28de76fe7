/* signer/audit/audit_verify and audit_segments on small logs built in memory: format-2
 * checkpoints against the recomputed tree and their notes (no key), segment lines as a
 * segment's only line for the writer's audit_verify_link, and how segments are found, ordered
 * and inflated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "common/b64.h"
#include "common/buf.h"
#include "signer/audit/audit_merkle.h"
#include "signer/audit/audit_segments.h"
#include "signer/audit/audit_verify.h"

#define ORIGIN "example.test/audit"
#define H64 "0000000000000000000000000000000000000000000000000000000000000000"

/* A log being built: its text, the last line's hash and the tree so far. */
struct mlog {
    struct mp_buf *b;
    char prev[65];
    unsigned long long seq;
    struct merkle_frontier fr;
};

static void
b64(const unsigned char *h, size_t n, char *out, size_t cap)
{
    struct mp_buf *b = mp_buf_new(1024);

    assert_int_equal(mp_b64_encode(b, h, n), MP_OK);
    snprintf(out, cap, "%s", mp_buf_str(b));
    mp_buf_free(b);
}

static void
put(struct mlog *m, const char *line)
{
    unsigned char h[32], leaf[32];
    size_t i;

    assert_int_equal(mp_buf_putf(m->b, "%s\n", line), MP_OK);
    EVP_Digest(line, strlen(line), h, NULL, EVP_sha256(), NULL);
    for (i = 0; i < 32; i++)
        snprintf(m->prev + 2 * i, 3, "%02x", h[i]);
    merkle_leaf_hash(line, strlen(line), leaf);
    merkle_frontier_push(&m->fr, leaf);
}

static void
mlog_start(struct mlog *m, const char *origin)
{
    char line[512];

    m->b = mp_buf_new(1 << 20);
    merkle_frontier_init(&m->fr);
    m->seq = 0;
    snprintf(line, sizeof(line),
        "{\"seq\":0,\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event\":\"header\",\"v\":2,"
        "\"nonce\":\"%s\",\"origin\":\"%s\"}",
        H64, origin);
    put(m, line);
}

static void
sign(struct mlog *m)
{
    char line[512];

    m->seq++;
    snprintf(line, sizeof(line),
        "{\"seq\":%llu,\"prev\":\"%s\",\"ts\":\"2026-01-01T00:00:%02llu.000000Z\",\"event\":"
        "\"sign\",\"outcome\":\"granted\"}",
        m->seq, m->prev, m->seq % 60);
    put(m, line);
}

/* A format-2 checkpoint; its note's signature is five zero bytes (no key checks it). size and
 * root_delta let a test write a wrong one. */
static void
checkpoint(struct mlog *m, const char *note_origin, long long size_delta, int root_delta)
{
    unsigned char root[32], sig[5] = {0};
    char rb[64], sb[16], line[2048];
    unsigned long long size = m->fr.size + (unsigned long long)size_delta;

    merkle_frontier_root(&m->fr, root);
    root[0] = (unsigned char)(root[0] + root_delta);
    b64(root, 32, rb, sizeof(rb));
    b64(sig, 5, sb, sizeof(sb));
    m->seq++;
    snprintf(line, sizeof(line),
        "{\"seq\":%llu,\"prev\":\"%s\",\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event\":"
        "\"checkpoint\",\"covers\":%llu,\"head\":\"%s\",\"key_sha256\":\"%s\",\"tree_size\":%llu,"
        "\"root\":\"%s\",\"note\":\"%s\\n%llu\\n%s\\n\\n\\u2014 %s %s\\n\"}",
        m->seq, m->prev, m->seq - 1, m->prev, H64, size, rb, note_origin, size, rb, note_origin,
        sb);
    put(m, line);
}

static enum mp_err
verify(struct mlog *m, struct audit_report *rep)
{
    struct mp_errmsg e = {{0}};

    return audit_verify_buffer(mp_buf_str(m->b), mp_buf_len(m->b), NULL, rep, &e);
}

static void
format2_good(void **state)
{
    struct mlog m;
    struct audit_report rep;
    int i;

    (void)state;
    mlog_start(&m, ORIGIN);
    for (i = 0; i < 5; i++)
        sign(&m);
    checkpoint(&m, ORIGIN, 0, 0);
    sign(&m);
    checkpoint(&m, ORIGIN, 0, 0);
    assert_int_equal(verify(&m, &rep), MP_OK);
    assert_int_equal(rep.lines, 9);
    assert_int_equal(rep.checkpoints, 2);
    assert_int_equal(rep.after_checkpoint, 0);
    mp_buf_free(m.b);
}

/* Each wrong checkpoint fails at its own line with the reason that names what is wrong. */
static void
format2_bad_checkpoints(void **state)
{
    static const struct {
        const char *origin;
        long long size_delta;
        int root_delta;
        const char *want;
    } cases[] = {
        {ORIGIN, 0, 1, "checkpoint root is not the Merkle tree head of lines 0..3"},
        {ORIGIN, 1, 0, "checkpoint tree_size 5 is not covers + 1 (4)"},
        {"other.test/audit", 0, 0, "checkpoint note is for origin other.test/audit"},
    };
    struct mlog m;
    struct audit_report rep;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mlog_start(&m, ORIGIN);
        sign(&m);
        sign(&m);
        sign(&m);
        checkpoint(&m, cases[i].origin, cases[i].size_delta, cases[i].root_delta);
        assert_int_equal(verify(&m, &rep), MP_ERR_CRYPTO);
        assert_int_equal(rep.bad_line, 5);
        assert_non_null(strstr(rep.reason, cases[i].want));
        mp_buf_free(m.b);
    }
}

static void
format1_checkpoint_in_format2_log(void **state)
{
    struct mlog m;
    struct audit_report rep;
    char line[512];

    (void)state;
    mlog_start(&m, ORIGIN);
    sign(&m);
    snprintf(line, sizeof(line),
        "{\"seq\":2,\"prev\":\"%s\",\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event\":"
        "\"checkpoint\",\"covers\":1,\"head\":\"%s\",\"alg\":\"RS256\",\"key_sha256\":\"%s\","
        "\"sig\":\"AAAA\"}",
        m.prev, m.prev, H64);
    put(&m, line);
    assert_int_equal(verify(&m, &rep), MP_ERR_CRYPTO);
    assert_non_null(strstr(rep.reason, "a format-1 checkpoint (no tree head) in a format-2 log"));
    mp_buf_free(m.b);
}

/* The segment line that starts a live segment, alone, as the writer finds it after a
 * rotation; a segment line anywhere but first is refused. */
static void
segment_line_links(void **state)
{
    struct mlog m;
    struct audit_report rep;
    unsigned char root[32];
    char fr[4][64], rb[64], line[2048];
    unsigned int i;

    (void)state;
    mlog_start(&m, ORIGIN);
    sign(&m);
    sign(&m);
    checkpoint(&m, ORIGIN, 0, 0); /* seq 3: a tree of 3 lines; the frontier then holds 4 */
    merkle_frontier_root(&m.fr, root); /* not the checkpoint's: only its shape matters here */
    b64(root, 32, rb, sizeof(rb));
    for (i = 0; i < m.fr.n; i++)
        b64(m.fr.h[i], 32, fr[i], sizeof(fr[i]));
    assert_int_equal(m.fr.n, 1);
    snprintf(line, sizeof(line),
        "{\"seq\":4,\"prev\":\"%s\",\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event\":"
        "\"segment\",\"v\":2,\"origin\":\"%s\",\"previous\":{\"file\":\"audit.log."
        "00000000000000000000\",\"first_seq\":0,\"last_seq\":3,\"last_sha256\":\"%s\","
        "\"tree_size\":3,\"root\":\"%s\"},\"frontier\":[\"%s\"]}",
        m.prev, ORIGIN, m.prev, rb, fr[0]);
    assert_int_equal(audit_verify_link(NULL, 0, line, strlen(line), &rep), MP_OK);
    put(&m, line);
    assert_int_equal(verify(&m, &rep), MP_ERR_CRYPTO);
    assert_int_equal(rep.bad_line, 5);
    assert_non_null(strstr(rep.reason, "a segment line that is not the first line"));
    mp_buf_free(m.b);
}

/* Files in a directory. */
struct tdir {
    char path[64];
};

static void
tfile(struct tdir *d, const char *name, const char *text, int gz)
{
    char p[256];
    FILE *f;
    gzFile g;

    snprintf(p, sizeof(p), "%s/%s", d->path, name);
    if (gz) {
        assert_non_null(g = gzopen(p, "wb"));
        assert_int_equal(gzwrite(g, text, (unsigned int)strlen(text)), (int)strlen(text));
        gzclose(g);
        return;
    }
    assert_non_null(f = fopen(p, "w"));
    fputs(text, f);
    fclose(f);
}

static void
tdir_rm(struct tdir *d)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", d->path);
    assert_int_equal(system(cmd), 0);
}

static void
segments_found_and_ordered(void **state)
{
    struct tdir d = {"/tmp/mp-segtest.XXXXXX"};
    const char *paths[1], *buf, *base;
    struct audit_segments *s = NULL;
    struct mp_errmsg e = {{0}};
    unsigned long long seq;
    size_t len;

    (void)state;
    assert_non_null(mkdtemp(d.path));
    tfile(&d, "audit.log", "{\"seq\":9,\"live\"}\n", 0);
    tfile(&d, "audit.log.00000000000000000005.gz", "{\"seq\":5,\"gz\"}\n", 1);
    tfile(&d, "audit.log.00000000000000000000", "{\"seq\":0}\n", 0);
    tfile(&d, "audit.log.torn", "{\"seq\":", 0);
    tfile(&d, "audit.log.next", "", 0);
    tfile(&d, "notes.txt", "hello\n", 0);
    paths[0] = d.path;
    assert_int_equal(audit_segments_open(paths, 1, &s, &e), MP_OK);
    assert_int_equal(audit_segments_count(s), 3);
    assert_string_equal(audit_segments_name(s, 0), "audit.log.00000000000000000000");
    assert_string_equal(audit_segments_name(s, 1), "audit.log.00000000000000000005.gz");
    assert_string_equal(audit_segments_stem(s, 1), "audit.log.00000000000000000005");
    assert_true(audit_segments_name_seq(s, 1, &seq) && seq == 5);
    assert_false(audit_segments_name_seq(s, 2, &seq));
    assert_true(audit_segments_from_dir(s));
    assert_true(audit_segments_live(s, &base));
    assert_string_equal(base, "audit.log");
    assert_int_equal(audit_segments_read(s, 1, &buf, &len, &e), MP_OK);
    assert_int_equal(len, 15);
    assert_memory_equal(buf, "{\"seq\":5,\"gz\"}\n", 15);
    audit_segments_release(s, 1);
    audit_segments_free(s);
    s = NULL;

    /* A second log beside it, and one segment plain and gzip'd. */
    tfile(&d, "copy.log", "{\"seq\":0}\n", 0);
    assert_int_equal(audit_segments_open(paths, 1, &s, &e), MP_ERR_INVALID);
    assert_non_null(strstr(e.text, "holds two logs, audit.log and copy.log"));
    tfile(&d, "audit.log.00000000000000000005", "{\"seq\":5}\n", 0);
    {
        char a[128], b[128];
        const char *two[2] = {a, b};

        snprintf(a, sizeof(a), "%s/audit.log.00000000000000000005", d.path);
        snprintf(b, sizeof(b), "%s/audit.log.00000000000000000005.gz", d.path);
        assert_int_equal(audit_segments_open(two, 2, &s, &e), MP_ERR_INVALID);
        assert_non_null(strstr(e.text, "the segment of seq 5 is there twice"));
    }
    tdir_rm(&d);
}

static void
segments_bad_gzip(void **state)
{
    struct tdir d = {"/tmp/mp-segtest.XXXXXX"};
    char p[128];
    const char *paths[1] = {p}, *buf;
    struct audit_segments *s = NULL;
    struct mp_errmsg e = {{0}};
    size_t len;

    (void)state;
    assert_non_null(mkdtemp(d.path));
    tfile(&d, "audit.log.00000000000000000000.gz", "not gzip at all\n", 0);
    snprintf(p, sizeof(p), "%s/audit.log.00000000000000000000.gz", d.path);
    assert_int_equal(audit_segments_open(paths, 1, &s, &e), MP_OK);
    assert_int_equal(audit_segments_read(s, 0, &buf, &len, &e), MP_ERR_PARSE);
    assert_non_null(strstr(e.text, "is not a valid gzip file"));
    audit_segments_free(s);
    tdir_rm(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format2_good),
        cmocka_unit_test(format2_bad_checkpoints),
        cmocka_unit_test(format1_checkpoint_in_format2_log),
        cmocka_unit_test(segment_line_links),
        cmocka_unit_test(segments_found_and_ordered),
        cmocka_unit_test(segments_bad_gzip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
