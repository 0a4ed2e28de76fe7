/* mp-fake's JWTs: parsing and verifying grants, signing its tokens, JWKs of its keys. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "common/b64.h"
#include "tests/fakes/fake.h"

static const EVP_MD *
alg_md(const char *alg)
{
    if (strcmp(alg, "RS256") == 0)
        return EVP_sha256();
    if (strcmp(alg, "RS384") == 0)
        return EVP_sha384();
    if (strcmp(alg, "RS512") == 0)
        return EVP_sha512();
    return NULL;
}

static enum mp_err
put_b64json(struct mp_buf *out, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    enum mp_err r = s != NULL ? mp_b64url_encode(out, s, strlen(s)) : MP_ERR_NOMEM;

    free(s);
    return r;
}

enum mp_err
fake_jwt_sign(EVP_PKEY *key, const char *kid, json_t *claims, struct mp_buf *out)
{
    json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "RS256", "typ", "JWT", "kid", kid);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[1024];
    size_t siglen = sizeof(sig), start = mp_buf_len(out);
    enum mp_err r = MP_ERR_CRYPTO;

    if (h == NULL || ctx == NULL || put_b64json(out, h) != MP_OK || mp_buf_put(out, ".", 1) ||
        put_b64json(out, claims) != MP_OK)
        goto out;
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, mp_buf_ptr(out) + start, mp_buf_len(out) - start) != 1)
        goto out;
    if (mp_buf_put(out, ".", 1) == MP_OK && mp_b64url_encode(out, sig, siglen) == MP_OK)
        r = MP_OK;
out:
    EVP_MD_CTX_free(ctx);
    json_decref(h);
    return r;
}

static json_t *
part_json(const char *p, size_t n)
{
    struct mp_buf *b = mp_buf_new(64 * 1024);
    json_t *j = NULL;

    if (b != NULL && mp_b64url_decode(b, p, n) == MP_OK)
        j = json_loadb(mp_buf_str(b), mp_buf_len(b), JSON_REJECT_DUPLICATES, NULL);
    mp_buf_free(b);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

enum mp_err
fake_jwt_parse(const char *jwt, size_t len, json_t **header, json_t **payload)
{
    const char *d1 = memchr(jwt, '.', len), *d2;

    *header = *payload = NULL;
    if (d1 == NULL || (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jwt))) == NULL ||
        memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt)) != NULL)
        return MP_ERR_PARSE;
    *header = part_json(jwt, (size_t)(d1 - jwt));
    *payload = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
    if (*header == NULL || *payload == NULL) {
        json_decref(*header);
        json_decref(*payload);
        *header = *payload = NULL;
        return MP_ERR_PARSE;
    }
    return MP_OK;
}

int
fake_jwt_verify(const char *jwt, size_t len, const char *alg, EVP_PKEY *pub)
{
    const char *d2 = NULL, *p;
    struct mp_buf *sig = mp_buf_new(2048);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = alg_md(alg);
    int ok = 0, dots = 0;

    for (p = jwt; p < jwt + len; p++)
        if (*p == '.' && ++dots == 2)
            d2 = p;
    if (md != NULL && d2 != NULL && sig != NULL && ctx != NULL &&
        mp_b64url_decode(sig, d2 + 1, len - (size_t)(d2 + 1 - jwt)) == MP_OK &&
        EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub) == 1)
        ok = EVP_DigestVerify(ctx, mp_buf_ptr(sig), mp_buf_len(sig), (const unsigned char *)jwt,
                 (size_t)(d2 - jwt)) == 1;
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    mp_buf_free(sig);
    return ok;
}

static json_t *
bn_b64(EVP_PKEY *k, const char *name)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    struct mp_buf *b = mp_buf_new(2048);
    json_t *s = NULL;
    int n;

    if (b != NULL && EVP_PKEY_get_bn_param(k, name, &bn) == 1 && (n = BN_bn2bin(bn, buf)) > 0 &&
        mp_b64url_encode(b, buf, (size_t)n) == MP_OK)
        s = json_string(mp_buf_str(b));
    BN_free(bn);
    mp_buf_free(b);
    return s;
}

json_t *
fake_jwk(EVP_PKEY *pub, const char *kid)
{
    return json_pack("{s:s, s:o, s:o, s:s, s:s, s:s}", "kty", "RSA", "n",
        bn_b64(pub, OSSL_PKEY_PARAM_RSA_N), "e", bn_b64(pub, OSSL_PKEY_PARAM_RSA_E), "kid", kid,
        "alg", "RS256", "use", "sig");
}

static BIGNUM *
b64_bn(json_t *s)
{
    struct mp_buf *b = mp_buf_new(2048);
    BIGNUM *bn = NULL;

    if (b != NULL && json_is_string(s) &&
        mp_b64url_decode(b, json_string_value(s), json_string_length(s)) == MP_OK)
        bn = BN_bin2bn(mp_buf_ptr(b), (int)mp_buf_len(b), NULL);
    mp_buf_free(b);
    return bn;
}

EVP_PKEY *
fake_jwk_key(json_t *jwk)
{
    BIGNUM *n = b64_bn(json_object_get(jwk, "n")), *e = b64_bn(json_object_get(jwk, "e"));
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *k = NULL;

    if (n != NULL && e != NULL && bld != NULL && ctx != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1)
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params);
    ERR_clear_error();
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(n);
    BN_free(e);
    return k;
}
