/* signer/claims: what the signer agrees to put in a Maskinporten grant. Each bad field is refused
 * with a message naming it, and the claims are exactly the documented ones, in a stable order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "signer/grant/grant_claims.h"

#define AUD "https://test.maskinporten.no/"
#define CLIENT "2b6c5e1a-0d1f-4a7e-9f0c-3c1a2b3c4d5e"
#define JTI "0b8f4c1e-7d2a-4f3b-9c6d-5e4f3a2b1c0d"
#define NOW ((time_t)1700000000)

static struct mp_errmsg err;

static struct grant_request
valid(void)
{
    struct grant_request g;

    memset(&g, 0, sizeof(g));
    g.aud = AUD;
    g.client_id = CLIENT;
    g.scope = "altinn:serviceowner/instances.read";
    g.lifetime = 60;
    return g;
}

static enum mp_err
check(const struct grant_request *g, const char *own_org)
{
    memset(&err, 0, sizeof(err));
    return grant_request_check(g, own_org, &err);
}

/* The check fails with MP_ERR_INVALID and a message that mentions word. */
static void
assert_refused(const struct grant_request *g, const char *own_org, const char *word)
{
    assert_int_equal(check(g, own_org), MP_ERR_INVALID);
    if (strstr(err.text, word) == NULL)
        fail_msg("message \"%s\" does not name \"%s\"", err.text, word);
}

/* Compact JSON text of the claims, or NULL; the caller frees. */
static char *
claims_text(const struct grant_request *g)
{
    json_t *c = NULL;
    char *s;

    memset(&err, 0, sizeof(err));
    if (grant_claims_json(g, NOW, JTI, &c, &err) != MP_OK)
        return NULL;
    s = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return s;
}

static void
check_accepts_a_complete_request(void **state)
{
    struct grant_request g = valid();

    (void)state;
    g.resources[0] = "https://api.example.no/x";
    g.resources[1] = "urn:altinn:resource:y";
    g.nresources = 2;
    g.consumer_org = "974760673";
    g.systemuser_org = "314159268";
    g.systemuser_ref = "ref-1";
    assert_int_equal(check(&g, "991825827"), MP_OK);
    g.lifetime = 1;
    assert_int_equal(check(&g, NULL), MP_OK);
    g.lifetime = GRANT_MAX_LIFETIME;
    assert_int_equal(check(&g, NULL), MP_OK);
}

static void
check_refuses_a_bad_aud(void **state)
{
    struct grant_request g = valid();

    (void)state;
    g.aud = "test.maskinporten.no";
    assert_refused(&g, NULL, "aud");
    g.aud = "https://test maskinporten.no/";
    assert_refused(&g, NULL, "aud");
    g.aud = "://test.maskinporten.no/";
    assert_refused(&g, NULL, "aud");
    g.aud = "";
    assert_refused(&g, NULL, "aud");
    g.aud = NULL;
    assert_refused(&g, NULL, "aud");
}

static void
check_refuses_lifetime_0_and_121(void **state)
{
    struct grant_request g = valid();

    (void)state;
    g.lifetime = 0;
    assert_refused(&g, NULL, "lifetime");
    g.lifetime = GRANT_MAX_LIFETIME + 1;
    assert_refused(&g, NULL, "lifetime");
}

static void
check_refuses_consumer_org_with_a_bad_check_digit(void **state)
{
    struct grant_request g = valid();

    (void)state;
    g.consumer_org = "974760674";
    assert_refused(&g, NULL, "consumer_org");
    g.consumer_org = "97476067";
    assert_refused(&g, NULL, "consumer_org");
}

static void
check_refuses_consumer_org_equal_to_own_org(void **state)
{
    struct grant_request g = valid();

    (void)state;
    g.consumer_org = "991825827";
    assert_refused(&g, "991825827", "consumer_org");
    assert_int_equal(check(&g, "974760673"), MP_OK);
}

static void
check_refuses_a_bad_systemuser(void **state)
{
    struct grant_request g = valid();

    (void)state;
    g.systemuser_ref = "ref-1";
    assert_refused(&g, NULL, "systemuser_ref");
    g.systemuser_org = "314159268";
    g.systemuser_ref = "ref 1";
    assert_refused(&g, NULL, "systemuser_ref");
    g.systemuser_org = "314159260";
    g.systemuser_ref = NULL;
    assert_refused(&g, NULL, "systemuser_org");
}

static void
check_refuses_a_resource_that_is_not_an_absolute_uri(void **state)
{
    static const char *const bad[] = {"/api/x", "api.example.no", "https://x/ y", "1http://x",
        "https:", "https://x/\"y\""};
    struct grant_request g = valid();
    size_t i;

    (void)state;
    g.resources[0] = "urn:ok";
    g.nresources = 2;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        g.resources[1] = bad[i];
        assert_refused(&g, NULL, "resource");
    }
}

static void
check_refuses_more_than_the_maximum_resources(void **state)
{
    struct grant_request g = valid();
    size_t i;

    (void)state;
    for (i = 0; i < GRANT_MAX_RESOURCES; i++)
        g.resources[i] = "urn:r";
    g.nresources = GRANT_MAX_RESOURCES;
    assert_int_equal(check(&g, NULL), MP_OK);
    g.nresources = GRANT_MAX_RESOURCES + 1;
    assert_refused(&g, NULL, "resources");
}

static void
check_refuses_a_scope_with_a_quote_or_backslash(void **state)
{
    struct grant_request g = valid();

    (void)state;
    g.scope = "a:b c\"d";
    assert_refused(&g, NULL, "scope");
    g.scope = "a:b\\c";
    assert_refused(&g, NULL, "scope");
    g.scope = "a:b\x7f";
    assert_refused(&g, NULL, "scope");
    g.scope = "a:b\nc:d";
    assert_refused(&g, NULL, "scope");
}

static void
check_refuses_a_duplicated_scope(void **state)
{
    struct grant_request g = valid();

    (void)state;
    g.scope = "a:b c:d a:b";
    assert_refused(&g, NULL, "a:b");
    assert_non_null(strstr(err.text, "scope"));
    g.scope = "a:b a:bc";
    assert_int_equal(check(&g, NULL), MP_OK);
}

static void
check_refuses_an_empty_scope(void **state)
{
    struct grant_request g = valid();

    (void)state;
    g.scope = "";
    assert_refused(&g, NULL, "scope");
    g.scope = " \t ";
    assert_refused(&g, NULL, "scope");
    g.scope = NULL;
    assert_refused(&g, NULL, "scope");
}

static void
scope_normalise_collapses_whitespace(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(grant_scope_normalise("  a:b \t c:d   e\t", out, sizeof(out), &err), MP_OK);
    assert_string_equal(out, "a:b c:d e");
    assert_int_equal(grant_scope_normalise("single", out, sizeof(out), &err), MP_OK);
    assert_string_equal(out, "single");
}

static void
scope_normalise_refuses_output_that_does_not_fit(void **state)
{
    char out[8];

    (void)state;
    assert_int_equal(grant_scope_normalise("abc def", out, sizeof(out), &err), MP_OK);
    assert_string_equal(out, "abc def");
    assert_int_equal(grant_scope_normalise("abc defg", out, sizeof(out), &err), MP_ERR_INVALID);
}

static void
scope_normalise_refuses_more_than_the_maximum_scopes(void **state)
{
    char in[256], out[256];
    size_t i, n = 0;

    (void)state;
    for (i = 0; i < GRANT_MAX_SCOPES; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "s%zu ", i);
    assert_int_equal(grant_scope_normalise(in, out, sizeof(out), &err), MP_OK);
    snprintf(in + n, sizeof(in) - n, "extra");
    assert_int_equal(grant_scope_normalise(in, out, sizeof(out), &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "scope"));
}

static void
claims_json_minimal_is_exact(void **state)
{
    struct grant_request g = valid();
    char *s;

    (void)state;
    g.scope = "  a:b   c:d ";
    assert_non_null(s = claims_text(&g));
    assert_string_equal(s,
        "{\"aud\":\"" AUD "\",\"iss\":\"" CLIENT "\",\"scope\":\"a:b c:d\","
        "\"iat\":1700000000,\"exp\":1700000060,\"jti\":\"" JTI "\"}");
    free(s);
}

static void
claims_json_full_is_exact_and_in_order(void **state)
{
    struct grant_request g = valid();
    char *s;

    (void)state;
    g.scope = "a:b";
    g.lifetime = 120;
    g.resources[0] = "https://api.example.no/x";
    g.resources[1] = "urn:altinn:resource:y";
    g.nresources = 2;
    g.consumer_org = "974760673";
    g.systemuser_org = "314159268";
    g.systemuser_ref = "ref-1";
    assert_non_null(s = claims_text(&g));
    assert_string_equal(s,
        "{\"aud\":\"" AUD "\",\"iss\":\"" CLIENT "\",\"scope\":\"a:b\",\"iat\":1700000000,"
        "\"exp\":1700000120,\"jti\":\"" JTI "\","
        "\"resource\":[\"https://api.example.no/x\",\"urn:altinn:resource:y\"],"
        "\"consumer_org\":\"974760673\","
        "\"authorization_details\":[{\"type\":\"urn:altinn:systemuser\","
        "\"systemuser_org\":{\"authority\":\"iso6523-actorid-upis\",\"ID\":\"0192:314159268\"},"
        "\"externalRef\":\"ref-1\"}]}");
    free(s);
}

static void
claims_json_one_resource_is_still_an_array(void **state)
{
    struct grant_request g = valid();
    char *s;

    (void)state;
    g.scope = "a:b";
    g.resources[0] = "urn:r";
    g.nresources = 1;
    assert_non_null(s = claims_text(&g));
    assert_string_equal(s,
        "{\"aud\":\"" AUD "\",\"iss\":\"" CLIENT "\",\"scope\":\"a:b\","
        "\"iat\":1700000000,\"exp\":1700000060,\"jti\":\"" JTI "\","
        "\"resource\":[\"urn:r\"]}");
    free(s);
}

static void
claims_json_systemuser_without_ref_has_no_external_ref(void **state)
{
    struct grant_request g = valid();
    char *s;

    (void)state;
    g.scope = "a:b";
    g.systemuser_org = "314159268";
    assert_non_null(s = claims_text(&g));
    assert_string_equal(s,
        "{\"aud\":\"" AUD "\",\"iss\":\"" CLIENT "\",\"scope\":\"a:b\","
        "\"iat\":1700000000,\"exp\":1700000060,\"jti\":\"" JTI "\","
        "\"authorization_details\":[{\"type\":\"urn:altinn:systemuser\","
        "\"systemuser_org\":{\"authority\":\"iso6523-actorid-upis\","
        "\"ID\":\"0192:314159268\"}}]}");
    free(s);
}

static void
claims_json_refuses_an_invalid_request_and_leaves_out_unset(void **state)
{
    struct grant_request g = valid();
    json_t *c = NULL;

    (void)state;
    g.lifetime = 0;
    assert_int_equal(grant_claims_json(&g, NOW, JTI, &c, &err), MP_ERR_INVALID);
    assert_null(c);
    assert_non_null(strstr(err.text, "lifetime"));
}

static void
claims_json_pid_and_consent(void **state)
{
    struct grant_request g = valid();
    char *s;

    (void)state;
    g.scope = "a:b";
    g.person = "21818297804";
    g.consent_id = "77ed8698-e619-4066-9eb4-5c1eb3f165a1";
    g.consent_from = "urn:altinn:person:identifier-no:03867199348";
    assert_non_null(s = claims_text(&g));
    assert_string_equal(s,
        "{\"aud\":\"" AUD "\",\"iss\":\"" CLIENT "\",\"scope\":\"a:b\",\"iat\":1700000000,"
        "\"exp\":1700000060,\"jti\":\"" JTI "\",\"pid\":\"21818297804\","
        "\"authorization_details\":[{\"type\":\"urn:altinn:consent\","
        "\"id\":\"77ed8698-e619-4066-9eb4-5c1eb3f165a1\","
        "\"from\":\"urn:altinn:person:identifier-no:03867199348\"}]}");
    free(s);
}

/* A person's number is refused without being echoed. */
static void
check_refuses_bad_pid_and_consent(void **state)
{
    struct grant_request g = valid();

    (void)state;
    g.person = "21818297805";
    assert_refused(&g, NULL, "pid is not a national identity number");
    assert_null(strstr(err.text, "21818297805"));
    g = valid();
    g.consent_id = "77ed8698-e619-4066-9eb4-5c1eb3f165a1";
    assert_refused(&g, NULL, "needs both its id and from");
    g.consent_from = "urn:altinn:organization:identifier-no:314159268";
    assert_int_equal(check(&g, NULL), MP_OK);
    g.consent_from = "urn:altinn:person:identifier-no:21818297805";
    assert_refused(&g, NULL, "consent from must be");
    g.consent_from = "urn:altinn:organization:identifier-no:314159268";
    g.consent_id = "not-a-uuid";
    assert_refused(&g, NULL, "consent id must be a UUID");
    g.consent_id = "77ed8698-e619-4066-9eb4-5c1eb3f165a1";
    g.systemuser_org = "314159268";
    assert_refused(&g, NULL, "one party");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_accepts_a_complete_request),
        cmocka_unit_test(claims_json_pid_and_consent),
        cmocka_unit_test(check_refuses_bad_pid_and_consent),
        cmocka_unit_test(check_refuses_a_bad_aud),
        cmocka_unit_test(check_refuses_lifetime_0_and_121),
        cmocka_unit_test(check_refuses_consumer_org_with_a_bad_check_digit),
        cmocka_unit_test(check_refuses_consumer_org_equal_to_own_org),
        cmocka_unit_test(check_refuses_a_bad_systemuser),
        cmocka_unit_test(check_refuses_a_resource_that_is_not_an_absolute_uri),
        cmocka_unit_test(check_refuses_more_than_the_maximum_resources),
        cmocka_unit_test(check_refuses_a_scope_with_a_quote_or_backslash),
        cmocka_unit_test(check_refuses_a_duplicated_scope),
        cmocka_unit_test(check_refuses_an_empty_scope),
        cmocka_unit_test(scope_normalise_collapses_whitespace),
        cmocka_unit_test(scope_normalise_refuses_output_that_does_not_fit),
        cmocka_unit_test(scope_normalise_refuses_more_than_the_maximum_scopes),
        cmocka_unit_test(claims_json_minimal_is_exact),
        cmocka_unit_test(claims_json_full_is_exact_and_in_order),
        cmocka_unit_test(claims_json_one_resource_is_still_an_array),
        cmocka_unit_test(claims_json_systemuser_without_ref_has_no_external_ref),
        cmocka_unit_test(claims_json_refuses_an_invalid_request_and_leaves_out_unset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
