/* common/log: every C0 control byte, DEL and backslash of a logged line comes out as \xNN, so a
 * request parameter can never start a line of its own or forge a journald "<N>" priority. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

static void
log_escape_controls_del_and_backslash(void **state)
{
    char out[128];

    (void)state;
    mp_log_escape(out, sizeof(out), "a\n<2>forged\r\t\x1f\x7f\\b");
    assert_string_equal(out, "a\\x0a<2>forged\\x0d\\x09\\x1f\\x7f\\x5cb");
}

static void
log_escape_keeps_printable_and_utf8(void **state)
{
    char out[128];

    (void)state;
    mp_log_escape(out, sizeof(out), "scope=a:b c \"q\" \xc3\xa6");
    assert_string_equal(out, "scope=a:b c \"q\" \xc3\xa6");
}

static void
log_escape_cuts_at_a_whole_escape(void **state)
{
    char out[6];

    (void)state;
    assert_int_equal(mp_log_escape(out, sizeof(out), "ab\ncd"), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(mp_log_escape(out, sizeof(out), "abcdefgh"), 5);
    assert_string_equal(out, "abcde");
    assert_int_equal(mp_log_escape(out, 1, "abc"), 0);
}

/* The whole path: mp_log on stderr (a pipe here) writes one line for a value with newlines. */
static void
log_line_stays_one_line(void **state)
{
    char buf[512];
    int fds[2], saved;
    ssize_t n;

    (void)state;
    assert_int_equal(pipe(fds), 0);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fds[1], 2), 2);
    mp_log_init("t", MP_LOG_INFO);
    mp_info("profile %s", "x\n<2>mp-exchange: error: forged");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "t: info: profile x\\x0a<2>mp-exchange: error: forged\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log_escape_controls_del_and_backslash),
        cmocka_unit_test(log_escape_keeps_printable_and_utf8),
        cmocka_unit_test(log_escape_cuts_at_a_whole_escape),
        cmocka_unit_test(log_line_stays_one_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
