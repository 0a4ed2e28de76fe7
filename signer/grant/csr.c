/* PKCS#10 requests whose signature is made inside the token (csr.h). */
#include "signer/grant/csr.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/orgno.h"

static enum mp_err
csr_subject(X509_REQ *req, const char *orgno, const char *cn, const char *org_name)
{
    X509_NAME *n = X509_NAME_new();
    char oi[16];
    int ok;

    if (n == NULL)
        return MP_ERR_NOMEM;
    snprintf(oi, sizeof(oi), "NTRNO-%s", orgno);
    ok =
        X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8, (const unsigned char *)"NO", -1, -1, 0) &&
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org_name, -1, -1,
            0) &&
        X509_NAME_add_entry_by_NID(n, NID_organizationIdentifier, MBSTRING_UTF8,
            (const unsigned char *)oi, -1, -1, 0) &&
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
        X509_REQ_set_subject_name(req, n);
    X509_NAME_free(n);
    return ok ? MP_OK : MP_ERR_CRYPTO;
}

static enum mp_err
csr_key_usage(X509_REQ *req)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ku =
        X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage, "critical,digitalSignature");
    int ok = exts != NULL && ku != NULL && sk_X509_EXTENSION_push(exts, ku) &&
        X509_REQ_add_extensions(req, exts);

    if (!ok || exts == NULL)
        X509_EXTENSION_free(ku);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return ok ? MP_OK : MP_ERR_CRYPTO;
}

/* The token signs the DER request info; OpenSSL only assembles the structure around it. */
static enum mp_err
csr_sign(X509_REQ *req, const struct hsm_key *k, struct mp_errmsg *e)
{
    X509_ALGOR *alg = X509_ALGOR_new();
    ASN1_BIT_STRING *bits = NULL;
    unsigned char *tbs = NULL, sig[1024];
    size_t siglen = sizeof(sig);
    int tbslen;
    enum hsm_err h;
    enum mp_err r = MP_ERR_CRYPTO;

    if (alg == NULL ||
        !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256WithRSAEncryption), V_ASN1_NULL, NULL) ||
        !X509_REQ_set1_signature_algo(req, alg) || (tbslen = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0)
        goto out;
    h = hsm_sign(k, HSM_SHA256, tbs, (size_t)tbslen, sig, &siglen, e);
    if (h != HSM_OK) {
        r = hsm_to_mp(h);
        goto out;
    }
    if ((bits = ASN1_BIT_STRING_new()) == NULL || !ASN1_BIT_STRING_set(bits, sig, (int)siglen))
        goto out;
    bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
    bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
    X509_REQ_set0_signature(req, bits);
    bits = NULL;
    r = MP_OK;
out:
    ASN1_BIT_STRING_free(bits);
    OPENSSL_free(tbs);
    X509_ALGOR_free(alg);
    return r;
}

static enum mp_err
csr_pem(X509_REQ *req, struct mp_buf *out)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n;
    enum mp_err r = MP_ERR_CRYPTO;

    if (b != NULL && PEM_write_bio_X509_REQ(b, req) && (n = BIO_get_mem_data(b, &p)) > 0)
        r = mp_buf_put(out, p, (size_t)n);
    BIO_free(b);
    return r;
}

enum mp_err
csr_build(const struct hsm_key *k, const char *orgno, const char *cn, const char *org_name,
    struct mp_buf *pem_out, struct mp_errmsg *e)
{
    X509_REQ *req = NULL;
    enum mp_err r = MP_ERR_CRYPTO;

    if (!mp_orgno_valid(orgno))
        return mp_errf(e, MP_ERR_INVALID,
            "--org \"%.20s\" is not a valid organisation number (9 digits, mod-11 check digit)",
            orgno);
    if (*cn == '\0' || strlen(cn) > 64 || (org_name != NULL && strlen(org_name) > 64))
        return mp_errf(e, MP_ERR_INVALID, "CN and O must be 1..64 characters");
    if ((req = X509_REQ_new()) == NULL || !X509_REQ_set_version(req, 0) ||
        !X509_REQ_set_pubkey(req, hsm_key_public(k)) ||
        csr_subject(req, orgno, cn, org_name != NULL ? org_name : cn) != MP_OK ||
        csr_key_usage(req) != MP_OK) {
        mp_errf(e, r, "cannot build the certificate request");
        goto out;
    }
    if ((r = csr_sign(req, k, e)) != MP_OK)
        goto out;
    if (X509_REQ_verify(req, hsm_key_public(k)) != 1) {
        r = mp_errf(e, MP_ERR_CRYPTO, "the token's CSR signature does not verify");
        goto out;
    }
    if ((r = csr_pem(req, pem_out)) != MP_OK)
        mp_errf(e, r, "cannot encode the certificate request");
out:
    ERR_clear_error();
    X509_REQ_free(req);
    return r;
}
