/* common/buf: the ceiling fixed at creation, formatted appends, NUL termination, take and
 * reset. Every JSON text, JWS and IPC payload lives in one of these. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

static void
buf_new_is_an_empty_string(void **state)
{
    struct mp_buf *b;

    (void)state;
    assert_non_null(b = mp_buf_new(16));
    assert_int_equal(mp_buf_len(b), 0);
    assert_non_null(mp_buf_str(b));
    assert_string_equal(mp_buf_str(b), "");
    mp_buf_free(b);
    mp_buf_free(NULL);
}

static void
buf_put_appends_and_keeps_a_nul_after_the_bytes(void **state)
{
    struct mp_buf *b;

    (void)state;
    assert_non_null(b = mp_buf_new(16));
    assert_int_equal(mp_buf_put(b, "abc", 3), MP_OK);
    assert_int_equal(mp_buf_puts(b, "de"), MP_OK);
    assert_int_equal(mp_buf_len(b), 5);
    assert_string_equal(mp_buf_str(b), "abcde");
    assert_int_equal(mp_buf_ptr(b)[5], '\0');
    assert_int_equal(mp_buf_put(b, "x\0y", 3), MP_OK);
    assert_int_equal(mp_buf_len(b), 8);
    assert_memory_equal(mp_buf_ptr(b) + 5, "x\0y\0", 4);
    mp_buf_free(b);
}

static void
buf_put_fills_exactly_to_the_ceiling(void **state)
{
    struct mp_buf *b;

    (void)state;
    assert_non_null(b = mp_buf_new(8));
    assert_int_equal(mp_buf_put(b, "12345678", 8), MP_OK);
    assert_string_equal(mp_buf_str(b), "12345678");
    assert_int_equal(mp_buf_put(b, "", 0), MP_OK);
    assert_int_equal(mp_buf_put(b, "9", 1), MP_ERR_TOOBIG);
    mp_buf_free(b);
}

static void
buf_put_past_the_ceiling_leaves_the_buffer_unchanged(void **state)
{
    struct mp_buf *b;

    (void)state;
    assert_non_null(b = mp_buf_new(8));
    assert_int_equal(mp_buf_puts(b, "12345"), MP_OK);
    assert_int_equal(mp_buf_puts(b, "6789"), MP_ERR_TOOBIG);
    assert_int_equal(mp_buf_len(b), 5);
    assert_string_equal(mp_buf_str(b), "12345");
    assert_int_equal(mp_buf_put(b, "x", SIZE_MAX), MP_ERR_TOOBIG);
    assert_int_equal(mp_buf_puts(b, "678"), MP_OK);
    assert_string_equal(mp_buf_str(b), "12345678");
    mp_buf_free(b);
}

static void
buf_with_ceiling_zero_holds_nothing(void **state)
{
    struct mp_buf *b;

    (void)state;
    assert_non_null(b = mp_buf_new(0));
    assert_int_equal(mp_buf_put(b, "", 0), MP_OK);
    assert_int_equal(mp_buf_put(b, "x", 1), MP_ERR_TOOBIG);
    assert_int_equal(mp_buf_len(b), 0);
    assert_string_equal(mp_buf_str(b), "");
    mp_buf_free(b);
}

static void
buf_putf_formats_and_appends(void **state)
{
    struct mp_buf *b;

    (void)state;
    assert_non_null(b = mp_buf_new(64));
    assert_int_equal(mp_buf_putf(b, "%s=%d", "n", 42), MP_OK);
    assert_int_equal(mp_buf_putf(b, ";%05u", 7u), MP_OK);
    assert_string_equal(mp_buf_str(b), "n=42;00007");
    assert_int_equal(mp_buf_len(b), 10);
    mp_buf_free(b);
}

static void
buf_putf_past_the_ceiling_leaves_the_buffer_unchanged(void **state)
{
    struct mp_buf *b;

    (void)state;
    assert_non_null(b = mp_buf_new(8));
    assert_int_equal(mp_buf_putf(b, "%d", 1234), MP_OK);
    assert_int_equal(mp_buf_putf(b, "%s", "56789"), MP_ERR_TOOBIG);
    assert_int_equal(mp_buf_len(b), 4);
    assert_string_equal(mp_buf_str(b), "1234");
    assert_int_equal(mp_buf_putf(b, "%s", "5678"), MP_OK);
    assert_string_equal(mp_buf_str(b), "12345678");
    mp_buf_free(b);
}

static void
buf_keeps_contents_across_growth(void **state)
{
    char expect[10000];
    struct mp_buf *b;
    size_t i;

    (void)state;
    assert_non_null(b = mp_buf_new(sizeof(expect)));
    for (i = 0; i < sizeof(expect); i++) {
        expect[i] = (char)('a' + i % 26);
        assert_int_equal(mp_buf_put(b, &expect[i], 1), MP_OK);
    }
    assert_int_equal(mp_buf_len(b), sizeof(expect));
    assert_memory_equal(mp_buf_ptr(b), expect, sizeof(expect));
    assert_int_equal(mp_buf_ptr(b)[sizeof(expect)], '\0');
    mp_buf_free(b);
}

static void
buf_take_hands_over_the_bytes_and_empties(void **state)
{
    struct mp_buf *b;
    size_t len = 0;
    char *s;

    (void)state;
    assert_non_null(b = mp_buf_new(16));
    assert_int_equal(mp_buf_puts(b, "secret"), MP_OK);
    assert_non_null(s = mp_buf_take(b, &len));
    assert_int_equal(len, 6);
    assert_string_equal(s, "secret");
    assert_int_equal(mp_buf_len(b), 0);
    assert_string_equal(mp_buf_str(b), "");
    assert_int_equal(mp_buf_puts(b, "again"), MP_OK);
    assert_string_equal(mp_buf_str(b), "again");
    assert_string_equal(s, "secret");
    free(s);
    mp_buf_free(b);
}

static void
buf_take_of_an_empty_buffer_is_an_empty_string(void **state)
{
    struct mp_buf *b;
    size_t len = 99;
    char *s;

    (void)state;
    assert_non_null(b = mp_buf_new(16));
    assert_non_null(s = mp_buf_take(b, &len));
    assert_int_equal(len, 0);
    assert_string_equal(s, "");
    free(s);
    assert_non_null(s = mp_buf_take(b, NULL));
    free(s);
    mp_buf_free(b);
}

static void
buf_reset_empties_and_the_ceiling_still_applies(void **state)
{
    struct mp_buf *b;

    (void)state;
    assert_non_null(b = mp_buf_new(4));
    assert_int_equal(mp_buf_puts(b, "abcd"), MP_OK);
    mp_buf_reset(b);
    assert_int_equal(mp_buf_len(b), 0);
    assert_string_equal(mp_buf_str(b), "");
    assert_int_equal(mp_buf_puts(b, "wxyz"), MP_OK);
    assert_string_equal(mp_buf_str(b), "wxyz");
    assert_int_equal(mp_buf_puts(b, "!"), MP_ERR_TOOBIG);
    mp_buf_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_new_is_an_empty_string),
        cmocka_unit_test(buf_put_appends_and_keeps_a_nul_after_the_bytes),
        cmocka_unit_test(buf_put_fills_exactly_to_the_ceiling),
        cmocka_unit_test(buf_put_past_the_ceiling_leaves_the_buffer_unchanged),
        cmocka_unit_test(buf_with_ceiling_zero_holds_nothing),
        cmocka_unit_test(buf_putf_formats_and_appends),
        cmocka_unit_test(buf_putf_past_the_ceiling_leaves_the_buffer_unchanged),
        cmocka_unit_test(buf_keeps_contents_across_growth),
        cmocka_unit_test(buf_take_hands_over_the_bytes_and_empties),
        cmocka_unit_test(buf_take_of_an_empty_buffer_is_an_empty_string),
        cmocka_unit_test(buf_reset_empties_and_the_ceiling_still_applies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
