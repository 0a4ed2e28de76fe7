/* common/text: UTF-8 text checks (RFC 3629's well-formed table) and the \xNN escape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/text.h"

static int
clean(const char *s, size_t *bad)
{
    return mp_text_clean(s, strlen(s), bad);
}

static void
text_accepts_utf8(void **state)
{
    static const char *const good[] = {"", "altinn:serviceowner/instances.read",
        "bl\xc3\xa5"
        "b\xc3\xa6r",
        "\xe2\x82\xac", "\xed\x9f\xbf", "\xee\x80\x80", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
        "a\\b", "~"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(clean(good[i], NULL));
}

/* Each refused with the offset of its first bad byte. */
static void
text_refuses_malformed_and_controls(void **state)
{
    static const struct {
        const char *s;
        size_t at;
    } bad[] = {
        {"\xff", 0},
        {"ab\xfe", 2},
        {"a\x80", 1}, /* lone continuation */
        {"\xc0\xaf", 0},
        {"\xc1\xbf", 0}, /* overlong 2-byte */
        {"\xe0\x80\xaf", 0}, /* overlong 3-byte */
        {"\xf0\x80\x80\xaf", 0}, /* overlong 4-byte */
        {"\xed\xa0\x80", 0}, /* UTF-16 surrogate */
        {"\xf4\x90\x80\x80", 0},
        {"\xf5\x80\x80\x80", 0}, /* above U+10FFFF */
        {"x\xc3", 1},
        {"x\xe2\x82", 1}, /* cut short */
        {"a\nb", 1},
        {"\x1f", 0},
        {"a\x7f", 1},
        {"tab\t", 3},
        {"\xc3\xa6\x01", 2},
    };
    size_t i, at;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        at = 99;
        assert_false(clean(bad[i].s, &at));
        assert_int_equal(at, bad[i].at);
    }
}

static void
text_escape_shows_bytes(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(mp_text_escape(out, sizeof(out), "/tmp/\xff"), 9);
    assert_string_equal(out, "/tmp/\\xff");
    mp_text_escape(out, sizeof(out), "a\\xffb\n\xc3\xa6\xe2\x82");
    assert_string_equal(out, "a\\x5cxffb\\x0a\xc3\xa6\\xe2\\x82");
    mp_text_escape(out, sizeof(out), "plain");
    assert_string_equal(out, "plain");
    assert_true(clean(out, NULL));
    mp_text_escape(out, sizeof(out), "\xed\xa0\x80\x7f");
    assert_string_equal(out, "\\xed\\xa0\\x80\\x7f");
}

/* A short buffer cuts between characters and escapes, never inside one. */
static void
text_escape_cuts_whole(void **state)
{
    char out[6];

    (void)state;
    assert_int_equal(mp_text_escape(out, sizeof(out), "ab\xe2\x82\xac"), 5);
    assert_string_equal(out, "ab\xe2\x82\xac");
    assert_int_equal(mp_text_escape(out, sizeof(out), "abc\xe2\x82\xac"), 3);
    assert_string_equal(out, "abc");
    assert_int_equal(mp_text_escape(out, sizeof(out), "a\xff\xff"), 5);
    assert_string_equal(out, "a\\xff");
    assert_int_equal(mp_text_escape(out, 1, "abc"), 0);
    assert_string_equal(out, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_accepts_utf8),
        cmocka_unit_test(text_refuses_malformed_and_controls),
        cmocka_unit_test(text_escape_shows_bytes),
        cmocka_unit_test(text_escape_cuts_whole),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
