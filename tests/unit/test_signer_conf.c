/* signer/signer_conf: the mp-signer configuration keywords. Values land in the right fields, defaults
 * apply, and every unknown key or bad value is refused with "label:LINE:". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "signer/signer_conf.h"

static struct signer_conf *conf;
static struct mp_errmsg err;

static int
fresh(void **state)
{
    (void)state;
    signer_conf_free(conf);
    memset(&err, 0, sizeof(err));
    return (conf = signer_conf_new()) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    signer_conf_free(conf);
    conf = NULL;
    return 0;
}

static enum mp_err
load(const char *text)
{
    return signer_conf_load_text(conf, text, "t.conf", &err);
}

/* load fails with r and exactly this message. */
static void
assert_load_fails(const char *text, enum mp_err r, const char *msg)
{
    assert_int_equal(load(text), r);
    assert_string_equal(err.text, msg);
}

static const char full[] = "# mp-signer\n"
                           "module = /usr/lib/softhsm/libsofthsm2.so\n"
                           "module_env = SOFTHSM2_CONF=/var/lib/mp/softhsm2.conf\n"
                           "module_env = OTHER=x=y\n"
                           "pin_file = /etc/mp-signer/pin\n"
                           "socket = /run/mp-signer/sock\n"
                           "socket_mode = 0600\n"
                           "socket_group = mp\n"
                           "workers = 4\n"
                           "\n"
                           "[profile default]\n"
                           "key = pkcs11:token=mp-dev;object=vs;type=private\n"
                           "client_id = 2b6c\n"
                           "env = test\n"
                           "scopes = a:b c:d\n"
                           "lifetime = 30\n"
                           "alg = RS512\n"
                           "kid = kid-1\n"
                           "[profile prod]\n"
                           "key = pkcs11:token=prod;object=vs;type=private\n"
                           "env = prod\n"
                           "resources = urn:r1 urn:r2\n"
                           "allow_uids = 0 1000, root\n"
                           "allow_gids = 0\n";

static void
signer_conf_loads_globals_and_two_profiles(void **state)
{
    struct signer_conf_profile *p;

    (void)state;
    assert_int_equal(load(full), MP_OK);
    assert_string_equal(conf->module, "/usr/lib/softhsm/libsofthsm2.so");
    assert_int_equal(conf->nmodule_env, 2);
    assert_string_equal(conf->module_env[0], "SOFTHSM2_CONF=/var/lib/mp/softhsm2.conf");
    assert_string_equal(conf->module_env[1], "OTHER=x=y");
    assert_string_equal(conf->pin_file, "/etc/mp-signer/pin");
    assert_string_equal(conf->socket, "/run/mp-signer/sock");
    assert_int_equal(conf->socket_mode, 0600);
    assert_string_equal(conf->socket_group, "mp");
    assert_int_equal(conf->workers, 4);
    assert_int_equal(conf->nprofiles, 2);
    assert_non_null(p = signer_conf_profile(conf, "default"));
    assert_string_equal(p->key, "pkcs11:token=mp-dev;object=vs;type=private");
    assert_string_equal(p->client_id, "2b6c");
    assert_string_equal(p->scopes, "a:b c:d");
    assert_int_equal(p->lifetime, 30);
    assert_int_equal(p->alg, JWS_RS512);
    assert_string_equal(p->kid, "kid-1");
    assert_null(signer_conf_profile(conf, "missing"));
}

static void
signer_conf_profiles_keep_their_own_settings(void **state)
{
    struct signer_conf_profile *d, *p;

    (void)state;
    assert_int_equal(load(full), MP_OK);
    d = signer_conf_profile(conf, "default");
    assert_non_null(p = signer_conf_profile(conf, "prod"));
    assert_string_equal(d->aud, "https://test.maskinporten.no/");
    assert_string_equal(p->aud, "https://maskinporten.no/");
    assert_string_equal(p->key, "pkcs11:token=prod;object=vs;type=private");
    assert_string_equal(p->resources, "urn:r1 urn:r2");
    assert_null(p->kid);
    assert_null(d->resources);
    assert_int_equal(d->nuids, 0);
}

static void
signer_conf_profile_defaults(void **state)
{
    struct signer_conf_profile *p;

    (void)state;
    assert_int_equal(conf->socket_mode, 0660);
    assert_true(conf->workers >= 1);
    assert_int_equal(load("[profile p]\nkey = k\n"), MP_OK);
    assert_non_null(p = signer_conf_profile(conf, "p"));
    assert_int_equal(p->alg, JWS_RS256);
    assert_int_equal(p->lifetime, 60);
    assert_int_equal(p->max_lifetime, GRANT_MAX_LIFETIME);
    assert_null(p->aud);
}

static void
signer_conf_env_maps_test_and_prod_to_their_aud(void **state)
{
    (void)state;
    assert_string_equal(signer_conf_env_aud("test"), "https://test.maskinporten.no/");
    assert_string_equal(signer_conf_env_aud("prod"), "https://maskinporten.no/");
    assert_null(signer_conf_env_aud("ver2"));
    assert_null(signer_conf_env_aud("Test"));
    assert_null(signer_conf_env_aud(""));
}

static void
signer_conf_env_other_than_test_or_prod_is_refused(void **state)
{
    (void)state;
    assert_load_fails("[profile p]\nkey = k\nenv = staging\n", MP_ERR_INVALID,
        "t.conf:3: env must be test or prod");
}

static void
signer_conf_aud_is_taken_verbatim_and_last_one_wins(void **state)
{
    (void)state;
    assert_int_equal(load("[profile p]\nenv = prod\naud = https://sys.example.no/\n"), MP_OK);
    assert_string_equal(signer_conf_profile(conf, "p")->aud, "https://sys.example.no/");
}

static void
signer_conf_unknown_global_key_is_a_parse_error_with_line(void **state)
{
    (void)state;
    assert_load_fails("module = m\n# c\nmodul = m\n", MP_ERR_PARSE,
        "t.conf:3: unknown setting \"modul\"");
}

static void
signer_conf_unknown_profile_key_is_a_parse_error_with_line(void **state)
{
    (void)state;
    assert_load_fails("[profile p]\nkey = k\n\nscope = a:b\n", MP_ERR_PARSE,
        "t.conf:4: unknown profile setting \"scope\"");
}

static void
signer_conf_global_key_inside_a_profile_is_refused(void **state)
{
    (void)state;
    assert_load_fails("[profile p]\nmodule = m\n", MP_ERR_PARSE,
        "t.conf:2: unknown profile setting \"module\"");
}

static void
signer_conf_unknown_section_is_refused(void **state)
{
    (void)state;
    assert_load_fails("[global]\nmodule = m\n", MP_ERR_PARSE, "t.conf:1: unknown section [global]");
    assert_int_equal(fresh(NULL), 0);
    assert_load_fails("[profile]\nkey = k\n", MP_ERR_PARSE, "t.conf:1: unknown section [profile]");
    assert_int_equal(fresh(NULL), 0);
    assert_load_fails("[client p]\nkey = k\n", MP_ERR_PARSE,
        "t.conf:1: unknown section [client p]");
}

static void
signer_conf_lifetime_out_of_range_or_not_a_number_is_refused(void **state)
{
    static const char *const bad[] = {"0", "121", "60s", "-1", " ", "1e2", "0x3c"};
    char text[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "[profile p]\nkey = k\nlifetime = %s\n", bad[i]);
        assert_load_fails(text, MP_ERR_INVALID, "t.conf:3: lifetime must be 1..120 seconds");
        snprintf(text, sizeof(text), "[profile p]\nmax_lifetime = %s\n", bad[i]);
        assert_load_fails(text, MP_ERR_INVALID, "t.conf:2: max_lifetime must be 1..120 seconds");
    }
    assert_int_equal(load("[profile p]\nlifetime = 120\nmax_lifetime = 1\n"), MP_OK);
    assert_int_equal(signer_conf_profile(conf, "p")->lifetime, 120);
    assert_int_equal(signer_conf_profile(conf, "p")->max_lifetime, 1);
}

static void
signer_conf_alg_accepts_only_rs256_rs384_rs512(void **state)
{
    (void)state;
    assert_int_equal(load("[profile p]\nalg = RS384\n"), MP_OK);
    assert_int_equal(signer_conf_profile(conf, "p")->alg, JWS_RS384);
    assert_load_fails("[profile p]\nalg = ES256\n", MP_ERR_INVALID,
        "t.conf:2: alg must be RS256, RS384 or RS512");
    assert_load_fails("[profile p]\nalg = none\n", MP_ERR_INVALID,
        "t.conf:2: alg must be RS256, RS384 or RS512");
}

static void
signer_conf_allow_uids_takes_numbers_and_user_names(void **state)
{
    struct signer_conf_profile *p;

    (void)state;
    assert_int_equal(load("[profile p]\nallow_uids = 0 1000, root\t65534\nallow_gids = 0,5\n"),
        MP_OK);
    p = signer_conf_profile(conf, "p");
    assert_int_equal(p->nuids, 4);
    assert_int_equal(p->uids[0], 0);
    assert_int_equal(p->uids[1], 1000);
    assert_int_equal(p->uids[2], 0);
    assert_int_equal(p->uids[3], 65534);
    assert_int_equal(p->ngids, 2);
    assert_int_equal(p->gids[1], 5);
}

static void
signer_conf_allow_uids_refuses_unknown_users_and_too_many(void **state)
{
    char text[512];
    size_t i, n;

    (void)state;
    assert_load_fails("[profile p]\nallow_uids = 0 no-such-user-mp\n", MP_ERR_INVALID,
        "t.conf:2: unknown user \"no-such-user-mp\"");
    assert_load_fails("[profile p]\nallow_uids = -1\n", MP_ERR_INVALID,
        "t.conf:2: unknown user \"-1\"");
    n = (size_t)snprintf(text, sizeof(text), "[profile p]\nallow_uids =");
    for (i = 0; i <= SIGNER_CONF_MAX_IDS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, " %zu", i + 1000);
    assert_load_fails(text, MP_ERR_INVALID, "t.conf:2: at most 32 ids");
}

static void
signer_conf_socket_mode_is_octal(void **state)
{
    (void)state;
    assert_int_equal(load("socket_mode = 0640\n"), MP_OK);
    assert_int_equal(conf->socket_mode, 0640);
    assert_load_fails("socket_mode = 660\n", MP_ERR_INVALID,
        "t.conf:1: socket_mode must be octal such as 0660");
    assert_load_fails("socket_mode = 0690\n", MP_ERR_INVALID,
        "t.conf:1: socket_mode must be octal such as 0660");
    assert_load_fails("socket_mode = 01777\n", MP_ERR_INVALID,
        "t.conf:1: socket_mode must be octal such as 0660");
    assert_int_equal(conf->socket_mode, 0640);
}

static void
signer_conf_module_env_must_be_name_equals_value(void **state)
{
    (void)state;
    assert_load_fails("module_env = NOVALUE\n", MP_ERR_INVALID,
        "t.conf:1: module_env must be NAME=VALUE");
    assert_load_fails("module_env = =x\n", MP_ERR_INVALID,
        "t.conf:1: module_env must be NAME=VALUE");
    assert_int_equal(conf->nmodule_env, 0);
}

static void
signer_conf_module_env_is_limited(void **state)
{
    char text[512];
    size_t i, n = 0;

    (void)state;
    for (i = 0; i <= SIGNER_CONF_MAX_ENV; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "module_env = V%zu=1\n", i);
    assert_load_fails(text, MP_ERR_INVALID, "t.conf:9: at most 8 module_env lines");
    assert_int_equal(conf->nmodule_env, SIGNER_CONF_MAX_ENV);
}

static void
signer_conf_apply_module_env_sets_the_environment(void **state)
{
    (void)state;
    unsetenv("MP_UNIT_SCONF_A");
    assert_int_equal(load("module_env = MP_UNIT_SCONF_A=x=y\nmodule_env = MP_UNIT_SCONF_B=\n"),
        MP_OK);
    assert_int_equal(signer_conf_apply_module_env(conf, &err), MP_OK);
    assert_string_equal(getenv("MP_UNIT_SCONF_A"), "x=y");
    assert_string_equal(getenv("MP_UNIT_SCONF_B"), "");
    unsetenv("MP_UNIT_SCONF_A");
    unsetenv("MP_UNIT_SCONF_B");
}

static void
signer_conf_workers_is_range_checked(void **state)
{
    (void)state;
    assert_int_equal(load("workers = 64\n"), MP_OK);
    assert_int_equal(conf->workers, 64);
    assert_load_fails("workers = 0\n", MP_ERR_INVALID, "t.conf:1: workers must be 1..64");
    assert_load_fails("workers = 65\n", MP_ERR_INVALID, "t.conf:1: workers must be 1..64");
}

/* A key twice in one section is refused at the second line; the same key in two sections,
 * and module_env (repeatable by design), are not. */
static void
signer_conf_key_twice_is_refused(void **state)
{
    (void)state;
    assert_load_fails("[profile a]\nallow_uids = 1000\nscopes = x:y\nallow_uids = 0\n",
        MP_ERR_PARSE,
        "t.conf:4: allow_uids is set twice here; one line a setting (the second would silently "
        "override the first)");
    assert_int_equal(fresh(NULL), 0);
    assert_load_fails("socket = /a\nsocket = /b\n", MP_ERR_PARSE,
        "t.conf:2: socket is set twice here; one line a setting (the second would silently "
        "override the first)");
    assert_int_equal(fresh(NULL), 0);
    assert_int_equal(load("module_env = A=1\nmodule_env = B=2\n[profile a]\nscopes = x:y\n"
                          "[profile b]\nscopes = x:y\n"),
        MP_OK);
}

static void
signer_conf_duplicate_profile_is_refused_at_its_header(void **state)
{
    (void)state;
    assert_load_fails("[profile a]\nallow_uids = 1000\n[profile b]\nkey = k\n"
                      "[profile a]\nallow_uids = 0\n",
        MP_ERR_PARSE, "t.conf:5: duplicate [profile a]");
    assert_int_equal(fresh(NULL), 0);
    assert_load_fails("[profile a]\n[profile a]\n", MP_ERR_PARSE,
        "t.conf:2: duplicate [profile a]");
}

static void
signer_conf_profile_name_over_63_characters_is_refused(void **state)
{
    char text[256];

    (void)state;
    snprintf(text, sizeof(text), "[profile %064d]\nkey = k\n", 0);
    assert_load_fails(text, MP_ERR_INVALID,
        "t.conf:1: profile name "
        "\"0000000000000000000000000000000000000000000000000000000000000000\" "
        "may hold only A-Z a-z 0-9 . _ - (1..63 characters)");
    assert_int_equal(conf->nprofiles, 0);
}

/* A name reaches logs, metrics labels and audit lines: only [A-Za-z0-9._-]. The tokenizer
 * already refuses other bytes in a header; profile_open checks again with common/profile_name. */
static void
signer_conf_profile_name_outside_the_charset_is_refused(void **state)
{
    (void)state;
    assert_load_fails("\n\n[profile a/b]\nkey = k\n", MP_ERR_PARSE,
        "t.conf:3: section header must look like [profile NAME]");
    assert_int_equal(conf->nprofiles, 0);
    assert_int_equal(load("[profile prod-2.a_B]\nkey = k\n"), MP_OK);
}

static void
signer_conf_comma_in_a_list_is_refused_with_its_line(void **state)
{
    static const char *const keys[] = {"scopes", "resources", "consumer_orgs", "systemuser_orgs"};
    char text[128], msg[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(text, sizeof(text), "[profile p]\nkey = k\n%s = a:b, c:d\n", keys[i]);
        snprintf(msg, sizeof(msg), "t.conf:3: %s is a space-separated list: no commas", keys[i]);
        assert_load_fails(text, MP_ERR_INVALID, msg);
        assert_int_equal(fresh(NULL), 0);
    }
    assert_int_equal(load("[profile p]\nscopes = a:b  c:d\n"), MP_OK);
}

/* key, client_id and aud end up in every audit line: bounded so the longest line fits. */
static void
signer_conf_long_strings_are_refused(void **state)
{
    static const char *const keys[] = {"key", "client_id", "aud"};
    static char text[4096], msg[128];
    char v[SIGNER_CONF_STR_MAX + 2];
    size_t i;

    (void)state;
    memset(v, 'a', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(text, sizeof(text), "[profile p]\n%s = %s\n", keys[i], v);
        snprintf(msg, sizeof(msg), "t.conf:2: %s is longer than %d bytes", keys[i],
            SIGNER_CONF_STR_MAX);
        assert_load_fails(text, MP_ERR_INVALID, msg);
        assert_int_equal(fresh(NULL), 0);
    }
    v[SIGNER_CONF_STR_MAX] = '\0';
    snprintf(text, sizeof(text), "[profile p]\nkey = %s\n", v);
    assert_int_equal(load(text), MP_OK);
}

/* signer_conf_print into a static buffer. */
static const char *
printed(void)
{
    static char out[4096];
    FILE *f = fmemopen(out, sizeof(out), "w");

    assert_non_null(f);
    signer_conf_print(f, conf);
    assert_int_equal(fclose(f), 0);
    return out;
}

static void
signer_conf_print_fills_in_the_defaults(void **state)
{
    const char *out;

    (void)state;
    assert_int_equal(load("workers = 3\n[profile default]\nenv = prod\n"), MP_OK);
    out = printed();
    assert_non_null(strstr(out, "# module =\n"));
    assert_non_null(strstr(out, "# module_env =\n"));
    assert_non_null(strstr(out, "socket_mode = 0660\n"));
    assert_non_null(strstr(out, "workers = 3\n"));
    assert_non_null(strstr(out, "sandbox = enforce\n"));
    assert_non_null(strstr(out, "\n[profile default]\n"));
    assert_non_null(strstr(out, "aud = https://maskinporten.no/\n"));
    assert_null(strstr(out, "\nenv ")); /* env is shorthand for aud, which prints it */
    assert_non_null(strstr(out, "alg = RS256\nlifetime = 60\nmax_lifetime = 120\n"));
    assert_non_null(strstr(out, "# allow_uids =\n"));
}

static void
signer_conf_print_reads_back_the_same(void **state)
{
    char first[4096];

    (void)state;
    assert_int_equal(load(full), MP_OK);
    snprintf(first, sizeof(first), "%s", printed());
    assert_non_null(strstr(first,
        "module_env = SOFTHSM2_CONF=/var/lib/mp/softhsm2.conf\n"
        "module_env = OTHER=x=y\n"));
    assert_non_null(strstr(first, "pin_file = /etc/mp-signer/pin\n"));
    assert_non_null(strstr(first, "allow_uids = 0 1000 0\n"));
    assert_non_null(strstr(first, "alg = RS512\n"));
    assert_int_equal(fresh(NULL), 0);
    assert_int_equal(load(first), MP_OK);
    assert_string_equal(printed(), first);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(signer_conf_loads_globals_and_two_profiles, fresh),
        cmocka_unit_test_setup(signer_conf_profiles_keep_their_own_settings, fresh),
        cmocka_unit_test_setup(signer_conf_profile_defaults, fresh),
        cmocka_unit_test_setup(signer_conf_env_maps_test_and_prod_to_their_aud, fresh),
        cmocka_unit_test_setup(signer_conf_env_other_than_test_or_prod_is_refused, fresh),
        cmocka_unit_test_setup(signer_conf_aud_is_taken_verbatim_and_last_one_wins, fresh),
        cmocka_unit_test_setup(signer_conf_unknown_global_key_is_a_parse_error_with_line, fresh),
        cmocka_unit_test_setup(signer_conf_unknown_profile_key_is_a_parse_error_with_line, fresh),
        cmocka_unit_test_setup(signer_conf_global_key_inside_a_profile_is_refused, fresh),
        cmocka_unit_test_setup(signer_conf_unknown_section_is_refused, fresh),
        cmocka_unit_test_setup(signer_conf_lifetime_out_of_range_or_not_a_number_is_refused, fresh),
        cmocka_unit_test_setup(signer_conf_alg_accepts_only_rs256_rs384_rs512, fresh),
        cmocka_unit_test_setup(signer_conf_allow_uids_takes_numbers_and_user_names, fresh),
        cmocka_unit_test_setup(signer_conf_allow_uids_refuses_unknown_users_and_too_many, fresh),
        cmocka_unit_test_setup(signer_conf_socket_mode_is_octal, fresh),
        cmocka_unit_test_setup(signer_conf_module_env_must_be_name_equals_value, fresh),
        cmocka_unit_test_setup(signer_conf_module_env_is_limited, fresh),
        cmocka_unit_test_setup(signer_conf_apply_module_env_sets_the_environment, fresh),
        cmocka_unit_test_setup(signer_conf_workers_is_range_checked, fresh),
        cmocka_unit_test_setup(signer_conf_duplicate_profile_is_refused_at_its_header, fresh),
        cmocka_unit_test_setup(signer_conf_key_twice_is_refused, fresh),
        cmocka_unit_test_setup(signer_conf_profile_name_over_63_characters_is_refused, fresh),
        cmocka_unit_test_setup(signer_conf_profile_name_outside_the_charset_is_refused, fresh),
        cmocka_unit_test_setup(signer_conf_comma_in_a_list_is_refused_with_its_line, fresh),
        cmocka_unit_test_setup(signer_conf_long_strings_are_refused, fresh),
        cmocka_unit_test_setup(signer_conf_print_fills_in_the_defaults, fresh),
        cmocka_unit_test_setup(signer_conf_print_reads_back_the_same, fresh),
    };

    return cmocka_run_group_tests(tests, NULL, teardown);
}
