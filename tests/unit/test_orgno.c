/* common/orgno: Norwegian organisation numbers, nine digits with a modulus-11 check digit
 * (weights 3 2 7 6 5 4 3 2). consumer_org and systemuser_org are checked with this. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "common/orgno.h"

static void
orgno_accepts_valid_numbers(void **state)
{
    (void)state;
    assert_true(mp_orgno_valid("991825827"));
    assert_true(mp_orgno_valid("314159268"));
    assert_true(mp_orgno_valid("974760673"));
    assert_true(mp_orgno_valid("123456785"));
}

static void
orgno_accepts_check_digit_zero_when_remainder_is_zero(void **state)
{
    (void)state;
    /* 1*3 + 4*2 = 11: remainder 0 gives check digit 0, not 11. */
    assert_true(mp_orgno_valid("100000040"));
    assert_false(mp_orgno_valid("100000041"));
}

static void
orgno_rejects_a_wrong_check_digit(void **state)
{
    char s[10] = "99182582";
    int d;

    (void)state;
    for (d = 0; d <= 9; d++) {
        s[8] = (char)('0' + d);
        s[9] = '\0';
        if (d == 7)
            assert_true(mp_orgno_valid(s));
        else
            assert_false(mp_orgno_valid(s));
    }
}

static void
orgno_rejects_wrong_lengths(void **state)
{
    (void)state;
    assert_false(mp_orgno_valid(""));
    assert_false(mp_orgno_valid("99182582"));
    assert_false(mp_orgno_valid("9918258277"));
    assert_false(mp_orgno_valid("0991825827"));
    assert_false(mp_orgno_valid(NULL));
}

static void
orgno_rejects_non_digits(void **state)
{
    (void)state;
    assert_false(mp_orgno_valid("99182582a"));
    assert_false(mp_orgno_valid("a91825827"));
    assert_false(mp_orgno_valid(" 99182582"));
    assert_false(mp_orgno_valid("99182582 "));
    assert_false(mp_orgno_valid("+91825827"));
    assert_false(mp_orgno_valid("991 825 827"));
}

static void
orgno_remainder_one_allows_no_number(void **state)
{
    char s[11];
    int d;

    (void)state;
    /* 4*3 = 12, remainder 1, check digit would be 10: no nine-digit number is valid, including
     * the one with ':' ('0' + 10) in the check position. */
    for (d = 0; d <= 10; d++) {
        snprintf(s, sizeof(s), "40000000%c", '0' + d);
        assert_false(mp_orgno_valid(s));
    }
    assert_false(mp_orgno_valid("4000000010"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(orgno_accepts_valid_numbers),
        cmocka_unit_test(orgno_accepts_check_digit_zero_when_remainder_is_zero),
        cmocka_unit_test(orgno_rejects_a_wrong_check_digit),
        cmocka_unit_test(orgno_rejects_wrong_lengths),
        cmocka_unit_test(orgno_rejects_non_digits),
        cmocka_unit_test(orgno_remainder_one_allows_no_number),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
