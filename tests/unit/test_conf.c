/* common/conf: the "key = value" / "[profile NAME]" tokenizer shared by both daemons. What the
 * callback sees, and that every error names the file and the exact line. Then the keyword
 * tables on top: types, ranges in the messages, sections, and printing back. */
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

/* The keyword tables: a struct with one field of each type and named [item NAME] sections. */
struct item {
    char name[16];
    char *label;
    char *words;
    unsigned int weight;
};

struct thing {
    char *path;
    char *list;
    unsigned int count;
    unsigned int mode;
    int flag;
    struct item items[3];
    size_t nitems;
};

static enum mp_err
kw_flag(void *obj, const struct mp_conf_kw *kw, const char *value, struct mp_errmsg *e)
{
    int *flag = mp_conf_field(obj, kw);

    if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
        return mp_errf(e, MP_ERR_INVALID, "flag must be yes or no");
    *flag = value[0] == 'y';
    return MP_OK;
}

static void
kw_flag_print(FILE *f, const void *obj, const struct mp_conf_kw *kw)
{
    const int *flag = mp_conf_cfield(obj, kw);

    mp_conf_print_value(f, kw->name, *flag ? "yes" : "no");
}

static const struct mp_conf_kw thing_kw[] = {
    MP_CONF_KW(struct thing, path, MP_CONF_STR),
    MP_CONF_KW(struct thing, list, MP_CONF_LIST),
    MP_CONF_UINT_KW(struct thing, count, 1, 64, NULL),
    MP_CONF_KW(struct thing, mode, MP_CONF_MODE),
    {.name = "flag",
        .type = MP_CONF_FUNC,
        .offset = offsetof(struct thing, flag),
        .parse = kw_flag,
        .print = kw_flag_print},
    {.name = "alias",
        .type = MP_CONF_FUNC,
        .offset = offsetof(struct thing, flag),
        .parse = kw_flag},
    MP_CONF_END,
};

static const struct mp_conf_kw item_kw[] = {
    MP_CONF_KW(struct item, label, MP_CONF_STR),
    MP_CONF_KW(struct item, words, MP_CONF_LIST),
    MP_CONF_UINT_KW(struct item, weight, 0, 120, " grams"),
    MP_CONF_END,
};

static enum mp_err
item_open(void *obj, const char *name, void **out, struct mp_errmsg *e)
{
    struct thing *t = obj;
    size_t i;

    for (i = 0; i < t->nitems; i++)
        if (strcmp(t->items[i].name, name) == 0)
            break;
    if (i == t->nitems) {
        if (t->nitems == 3 || strlen(name) >= sizeof(t->items[0].name))
            return mp_errf(e, MP_ERR_INVALID, "too many items");
        snprintf(t->items[t->nitems++].name, sizeof(t->items[0].name), "%s", name);
    }
    *out = &t->items[i];
    return MP_OK;
}

static const void *
item_at(const void *obj, size_t i, const char **name)
{
    const struct thing *t = obj;

    if (i >= t->nitems)
        return NULL;
    *name = t->items[i].name;
    return &t->items[i];
}

static const struct mp_conf_schema thing_schema = {
    .global = thing_kw,
    .kind = "item",
    .section = item_kw,
    .open = item_open,
    .at = item_at,
};

static const struct mp_conf_schema flat_schema = {
    .global = thing_kw,
    .hint = "this file takes no sections",
};

static struct thing thing;

static void
thing_clear(void)
{
    size_t i;

    free(thing.path);
    free(thing.list);
    for (i = 0; i < thing.nitems; i++) {
        free(thing.items[i].label);
        free(thing.items[i].words);
    }
    memset(&thing, 0, sizeof(thing));
    thing.count = 8;
    thing.mode = 0640;
}

static enum mp_err
load_as(const struct mp_conf_schema *s, const char *text)
{
    thing_clear();
    memset(&err, 0, sizeof(err));
    return mp_conf_load_text(text, strlen(text), "t.conf", s, &thing, &err);
}

static enum mp_err
load(const char *text)
{
    return load_as(&thing_schema, text);
}

static void
assert_load_fails(const char *text, enum mp_err r, const char *msg)
{
    assert_int_equal(load(text), r);
    assert_string_equal(err.text, msg);
}

/* What mp_conf_print writes for thing, in a static buffer. */
static const char *
printed(void)
{
    static char out[2048];
    FILE *f = fmemopen(out, sizeof(out), "w");

    assert_non_null(f);
    mp_conf_print(f, &thing_schema, &thing);
    assert_int_equal(fclose(f), 0);
    return out;
}

static void
table_fills_every_type_and_sections(void **state)
{
    (void)state;
    assert_int_equal(load("path = /a b\nlist = x y  z\ncount = 64\nmode = 0600\nflag = yes\n"
                          "[item one]\nlabel = L1\nweight = 0\n[item two]\nwords = w\n"),
        MP_OK);
    assert_string_equal(thing.path, "/a b");
    assert_string_equal(thing.list, "x y  z");
    assert_int_equal(thing.count, 64);
    assert_int_equal(thing.mode, 0600);
    assert_int_equal(thing.flag, 1);
    assert_int_equal(thing.nitems, 2);
    assert_string_equal(thing.items[0].label, "L1");
    assert_int_equal(thing.items[0].weight, 0);
    assert_null(thing.items[0].words);
    assert_string_equal(thing.items[1].words, "w");
    thing_clear();
}

/* The second line of a key is refused at its line, not silently taken over the first. */
static void
table_a_key_twice_is_refused(void **state)
{
    (void)state;
    assert_load_fails("path = /first\npath = /second\n", MP_ERR_PARSE,
        "t.conf:2: path is set twice here; one line a setting (the second would silently "
        "override the first)");
    thing_clear();
    assert_int_equal(load("[item one]\nlabel = a\n[item two]\nlabel = b\n"), MP_OK);
    thing_clear();
}

static void
table_range_error_names_the_key_and_the_range(void **state)
{
    static const char *const bad[] = {"0", "65", "-1", "8x", "", "0x10", "99999999999999999999"};
    char text[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "# c\ncount = %s\n", bad[i]);
        assert_load_fails(text, MP_ERR_INVALID, "t.conf:2: count must be 1..64");
        assert_int_equal(thing.count, 8);
    }
    assert_load_fails("[item a]\nweight = 121\n", MP_ERR_INVALID,
        "t.conf:2: weight must be 0..120 grams");
    assert_int_equal(load("count = 1\n[item a]\nweight = 120\n"), MP_OK);
    thing_clear();
}

static void
table_mode_must_be_octal(void **state)
{
    (void)state;
    assert_load_fails("mode = 640\n", MP_ERR_INVALID, "t.conf:1: mode must be octal such as 0660");
    assert_load_fails("mode = 01000\n", MP_ERR_INVALID,
        "t.conf:1: mode must be octal such as 0660");
    thing_clear();
}

static void
table_callback_errors_pass_through(void **state)
{
    (void)state;
    assert_load_fails("count = 2\nflag = maybe\n", MP_ERR_INVALID,
        "t.conf:2: flag must be yes or no");
    assert_int_equal(load("alias = yes\n"), MP_OK);
    assert_int_equal(thing.flag, 1);
    thing_clear();
}

static void
table_unknown_keys_name_the_line_and_the_section_kind(void **state)
{
    (void)state;
    assert_load_fails("path = p\n\ncounts = 1\n", MP_ERR_PARSE,
        "t.conf:3: unknown setting \"counts\"");
    assert_load_fails("[item a]\nlabel = l\npath = p\n", MP_ERR_PARSE,
        "t.conf:3: unknown item setting \"path\"");
    thing_clear();
}

static void
table_unknown_sections_are_refused_at_their_header(void **state)
{
    (void)state;
    assert_load_fails("[thing a]\n", MP_ERR_PARSE, "t.conf:1: unknown section [thing a]");
    assert_load_fails("[item]\n", MP_ERR_PARSE, "t.conf:1: unknown section [item]");
    assert_int_equal(load_as(&flat_schema, "count = 2\n[item a]\nlabel = x\n"), MP_ERR_PARSE);
    assert_string_equal(err.text,
        "t.conf:2: unknown section [item a]: this file takes no sections");
    thing_clear();
}

static void
table_duplicate_section_is_refused_at_its_second_header(void **state)
{
    (void)state;
    assert_load_fails("[item a]\nlabel = 1\n[item b]\n\n[item a]\nlabel = 2\n", MP_ERR_PARSE,
        "t.conf:5: duplicate [item a]");
    assert_string_equal(thing.items[0].label, "1");
    assert_load_fails("[item a]\n[item b]\n[item c]\n[item d]\n", MP_ERR_INVALID,
        "t.conf:4: too many items");
    thing_clear();
}

static void
table_list_with_a_comma_is_refused(void **state)
{
    (void)state;
    assert_load_fails("list = a, b\n", MP_ERR_INVALID,
        "t.conf:1: list is a space-separated list: no commas");
    assert_null(thing.list);
    assert_load_fails("[item a]\nwords = a,b\n", MP_ERR_INVALID,
        "t.conf:2: words is a space-separated list: no commas");
    assert_int_equal(load("path = a, b\n"), MP_OK); /* a plain string may hold one */
    thing_clear();
}

static void
table_set_is_a_config_line_without_a_file(void **state)
{
    (void)state;
    thing_clear();
    assert_int_equal(mp_conf_set(thing_kw, &thing, "count", "3", &err), MP_OK);
    assert_int_equal(thing.count, 3);
    assert_int_equal(mp_conf_set(thing_kw, &thing, "count", "65", &err), MP_ERR_INVALID);
    assert_string_equal(err.text, "count must be 1..64");
    assert_int_equal(mp_conf_set(thing_kw, &thing, "nope", "1", &err), MP_ERR_PARSE);
    assert_string_equal(err.text, "unknown setting \"nope\"");
    thing_clear();
}

static void
table_print_writes_every_keyword_with_unset_ones_commented(void **state)
{
    (void)state;
    assert_int_equal(load("list = x y\n[item one]\nweight = 7\n[item two]\nlabel = L\n"), MP_OK);
    assert_string_equal(printed(),
        "# path =\n"
        "list = x y\n"
        "count = 8\n"
        "mode = 0640\n"
        "flag = no\n"
        "\n[item one]\n"
        "# label =\n"
        "# words =\n"
        "weight = 7\n"
        "\n[item two]\n"
        "label = L\n"
        "# words =\n"
        "weight = 0\n");
    thing_clear();
}

static void
table_printed_config_reads_back_the_same(void **state)
{
    char first[2048];

    (void)state;
    assert_int_equal(load("path = /p q\ncount = 5\nmode = 0600\nalias = yes\n[item i]\n"
                          "label = x = y\nwords = a b\nweight = 120\n"),
        MP_OK);
    snprintf(first, sizeof(first), "%s", printed());
    assert_int_equal(load(first), MP_OK);
    assert_string_equal(printed(), first);
    thing_clear();
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
        cmocka_unit_test(table_fills_every_type_and_sections),
        cmocka_unit_test(table_a_key_twice_is_refused),
        cmocka_unit_test(table_range_error_names_the_key_and_the_range),
        cmocka_unit_test(table_mode_must_be_octal),
        cmocka_unit_test(table_callback_errors_pass_through),
        cmocka_unit_test(table_unknown_keys_name_the_line_and_the_section_kind),
        cmocka_unit_test(table_unknown_sections_are_refused_at_their_header),
        cmocka_unit_test(table_duplicate_section_is_refused_at_its_second_header),
        cmocka_unit_test(table_list_with_a_comma_is_refused),
        cmocka_unit_test(table_set_is_a_config_line_without_a_file),
        cmocka_unit_test(table_print_writes_every_keyword_with_unset_ones_commented),
        cmocka_unit_test(table_printed_config_reads_back_the_same),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
