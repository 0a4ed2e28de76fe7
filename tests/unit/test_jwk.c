/* signer/jwk: the JWK of an RSA public key and its RFC 7638 thumbprint, checked against the
 * example of RFC 7638 §3.1 (a vector this project did not compute), and the kid alphabet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include "common/b64.h"
#include "signer/grant/jwk.h"

/* RFC 7638 §3.1. */
static const char rfc_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJEC"
    "PebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvz"
    "qY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu"
    "0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc_thumbprint[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

static BIGNUM *
bn_of(const char *b64url)
{
    struct mp_buf *b = mp_buf_new(1024);
    BIGNUM *bn;

    assert_non_null(b);
    assert_int_equal(mp_b64url_decode(b, b64url, strlen(b64url)), MP_OK);
    bn = BN_bin2bn(mp_buf_ptr(b), (int)mp_buf_len(b), NULL);
    mp_buf_free(b);
    return bn;
}

static EVP_PKEY *
rfc_key(void)
{
    BIGNUM *n = bn_of(rfc_n), *e = bn_of("AQAB");
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *k = NULL;

    assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
    assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e));
    params = OSSL_PARAM_BLD_to_param(bld);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(n);
    BN_free(e);
    return k;
}

static void
thumbprint_matches_rfc7638(void **state)
{
    EVP_PKEY *k = rfc_key();
    char tp[JWK_KID_MAX + 1];

    (void)state;
    assert_int_equal(jwk_thumbprint(k, tp, NULL), MP_OK);
    assert_string_equal(tp, rfc_thumbprint);
    EVP_PKEY_free(k);
}

static void
jwk_members_and_default_kid(void **state)
{
    EVP_PKEY *k = rfc_key();
    json_t *j = NULL;

    (void)state;
    assert_int_equal(jwk_from_pkey(k, NULL, "RS256", &j, NULL), MP_OK);
    assert_int_equal(json_object_size(j), 6);
    assert_string_equal(json_string_value(json_object_get(j, "kty")), "RSA");
    assert_string_equal(json_string_value(json_object_get(j, "use")), "sig");
    assert_string_equal(json_string_value(json_object_get(j, "alg")), "RS256");
    assert_string_equal(json_string_value(json_object_get(j, "kid")), rfc_thumbprint);
    assert_string_equal(json_string_value(json_object_get(j, "n")), rfc_n);
    assert_string_equal(json_string_value(json_object_get(j, "e")), "AQAB");
    json_decref(j);
    assert_int_equal(jwk_from_pkey(k, "2011-04-29", "RS512", &j, NULL), MP_OK);
    assert_string_equal(json_string_value(json_object_get(j, "kid")), "2011-04-29");
    assert_string_equal(json_string_value(json_object_get(j, "alg")), "RS512");
    json_decref(j);
    EVP_PKEY_free(k);
}

static void
kid_alphabet(void **state)
{
    struct mp_errmsg e = {{0}};
    char long_kid[JWK_KID_MAX + 2];
    EVP_PKEY *k = rfc_key();
    json_t *j = NULL;

    (void)state;
    assert_int_equal(jwk_kid_check("Ab9._-", NULL), MP_OK);
    assert_int_equal(jwk_kid_check("", NULL), MP_ERR_INVALID);
    assert_int_equal(jwk_kid_check("a b", &e), MP_ERR_INVALID);
    assert_non_null(strstr(e.text, "byte 2 (0x20)"));
    assert_int_equal(jwk_kid_check("a/b", NULL), MP_ERR_INVALID);
    assert_int_equal(jwk_kid_check("\xc3\xa6", NULL), MP_ERR_INVALID);
    memset(long_kid, 'k', sizeof(long_kid) - 1);
    long_kid[sizeof(long_kid) - 1] = '\0';
    assert_int_equal(jwk_kid_check(long_kid, NULL), MP_ERR_INVALID);
    long_kid[JWK_KID_MAX] = '\0';
    assert_int_equal(jwk_kid_check(long_kid, NULL), MP_OK);
    assert_int_equal(jwk_from_pkey(k, "x\"y", "RS256", &j, NULL), MP_ERR_INVALID);
    assert_null(j);
    EVP_PKEY_free(k);
}

static void
refuses_ec_keys(void **state)
{
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    char tp[JWK_KID_MAX + 1];
    struct mp_errmsg e = {{0}};

    (void)state;
    assert_non_null(ec);
    assert_int_equal(jwk_thumbprint(ec, tp, &e), MP_ERR_INVALID);
    assert_non_null(strstr(e.text, "not RSA"));
    EVP_PKEY_free(ec);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thumbprint_matches_rfc7638),
        cmocka_unit_test(jwk_members_and_default_kid),
        cmocka_unit_test(kid_alphabet),
        cmocka_unit_test(refuses_ec_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
