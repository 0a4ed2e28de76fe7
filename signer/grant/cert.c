/* Reading a virksomhetssertifikat: organisation number, validity, chain, subject (cert.h). */
#include "signer/grant/cert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/orgno.h"

#define MAX_CHAIN 8

static enum mp_err
name_entry(X509_NAME *name, int nid, char *out, size_t outlen)
{
    int idx = X509_NAME_get_index_by_NID(name, nid, -1);
    ASN1_STRING *s;
    unsigned char *u = NULL;
    int n, nul;

    if (idx < 0)
        return MP_ERR_NOTFOUND;
    s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    if ((n = ASN1_STRING_to_UTF8(&u, s)) < 0)
        return MP_ERR_PARSE;
    /* An embedded NUL must not let "NTRNO-<orgno>\0..." pass as the text before it. */
    nul = memchr(u, '\0', (size_t)n) != NULL;
    snprintf(out, outlen, "%.*s", n, (const char *)u);
    OPENSSL_free(u);
    if (nul)
        return MP_ERR_PARSE;
    return (size_t)n < outlen ? MP_OK : MP_ERR_TOOBIG;
}

enum mp_err
cert_orgno(X509 *x, char out[10])
{
    X509_NAME *name = X509_get_subject_name(x);
    char v[64];

    if (name_entry(name, NID_organizationIdentifier, v, sizeof(v)) == MP_OK &&
        strncmp(v, "NTRNO-", 6) == 0 && mp_orgno_valid(v + 6)) {
        memcpy(out, v + 6, 10);
        return MP_OK;
    }
    if (name_entry(name, NID_serialNumber, v, sizeof(v)) == MP_OK && mp_orgno_valid(v)) {
        memcpy(out, v, 10);
        return MP_OK;
    }
    return MP_ERR_NOTFOUND;
}

enum mp_err
cert_check_time(X509 *x, time_t now, struct mp_errmsg *e)
{
    char subj[256];

    int nb = X509_cmp_time(X509_get0_notBefore(x), &now);
    int na = X509_cmp_time(X509_get0_notAfter(x), &now);

    cert_subject(x, subj, sizeof(subj));
    /* X509_cmp_time: -1 at or before now, 1 after, 0 when the time cannot be read. */
    if (nb == 0 || na == 0)
        return mp_errf(e, MP_ERR_PARSE, "certificate %s has an unreadable validity period", subj);
    if (nb > 0)
        return mp_errf(e, MP_ERR_POLICY, "certificate %s is not valid yet", subj);
    if (na < 0)
        return mp_errf(e, MP_ERR_POLICY, "certificate %s has expired", subj);
    return MP_OK;
}

enum mp_err
cert_seconds_left(X509 *x, time_t now, long long *secs)
{
    ASN1_TIME *t = ASN1_TIME_set(NULL, now);
    int days = 0, rest = 0, ok;

    ok = t != NULL && ASN1_TIME_diff(&days, &rest, t, X509_get0_notAfter(x)) == 1;
    ASN1_TIME_free(t);
    if (!ok)
        return MP_ERR_PARSE;
    *secs = (long long)days * 86400 + rest;
    return MP_OK;
}

enum mp_err
cert_load_pem_file(const char *path, STACK_OF(X509) * *out, struct mp_errmsg *e)
{
    STACK_OF(X509) *sk = NULL;
    BIO *bio = NULL;
    X509 *x;
    enum mp_err r = MP_ERR_NOMEM;

    if ((sk = sk_X509_new_null()) == NULL)
        goto out;
    if ((bio = BIO_new_file(path, "r")) == NULL) {
        r = mp_errf(e, MP_ERR_IO, "chain file %s: %s", path, strerror(errno));
        goto out;
    }
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (sk_X509_num(sk) >= MAX_CHAIN || !sk_X509_push(sk, x)) {
            X509_free(x);
            r = mp_errf(e, MP_ERR_TOOBIG, "chain file %s: more than %d certificates", path,
                MAX_CHAIN);
            goto out;
        }
    }
    ERR_clear_error(); /* the loop ends on "no start line" */
    if (sk_X509_num(sk) == 0) {
        r = mp_errf(e, MP_ERR_PARSE, "chain file %s holds no PEM certificate", path);
        goto out;
    }
    *out = sk;
    sk = NULL;
    r = MP_OK;
out:
    BIO_free(bio);
    sk_X509_pop_free(sk, X509_free);
    return r;
}

enum mp_err
cert_check_chain(X509 *leaf, STACK_OF(X509) * chain, struct mp_errmsg *e)
{
    X509 *prev = leaf, *cur;
    int i;

    for (i = 0; i < sk_X509_num(chain); i++) {
        cur = sk_X509_value(chain, i);
        if (X509_check_issued(cur, prev) != X509_V_OK ||
            X509_verify(prev, X509_get0_pubkey(cur)) != 1) {
            ERR_clear_error();
            return mp_errf(e, MP_ERR_INVALID,
                "chain certificate %d did not issue the certificate before it (x5c must run "
                "leaf, issuer, issuer's issuer)",
                i + 1);
        }
        prev = cur;
    }
    return MP_OK;
}

enum mp_err
cert_sha256_hex(X509 *x, char out[65])
{
    unsigned char md[32];
    unsigned int len = sizeof(md), i;

    if (!X509_digest(x, EVP_sha256(), md, &len) || len != 32)
        return MP_ERR_CRYPTO;
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return MP_OK;
}

enum mp_err
cert_subject(X509 *x, char *out, size_t outlen)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n;

    if (b == NULL)
        return MP_ERR_NOMEM;
    X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
    n = BIO_get_mem_data(b, &p);
    snprintf(out, outlen, "%.*s", (int)n, p != NULL ? p : "");
    BIO_free(b);
    return MP_OK;
}

enum mp_err
cert_load_file(const char *path, X509 **out, struct mp_errmsg *e)
{
    BIO *b;
    X509 *x;

    if ((b = BIO_new_file(path, "rb")) == NULL)
        return mp_errf(e, MP_ERR_IO, "certificate %s: %s", path, strerror(errno));
    x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (x == NULL) {
        ERR_clear_error();
        (void)BIO_reset(b);
        x = d2i_X509_bio(b, NULL);
    }
    BIO_free(b);
    ERR_clear_error();
    if (x == NULL)
        return mp_errf(e, MP_ERR_PARSE, "certificate %s is neither PEM nor DER X.509", path);
    *out = x;
    return MP_OK;
}
