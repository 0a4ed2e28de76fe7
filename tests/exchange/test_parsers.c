/* mp-exchange's parsers of upstream answers and of caller requests: what is accepted, what is
 * refused, and that a refusal never lets a malformed token through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exchange/answer.h"
#include "exchange/api_guard.h"
#include "exchange/exchange_conf.h"
#include "exchange/form.h"
#include "exchange/token_req.h"

#define JWT "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3OTU1NzQ0Mzd9.c2ln"

static struct mp_token tok;
static struct mp_errmsg err;

static enum mp_err
token(const char *body)
{
    return answer_token(body, strlen(body), &tok, &err);
}

static void
token_response_ok(void **state)
{
    (void)state;
    assert_int_equal(token("{\"access_token\":\"" JWT "\",\"token_type\":\"Bearer\","
                           "\"expires_in\":599,\"scope\":\"a:b\"}"),
        MP_OK);
    assert_string_equal(tok.access_token, JWT);
    assert_int_equal(tok.expires_in, 599);
    assert_string_equal(tok.scope, "a:b");
}

static void
token_response_refusals(void **state)
{
    (void)state;
    assert_int_equal(token("not json"), MP_ERR_PARSE);
    assert_int_equal(token("[1]"), MP_ERR_PARSE);
    assert_int_equal(token("{\"token_type\":\"Bearer\",\"expires_in\":1}"), MP_ERR_PARSE);
    assert_non_null(strstr(err.text, "access_token"));
    /* Header injection: a token must be three base64url parts, nothing else. */
    assert_int_equal(token("{\"access_token\":\"a.b.c\\r\\nX: y\",\"token_type\":\"Bearer\","
                           "\"expires_in\":1}"),
        MP_ERR_PARSE);
    assert_int_equal(token("{\"access_token\":\"" JWT "\",\"token_type\":\"MAC\","
                           "\"expires_in\":1}"),
        MP_ERR_PARSE);
    assert_int_equal(token("{\"access_token\":\"" JWT "\",\"token_type\":\"Bearer\","
                           "\"expires_in\":\"599\"}"),
        MP_ERR_PARSE);
    assert_int_equal(token("{\"access_token\":\"" JWT "\",\"token_type\":\"Bearer\","
                           "\"expires_in\":-5}"),
        MP_ERR_PARSE);
    assert_int_equal(token("{\"access_token\":\"" JWT "\",\"access_token\":\"" JWT "\","
                           "\"token_type\":\"Bearer\",\"expires_in\":5}"),
        MP_ERR_PARSE);
    assert_string_equal(tok.access_token, "");
}

static void
error_response_fields(void **state)
{
    struct mp_error me;
    const char *b = "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid assertion. "
                    "Client authentication failed. (trace_id: 2f5c9a1b)\",\"error_uri\":"
                    "\"https://maskinporten.no/errors/MP-130\"}";

    (void)state;
    assert_int_equal(answer_error(b, strlen(b), &me), MP_OK);
    assert_string_equal(me.error, "invalid_grant");
    assert_string_equal(me.code, "MP-130");
    assert_string_equal(me.trace_id, "2f5c9a1b");
    assert_int_equal(answer_error("<html>", 6, &me), MP_ERR_PARSE);
    assert_int_equal(answer_error("{\"error\":5}", 11, &me), MP_ERR_PARSE);
}

static void
altinn_text_and_json_string(void **state)
{
    char out[256];

    (void)state;
    assert_int_equal(answer_altinn(JWT "\r\n", strlen(JWT) + 2, out, sizeof(out), &err), MP_OK);
    assert_string_equal(out, JWT);
    assert_int_equal(answer_altinn("\"" JWT "\"", strlen(JWT) + 2, out, sizeof(out), &err), MP_OK);
    assert_string_equal(out, JWT);
    assert_int_equal(answer_altinn("{\"x\":1}", 7, out, sizeof(out), &err), MP_ERR_PARSE);
    assert_int_equal(answer_altinn("", 0, out, sizeof(out), &err), MP_ERR_PARSE);
    assert_int_equal(answer_altinn(JWT, strlen(JWT), out, 10, &err), MP_ERR_PARSE);
}

static void
jwt_exp(void **state)
{
    long long exp = 0;

    (void)state;
    assert_int_equal(answer_jwt_exp(JWT, &exp), MP_OK);
    assert_int_equal(exp, 1795574437LL);
    assert_int_equal(answer_jwt_exp("a.b", &exp), MP_ERR_PARSE);
    assert_int_equal(answer_jwt_exp("e30.e30.x", &exp), MP_ERR_PARSE); /* {} has no exp */
}

static void
request_normalised_to_one_cache_key(void **state)
{
    struct token_req a, b;
    char ka[2600], kb[2600];

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_int_equal(token_req_set(&a, "scope", "b:y a:x b:y", &err), MP_OK);
    assert_int_equal(token_req_set(&a, "resource", "https://r2/", &err), MP_OK);
    assert_int_equal(token_req_set(&a, "resource", "https://r1/", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "scope", "a:x b:y", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "resource", "https://r1/", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "resource", "https://r2/", &err), MP_OK);
    assert_int_equal(token_req_finish(&a, &err), MP_OK);
    assert_int_equal(token_req_finish(&b, &err), MP_OK);
    assert_string_equal(a.scope, "a:x b:y");
    assert_int_equal(token_req_key(&a, ka, sizeof(ka)), MP_OK);
    assert_int_equal(token_req_key(&b, kb, sizeof(kb)), MP_OK);
    assert_string_equal(ka, kb);
    b.consumer_org[0] = '9';
    assert_int_equal(token_req_key(&b, kb, sizeof(kb)), MP_OK);
    assert_string_not_equal(ka, kb);
    /* forward_caller: the same request from another uid or gid is another entry. */
    b = a;
    a.caller = (struct token_caller){.set = 1, .uid = 1000, .gid = 1000, .pid = 1};
    b.caller = (struct token_caller){.set = 1, .uid = 1001, .gid = 1000, .pid = 1};
    assert_int_equal(token_req_key(&a, ka, sizeof(ka)), MP_OK);
    assert_int_equal(token_req_key(&b, kb, sizeof(kb)), MP_OK);
    assert_string_not_equal(ka, kb);
    b.caller.uid = 1000;
    b.caller.gid = 1001;
    assert_int_equal(token_req_key(&b, kb, sizeof(kb)), MP_OK);
    assert_string_not_equal(ka, kb);
    b.caller.gid = 1000;
    b.caller.pid = 2; /* another process of the same user: the signer would decide the same */
    assert_int_equal(token_req_key(&b, kb, sizeof(kb)), MP_OK);
    assert_string_equal(ka, kb);
}

static void
key_of(struct token_req *q, char *k, size_t n)
{
    assert_int_equal(token_req_finish(q, &err), MP_OK);
    assert_int_equal(token_req_key(q, k, n), MP_OK);
}

/* Two requests whose fields, joined with 0x1f, gave the same key: profile "p\x1fs" moved one
 * field boundary. The profile charset refuses that at the API; the key tells them apart even
 * if a field with a separator byte ever got through. */
static void
request_key_separator_collision(void **state)
{
    struct token_req a, b;
    char ka[2600], kb[2600];

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_int_equal(token_req_set(&a, "profile", "p\x1fs", &err), MP_ERR_INVALID);
    memcpy(a.profile, "p\x1fs", 4);
    assert_int_equal(token_req_set(&a, "scope", "991825827", &err), MP_OK);
    assert_int_equal(token_req_set(&a, "consumer_org", "991825827", &err), MP_OK);
    assert_int_equal(token_req_set(&a, "systemuser_org", "991825827", &err), MP_OK);
    assert_int_equal(token_req_set(&a, "systemuser_ref", "urn:x", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "profile", "p", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "scope", "s", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "consumer_org", "991825827", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "systemuser_org", "991825827", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "systemuser_ref", "991825827", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "resource", "urn:x", &err), MP_OK);
    key_of(&a, ka, sizeof(ka));
    key_of(&b, kb, sizeof(kb));
    assert_string_not_equal(ka, kb);
}

/* profile= and profile=default are one key; so are repeated resources and the set without. */
static void
request_key_default_profile_and_duplicate_resources(void **state)
{
    struct token_req a, b, c;
    char ka[2600], kb[2600], kc[2600];

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));
    assert_int_equal(token_req_set(&a, "profile", "", &err), MP_OK);
    assert_int_equal(token_req_set(&a, "scope", "a:x", &err), MP_OK);
    assert_int_equal(token_req_set(&a, "resource", "https://r2/", &err), MP_OK);
    assert_int_equal(token_req_set(&a, "resource", "https://r1/", &err), MP_OK);
    assert_int_equal(token_req_set(&a, "resource", "https://r2/", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "profile", "default", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "scope", "a:x", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "resource", "https://r1/", &err), MP_OK);
    assert_int_equal(token_req_set(&b, "resource", "https://r2/", &err), MP_OK);
    assert_int_equal(token_req_set(&c, "scope", "a:x", &err), MP_OK);
    assert_int_equal(token_req_set(&c, "resource", "https://r1/", &err), MP_OK);
    assert_int_equal(token_req_set(&c, "resource", "https://r1/", &err), MP_OK);
    assert_int_equal(token_req_set(&c, "resource", "https://r2/", &err), MP_OK);
    key_of(&a, ka, sizeof(ka));
    key_of(&b, kb, sizeof(kb));
    key_of(&c, kc, sizeof(kc));
    assert_string_equal(a.profile, "default");
    assert_int_equal(a.nresources, 2);
    assert_string_equal(a.resources[0], "https://r1/");
    assert_string_equal(a.resources[1], "https://r2/");
    assert_string_equal(ka, kb);
    assert_string_equal(ka, kc);
}

static void
request_profile_charset(void **state)
{
    struct token_req q;

    (void)state;
    memset(&q, 0, sizeof(q));
    assert_int_equal(token_req_set(&q, "profile", "x\n<2>forged", &err), MP_ERR_INVALID);
    assert_null(strchr(err.text, '\n'));
    assert_non_null(strstr(err.text, "A-Z a-z 0-9 . _ -"));
    assert_int_equal(token_req_set(&q, "profile", "a b", &err), MP_ERR_INVALID);
    assert_int_equal(token_req_set(&q, "profile",
                         "1234567890123456789012345678901234567890123456789012345678901234", &err),
        MP_ERR_INVALID);
    assert_int_equal(token_req_set(&q, "profile", "prod-2.a_b", &err), MP_OK);
}

static void
request_refusals(void **state)
{
    struct token_req q;

    (void)state;
    memset(&q, 0, sizeof(q));
    assert_int_equal(token_req_set(&q, "consumer_org", "123456789", &err), MP_ERR_INVALID);
    assert_int_equal(token_req_set(&q, "systemuser_org", "99182582", &err), MP_ERR_INVALID);
    assert_int_equal(token_req_set(&q, "resource", "no-scheme", &err), MP_ERR_INVALID);
    assert_int_equal(token_req_set(&q, "bogus", "1", &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "bogus"));
    assert_int_equal(token_req_finish(&q, &err), MP_ERR_INVALID); /* no scope */
    assert_int_equal(token_req_set(&q, "scope", "a\"b", &err), MP_OK);
    assert_int_equal(token_req_finish(&q, &err), MP_ERR_INVALID);
}

static void
upstream_urls_https_or_loopback(void **state)
{
    struct exchange_conf *c = exchange_conf_new();

    (void)state;
    assert_true(exchange_conf_url_loopback("http://127.0.0.1:8080/"));
    assert_true(exchange_conf_url_loopback("http://localhost:9/x"));
    assert_true(exchange_conf_url_loopback("http://[::1]:9/"));
    assert_false(exchange_conf_url_loopback("http://127.0.0.1.evil.example/"));
    assert_false(exchange_conf_url_loopback("http://localhost.evil.example/"));
    assert_false(exchange_conf_url_loopback("http://10.0.0.1/"));
    assert_int_equal(exchange_conf_set(c, "env", "test", &err), MP_OK);
    assert_int_equal(exchange_conf_set(c, "signer_socket", "/run/s", &err), MP_OK);
    assert_int_equal(exchange_conf_check(c, 0, &err), MP_OK);
    assert_int_equal(exchange_conf_set(c, "maskinporten_url", "http://maskinporten.no/", &err),
        MP_OK);
    assert_int_equal(exchange_conf_check(c, 0, &err), MP_ERR_INVALID);
    assert_int_equal(exchange_conf_check(c, 1, &err), MP_ERR_INVALID);
    assert_int_equal(exchange_conf_set(c, "retries", "9", &err), MP_ERR_INVALID);
    assert_int_equal(exchange_conf_set(c, "key_watch_profile", "a%0ab", &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "may hold only A-Z a-z 0-9 . _ -"));
    assert_int_equal(exchange_conf_set(c, "key_watch_profile", "fresh", &err), MP_OK);
    assert_string_equal(c->key_watch_profile, "fresh");
    exchange_conf_free(c);
}

static enum mp_err
guard_host(const struct api_guard *g, const char *host)
{
    struct api_guard_req rq = {.tcp = 1, .token_route = 1, .host = host, .marker = "1"};
    struct xerr xe;

    memset(&xe, 0, sizeof(xe));
    return api_guard_check(g, &rq, &xe);
}

/* Bare names only on port 80; an allowed_hosts word with a port is matched as written. */
static void
guard_host_list(void **state)
{
    struct api_guard *g = NULL;
    struct exchange_conf *c = exchange_conf_new();

    (void)state;
    assert_int_equal(api_guard_new("127.0.0.7", 80, "mp.internal proxy:8443 [fd00::1]", &g, &err),
        MP_OK);
    assert_int_equal(guard_host(g, "localhost"), MP_OK);
    assert_int_equal(guard_host(g, "127.0.0.7:80"), MP_OK);
    assert_int_equal(guard_host(g, "MP.Internal"), MP_OK);
    assert_int_equal(guard_host(g, "proxy:8443"), MP_OK);
    assert_int_equal(guard_host(g, "[fd00::1]:80"), MP_OK);
    assert_int_equal(guard_host(g, "proxy"), MP_ERR_POLICY);
    assert_int_equal(guard_host(g, "proxy:80"), MP_ERR_POLICY);
    assert_int_equal(guard_host(g, "localhost.evil.example"), MP_ERR_POLICY);
    assert_int_equal(guard_host(g, NULL), MP_ERR_POLICY);
    api_guard_free(g);
    assert_int_equal(api_guard_new(NULL, 8471, NULL, &g, &err), MP_OK);
    assert_int_equal(guard_host(g, "localhost"), MP_ERR_POLICY);
    assert_int_equal(guard_host(g, "localhost:8471"), MP_OK);
    api_guard_free(g);
    assert_false(api_guard_host_valid("a,", 2));
    assert_false(api_guard_host_valid("-a", 2));
    assert_false(api_guard_host_valid("a:0", 3));
    assert_false(api_guard_host_valid("a:65536", 7));
    assert_false(api_guard_host_valid("[]", 2));
    assert_false(api_guard_host_valid("a/b", 3));
    assert_int_equal(exchange_conf_set(c, "allowed_hosts", "a.example, b.example", &err),
        MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "\"a.example,\" is not NAME[:PORT]"));
    assert_int_equal(exchange_conf_set(c, "allowed_hosts", "a.example b.example:8080", &err),
        MP_OK);
    exchange_conf_free(c);
}

/* What a browser sends is refused even with an allowed Host; probes need no marker. */
static void
guard_browser_headers(void **state)
{
    struct api_guard *g = NULL;
    struct api_guard_req rq = {.tcp = 1, .token_route = 1, .host = "localhost:1", .marker = "1"};
    struct xerr xe;

    (void)state;
    memset(&xe, 0, sizeof(xe));
    assert_int_equal(api_guard_new(NULL, 1, NULL, &g, &err), MP_OK);
    assert_int_equal(api_guard_check(g, &rq, &xe), MP_OK);
    rq.sec_fetch_site = "none";
    assert_int_equal(api_guard_check(g, &rq, &xe), MP_OK);
    rq.sec_fetch_site = "same-origin";
    assert_int_equal(api_guard_check(g, &rq, &xe), MP_ERR_POLICY);
    assert_int_equal(xe.status, 403);
    rq.sec_fetch_site = NULL;
    rq.origin = "null";
    assert_int_equal(api_guard_check(g, &rq, &xe), MP_ERR_POLICY);
    rq.origin = NULL;
    rq.marker = "";
    assert_int_equal(api_guard_check(g, &rq, &xe), MP_ERR_POLICY);
    rq.token_route = 0;
    assert_int_equal(api_guard_check(g, &rq, &xe), MP_OK);
    rq.tcp = 0;
    rq.host = "/run/mp-exchange/exchange.sock";
    assert_int_equal(api_guard_check(g, &rq, &xe), MP_OK);
    rq.host = "localhost:2";
    rq.tcp = 1;
    assert_int_equal(api_guard_check(g, &rq, &xe), MP_ERR_POLICY);
    assert_int_equal(xe.status, 421);
    api_guard_free(g);
}

/* Collects "name=value;" for each pair the form parser hands over. */
static enum mp_err
collect(void *ctx, const char *name, const char *value, struct mp_errmsg *e)
{
    size_t n = strlen(ctx);

    (void)e;
    snprintf((char *)ctx + n, 40000 - n, "%s=%s;", name, value);
    return MP_OK;
}

static enum mp_err
form(const char *body, char *out)
{
    out[0] = '\0';
    return form_parse(body, strlen(body), collect, out, &err);
}

static void
form_decodes_and_refuses(void **state)
{
    static char out[40000];
    static char big[FORM_VALUE_MAX + 16];

    (void)state;
    assert_int_equal(form("grant_type=client_credentials&scope=a%3Ab+c%20d&&x&y=", out), MP_OK);
    assert_string_equal(out, "grant_type=client_credentials;scope=a:b c d;x=;y=;");
    assert_int_equal(form("a=%7e%7E", out), MP_OK);
    assert_string_equal(out, "a=~~;");
    /* A truncated or non-hex escape, or a NUL, is an error naming the parameter. */
    assert_int_equal(form("scope=a%2", out), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "parameter scope"));
    assert_int_equal(form("scope=%zz", out), MP_ERR_INVALID);
    assert_int_equal(form("scope=a%00b", out), MP_ERR_INVALID);
    memset(big, 'v', sizeof(big) - 1);
    memcpy(big, "v=", 2);
    assert_int_equal(form(big, out), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "over 16384"));
}

static void
authz_system_user(void **state)
{
    struct token_req q;

    (void)state;
    memset(&q, 0, sizeof(q));
    assert_int_equal(token_req_authz(&q,
                         "[{\"type\":\"urn:altinn:systemuser\",\"systemuser_org\":{\"authority\":"
                         "\"iso6523-actorid-upis\",\"ID\":\"0192:991825827\"},\"externalRef\":"
                         "\"r1\"}]",
                         &err),
        MP_OK);
    assert_string_equal(q.su_org, "991825827");
    assert_string_equal(q.su_ref, "r1");
    /* Given again through systemuser_org's twin: refused, not overwritten. */
    assert_int_equal(token_req_authz(&q,
                         "[{\"type\":\"urn:altinn:systemuser\",\"systemuser_org\":{\"authority\":"
                         "\"iso6523-actorid-upis\",\"ID\":\"0192:991825827\"}}]",
                         &err),
        MP_ERR_INVALID);
    memset(&q, 0, sizeof(q));
    assert_int_equal(token_req_authz(&q, "[{\"type\":", &err), MP_ERR_PARSE);
    assert_int_equal(token_req_authz(&q, "{\"type\":\"urn:altinn:systemuser\"}", &err),
        MP_ERR_INVALID);
    assert_int_equal(token_req_authz(&q, "[{\"type\":\"urn:altinn:consent\"}]", &err),
        MP_ERR_INVALID);
    assert_int_equal(token_req_authz(&q,
                         "[{\"type\":\"urn:altinn:systemuser\",\"systemuser_org\":{\"authority\":"
                         "\"iso6523-actorid-upis\",\"ID\":\"0192:991825828\"}}]",
                         &err),
        MP_ERR_INVALID); /* check digit */
    assert_int_equal(token_req_authz(&q,
                         "[{\"type\":\"urn:altinn:systemuser\",\"systemuser_org\":{\"authority\":"
                         "\"iso6523-actorid-upis\",\"ID\":\"0192:991825827\"},\"system_id\":\"x\"}"
                         "]",
                         &err),
        MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "unknown member \"system_id\""));
    assert_string_equal(q.su_org, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_response_ok),
        cmocka_unit_test(token_response_refusals),
        cmocka_unit_test(error_response_fields),
        cmocka_unit_test(altinn_text_and_json_string),
        cmocka_unit_test(jwt_exp),
        cmocka_unit_test(request_normalised_to_one_cache_key),
        cmocka_unit_test(request_refusals),
        cmocka_unit_test(request_key_separator_collision),
        cmocka_unit_test(request_key_default_profile_and_duplicate_resources),
        cmocka_unit_test(request_profile_charset),
        cmocka_unit_test(upstream_urls_https_or_loopback),
        cmocka_unit_test(guard_host_list),
        cmocka_unit_test(guard_browser_headers),
        cmocka_unit_test(form_decodes_and_refuses),
        cmocka_unit_test(authz_system_user),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
