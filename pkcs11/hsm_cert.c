/* Certificate objects: the one that belongs to a key (same CKA_ID, same public key), storing
 * an issued certificate next to its key, and the intermediate CAs kept on the token for x5c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pkcs11/internal.h"

#define MAX_CERTS 32
#define MAX_TOKEN_CERTS 128 /* every certificate on a token, when building a chain */
#define MAX_CHAIN_DEPTH 8
#define MAX_CERT_DER (64 * 1024)

static X509 *
cert_read(struct hsm_token *t, CK_OBJECT_HANDLE o)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    size_t len = 0;
    X509 *x = NULL;

    if (p11_get_attr_alloc(t, o, CKA_VALUE, MAX_CERT_DER, &der, &len) != HSM_OK)
        return NULL;
    p = der;
    x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != der + len) { /* trailing bytes: not one certificate */
        X509_free(x);
        x = NULL;
    }
    free(der);
    return x;
}

static bool
cert_valid_at(X509 *x, time_t now)
{
    return X509_cmp_time(X509_get0_notBefore(x), &now) <= 0 &&
        X509_cmp_time(X509_get0_notAfter(x), &now) >= 0;
}

/* Better = valid now beats not valid; then the later notAfter. */
static bool
cert_better(X509 *cand, X509 *best, time_t now)
{
    bool cv = cert_valid_at(cand, now), bv = cert_valid_at(best, now);

    if (cv != bv)
        return cv;
    return ASN1_TIME_compare(X509_get0_notAfter(cand), X509_get0_notAfter(best)) > 0;
}

enum hsm_err
hsm_key_cert(const struct hsm_key *k, time_t now, X509 **out, struct mp_errmsg *e)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_ID, (CK_VOID_PTR)(uintptr_t)k->id, (CK_ULONG)k->idlen},
    };
    CK_OBJECT_HANDLE objs[MAX_CERTS];
    CK_ULONG count = 0, i;
    X509 *x, *best = NULL;
    enum hsm_err r;

    if (k->idlen == 0)
        return p11_errf(e, HSM_ERR_NOTFOUND,
            "key %s has no CKA_ID, so no certificate can be paired with it", k->label);
    if ((r = p11_find(k->t, tmpl, 2, objs, MAX_CERTS, &count, e)) != HSM_OK)
        return r;
    for (i = 0; i < count; i++) {
        if ((x = cert_read(k->t, objs[i])) == NULL)
            continue;
        if (k->pub == NULL || EVP_PKEY_eq(X509_get0_pubkey(x), k->pub) != 1 ||
            (best != NULL && !cert_better(x, best, now))) {
            X509_free(x);
            continue;
        }
        X509_free(best);
        best = x;
    }
    if (best == NULL)
        return p11_errf(e, HSM_ERR_NOTFOUND,
            "no certificate on token %s has id %s and the public key of key %s (store one "
            "with 'mp-signer key import-cert', or sign with --kid)",
            k->t->label, k->id_hex, k->label);
    *out = best;
    return HSM_OK;
}

static enum hsm_err
cert_exists(struct hsm_token *t, const unsigned char *der, size_t len, bool *exists,
    struct mp_errmsg *e)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_VALUE, (CK_VOID_PTR)(uintptr_t)der, (CK_ULONG)len},
    };
    CK_OBJECT_HANDLE o;
    CK_ULONG count = 0;
    enum hsm_err r;

    if ((r = p11_find(t, tmpl, 2, &o, 1, &count, e)) != HSM_OK)
        return r;
    *exists = count > 0;
    return HSM_OK;
}

/* DER of a certificate field, allocated by OpenSSL. */
static int
cert_field_der(X509 *x, int which, unsigned char **out)
{
    switch (which) {
    case 0: return i2d_X509(x, out);
    case 1: return i2d_X509_NAME(X509_get_subject_name(x), out);
    case 2: return i2d_X509_NAME(X509_get_issuer_name(x), out);
    default: return i2d_ASN1_INTEGER(X509_get0_serialNumber(x), out);
    }
}

/* Creates a public token certificate object; id may be empty (a CA certificate belongs to no
 * key). */
static enum hsm_err
cert_create(struct hsm_token *t, unsigned char *der[4], const int len[4], const unsigned char *id,
    size_t idlen, const char *label, struct mp_errmsg *e)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ctype = CKC_X_509;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_CERTIFICATE_TYPE, &ctype, sizeof(ctype)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &no, sizeof(no)},
        {CKA_LABEL, (CK_VOID_PTR)(uintptr_t)label, (CK_ULONG)strlen(label)},
        {CKA_VALUE, der[0], (CK_ULONG)len[0]},
        {CKA_SUBJECT, der[1], (CK_ULONG)len[1]},
        {CKA_ISSUER, der[2], (CK_ULONG)len[2]},
        {CKA_SERIAL_NUMBER, der[3], (CK_ULONG)len[3]},
        {CKA_ID, (CK_VOID_PTR)(uintptr_t)id, (CK_ULONG)idlen},
    };
    CK_OBJECT_HANDLE o;
    CK_RV rv;

    if ((rv = p11_C_CreateObject(t->m, t->anchor, tmpl, idlen > 0 ? 10 : 9, &o)) != CKR_OK)
        return p11_fail(e, "C_CreateObject", rv, t->label);
    return HSM_OK;
}

/* Encodes the certificate and its search fields, then stores it unless its exact bytes are on
 * the token already (*exists tells which). */
static enum hsm_err
cert_store_once(struct hsm_token *t, X509 *cert, const unsigned char *id, size_t idlen,
    const char *label, bool *exists, struct mp_errmsg *e)
{
    unsigned char *der[4] = {NULL, NULL, NULL, NULL};
    int len[4], i;
    enum hsm_err r = HSM_ERR_FAILED;

    *exists = false;
    for (i = 0; i < 4; i++)
        if ((len[i] = cert_field_der(cert, i, &der[i])) <= 0) {
            p11_errf(e, r, "cannot encode the certificate");
            goto out;
        }
    if ((r = cert_exists(t, der[0], (size_t)len[0], exists, e)) != HSM_OK || *exists)
        goto out;
    r = cert_create(t, der, len, id, idlen, label, e);
out:
    for (i = 0; i < 4; i++)
        OPENSSL_free(der[i]);
    return r;
}

enum hsm_err
hsm_cert_store(struct hsm_token *t, X509 *cert, const unsigned char *id, size_t idlen,
    const char *label, bool *already, struct mp_errmsg *e)
{
    bool exists;
    enum hsm_err r = cert_store_once(t, cert, id, idlen, label, &exists, e);

    if (already != NULL)
        *already = exists;
    else if (r == HSM_OK && exists)
        return p11_errf(e, HSM_ERR_REQUEST, "this certificate is already stored on token %s",
            t->label);
    return r;
}

enum hsm_err
hsm_ca_store(struct hsm_token *t, X509 *ca, const char *label, bool *already, struct mp_errmsg *e)
{
    return cert_store_once(t, ca, NULL, 0, label, already, e);
}

/* Every certificate object on the token, read; the caller frees the stack. */
static enum hsm_err
token_certs(struct hsm_token *t, STACK_OF(X509) * *out, struct mp_errmsg *e)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}};
    CK_OBJECT_HANDLE objs[MAX_TOKEN_CERTS];
    CK_ULONG count = 0, i;
    X509 *x;
    enum hsm_err r;

    if ((r = p11_find(t, tmpl, 1, objs, MAX_TOKEN_CERTS, &count, e)) != HSM_OK)
        return r;
    if ((*out = sk_X509_new_null()) == NULL)
        return p11_errf(e, HSM_ERR_NOMEM, "out of memory");
    for (i = 0; i < count; i++)
        if ((x = cert_read(t, objs[i])) != NULL && !sk_X509_push(*out, x)) {
            X509_free(x);
            return p11_errf(e, HSM_ERR_NOMEM, "out of memory");
        }
    return HSM_OK;
}

/* The certificate in pool that issued cur (names, key identifiers and signature), not cur
 * itself; NULL if none. */
static X509 *
issuer_in(STACK_OF(X509) * pool, X509 *cur)
{
    X509 *c;
    int i;

    for (i = 0; i < sk_X509_num(pool); i++) {
        c = sk_X509_value(pool, i);
        if (X509_cmp(c, cur) != 0 && X509_check_issued(c, cur) == X509_V_OK &&
            X509_verify(cur, X509_get0_pubkey(c)) == 1)
            return c;
    }
    ERR_clear_error();
    return NULL;
}

enum hsm_err
hsm_key_chain(const struct hsm_key *k, X509 *leaf, STACK_OF(X509) * *out, struct mp_errmsg *e)
{
    STACK_OF(X509) *pool = NULL, *chain = NULL;
    X509 *cur = leaf, *up;
    enum hsm_err r;

    *out = NULL;
    if ((r = token_certs(k->t, &pool, e)) != HSM_OK)
        goto out;
    if ((chain = sk_X509_new_null()) == NULL) {
        r = p11_errf(e, HSM_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* Up to, not including, a self-issued root: x5c carries what the verifier lacks. */
    while (sk_X509_num(chain) < MAX_CHAIN_DEPTH && (up = issuer_in(pool, cur)) != NULL &&
        X509_check_issued(up, up) != X509_V_OK) {
        if (!X509_up_ref(up) || !sk_X509_push(chain, up)) {
            r = p11_errf(e, HSM_ERR_NOMEM, "out of memory");
            goto out;
        }
        cur = up;
    }
    ERR_clear_error();
    *out = chain;
    chain = NULL;
out:
    sk_X509_pop_free(chain, X509_free);
    sk_X509_pop_free(pool, X509_free);
    return r;
}
