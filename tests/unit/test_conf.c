/* common/conf: the "key = value" / "[profile NAME]" tokenizer shared by both daemons. What the
 * callback sees, and that every error names the file and the exact line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/conf.h"

#define MAX_SEEN 16

/* Each callback call as "section|name|key|value", a header line as "[section name]". */
struct seen {
    char entry[MAX_SEEN][256];
    size_t n;
};

static struct seen seen;
static struct mp_errmsg err;

static enum mp_err
record(void *arg, const char *section, const char *name, const char *key, const char *value,
    struct mp_errmsg *e)
{
    struct seen *s = arg;

    if (s->n == MAX_SEEN)
        return mp_errf(e, MP_ERR_TOOBIG, "too many lines for the test");
    if (key == NULL && value == NULL) {
        if (strcmp(name, "fail") == 0)
            return mp_errf(e, MP_ERR_INVALID, "refused section");
        snprintf(s->entry[s->n++], sizeof(s->entry[0]), "[%s %s]", section, name);
        return MP_OK;
    }
    assert_non_null(key);
    assert_non_null(value);
    if (strcmp(key, "fail") == 0)
        return mp_errf(e, MP_ERR_INVALID, "refused %s", value);
    snprintf(s->entry[s->n++], sizeof(s->entry[0]), "%s|%s|%s|%s", section, name, key, value);
    return MP_OK;
}

static enum mp_err
parse_n(const char *text, size_t len)
{
    memset(&seen, 0, sizeof(seen));
    memset(&err, 0, sizeof(err));
    return mp_conf_parse_text(text, len, "t.conf", record, &seen, &err);
}

static enum mp_err
parse(const char *text)
{
    return parse_n(text, strlen(text));
}

static void
conf_global_keys_have_an_empty_section_and_name(void **state)
{
    (void)state;
    assert_int_equal(parse("module = /usr/lib/p11.so\npin_file = /etc/pin\n"), MP_OK);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.entry[0], "||module|/usr/lib/p11.so");
    assert_string_equal(seen.entry[1], "||pin_file|/etc/pin");
}

static void
conf_profile_header_sets_section_and_name(void **state)
{
    (void)state;
    assert_int_equal(parse("a = 1\n[profile default]\nb = 2\n[ profile  other-1.x ]\nc = 3"),
        MP_OK);
    assert_int_equal(seen.n, 5);
    assert_string_equal(seen.entry[0], "||a|1");
    assert_string_equal(seen.entry[1], "[profile default]");
    assert_string_equal(seen.entry[2], "profile|default|b|2");
    assert_string_equal(seen.entry[3], "[profile other-1.x]");
    assert_string_equal(seen.entry[4], "profile|other-1.x|c|3");
}

static void
conf_trims_key_and_value_and_crlf(void **state)
{
    (void)state;
    assert_int_equal(parse("  \tkey\t =  value with  inner spaces \t\r\nk2=v2\r\n"), MP_OK);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.entry[0], "||key|value with  inner spaces");
    assert_string_equal(seen.entry[1], "||k2|v2");
}

static void
conf_value_runs_to_end_of_line_including_equals_and_hash(void **state)
{
    (void)state;
    assert_int_equal(parse("module_env = A=B=C\nscopes = a:b # not a comment\nempty =\n"), MP_OK);
    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.entry[0], "||module_env|A=B=C");
    assert_string_equal(seen.entry[1], "||scopes|a:b # not a comment");
    assert_string_equal(seen.entry[2], "||empty|");
}

static void
conf_skips_comment_and_blank_lines(void **state)
{
    (void)state;
    assert_int_equal(parse("# a comment = not a key\n\n   \n\t# indented comment\r\nk = v\n"),
        MP_OK);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.entry[0], "||k|v");
}

static void
conf_missing_equals_names_the_line(void **state)
{
    (void)state;
    assert_int_equal(parse("a = 1\n\n# c\njust words\nb = 2\n"), MP_ERR_PARSE);
    assert_string_equal(err.text, "t.conf:4: expected \"key = value\"");
    assert_int_equal(seen.n, 1);
}

static void
conf_bad_key_names_the_line(void **state)
{
    (void)state;
    assert_int_equal(parse("a = 1\nbad key = 2\n"), MP_ERR_PARSE);
    assert_string_equal(err.text, "t.conf:2: bad key \"bad key\"");
    assert_int_equal(parse("= value\n"), MP_ERR_PARSE);
    assert_string_equal(err.text, "t.conf:1: bad key \"\"");
}

static void
conf_bad_section_headers_are_refused(void **state)
{
    static const char *const bad[] = {"[profile", "[]", "[profile a b]", "[profile a] x",
        "[pro/file a]", "[profile a/b]", "[profile \"a\"]"};
    char text[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "a = 1\n%s\nb = 2\n", bad[i]);
        assert_int_equal(parse(text), MP_ERR_PARSE);
        assert_string_equal(err.text, "t.conf:2: section header must look like [profile NAME]");
        assert_int_equal(seen.n, 1);
    }
}

static void
conf_section_name_too_long_is_refused(void **state)
{
    char text[300];

    (void)state;
    snprintf(text, sizeof(text), "[profile %0128d]\n", 0);
    assert_int_equal(parse(text), MP_ERR_PARSE);
    assert_string_equal(err.text, "t.conf:1: section name too long");
    snprintf(text, sizeof(text), "[profile %0127d]\nk = v\n", 0);
    assert_int_equal(parse(text), MP_OK);
    assert_int_equal(seen.n, 2);
}

static void
conf_line_longer_than_max_is_refused(void **state)
{
    size_t len = 6 + MP_CONF_MAX_LINE + 1;
    char *text = malloc(len + 1);

    (void)state;
    assert_non_null(text);
    memcpy(text, "a = 1\n", 6);
    memset(text + 6, 'x', MP_CONF_MAX_LINE + 1);
    memcpy(text + 6, "k = ", 4);
    text[len] = '\0';
    assert_int_equal(parse(text), MP_ERR_PARSE);
    assert_string_equal(err.text, "t.conf:2: line longer than 4096 bytes");
    text[len - 1] = '\n'; /* now exactly MP_CONF_MAX_LINE bytes before the newline */
    assert_int_equal(parse(text), MP_OK);
    assert_int_equal(seen.n, 2);
    free(text);
}

static void
conf_nul_byte_is_refused(void **state)
{
    static const char text[] = "a = 1\nb = 2\nc = x\0y\nd = 4\n";

    (void)state;
    assert_int_equal(parse_n(text, sizeof(text) - 1), MP_ERR_PARSE);
    assert_string_equal(err.text, "t.conf:3: NUL byte in line");
    assert_int_equal(seen.n, 2);
}

static void
conf_callback_error_is_prefixed_with_its_line(void **state)
{
    (void)state;
    assert_int_equal(parse("a = 1\n# x\n[profile p]\nfail = because\nb = 2\n"), MP_ERR_INVALID);
    assert_string_equal(err.text, "t.conf:4: refused because");
    assert_int_equal(seen.n, 2);
}

static void
conf_header_reaches_the_callback_and_its_error_names_the_line(void **state)
{
    (void)state;
    assert_int_equal(parse("a = 1\n[profile ok]\n\n[profile fail]\nb = 2\n"), MP_ERR_INVALID);
    assert_string_equal(err.text, "t.conf:4: refused section");
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.entry[1], "[profile ok]");
    assert_int_equal(parse("[kind]\nk = v\n"), MP_OK);
    assert_string_equal(seen.entry[0], "[kind ]");
    assert_string_equal(seen.entry[1], "kind||k|v");
}

static void
conf_last_line_without_newline_is_delivered(void **state)
{
    (void)state;
    assert_int_equal(parse("a = 1\nb = 2"), MP_OK);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.entry[1], "||b|2");
    assert_int_equal(parse(""), MP_OK);
    assert_int_equal(seen.n, 0);
}

static void
conf_parse_file_labels_errors_with_the_path(void **state)
{
    char path[] = "/tmp/mp-unit-conf-XXXXXX";
    char expect[128];
    FILE *f;
    int fd;

    (void)state;
    assert_true((fd = mkstemp(path)) >= 0);
    assert_non_null(f = fdopen(fd, "w"));
    fputs("a = 1\n[profile p]\nb = 2\nnope\n", f);
    fclose(f);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(mp_conf_parse_file(path, record, &seen, &err), MP_ERR_PARSE);
    snprintf(expect, sizeof(expect), "%s:4: expected \"key = value\"", path);
    assert_string_equal(err.text, expect);
    assert_string_equal(seen.entry[2], "profile|p|b|2");
    unlink(path);
    assert_int_equal(mp_conf_parse_file(path, record, &seen, &err), MP_ERR_IO);
    assert_non_null(strstr(err.text, path));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conf_global_keys_have_an_empty_section_and_name),
        cmocka_unit_test(conf_profile_header_sets_section_and_name),
        cmocka_unit_test(conf_trims_key_and_value_and_crlf),
        cmocka_unit_test(conf_value_runs_to_end_of_line_including_equals_and_hash),
        cmocka_unit_test(conf_skips_comment_and_blank_lines),
        cmocka_unit_test(conf_missing_equals_names_the_line),
        cmocka_unit_test(conf_bad_key_names_the_line),
        cmocka_unit_test(conf_bad_section_headers_are_refused),
        cmocka_unit_test(conf_section_name_too_long_is_refused),
        cmocka_unit_test(conf_line_longer_than_max_is_refused),
        cmocka_unit_test(conf_nul_byte_is_refused),
        cmocka_unit_test(conf_callback_error_is_prefixed_with_its_line),
        cmocka_unit_test(conf_header_reaches_the_callback_and_its_error_names_the_line),
        cmocka_unit_test(conf_last_line_without_newline_is_delivered),
        cmocka_unit_test(conf_parse_file_labels_errors_with_the_path),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
