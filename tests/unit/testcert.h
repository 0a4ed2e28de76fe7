/* In-memory RSA keys and X.509 certificates for the jws and cert unit tests. */
#ifndef MP_TESTCERT_H
#define MP_TESTCERT_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct tc_spec {
    const char *cn; /* subject commonName */
    const char *org_id; /* organizationIdentifier (2.5.4.97), NULL for none */
    const char *serial; /* subject serialNumber (2.5.4.5), NULL for none */
    time_t not_before; /* both 0: from an hour ago for thirty days */
    time_t not_after;
    X509 *issuer; /* NULL: self-signed with the subject's own key */
    EVP_PKEY *issuer_key;
    int ca; /* basicConstraints CA:TRUE and keyCertSign */
    int no_akid; /* leave out authorityKeyIdentifier: the issuer is matched by name only */
};

/* An RSA key of this many bits; NULL on failure. */
EVP_PKEY *tc_rsa_key(unsigned int bits);
/* A v3 certificate for key's public half, signed with SHA-256; NULL on failure. */
X509 *tc_cert(EVP_PKEY *key, const struct tc_spec *s);

#endif
