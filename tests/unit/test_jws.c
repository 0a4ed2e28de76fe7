/* signer/jws: the compact JWS the signer hands out. Only RS256/384/512, a header with exactly
 * one of kid and x5c (standard base64 DER), and an end-to-end sign/verify in software. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>

#include "common/b64.h"
#include "signer/grant/grant_claims.h"
#include "signer/grant/jws.h"
#include "testcert.h"

static EVP_PKEY *key, *other_key;
static X509 *leaf, *ca1, *ca2;
static struct mp_errmsg err;

static int
setup(void **state)
{
    struct tc_spec s = {.cn = "leaf"};

    (void)state;
    if ((key = tc_rsa_key(2048)) == NULL || (other_key = tc_rsa_key(2048)) == NULL ||
        (leaf = tc_cert(key, &s)) == NULL)
        return -1;
    s.cn = "ca1";
    if ((ca1 = tc_cert(key, &s)) == NULL)
        return -1;
    s.cn = "ca2";
    return (ca2 = tc_cert(key, &s)) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    X509_free(leaf);
    X509_free(ca1);
    X509_free(ca2);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other_key);
    return 0;
}

static char *
header_text(enum jws_alg alg, const char *kid, X509 *x, STACK_OF(X509) * chain)
{
    json_t *h = NULL;
    char *s;

    memset(&err, 0, sizeof(err));
    if (jws_header_json(alg, kid, x, chain, &h, &err) != MP_OK)
        return NULL;
    s = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    return s;
}

static void
alg_parse_accepts_rs256_rs384_rs512(void **state)
{
    static const char *const names[] = {"RS256", "RS384", "RS512"};
    static const enum jws_alg algs[] = {JWS_RS256, JWS_RS384, JWS_RS512};
    enum jws_alg a;
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        assert_int_equal(jws_alg_parse(names[i], &a), MP_OK);
        assert_int_equal(a, algs[i]);
        assert_string_equal(jws_alg_name(a), names[i]);
    }
}

static void
alg_parse_rejects_every_other_name(void **state)
{
    static const char *const bad[] = {"none", "None", "PS256", "ES256", "HS256", "rs256", "RS256 ",
        " RS256", "RS1", "RS", ""};
    enum jws_alg a = JWS_RS512;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(jws_alg_parse(bad[i], &a), MP_ERR_INVALID);
    assert_int_equal(jws_alg_parse(NULL, &a), MP_ERR_INVALID);
    assert_int_equal(a, JWS_RS512);
}

static void
header_with_kid_is_alg_and_kid_only(void **state)
{
    char *s;

    (void)state;
    assert_non_null(s = header_text(JWS_RS256, "my-key.1", NULL, NULL));
    assert_string_equal(s, "{\"alg\":\"RS256\",\"kid\":\"my-key.1\"}");
    free(s);
}

static void
header_refuses_an_unprintable_or_long_kid(void **state)
{
    char kid[130];

    (void)state;
    assert_null(header_text(JWS_RS256, "", NULL, NULL));
    assert_null(header_text(JWS_RS256, "a b", NULL, NULL));
    assert_non_null(strstr(err.text, "kid"));
    assert_null(header_text(JWS_RS256, "a\"b", NULL, NULL));
    assert_null(header_text(JWS_RS256, "a\\b", NULL, NULL));
    memset(kid, 'k', 129);
    kid[129] = '\0';
    assert_null(header_text(JWS_RS256, kid, NULL, NULL));
    kid[128] = '\0';
    assert_true(jws_kid_valid(kid));
}

/* x5c entry i decodes with OpenSSL's standard-alphabet decoder to exactly x's DER. */
static void
assert_x5c_entry_is_der_of(json_t *x5c, size_t i, X509 *x)
{
    const char *b64 = json_string_value(json_array_get(x5c, i));
    unsigned char *der = NULL, dec[8192];
    int derlen, declen;
    size_t pad;

    assert_non_null(b64);
    assert_int_equal(strlen(b64) % 4, 0);
    assert_null(strpbrk(b64, "-_"));
    assert_true((derlen = i2d_X509(x, &der)) > 0);
    assert_true(strlen(b64) <= sizeof(dec) * 4 / 3);
    declen = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)strlen(b64));
    pad = strlen(b64) > 0 && b64[strlen(b64) - 1] == '=' ? 1 : 0;
    pad += strlen(b64) > 1 && b64[strlen(b64) - 2] == '=' ? 1 : 0;
    assert_int_equal(declen - (int)pad, derlen);
    assert_memory_equal(dec, der, (size_t)derlen);
    OPENSSL_free(der);
}

static void
header_x5c_is_standard_base64_der_of_the_leaf(void **state)
{
    json_t *h = NULL, *x5c;

    (void)state;
    assert_int_equal(jws_header_json(JWS_RS384, NULL, leaf, NULL, &h, &err), MP_OK);
    assert_int_equal(json_object_size(h), 2);
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS384");
    assert_non_null(x5c = json_object_get(h, "x5c"));
    assert_true(json_is_array(x5c));
    assert_int_equal(json_array_size(x5c), 1);
    assert_x5c_entry_is_der_of(x5c, 0, leaf);
    json_decref(h);
}

static void
header_x5c_lists_leaf_then_chain_in_order(void **state)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    json_t *h = NULL, *x5c;

    (void)state;
    assert_non_null(chain);
    assert_true(sk_X509_push(chain, ca1) > 0 && sk_X509_push(chain, ca2) > 0);
    assert_int_equal(jws_header_json(JWS_RS256, NULL, leaf, chain, &h, &err), MP_OK);
    x5c = json_object_get(h, "x5c");
    assert_int_equal(json_array_size(x5c), 3);
    assert_x5c_entry_is_der_of(x5c, 0, leaf);
    assert_x5c_entry_is_der_of(x5c, 1, ca1);
    assert_x5c_entry_is_der_of(x5c, 2, ca2);
    json_decref(h);
    sk_X509_free(chain);
}

static void
header_needs_exactly_one_of_kid_and_leaf(void **state)
{
    json_t *h = NULL;

    (void)state;
    assert_int_equal(jws_header_json(JWS_RS256, NULL, NULL, NULL, &h, &err), MP_ERR_INVALID);
    assert_int_equal(jws_header_json(JWS_RS256, "k", leaf, NULL, &h, &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "exactly one"));
    assert_null(h);
}

static void
header_refuses_kid_with_a_chain(void **state)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    json_t *h = NULL;

    (void)state;
    assert_non_null(chain);
    assert_true(sk_X509_push(chain, ca1) > 0);
    assert_int_equal(jws_header_json(JWS_RS256, "k", NULL, chain, &h, &err), MP_ERR_INVALID);
    assert_null(h);
    sk_X509_free(chain);
}

static void
signing_input_is_b64url_header_dot_b64url_claims(void **state)
{
    json_t *h = json_pack("{s:s, s:s}", "alg", "RS256", "kid", "k");
    json_t *c = json_pack("{s:i}", "a", 1);
    struct mp_buf *b = mp_buf_new(JWS_MAX);

    (void)state;
    assert_non_null(h);
    assert_non_null(c);
    assert_non_null(b);
    assert_int_equal(jws_signing_input(h, c, b, &err), MP_OK);
    assert_string_equal(mp_buf_str(b), "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJhIjoxfQ");
    assert_int_equal(jws_append_signature(b, (const unsigned char *)"\xfb\xff", 2), MP_OK);
    assert_string_equal(mp_buf_str(b), "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJhIjoxfQ.-_8");
    json_decref(h);
    json_decref(c);
    mp_buf_free(b);
}

static const EVP_MD *
md_of(enum jws_alg alg)
{
    return alg == JWS_RS256 ? EVP_sha256() : alg == JWS_RS384 ? EVP_sha384() : EVP_sha512();
}

/* A grant signed in software as the signer does it with the HSM: header, claims, signing
 * input, EVP_DigestSign, append. The caller frees. */
static char *
signed_grant(EVP_PKEY *k, enum jws_alg alg)
{
    struct grant_request g = {.aud = "https://test.maskinporten.no/"};
    unsigned char sig[512];
    size_t siglen = sizeof(sig);
    json_t *h = NULL, *c = NULL;
    struct mp_buf *b = mp_buf_new(JWS_MAX);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *out;

    assert_non_null(b);
    assert_non_null(ctx);
    g.client_id = "c";
    g.scope = "a:b";
    g.lifetime = 60;
    assert_int_equal(jws_header_json(alg, "k1", NULL, NULL, &h, &err), MP_OK);
    assert_int_equal(grant_claims_json(&g, 1700000000, "jti-1", &c, &err), MP_OK);
    assert_int_equal(jws_signing_input(h, c, b, &err), MP_OK);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md_of(alg), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, mp_buf_ptr(b), mp_buf_len(b)), 1);
    assert_int_equal(jws_append_signature(b, sig, siglen), MP_OK);
    assert_non_null(out = mp_buf_take(b, NULL));
    EVP_MD_CTX_free(ctx);
    json_decref(h);
    json_decref(c);
    mp_buf_free(b);
    return out;
}

static enum mp_err
verify(const char *jws, enum jws_alg alg, EVP_PKEY *k)
{
    memset(&err, 0, sizeof(err));
    return jws_verify(jws, strlen(jws), alg, k, &err);
}

/* Replaces the character at i with another base64url character. */
static void
flip(char *s, size_t i)
{
    s[i] = s[i] == 'A' ? 'B' : 'A';
}

static void
signed_grant_verifies_for_each_alg(void **state)
{
    static const enum jws_alg algs[] = {JWS_RS256, JWS_RS384, JWS_RS512};
    char *jws;
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        jws = signed_grant(key, algs[i]);
        assert_int_equal(verify(jws, algs[i], key), MP_OK);
        free(jws);
    }
}

static void
verify_fails_when_a_payload_character_changes(void **state)
{
    char *jws = signed_grant(key, JWS_RS256);

    (void)state;
    flip(jws, (size_t)(strchr(jws, '.') - jws) + 5);
    assert_int_equal(verify(jws, JWS_RS256, key), MP_ERR_CRYPTO);
    assert_non_null(strstr(err.text, "does not verify"));
    free(jws);
}

static void
verify_fails_when_a_header_character_changes(void **state)
{
    char *jws = signed_grant(key, JWS_RS256);

    (void)state;
    flip(jws, 3);
    assert_int_equal(verify(jws, JWS_RS256, key), MP_ERR_CRYPTO);
    free(jws);
}

static void
verify_fails_when_a_signature_character_changes(void **state)
{
    char *jws = signed_grant(key, JWS_RS256);

    (void)state;
    flip(jws, (size_t)(strrchr(jws, '.') - jws) + 10);
    assert_int_equal(verify(jws, JWS_RS256, key), MP_ERR_CRYPTO);
    free(jws);
}

static void
verify_fails_with_another_key(void **state)
{
    char *jws = signed_grant(key, JWS_RS256);

    (void)state;
    assert_int_equal(verify(jws, JWS_RS256, other_key), MP_ERR_CRYPTO);
    free(jws);
}

static void
verify_fails_with_another_alg(void **state)
{
    char *jws = signed_grant(key, JWS_RS256);

    (void)state;
    assert_int_equal(verify(jws, JWS_RS512, key), MP_ERR_CRYPTO);
    free(jws);
}

static void
verify_refuses_a_jws_without_exactly_three_parts(void **state)
{
    char *jws = signed_grant(key, JWS_RS256);
    char *extra = malloc(strlen(jws) + 3);

    (void)state;
    assert_non_null(extra);
    assert_int_equal(verify("abc.def", JWS_RS256, key), MP_ERR_PARSE);
    assert_int_equal(verify("abc", JWS_RS256, key), MP_ERR_PARSE);
    memcpy(extra, jws, strlen(jws));
    memcpy(extra + strlen(jws), ".x", 3);
    assert_int_equal(verify(extra, JWS_RS256, key), MP_ERR_PARSE);
    *strrchr(jws, '.') = '\0';
    assert_int_equal(verify(jws, JWS_RS256, key), MP_ERR_PARSE);
    free(extra);
    free(jws);
}

static void
verify_refuses_a_signature_that_is_not_base64url(void **state)
{
    char *jws = signed_grant(key, JWS_RS256);
    char *p = strrchr(jws, '.') + 1;

    (void)state;
    p[0] = '+';
    assert_int_equal(verify(jws, JWS_RS256, key), MP_ERR_PARSE);
    free(jws);
}

/* The decoded signature of a compact JWS; *inlen is the length of its signing input. */
static struct mp_buf *
signature_of(const char *jws, size_t *inlen)
{
    struct mp_buf *sig = mp_buf_new(1024);

    assert_non_null(sig);
    *inlen = (size_t)(strrchr(jws, '.') - jws);
    assert_int_equal(mp_b64url_decode(sig, jws + *inlen + 1, strlen(jws + *inlen + 1)), MP_OK);
    return sig;
}

/* One check with a verifier prepared for alg and k; err keeps its message. */
static enum mp_err
check_with(enum jws_alg alg, EVP_PKEY *k, const char *jws, size_t inlen, const struct mp_buf *sig)
{
    struct jws_verifier *v = NULL;
    enum mp_err r;

    assert_int_equal(jws_verifier_new(alg, k, &v, &err), MP_OK);
    r = jws_verifier_check(v, jws, inlen, mp_buf_ptr(sig), mp_buf_len(sig), &err);
    jws_verifier_free(v);
    return r;
}

struct checker {
    const struct jws_verifier *v;
    const char *input, *tampered;
    size_t inlen;
    const unsigned char *sig;
    size_t siglen;
    int verified, refused;
};

static void *
check_many(void *arg)
{
    struct checker *c = arg;
    struct mp_errmsg e;
    int i;

    for (i = 0; i < 100; i++) {
        c->verified += jws_verifier_check(c->v, c->input, c->inlen, c->sig, c->siglen, &e) == MP_OK;
        c->refused +=
            jws_verifier_check(c->v, c->tampered, c->inlen, c->sig, c->siglen, &e) == MP_ERR_CRYPTO;
    }
    return NULL;
}

/* The signer's workers share one prepared verifier per profile. */
static void
one_verifier_serves_many_threads(void **state)
{
    char *jws = signed_grant(key, JWS_RS256), *tampered;
    size_t inlen, i;
    struct mp_buf *sig = signature_of(jws, &inlen);
    struct jws_verifier *v = NULL;
    struct checker c[4];
    pthread_t t[4];

    (void)state;
    assert_non_null(tampered = strdup(jws));
    flip(tampered, inlen - 3);
    assert_int_equal(jws_verifier_new(JWS_RS256, key, &v, &err), MP_OK);
    for (i = 0; i < 4; i++) {
        c[i] = (struct checker){v, jws, tampered, inlen, mp_buf_ptr(sig), mp_buf_len(sig), 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, check_many, &c[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(c[i].verified, 100);
        assert_int_equal(c[i].refused, 100);
    }
    jws_verifier_free(v);
    mp_buf_free(sig);
    free(tampered);
    free(jws);
}

static void
verifier_refuses_another_key_and_alg(void **state)
{
    char *jws = signed_grant(key, JWS_RS384);
    size_t inlen;
    struct mp_buf *sig = signature_of(jws, &inlen);

    (void)state;
    assert_int_equal(check_with(JWS_RS384, key, jws, inlen, sig), MP_OK);
    assert_int_equal(check_with(JWS_RS384, other_key, jws, inlen, sig), MP_ERR_CRYPTO);
    assert_non_null(strstr(err.text, "does not verify"));
    assert_int_equal(check_with(JWS_RS256, key, jws, inlen, sig), MP_ERR_CRYPTO);
    mp_buf_free(sig);
    free(jws);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alg_parse_accepts_rs256_rs384_rs512),
        cmocka_unit_test(alg_parse_rejects_every_other_name),
        cmocka_unit_test(header_with_kid_is_alg_and_kid_only),
        cmocka_unit_test(header_refuses_an_unprintable_or_long_kid),
        cmocka_unit_test(header_x5c_is_standard_base64_der_of_the_leaf),
        cmocka_unit_test(header_x5c_lists_leaf_then_chain_in_order),
        cmocka_unit_test(header_needs_exactly_one_of_kid_and_leaf),
        cmocka_unit_test(header_refuses_kid_with_a_chain),
        cmocka_unit_test(signing_input_is_b64url_header_dot_b64url_claims),
        cmocka_unit_test(signed_grant_verifies_for_each_alg),
        cmocka_unit_test(verify_fails_when_a_payload_character_changes),
        cmocka_unit_test(verify_fails_when_a_header_character_changes),
        cmocka_unit_test(verify_fails_when_a_signature_character_changes),
        cmocka_unit_test(verify_fails_with_another_key),
        cmocka_unit_test(verify_fails_with_another_alg),
        cmocka_unit_test(verify_refuses_a_jws_without_exactly_three_parts),
        cmocka_unit_test(verify_refuses_a_signature_that_is_not_base64url),
        cmocka_unit_test(one_verifier_serves_many_threads),
        cmocka_unit_test(verifier_refuses_another_key_and_alg),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
