/* The signer wire protocol decoder: every malformed frame is rejected with a reason, the size
 * cap is enforced before the body is read, and a valid frame round-trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/frame.h"

static struct frame_msg msg;
static struct mp_errmsg err;

/* Body bytes (after the length prefix) of a SIGN frame carrying the given fields. */
static size_t
body(unsigned char *out, const unsigned char *fields, size_t n)
{
    out[0] = FRAME_VERSION;
    out[1] = FRAME_SIGN;
    memcpy(out + 2, fields, n);
    return n + 2;
}

static enum mp_err
decode_fields(const unsigned char *fields, size_t n)
{
    unsigned char b[512];

    return frame_decode(b, body(b, fields, n), &msg, &err);
}

static void
roundtrip_sign(void **state)
{
    struct mp_buf *b = mp_buf_new(FRAME_MAX + 4);
    struct frame_msg in;

    (void)state;
    frame_init(&in, FRAME_SIGN);
    snprintf(in.profile, sizeof(in.profile), "%s", "default");
    snprintf(in.scope, sizeof(in.scope), "%s", "a:b c:d");
    snprintf(in.resources[0], sizeof(in.resources[0]), "%s", "https://r1/");
    snprintf(in.resources[1], sizeof(in.resources[1]), "%s", "https://r2/");
    in.nresources = 2;
    snprintf(in.consumer_org, sizeof(in.consumer_org), "%s", "991825827");
    snprintf(in.lifetime, sizeof(in.lifetime), "%s", "30");
    snprintf(in.obo_uid, sizeof(in.obo_uid), "%s", "4294967294");
    snprintf(in.obo_gid, sizeof(in.obo_gid), "%s", "1000");
    snprintf(in.obo_exe, sizeof(in.obo_exe), "%s", "/usr/bin/app: x");
    assert_int_equal(frame_encode(&in, b), MP_OK);
    assert_int_equal(frame_decode(mp_buf_ptr(b) + 4, mp_buf_len(b) - 4, &msg, &err), MP_OK);
    assert_int_equal(msg.type, FRAME_SIGN);
    assert_string_equal(msg.profile, "default");
    assert_string_equal(msg.scope, "a:b c:d");
    assert_int_equal(msg.nresources, 2);
    assert_string_equal(msg.resources[1], "https://r2/");
    assert_string_equal(msg.consumer_org, "991825827");
    assert_string_equal(msg.lifetime, "30");
    assert_string_equal(msg.su_org, "");
    assert_string_equal(msg.obo_uid, "4294967294");
    assert_string_equal(msg.obo_gid, "1000");
    assert_string_equal(msg.obo_pid, "");
    assert_string_equal(msg.obo_exe, "/usr/bin/app: x");
    mp_buf_free(b);
}

static void
rejects_bad_version_and_type(void **state)
{
    unsigned char v2[] = {2, FRAME_SIGN}, t9[] = {FRAME_VERSION, 9}, t0[] = {FRAME_VERSION, 0};

    (void)state;
    assert_int_equal(frame_decode(v2, 2, &msg, &err), MP_ERR_PARSE);
    assert_non_null(strstr(err.text, "version"));
    assert_int_equal(frame_decode(t9, 2, &msg, &err), MP_ERR_PARSE);
    assert_int_equal(frame_decode(t0, 2, &msg, &err), MP_ERR_PARSE);
    assert_int_equal(frame_decode(v2, 1, &msg, &err), MP_ERR_PARSE);
}

static void
rejects_trailing_bytes(void **state)
{
    unsigned char one[] = {TAG_SCOPE, 0, 1, 'a', 0x07};
    unsigned char two[] = {TAG_SCOPE, 0, 1, 'a', TAG_SCOPE, 0};

    (void)state;
    assert_int_equal(decode_fields(one, sizeof(one)), MP_ERR_PARSE);
    assert_non_null(strstr(err.text, "truncated field header"));
    assert_int_equal(decode_fields(two, sizeof(two)), MP_ERR_PARSE);
}

static void
rejects_field_past_end(void **state)
{
    unsigned char f[] = {TAG_SCOPE, 0, 5, 'a', 'b'};

    (void)state;
    assert_int_equal(decode_fields(f, sizeof(f)), MP_ERR_PARSE);
    assert_non_null(strstr(err.text, "runs past the frame"));
}

static void
rejects_unknown_and_misplaced_tags(void **state)
{
    unsigned char unknown[] = {99, 0, 1, 'a'};
    unsigned char jws_in_sign[] = {TAG_JWS, 0, 1, 'a'};

    (void)state;
    assert_int_equal(decode_fields(unknown, sizeof(unknown)), MP_ERR_PARSE);
    assert_int_equal(decode_fields(jws_in_sign, sizeof(jws_in_sign)), MP_ERR_PARSE);
    assert_non_null(strstr(err.text, "not allowed"));
}

static void
rejects_repeats_nul_empty_and_long_values(void **state)
{
    unsigned char rep[] = {TAG_SCOPE, 0, 1, 'a', TAG_SCOPE, 0, 1, 'b'};
    unsigned char nul[] = {TAG_SCOPE, 0, 3, 'a', 0, 'b'};
    unsigned char empty[] = {TAG_PROFILE, 0, 0};
    unsigned char longorg[3 + 16] = {TAG_CONSUMER_ORG, 0, 16};

    (void)state;
    memset(longorg + 3, '1', 16);
    assert_int_equal(decode_fields(rep, sizeof(rep)), MP_ERR_PARSE);
    assert_non_null(strstr(err.text, "repeated"));
    assert_int_equal(decode_fields(nul, sizeof(nul)), MP_ERR_PARSE);
    assert_non_null(strstr(err.text, "NUL"));
    assert_int_equal(decode_fields(empty, sizeof(empty)), MP_ERR_PARSE);
    assert_int_equal(decode_fields(longorg, sizeof(longorg)), MP_ERR_PARSE);
}

static void
resources_repeat_up_to_the_cap(void **state)
{
    unsigned char f[9 * 4];
    size_t i;

    (void)state;
    for (i = 0; i < 9; i++) {
        f[4 * i] = TAG_RESOURCE;
        f[4 * i + 1] = 0;
        f[4 * i + 2] = 1;
        f[4 * i + 3] = (unsigned char)('a' + i);
    }
    assert_int_equal(decode_fields(f, 8 * 4), MP_OK);
    assert_int_equal(msg.nresources, 8);
    assert_int_equal(decode_fields(f, 9 * 4), MP_ERR_PARSE);
}

/* frame_read over a socketpair: the peer writes raw bytes and closes. */
static enum mp_err
read_raw(const unsigned char *bytes, size_t n)
{
    int sv[2];
    enum mp_err r;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], bytes, n), (ssize_t)n);
    close(sv[1]);
    r = frame_read(sv[0], &msg, &err);
    close(sv[0]);
    return r;
}

static void
oversize_length_refused_before_reading_body(void **state)
{
    unsigned char huge[] = {0xff, 0xff, 0xff, 0xff};
    unsigned char over[4];
    uint32_t n = FRAME_MAX + 1;

    (void)state;
    over[0] = (unsigned char)(n >> 24);
    over[1] = (unsigned char)(n >> 16);
    over[2] = (unsigned char)(n >> 8);
    over[3] = (unsigned char)n;
    /* No body follows: TOOBIG (not "closed mid-frame") proves the cap came first. */
    assert_int_equal(read_raw(huge, 4), MP_ERR_TOOBIG);
    assert_int_equal(read_raw(over, 4), MP_ERR_TOOBIG);
}

static void
short_and_truncated_frames(void **state)
{
    unsigned char tiny[] = {0, 0, 0, 1, FRAME_VERSION};
    unsigned char cut[] = {0, 0, 0, 40, FRAME_VERSION, FRAME_SIGN, TAG_SCOPE, 0, 10, 'a'};
    unsigned char half_header[] = {0, 0};

    (void)state;
    assert_int_equal(read_raw(tiny, sizeof(tiny)), MP_ERR_TOOBIG);
    assert_int_equal(read_raw(cut, sizeof(cut)), MP_ERR_IO);
    assert_non_null(strstr(err.text, "mid-frame"));
    assert_int_equal(read_raw(half_header, sizeof(half_header)), MP_ERR_IO);
    assert_int_equal(read_raw(half_header, 0), MP_ERR_NOTFOUND);
}

/* frame_read_timed with the peer kept open: bytes written, then nothing more. */
static enum mp_err
read_timed(const unsigned char *bytes, size_t n, int idle_ms, int frame_ms, double *secs)
{
    struct timespec t0, t1;
    int sv[2];
    enum mp_err r;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], bytes, n), (ssize_t)n);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = frame_read_timed(sv[0], &msg, idle_ms, frame_ms, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    close(sv[0]);
    close(sv[1]);
    return r;
}

static void
timed_read_deadlines(void **state)
{
    unsigned char ping[] = {0, 0, 0, 2, FRAME_VERSION, FRAME_PING};
    unsigned char cut[] = {0, 0, 0, 40, FRAME_VERSION, FRAME_SIGN};
    double secs;

    (void)state;
    /* Nothing sent: "idle", a clean end, after idle_ms. */
    assert_int_equal(read_timed(ping, 0, 200, 5000, &secs), MP_ERR_NOTFOUND);
    assert_non_null(strstr(err.text, "idle for 200 ms"));
    assert_true(secs >= 0.19 && secs < 2.0);
    /* Half a frame: the frame deadline, not the idle one, ends the wait. */
    assert_int_equal(read_timed(cut, sizeof(cut), 60000, 300, &secs), MP_ERR_TIMEOUT);
    assert_non_null(strstr(err.text, "frame not complete within 300 ms"));
    assert_true(secs >= 0.29 && secs < 2.0);
    /* Half a header counts as a started frame too. */
    assert_int_equal(read_timed(cut, 2, 60000, 300, &secs), MP_ERR_TIMEOUT);
    /* A whole frame is read at once, whatever the limits. */
    assert_int_equal(read_timed(ping, sizeof(ping), 200, 300, &secs), MP_OK);
    assert_int_equal(msg.type, FRAME_PING);
    assert_true(secs < 0.2);
}

static void
largest_jws_roundtrips(void **state)
{
    struct mp_buf *b = mp_buf_new(FRAME_MAX + 4);
    static struct frame_msg in;

    (void)state;
    frame_init(&in, FRAME_JWS);
    memset(in.jws, 'A', sizeof(in.jws) - 1);
    /* The largest field still fits the u16 length and the frame cap. */
    assert_int_equal(frame_encode(&in, b), MP_OK);
    assert_true(mp_buf_len(b) - 4 <= FRAME_MAX);
    assert_int_equal(frame_decode(mp_buf_ptr(b) + 4, mp_buf_len(b) - 4, &msg, &err), MP_OK);
    assert_int_equal(strlen(msg.jws), sizeof(in.jws) - 1);
    mp_buf_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_sign),
        cmocka_unit_test(rejects_bad_version_and_type),
        cmocka_unit_test(rejects_trailing_bytes),
        cmocka_unit_test(rejects_field_past_end),
        cmocka_unit_test(rejects_unknown_and_misplaced_tags),
        cmocka_unit_test(rejects_repeats_nul_empty_and_long_values),
        cmocka_unit_test(resources_repeat_up_to_the_cap),
        cmocka_unit_test(oversize_length_refused_before_reading_body),
        cmocka_unit_test(short_and_truncated_frames),
        cmocka_unit_test(largest_jws_roundtrips),
        cmocka_unit_test(timed_read_deadlines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
