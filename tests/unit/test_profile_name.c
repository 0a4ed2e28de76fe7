/* common/profile_name: the one charset check for profile names, [A-Za-z0-9._-]{1,63}. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/profile_name.h"

static int
ok(const char *s)
{
    return mp_profile_name_valid(s, strlen(s));
}

static void
profile_name_accepts_the_charset(void **state)
{
    (void)state;
    assert_true(ok("default"));
    assert_true(ok("A-z_0.9"));
    assert_true(ok("x"));
    assert_true(ok("123456789012345678901234567890123456789012345678901234567890123"));
}

static void
profile_name_refuses_others(void **state)
{
    static const char *const bad[] = {"", "a b", "a\nb", "a\x1f", "a/b", "a:b", "\xc3\xa6", "a\\b",
        "a%0a", "a\"b", "a\x7f",
        "1234567890123456789012345678901234567890123456789012345678901234"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ok(bad[i]));
    assert_false(mp_profile_name_valid(NULL, 3));
    /* The length is what counts, not a NUL: a wire field "ab\0c" is refused. */
    assert_false(mp_profile_name_valid("ab\0c", 4));
    assert_true(mp_profile_name_valid("abc-not-this", 3));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(profile_name_accepts_the_charset),
        cmocka_unit_test(profile_name_refuses_others),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
