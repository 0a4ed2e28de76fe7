/* Private keys: lookup by URI, the attributes behind the exportability verdict, the public
 * half, and the matching certificate object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "pkcs11/internal.h"

#define MAX_MATCHES 16
#define MAX_BIGNUM 1024 /* bytes: an 8192-bit modulus */
#define MAX_CERT (64 * 1024)

static enum hsm_err
rsa_public_from(struct hsm_token *t, CK_OBJECT_HANDLE o, EVP_PKEY **out)
{
    unsigned char *n = NULL, *ev = NULL;
    size_t nlen = 0, elen = 0;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    enum hsm_err r;

    if ((r = p11_get_attr_alloc(t, o, CKA_MODULUS, MAX_BIGNUM, &n, &nlen)) != HSM_OK)
        goto out;
    if ((r = p11_get_attr_alloc(t, o, CKA_PUBLIC_EXPONENT, 16, &ev, &elen)) != HSM_OK)
        goto out;
    r = HSM_ERR_FAILED;
    if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
        (be = BN_bin2bn(ev, (int)elen, NULL)) == NULL)
        goto out;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto out;
    if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        goto out;
    r = HSM_OK;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    free(n);
    free(ev);
    return r;
}

/* The private object usually answers CKA_MODULUS; some tokens only put it on the public key. */
static enum hsm_err
key_public(struct hsm_key *k)
{
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_ID, k->id, (CK_ULONG)k->idlen},
    };
    CK_OBJECT_HANDLE pub;
    CK_ULONG n = 0;

    if (k->type != CKK_RSA)
        return HSM_OK;
    if (rsa_public_from(k->t, k->h, &k->pub) == HSM_OK)
        return HSM_OK;
    if (k->idlen == 0 || p11_find(k->t, tmpl, 2, &pub, 1, &n, NULL) != HSM_OK || n != 1)
        return HSM_ERR_NOTFOUND;
    return rsa_public_from(k->t, pub, &k->pub);
}

static void
key_read_flags(struct hsm_key *k)
{
    k->sensitive = p11_get_bool(k->t, k->h, CKA_SENSITIVE);
    k->extractable = p11_get_bool(k->t, k->h, CKA_EXTRACTABLE);
    k->never_extractable = p11_get_bool(k->t, k->h, CKA_NEVER_EXTRACTABLE);
    k->always_sensitive = p11_get_bool(k->t, k->h, CKA_ALWAYS_SENSITIVE);
    k->sign = p11_get_bool(k->t, k->h, CKA_SIGN);
    k->always_auth = p11_get_bool(k->t, k->h, CKA_ALWAYS_AUTHENTICATE);
    k->local = p11_get_bool(k->t, k->h, CKA_LOCAL);
}

static void
key_read_names(struct hsm_key *k)
{
    CK_ULONG len = sizeof(k->id);
    size_t i;

    if (p11_get_attr(k->t, k->h, CKA_ID, k->id, &len) == HSM_OK)
        k->idlen = len;
    for (i = 0; i < k->idlen; i++)
        snprintf(k->id_hex + 2 * i, 3, "%02x", k->id[i]);
    len = sizeof(k->label) - 1;
    if (p11_get_attr(k->t, k->h, CKA_LABEL, k->label, &len) == HSM_OK)
        k->label[len] = '\0';
}

enum hsm_err
p11_key_load(struct hsm_token *t, CK_OBJECT_HANDLE h, struct hsm_key **out, struct mp_errmsg *e)
{
    struct hsm_key *k;
    CK_ULONG len = sizeof(CK_KEY_TYPE);

    if ((k = calloc(1, sizeof(*k))) == NULL)
        return p11_errf(e, HSM_ERR_NOMEM, "out of memory");
    k->t = t;
    k->h = h;
    k->type = CKK_VENDOR_DEFINED;
    if (p11_get_attr(t, h, CKA_KEY_TYPE, &k->type, &len) != HSM_OK)
        k->type = CKK_VENDOR_DEFINED;
    key_read_names(k);
    key_read_flags(k);
    if (key_public(k) == HSM_OK && k->pub != NULL)
        k->bits = (unsigned int)EVP_PKEY_get_bits(k->pub);
    *out = k;
    return HSM_OK;
}

enum hsm_err
hsm_key_find(struct hsm_token *t, const char *uri, struct hsm_key **out, struct mp_errmsg *e)
{
    P11KitUri *u = NULL;
    CK_ATTRIBUTE tmpl[8], *a;
    CK_ULONG n = 0, i, count = 0;
    CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
    CK_OBJECT_HANDLE objs[MAX_MATCHES];
    enum hsm_err r;

    if ((r = p11_uri_parse(uri, &u, e)) != HSM_OK)
        return r;
    a = p11_kit_uri_get_attributes(u, &n);
    for (i = 0; i < n && i < 6; i++) {
        if (a[i].type == CKA_CLASS && *(CK_OBJECT_CLASS *)a[i].pValue != CKO_PRIVATE_KEY) {
            r = p11_errf(e, HSM_ERR_URI, "key URI must name a private key (type=private)");
            goto out;
        }
        tmpl[i] = a[i];
    }
    tmpl[i].type = CKA_CLASS;
    tmpl[i].pValue = &priv;
    tmpl[i].ulValueLen = sizeof(priv);
    if ((r = p11_find(t, tmpl, i + 1, objs, MAX_MATCHES, &count, e)) != HSM_OK)
        goto out;
    if (count == 0) {
        r = p11_errf(e, HSM_ERR_NOTFOUND, "no private key on token %s matches %s", t->label, uri);
        goto out;
    }
    if (count > 1) {
        r = p11_errf(e, HSM_ERR_AMBIGUOUS,
            "%lu private keys on token %s match %s: add object= or id= to the URI",
            (unsigned long)count, t->label, uri);
        goto out;
    }
    r = p11_key_load(t, objs[0], out, e);
out:
    p11_kit_uri_free(u);
    return r;
}

void
hsm_key_free(struct hsm_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pub);
    free(k);
}

static const char *
key_type_name(CK_KEY_TYPE type)
{
    switch (type) {
    case CKK_RSA: return "RSA";
    case CKK_EC: return "EC";
    case CKK_DSA: return "DSA";
    default: return "non-RSA";
    }
}

enum hsm_err
hsm_key_check(const struct hsm_key *k, struct mp_errmsg *e)
{
    if (k->t->m->nss_softokn)
        return p11_errf(e, HSM_ERR_KEY_REFUSED,
            "key %s is exportable: NSS softokn does not enforce CKA_EXTRACTABLE (C_WrapKey wraps "
            "it, pk12util exports it)",
            k->label);
    if (k->extractable != HSM_FALSE)
        return p11_errf(e, HSM_ERR_KEY_REFUSED,
            "key %s is exportable: CKA_EXTRACTABLE is %s (must be false)", k->label,
            k->extractable == HSM_TRUE ? "true" : "not reported");
    if (k->sensitive != HSM_TRUE)
        return p11_errf(e, HSM_ERR_KEY_REFUSED,
            "key %s is exportable: CKA_SENSITIVE is %s (must be true)", k->label,
            k->sensitive == HSM_FALSE ? "false" : "not reported");
    if (k->type != CKK_RSA)
        return p11_errf(e, HSM_ERR_KEY_REFUSED,
            "key %s is %s: Maskinporten accepts only RSA keys (RS256/RS384/RS512)", k->label,
            key_type_name(k->type));
    if (k->pub == NULL)
        return p11_errf(e, HSM_ERR_KEY_REFUSED,
            "key %s: the token reveals neither CKA_MODULUS nor a matching public key", k->label);
    if (k->bits < 2048)
        return p11_errf(e, HSM_ERR_KEY_REFUSED, "key %s is RSA-%u: at least 2048 bits needed",
            k->label, k->bits);
    if (k->sign == HSM_FALSE)
        return p11_errf(e, HSM_ERR_KEY_REFUSED, "key %s has CKA_SIGN false", k->label);
    if (k->always_auth == HSM_TRUE)
        return p11_errf(e, HSM_ERR_KEY_REFUSED,
            "key %s has CKA_ALWAYS_AUTHENTICATE true (a PIN per signature): not usable by an "
            "unattended signer",
            k->label);
    return HSM_OK;
}

bool
hsm_key_imported(const struct hsm_key *k)
{
    return k->never_extractable != HSM_TRUE || k->always_sensitive != HSM_TRUE;
}

const char *
hsm_key_type(const struct hsm_key *k)
{
    return key_type_name(k->type);
}

unsigned int
hsm_key_bits(const struct hsm_key *k)
{
    return k->bits;
}

const char *
hsm_key_label(const struct hsm_key *k)
{
    return k->label;
}

const char *
hsm_key_id_hex(const struct hsm_key *k)
{
    return k->id_hex;
}

EVP_PKEY *
hsm_key_public(const struct hsm_key *k)
{
    return k->pub;
}

static const char *
tri(enum hsm_tri v)
{
    return v == HSM_TRUE ? "1" : v == HSM_FALSE ? "0" : "?";
}

void
hsm_key_attr_summary(const struct hsm_key *k, char *out, size_t outlen)
{
    snprintf(out, outlen,
        "sensitive=%s extractable=%s never_extractable=%s always_sensitive=%s local=%s",
        tri(k->sensitive), tri(k->extractable), tri(k->never_extractable), tri(k->always_sensitive),
        tri(k->local));
}

enum hsm_err
hsm_key_each(struct hsm_token *t, hsm_key_fn fn, void *arg, struct mp_errmsg *e)
{
    CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &priv, sizeof(priv)}};
    CK_OBJECT_HANDLE objs[256];
    CK_ULONG count = 0, i;
    struct hsm_key *k = NULL;
    enum hsm_err r;

    if ((r = p11_find(t, tmpl, 1, objs, 256, &count, e)) != HSM_OK)
        return r;
    for (i = 0; i < count && r == HSM_OK; i++) {
        if ((r = p11_key_load(t, objs[i], &k, e)) != HSM_OK)
            break;
        r = fn(k, arg);
        hsm_key_free(k);
        k = NULL;
    }
    return r;
}
