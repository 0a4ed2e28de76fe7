/* common/b64: RFC 4648 base64 (padded, for x5c) and base64url (unpadded, for JWS), and the
 * strict base64url decoder that must refuse every non-canonical spelling of a JWS part. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/b64.h"

static struct mp_buf *out;

static int
setup(void **state)
{
    (void)state;
    return (out = mp_buf_new(4096)) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    mp_buf_free(out);
    return 0;
}

static const char *
std_enc(const char *in)
{
    mp_buf_reset(out);
    assert_int_equal(mp_b64_encode(out, in, strlen(in)), MP_OK);
    return mp_buf_str(out);
}

static const char *
url_enc(const char *in)
{
    mp_buf_reset(out);
    assert_int_equal(mp_b64url_encode(out, in, strlen(in)), MP_OK);
    return mp_buf_str(out);
}

static enum mp_err
url_dec(const char *in)
{
    mp_buf_reset(out);
    return mp_b64url_decode(out, in, strlen(in));
}

static void
b64_std_matches_rfc4648_vectors(void **state)
{
    (void)state;
    assert_string_equal(std_enc(""), "");
    assert_string_equal(std_enc("f"), "Zg==");
    assert_string_equal(std_enc("fo"), "Zm8=");
    assert_string_equal(std_enc("foo"), "Zm9v");
    assert_string_equal(std_enc("foob"), "Zm9vYg==");
    assert_string_equal(std_enc("fooba"), "Zm9vYmE=");
    assert_string_equal(std_enc("foobar"), "Zm9vYmFy");
}

static void
b64url_matches_rfc4648_vectors_unpadded(void **state)
{
    (void)state;
    assert_string_equal(url_enc(""), "");
    assert_string_equal(url_enc("f"), "Zg");
    assert_string_equal(url_enc("fo"), "Zm8");
    assert_string_equal(url_enc("foo"), "Zm9v");
    assert_string_equal(url_enc("foob"), "Zm9vYg");
    assert_string_equal(url_enc("fooba"), "Zm9vYmE");
    assert_string_equal(url_enc("foobar"), "Zm9vYmFy");
}

static void
b64_alphabets_differ_only_in_62_and_63(void **state)
{
    static const unsigned char in[] = {0xfb, 0xff};

    (void)state;
    mp_buf_reset(out);
    assert_int_equal(mp_b64_encode(out, in, sizeof(in)), MP_OK);
    assert_string_equal(mp_buf_str(out), "+/8=");
    mp_buf_reset(out);
    assert_int_equal(mp_b64url_encode(out, in, sizeof(in)), MP_OK);
    assert_string_equal(mp_buf_str(out), "-_8");
}

static void
b64url_decode_matches_rfc4648_vectors(void **state)
{
    (void)state;
    assert_int_equal(url_dec(""), MP_OK);
    assert_int_equal(mp_buf_len(out), 0);
    assert_int_equal(url_dec("Zg"), MP_OK);
    assert_string_equal(mp_buf_str(out), "f");
    assert_int_equal(url_dec("Zm8"), MP_OK);
    assert_string_equal(mp_buf_str(out), "fo");
    assert_int_equal(url_dec("Zm9vYg"), MP_OK);
    assert_string_equal(mp_buf_str(out), "foob");
    assert_int_equal(url_dec("Zm9vYmFy"), MP_OK);
    assert_string_equal(mp_buf_str(out), "foobar");
    assert_int_equal(url_dec("-_8"), MP_OK);
    assert_memory_equal(mp_buf_ptr(out), "\xfb\xff", 2);
}

static void
b64url_round_trips_every_byte_at_every_length(void **state)
{
    unsigned char all[256];
    struct mp_buf *dec;
    size_t i, len;

    (void)state;
    for (i = 0; i < sizeof(all); i++)
        all[i] = (unsigned char)i;
    assert_non_null(dec = mp_buf_new(sizeof(all)));
    for (len = 0; len <= sizeof(all); len++) {
        mp_buf_reset(out);
        mp_buf_reset(dec);
        assert_int_equal(mp_b64url_encode(out, all, len), MP_OK);
        assert_int_equal(mp_buf_len(out), (len * 8 + 5) / 6);
        assert_int_equal(mp_b64url_decode(dec, mp_buf_str(out), mp_buf_len(out)), MP_OK);
        assert_int_equal(mp_buf_len(dec), len);
        assert_memory_equal(mp_buf_ptr(dec), all, len);
    }
    mp_buf_free(dec);
}

static void
b64url_decode_appends_to_existing_contents(void **state)
{
    (void)state;
    mp_buf_reset(out);
    assert_int_equal(mp_buf_puts(out, "x:"), MP_OK);
    assert_int_equal(mp_b64url_decode(out, "Zm9v", 4), MP_OK);
    assert_string_equal(mp_buf_str(out), "x:foo");
}

/* A failure after whole groups were decoded leaves nothing of them behind. */
static void
b64url_decode_failure_leaves_the_buffer_as_it_was(void **state)
{
    (void)state;
    mp_buf_reset(out);
    assert_int_equal(mp_buf_puts(out, "x:"), MP_OK);
    assert_int_equal(mp_b64url_decode(out, "Zm9vYmFy!", 9), MP_ERR_PARSE);
    assert_int_equal(mp_buf_len(out), 2);
    assert_string_equal(mp_buf_str(out), "x:");
    assert_int_equal(mp_b64url_decode(out, "Zm9vYmFyZh", 10), MP_ERR_PARSE); /* bits left */
    assert_string_equal(mp_buf_str(out), "x:");
}

static void
b64url_decode_rejects_padding(void **state)
{
    (void)state;
    assert_int_equal(url_dec("Zg=="), MP_ERR_PARSE);
    assert_int_equal(url_dec("Zm8="), MP_ERR_PARSE);
    assert_int_equal(url_dec("Zg="), MP_ERR_PARSE);
}

static void
b64url_decode_rejects_standard_alphabet(void **state)
{
    (void)state;
    assert_int_equal(url_dec("+_8"), MP_ERR_PARSE);
    assert_int_equal(url_dec("-/8"), MP_ERR_PARSE);
}

static void
b64url_decode_rejects_whitespace_and_garbage(void **state)
{
    (void)state;
    assert_int_equal(url_dec("Zm9v\n"), MP_ERR_PARSE);
    assert_int_equal(url_dec(" Zm9v"), MP_ERR_PARSE);
    assert_int_equal(url_dec("Zm 9v"), MP_ERR_PARSE);
    assert_int_equal(url_dec("Zm9\t"), MP_ERR_PARSE);
    assert_int_equal(url_dec("Zm.v"), MP_ERR_PARSE);
    mp_buf_reset(out);
    assert_int_equal(mp_b64url_decode(out, "Zm\0v", 4), MP_ERR_PARSE);
}

static void
b64url_decode_rejects_length_mod_4_of_1(void **state)
{
    (void)state;
    assert_int_equal(url_dec("Z"), MP_ERR_PARSE);
    assert_int_equal(url_dec("A"), MP_ERR_PARSE);
    assert_int_equal(url_dec("Zm9vY"), MP_ERR_PARSE);
}

static void
b64url_decode_rejects_nonzero_trailing_bits(void **state)
{
    (void)state;
    assert_int_equal(url_dec("Zh"), MP_ERR_PARSE);
    assert_int_equal(url_dec("Zv"), MP_ERR_PARSE);
    assert_int_equal(url_dec("Zm9"), MP_ERR_PARSE);
    assert_int_equal(url_dec("Zg"), MP_OK);
    assert_string_equal(mp_buf_str(out), "f");
}

static void
b64_encode_respects_the_buffer_ceiling(void **state)
{
    struct mp_buf *small;

    (void)state;
    assert_non_null(small = mp_buf_new(3));
    assert_int_equal(mp_b64url_encode(small, "foo", 3), MP_ERR_TOOBIG);
    assert_int_equal(mp_b64_encode(small, "f", 1), MP_ERR_TOOBIG);
    assert_int_equal(mp_b64url_encode(small, "fo", 2), MP_OK);
    assert_string_equal(mp_buf_str(small), "Zm8");
    mp_buf_free(small);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64_std_matches_rfc4648_vectors),
        cmocka_unit_test(b64url_matches_rfc4648_vectors_unpadded),
        cmocka_unit_test(b64_alphabets_differ_only_in_62_and_63),
        cmocka_unit_test(b64url_decode_matches_rfc4648_vectors),
        cmocka_unit_test(b64url_round_trips_every_byte_at_every_length),
        cmocka_unit_test(b64url_decode_appends_to_existing_contents),
        cmocka_unit_test(b64url_decode_failure_leaves_the_buffer_as_it_was),
        cmocka_unit_test(b64url_decode_rejects_padding),
        cmocka_unit_test(b64url_decode_rejects_standard_alphabet),
        cmocka_unit_test(b64url_decode_rejects_whitespace_and_garbage),
        cmocka_unit_test(b64url_decode_rejects_length_mod_4_of_1),
        cmocka_unit_test(b64url_decode_rejects_nonzero_trailing_bits),
        cmocka_unit_test(b64_encode_respects_the_buffer_ceiling),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
