/* common/hex: one decoder for people's hex (either case) and the audit log's canonical hashes
 * (lowercase only, so a line that spells a hash in capitals is not the text the writer wrote). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/hex.h"

static void
decode_takes_either_case_for_people(void **state)
{
    unsigned char out[4];
    size_t n = 0;

    (void)state;
    assert_int_equal(mp_hex_decode("01aBfF", 6, MP_HEX_ANY, out, sizeof(out), &n), MP_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 0x01);
    assert_int_equal(out[1], 0xab);
    assert_int_equal(out[2], 0xff);
}

static void
decode_lower_refuses_capitals(void **state)
{
    unsigned char out[4];
    size_t n = 0;

    (void)state;
    assert_int_equal(mp_hex_decode("a0b1", 4, MP_HEX_LOWER, out, sizeof(out), &n), MP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(mp_hex_decode("A0b1", 4, MP_HEX_LOWER, out, sizeof(out), &n), MP_ERR_INVALID);
    assert_int_equal(mp_hexval('F', MP_HEX_LOWER), MP_ERR_INVALID);
    assert_int_equal(mp_hexval('F', MP_HEX_ANY), 15);
}

static void
decode_refuses_odd_empty_long_and_non_hex(void **state)
{
    unsigned char out[2];
    size_t n = 7;

    (void)state;
    assert_int_equal(mp_hex_decode("", 0, MP_HEX_ANY, out, sizeof(out), &n), MP_ERR_INVALID);
    assert_int_equal(mp_hex_decode("abc", 3, MP_HEX_ANY, out, sizeof(out), &n), MP_ERR_INVALID);
    assert_int_equal(mp_hex_decode("abcdef", 6, MP_HEX_ANY, out, sizeof(out), &n), MP_ERR_INVALID);
    assert_int_equal(mp_hex_decode("0g", 2, MP_HEX_ANY, out, sizeof(out), &n), MP_ERR_INVALID);
    assert_int_equal(mp_hex_decode("0 ", 2, MP_HEX_ANY, out, sizeof(out), &n), MP_ERR_INVALID);
    assert_int_equal(n, 7); /* untouched on failure */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_takes_either_case_for_people),
        cmocka_unit_test(decode_lower_refuses_capitals),
        cmocka_unit_test(decode_refuses_odd_empty_long_and_non_hex),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
