/* common/num: strict decimal and octal parsing for configuration values (never atoi): the whole
 * string, no sign, no spaces, within range, and the output untouched on failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/num.h"

static enum mp_err
u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    *out = 0xdeadbeef;
    return mp_parse_u64(s, min, max, out);
}

static void
parse_u64_accepts_plain_decimal(void **state)
{
    uint64_t v;

    (void)state;
    assert_int_equal(u64("0", 0, UINT64_MAX, &v), MP_OK);
    assert_int_equal(v, 0);
    assert_int_equal(u64("42", 0, UINT64_MAX, &v), MP_OK);
    assert_int_equal(v, 42);
    assert_int_equal(u64("007", 0, UINT64_MAX, &v), MP_OK);
    assert_int_equal(v, 7);
    assert_int_equal(u64("18446744073709551615", 0, UINT64_MAX, &v), MP_OK);
    assert_true(v == UINT64_MAX);
}

static void
parse_u64_rejects_signs_spaces_and_trailing_characters(void **state)
{
    static const char *const bad[] = {"", "+1", "-1", " 1", "1 ", "\t1", "1\n", "1x", "0x10", "1.0",
        "1e3", "\xef\xbc\x91"};
    uint64_t v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(u64(bad[i], 0, UINT64_MAX, &v), MP_ERR_INVALID);
        assert_int_equal(v, 0xdeadbeef);
    }
    assert_int_equal(mp_parse_u64(NULL, 0, 1, &v), MP_ERR_INVALID);
}

static void
parse_u64_enforces_min_and_max(void **state)
{
    uint64_t v;

    (void)state;
    assert_int_equal(u64("0", 1, 120, &v), MP_ERR_INVALID);
    assert_int_equal(v, 0xdeadbeef);
    assert_int_equal(u64("1", 1, 120, &v), MP_OK);
    assert_int_equal(v, 1);
    assert_int_equal(u64("120", 1, 120, &v), MP_OK);
    assert_int_equal(v, 120);
    assert_int_equal(u64("121", 1, 120, &v), MP_ERR_INVALID);
    assert_int_equal(v, 0xdeadbeef);
}

static void
parse_u64_rejects_overflow(void **state)
{
    uint64_t v;

    (void)state;
    assert_int_equal(u64("18446744073709551616", 0, UINT64_MAX, &v), MP_ERR_INVALID);
    assert_int_equal(u64("99999999999999999999999", 0, UINT64_MAX, &v), MP_ERR_INVALID);
    assert_int_equal(v, 0xdeadbeef);
}

static enum mp_err
mode(const char *s, unsigned int *out)
{
    *out = 01234;
    return mp_parse_mode(s, out);
}

static void
parse_mode_reads_octal(void **state)
{
    unsigned int m;

    (void)state;
    assert_int_equal(mode("0600", &m), MP_OK);
    assert_int_equal(m, 0600);
    assert_int_equal(mode("0660", &m), MP_OK);
    assert_int_equal(m, 0660);
    assert_int_equal(mode("0777", &m), MP_OK);
    assert_int_equal(m, 0777);
    assert_int_equal(mode("0", &m), MP_OK);
    assert_int_equal(m, 0);
    assert_int_equal(mode("00640", &m), MP_OK);
    assert_int_equal(m, 0640);
}

static void
parse_mode_rejects_non_octal_and_out_of_range(void **state)
{
    static const char *const bad[] = {"", "660", "600", "0888", "0689", "01000", "04755", "0660 ",
        " 0660", "-0660", "+0660", "0x1f", "0o660", "0660x"};
    unsigned int m;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(mode(bad[i], &m), MP_ERR_INVALID);
        assert_int_equal(m, 01234);
    }
    assert_int_equal(mp_parse_mode(NULL, &m), MP_ERR_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_u64_accepts_plain_decimal),
        cmocka_unit_test(parse_u64_rejects_signs_spaces_and_trailing_characters),
        cmocka_unit_test(parse_u64_enforces_min_and_max),
        cmocka_unit_test(parse_u64_rejects_overflow),
        cmocka_unit_test(parse_mode_reads_octal),
        cmocka_unit_test(parse_mode_rejects_non_octal_and_out_of_range),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
