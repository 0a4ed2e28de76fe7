/* JWKs of RSA public keys and their RFC 7638 thumbprints. */
#include "signer/grant/jwk.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "common/b64.h"
#include "common/buf.h"

#define JWK_BN_MAX 1024 /* bytes of n: up to RSA-8192 */

/* base64url of the big-endian unsigned bytes of one RSA parameter, without leading zeros (RFC
 * 7518 §6.3.1: the minimal octet string). */
static enum mp_err
param_b64(EVP_PKEY *pub, const char *name, struct mp_buf *out, struct mp_errmsg *e)
{
    unsigned char bin[JWK_BN_MAX];
    BIGNUM *bn = NULL;
    enum mp_err r;
    int n;

    if (EVP_PKEY_get_bn_param(pub, name, &bn) != 1 || BN_num_bytes(bn) > JWK_BN_MAX) {
        ERR_clear_error();
        r = mp_errf(e, MP_ERR_INVALID, "not an RSA public key (no usable %s)", name);
        goto out;
    }
    n = BN_bn2bin(bn, bin);
    if ((r = mp_b64url_encode(out, bin, (size_t)n)) != MP_OK)
        mp_errf(e, r, "out of memory");
out:
    BN_free(bn);
    return r;
}

/* n and e of pub, base64url, into two fresh buffers the caller frees. */
static enum mp_err
rsa_params(EVP_PKEY *pub, struct mp_buf **n, struct mp_buf **ex, struct mp_errmsg *e)
{
    enum mp_err r;

    *n = mp_buf_new(2 * JWK_BN_MAX);
    *ex = mp_buf_new(64);
    if (*n == NULL || *ex == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA)
        return mp_errf(e, MP_ERR_INVALID,
            "the key is %s, not RSA: Maskinporten accepts only RS256/RS384/RS512 grants",
            OBJ_nid2sn(EVP_PKEY_get_base_id(pub)));
    if ((r = param_b64(pub, OSSL_PKEY_PARAM_RSA_N, *n, e)) != MP_OK)
        return r;
    return param_b64(pub, OSSL_PKEY_PARAM_RSA_E, *ex, e);
}

enum mp_err
jwk_thumbprint(EVP_PKEY *pub, char *out, struct mp_errmsg *e)
{
    struct mp_buf *n = NULL, *ex = NULL, *canon = NULL, *tp = NULL;
    unsigned char md[32];
    enum mp_err r;

    if ((r = rsa_params(pub, &n, &ex, e)) != MP_OK)
        goto out;
    canon = mp_buf_new(4 * JWK_BN_MAX);
    tp = mp_buf_new(JWK_KID_MAX + 1);
    /* RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace. */
    if (canon == NULL || tp == NULL ||
        mp_buf_putf(canon, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", mp_buf_str(ex),
            mp_buf_str(n)) != MP_OK ||
        EVP_Digest(mp_buf_ptr(canon), mp_buf_len(canon), md, NULL, EVP_sha256(), NULL) != 1 ||
        mp_b64url_encode(tp, md, sizeof(md)) != MP_OK) {
        r = mp_errf(e, MP_ERR_NOMEM, "cannot compute the JWK thumbprint");
        goto out;
    }
    snprintf(out, JWK_KID_MAX + 1, "%s", mp_buf_str(tp));
out:
    mp_buf_free(tp);
    mp_buf_free(canon);
    mp_buf_free(ex);
    mp_buf_free(n);
    return r;
}

enum mp_err
jwk_kid_check(const char *kid, struct mp_errmsg *e)
{
    size_t i, len = strlen(kid);

    if (len == 0 || len > JWK_KID_MAX)
        return mp_errf(e, MP_ERR_INVALID, "a kid is 1..%d characters", JWK_KID_MAX);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)kid[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-'))
            return mp_errf(e, MP_ERR_INVALID,
                "kid: byte %zu (0x%02x) is not allowed: Maskinporten takes letters, digits and "
                "._- only",
                i + 1, c);
    }
    return MP_OK;
}

enum mp_err
jwk_from_pkey(EVP_PKEY *pub, const char *kid, const char *alg, json_t **out, struct mp_errmsg *e)
{
    struct mp_buf *n = NULL, *ex = NULL;
    char tp[JWK_KID_MAX + 1];
    enum mp_err r;

    *out = NULL;
    if (kid == NULL) {
        if ((r = jwk_thumbprint(pub, tp, e)) != MP_OK)
            return r;
        kid = tp;
    } else if ((r = jwk_kid_check(kid, e)) != MP_OK)
        return r;
    if ((r = rsa_params(pub, &n, &ex, e)) != MP_OK)
        goto out;
    *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "use", "sig", "alg", alg,
        "kid", kid, "n", mp_buf_str(n), "e", mp_buf_str(ex));
    if (*out == NULL)
        r = mp_errf(e, MP_ERR_NOMEM, "out of memory");
out:
    mp_buf_free(ex);
    mp_buf_free(n);
    return r;
}
