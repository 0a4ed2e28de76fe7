/* common/uuid: version 4 UUIDs for the JWT jti, which Maskinporten uses to refuse replays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/uuid.h"

static int
lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void
assert_uuid_v4(const char *u)
{
    size_t i;

    assert_int_equal(strlen(u), MP_UUID_STRLEN);
    for (i = 0; i < MP_UUID_STRLEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(u[i], '-');
        else
            assert_true(lower_hex(u[i]));
    }
    assert_int_equal(u[14], '4');
    assert_non_null(strchr("89ab", u[19]));
}

static void
uuid_v4_is_8_4_4_4_12_lowercase_hex_version_4_rfc_variant(void **state)
{
    char u[MP_UUID_STRLEN + 1];
    int i;

    (void)state;
    for (i = 0; i < 256; i++) {
        memset(u, 'X', sizeof(u));
        assert_int_equal(mp_uuid_v4(u), MP_OK);
        assert_uuid_v4(u);
    }
}

static void
uuid_v4_two_calls_differ(void **state)
{
    char a[MP_UUID_STRLEN + 1], b[MP_UUID_STRLEN + 1];

    (void)state;
    assert_int_equal(mp_uuid_v4(a), MP_OK);
    assert_int_equal(mp_uuid_v4(b), MP_OK);
    assert_string_not_equal(a, b);
}

static void
random_bytes_fill_the_whole_buffer(void **state)
{
    unsigned char a[64], b[64];
    unsigned char zero[64] = {0};

    (void)state;
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(mp_random_bytes(a, sizeof(a)), MP_OK);
    assert_int_equal(mp_random_bytes(b, sizeof(b)), MP_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a + 48, zero, 16);
    assert_int_equal(mp_random_bytes(a, 0), MP_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uuid_v4_is_8_4_4_4_12_lowercase_hex_version_4_rfc_variant),
        cmocka_unit_test(uuid_v4_two_calls_differ),
        cmocka_unit_test(random_bytes_fill_the_whole_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
