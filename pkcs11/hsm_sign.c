/* RSASSA-PKCS1-v1_5 signatures inside the token. */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "pkcs11/internal.h"

#define MAX_SIG 1024

/* DER prefixes of DigestInfo (RFC 8017 §9.2 note 1) for the raw CKM_RSA_PKCS fallback. */
static const unsigned char di_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
    0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const unsigned char di_sha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
    0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
static const unsigned char di_sha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
    0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};

struct hash_desc {
    CK_MECHANISM_TYPE mech;
    const unsigned char *prefix;
    size_t plen;
    const char *md;
    size_t dlen;
};

static const struct hash_desc *
hash_desc(enum hsm_hash h)
{
    static const struct hash_desc d256 = {CKM_SHA256_RSA_PKCS, di_sha256, sizeof(di_sha256),
        "SHA256", 32};
    static const struct hash_desc d384 = {CKM_SHA384_RSA_PKCS, di_sha384, sizeof(di_sha384),
        "SHA384", 48};
    static const struct hash_desc d512 = {CKM_SHA512_RSA_PKCS, di_sha512, sizeof(di_sha512),
        "SHA512", 64};

    switch (h) {
    case HSM_SHA256: return &d256;
    case HSM_SHA384: return &d384;
    case HSM_SHA512: return &d512;
    }
    return NULL;
}

static enum hsm_err
sign_raw(const struct hsm_key *k, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mtype,
    const unsigned char *in, size_t inlen, unsigned char *sig, size_t *siglen, struct mp_errmsg *e)
{
    CK_MECHANISM mech = {mtype, NULL, 0};
    CK_ULONG slen = *siglen;
    CK_RV rv;

    if ((rv = p11_C_SignInit(k->t->m, s, &mech, k->h)) != CKR_OK)
        return p11_fail(e, "C_SignInit", rv, k->label);
    rv = p11_C_Sign(k->t->m, s, (CK_BYTE_PTR)(uintptr_t)in, (CK_ULONG)inlen, sig, &slen);
    if (rv != CKR_OK)
        return p11_fail(e, "C_Sign", rv, k->label);
    if (slen != (k->bits + 7) / 8)
        return p11_errf(e, HSM_ERR_FAILED, "token returned a %lu-byte signature for RSA-%u",
            (unsigned long)slen, k->bits);
    *siglen = slen;
    return HSM_OK;
}

static enum hsm_err
sign_digest(const struct hsm_key *k, CK_SESSION_HANDLE s, enum hsm_hash hash,
    const unsigned char *digest, size_t dlen, unsigned char *sig, size_t *siglen,
    struct mp_errmsg *e)
{
    const struct hash_desc *d = hash_desc(hash);
    unsigned char di[19 + 64];

    if (d == NULL || dlen != d->dlen)
        return p11_errf(e, HSM_ERR_REQUEST, "unsupported digest");
    if (*siglen < (k->bits + 7) / 8)
        return p11_errf(e, HSM_ERR_REQUEST, "signature buffer too small");
    if (!p11_has_mechanism(k->t, CKM_RSA_PKCS))
        return p11_errf(e, HSM_ERR_REQUEST, "token %s offers neither %s-RSA-PKCS nor RSA-PKCS",
            k->t->label, d->md);
    memcpy(di, d->prefix, d->plen);
    memcpy(di + d->plen, digest, dlen);
    return sign_raw(k, s, CKM_RSA_PKCS, di, d->plen + dlen, sig, siglen, e);
}

enum hsm_err
hsm_sign_digest(const struct hsm_key *k, enum hsm_hash hash, const unsigned char *digest,
    size_t dlen, unsigned char *sig, size_t *siglen, struct mp_errmsg *e)
{
    return sign_digest(k, k->t->anchor, hash, digest, dlen, sig, siglen, e);
}

static enum hsm_err
sign_data(const struct hsm_key *k, CK_SESSION_HANDLE s, enum hsm_hash hash, const void *data,
    size_t len, unsigned char *sig, size_t *siglen, struct mp_errmsg *e)
{
    const struct hash_desc *d = hash_desc(hash);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (d == NULL)
        return p11_errf(e, HSM_ERR_REQUEST, "unsupported hash");
    if (*siglen < (k->bits + 7) / 8)
        return p11_errf(e, HSM_ERR_REQUEST, "signature buffer too small");
    if (p11_has_mechanism(k->t, d->mech))
        return sign_raw(k, s, d->mech, data, len, sig, siglen, e);
    /* Tokens that offer only raw PKCS#1 v1.5: hash here, the token pads and signs. */
    if (!EVP_Digest(data, len, md, &mdlen, EVP_get_digestbyname(d->md), NULL))
        return p11_errf(e, HSM_ERR_FAILED, "%s digest failed", d->md);
    return sign_digest(k, s, hash, md, mdlen, sig, siglen, e);
}

enum hsm_err
hsm_sign(const struct hsm_key *k, enum hsm_hash hash, const void *data, size_t len,
    unsigned char *sig, size_t *siglen, struct mp_errmsg *e)
{
    return sign_data(k, k->t->anchor, hash, data, len, sig, siglen, e);
}

enum hsm_err
hsm_sign_in(struct hsm_session *s, const struct hsm_key *k, enum hsm_hash hash, const void *data,
    size_t len, unsigned char *sig, size_t *siglen, struct mp_errmsg *e)
{
    if (s->t != k->t)
        return p11_errf(e, HSM_ERR_REQUEST, "session and key belong to different tokens");
    return sign_data(k, s->h, hash, data, len, sig, siglen, e);
}
