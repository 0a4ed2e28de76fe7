/* In-memory RSA keys and X.509 certificates for unit tests (testcert.h). */
#include "testcert.h"

#include <openssl/rsa.h>
#include <openssl/x509v3.h>

EVP_PKEY *
tc_rsa_key(unsigned int bits)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    EVP_PKEY *key = NULL;

    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) != 1 || EVP_PKEY_keygen(ctx, &key) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static int
add_entry(X509_NAME *name, int nid, const char *value)
{
    return value == NULL ||
        X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)value, -1, -1,
            0) == 1;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
        return 0;
    ok = X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static int
set_validity(X509 *x, const struct tc_spec *s)
{
    time_t now = time(NULL);
    time_t from = s->not_before, to = s->not_after;

    if (from == 0 && to == 0) {
        from = now - 3600;
        to = now + 30 * 86400;
    }
    return ASN1_TIME_set(X509_getm_notBefore(x), from) != NULL &&
        ASN1_TIME_set(X509_getm_notAfter(x), to) != NULL;
}

X509 *
tc_cert(EVP_PKEY *key, const struct tc_spec *s)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509 *issuer;
    X509_NAME *name = X509_NAME_new();
    EVP_PKEY *signer = s->issuer_key != NULL ? s->issuer_key : key;
    int ok;

    ok = x != NULL && name != NULL && X509_set_version(x, 2) == 1 &&
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1 && set_validity(x, s) &&
        add_entry(name, NID_commonName, s->cn) &&
        add_entry(name, NID_organizationIdentifier, s->org_id) &&
        add_entry(name, NID_serialNumber, s->serial) && X509_set_subject_name(x, name) == 1 &&
        X509_set_pubkey(x, key) == 1;
    issuer = s->issuer != NULL ? s->issuer : x;
    ok = ok &&
        X509_set_issuer_name(x, s->issuer != NULL ? X509_get_subject_name(issuer) : name) == 1 &&
        add_ext(x, issuer, NID_subject_key_identifier, "hash") &&
        (s->no_akid || add_ext(x, issuer, NID_authority_key_identifier, "keyid:always"));
    if (ok && s->ca)
        ok = add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE") &&
            add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    ok = ok && X509_sign(x, signer, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}
