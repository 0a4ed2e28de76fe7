/* common/secret: PIN files. Only a regular file with no group or other access is read, one
 * trailing newline is stripped, and no error message ever repeats the secret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/secret.h"

static char dir[] = "/tmp/mp-unit-secret-XXXXXX";
static char path[256];
static struct mp_errmsg err;

static int
setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

/* Writes len bytes to dir/pin with exactly this mode (no umask) and returns the path. */
static const char *
pin_file(const void *data, size_t len, mode_t mode)
{
    int fd;

    snprintf(path, sizeof(path), "%s/pin", dir);
    unlink(path);
    assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static const char *
pin_text(const char *text, mode_t mode)
{
    return pin_file(text, strlen(text), mode);
}

static enum mp_err
read_pin(const char *p, struct mp_secret **s)
{
    *s = NULL;
    memset(&err, 0, sizeof(err));
    return mp_secret_read_file(p, s, &err);
}

static void
assert_pin_is(const char *text, const char *expect)
{
    struct mp_secret *s;

    assert_int_equal(read_pin(pin_text(text, 0600), &s), MP_OK);
    assert_non_null(s);
    assert_int_equal(mp_secret_len(s), strlen(expect));
    assert_string_equal(mp_secret_data(s), expect);
    mp_secret_free(s);
}

static void
secret_mode_0600_file_is_read(void **state)
{
    (void)state;
    assert_pin_is("1234", "1234");
    assert_pin_is("pin with spaces", "pin with spaces");
    mp_secret_free(NULL);
}

static void
secret_strips_one_trailing_lf_or_crlf(void **state)
{
    (void)state;
    assert_pin_is("1234\n", "1234");
    assert_pin_is("1234\r\n", "1234");
}

static void
secret_mode_0400_is_accepted(void **state)
{
    struct mp_secret *s;

    (void)state;
    assert_int_equal(read_pin(pin_text("1234", 0400), &s), MP_OK);
    assert_string_equal(mp_secret_data(s), "1234");
    mp_secret_free(s);
}

static void
secret_group_or_other_access_is_refused_naming_the_mode(void **state)
{
    static const mode_t modes[] = {0640, 0604, 0660, 0602, 0620, 0601, 0610, 0644};
    struct mp_secret *s;
    char want[32];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        assert_int_equal(read_pin(pin_text("1234", modes[i]), &s), MP_ERR_PERM);
        assert_null(s);
        snprintf(want, sizeof(want), "mode %04o", (unsigned int)modes[i]);
        assert_non_null(strstr(err.text, want));
        assert_non_null(strstr(err.text, path));
    }
}

static void
secret_directory_is_refused(void **state)
{
    struct mp_secret *s;

    (void)state;
    assert_int_equal(read_pin(dir, &s), MP_ERR_PERM);
    assert_null(s);
    assert_non_null(strstr(err.text, "not a regular file"));
}

static void
secret_missing_file_is_an_io_error_naming_the_path(void **state)
{
    char missing[300];
    struct mp_secret *s;

    (void)state;
    snprintf(missing, sizeof(missing), "%s/no-such-pin", dir);
    assert_int_equal(read_pin(missing, &s), MP_ERR_IO);
    assert_null(s);
    assert_non_null(strstr(err.text, missing));
}

static void
secret_file_owned_by_another_user_is_refused(void **state)
{
    struct mp_secret *s;

    (void)state;
    pin_text("1234", 0600);
    if (geteuid() != 0 || chown(path, 4242, 4242) != 0)
        skip();
    assert_int_equal(read_pin(path, &s), MP_ERR_PERM);
    assert_null(s);
    assert_non_null(strstr(err.text, "uid 4242"));
}

static void
secret_empty_file_is_refused(void **state)
{
    struct mp_secret *s;

    (void)state;
    assert_int_equal(read_pin(pin_text("", 0600), &s), MP_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(err.text, "empty"));
    assert_int_equal(read_pin(pin_text("\n", 0600), &s), MP_ERR_INVALID);
    assert_int_equal(read_pin(pin_text("\r\n", 0600), &s), MP_ERR_INVALID);
}

static void
secret_more_than_one_line_is_refused(void **state)
{
    static const char nul[] = {'1', '2', '\0', '3', '4'};
    struct mp_secret *s;

    (void)state;
    assert_int_equal(read_pin(pin_text("1234\n5678", 0600), &s), MP_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(err.text, "more than one line"));
    assert_int_equal(read_pin(pin_text("1234\n5678\n", 0600), &s), MP_ERR_INVALID);
    assert_int_equal(read_pin(pin_text("1234\n\n", 0600), &s), MP_ERR_INVALID);
    assert_int_equal(read_pin(pin_file(nul, sizeof(nul), 0600), &s), MP_ERR_INVALID);
}

static void
secret_longest_is_read_and_one_byte_more_is_refused(void **state)
{
    char big[MP_SECRET_MAX + 1];
    struct mp_secret *s;

    (void)state;
    memset(big, 'x', sizeof(big));
    assert_int_equal(read_pin(pin_file(big, MP_SECRET_MAX, 0600), &s), MP_OK);
    assert_int_equal(mp_secret_len(s), MP_SECRET_MAX);
    mp_secret_free(s);
    assert_int_equal(read_pin(pin_file(big, MP_SECRET_MAX + 1, 0600), &s), MP_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(err.text, "longer than"));
}

/* The longest PIN as an editor saves it: with "\n" or "\r\n" after it. */
static void
secret_longest_with_its_line_end_is_read(void **state)
{
    char big[MP_SECRET_MAX + 3];
    struct mp_secret *s;

    (void)state;
    memset(big, 'x', sizeof(big));
    memcpy(big + MP_SECRET_MAX, "\n", 1);
    assert_int_equal(read_pin(pin_file(big, MP_SECRET_MAX + 1, 0600), &s), MP_OK);
    assert_int_equal(mp_secret_len(s), MP_SECRET_MAX);
    mp_secret_free(s);
    memcpy(big + MP_SECRET_MAX, "\r\n", 2);
    assert_int_equal(read_pin(pin_file(big, MP_SECRET_MAX + 2, 0600), &s), MP_OK);
    assert_int_equal(mp_secret_len(s), MP_SECRET_MAX);
    mp_secret_free(s);
    memcpy(big + MP_SECRET_MAX, "y\n", 2);
    assert_int_equal(read_pin(pin_file(big, MP_SECRET_MAX + 2, 0600), &s), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "longer than"));
}

static void
secret_never_appears_in_an_error_message(void **state)
{
    static const char pin[] = "S3cr3tPIN";
    char big[2 * MP_SECRET_MAX];
    struct mp_secret *s;
    size_t i;

    (void)state;
    for (i = 0; i + sizeof(pin) - 1 <= sizeof(big); i += sizeof(pin) - 1)
        memcpy(big + i, pin, sizeof(pin) - 1);
    assert_int_equal(read_pin(pin_text("S3cr3tPIN\n", 0640), &s), MP_ERR_PERM);
    assert_null(strstr(err.text, pin));
    assert_int_equal(read_pin(pin_text("S3cr3tPIN\nS3cr3tPIN\n", 0600), &s), MP_ERR_INVALID);
    assert_null(strstr(err.text, pin));
    assert_int_equal(read_pin(pin_file(big, i, 0600), &s), MP_ERR_INVALID);
    assert_null(strstr(err.text, pin));
}

/* Locked memory in kB from /proc/self/status, or -1. */
static long
locked_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static void
secret_free_unlocks_the_memory_it_locked(void **state)
{
    struct mp_secret *s;
    long before, during;

    (void)state;
    munlockall(); /* start from nothing locked, whatever earlier tests left */
    before = locked_kb();
    assert_int_equal(read_pin(pin_text("1234", 0600), &s), MP_OK);
    during = locked_kb();
    if (before < 0 || during <= before) { /* mlock is best effort (ASan ignores it) */
        mp_secret_free(s);
        skip();
    }
    mp_secret_free(s);
    assert_int_equal(locked_kb(), before);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(secret_mode_0600_file_is_read),
        cmocka_unit_test(secret_strips_one_trailing_lf_or_crlf),
        cmocka_unit_test(secret_mode_0400_is_accepted),
        cmocka_unit_test(secret_group_or_other_access_is_refused_naming_the_mode),
        cmocka_unit_test(secret_directory_is_refused),
        cmocka_unit_test(secret_missing_file_is_an_io_error_naming_the_path),
        cmocka_unit_test(secret_file_owned_by_another_user_is_refused),
        cmocka_unit_test(secret_empty_file_is_refused),
        cmocka_unit_test(secret_more_than_one_line_is_refused),
        cmocka_unit_test(secret_longest_is_read_and_one_byte_more_is_refused),
        cmocka_unit_test(secret_longest_with_its_line_end_is_read),
        cmocka_unit_test(secret_never_appears_in_an_error_message),
        cmocka_unit_test(secret_free_unlocks_the_memory_it_locked),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
