/* Compact JWS (RFC 7515) for RS256/RS384/RS512 grants: header, signing input, signature
 * append, and the self-check of a finished JWS against a public key. */
#ifndef MP_JWS_H
#define MP_JWS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/buf.h"

/* A grant with an x5c chain of three RSA-4096 certificates stays under 12 KiB. */
#define JWS_MAX (16 * 1024)

enum jws_alg {
    JWS_RS256 = 256,
    JWS_RS384 = 384,
    JWS_RS512 = 512,
};

/* "RS256" → JWS_RS256; MP_ERR_INVALID for anything else (no PS*, ES*, none). */
enum mp_err jws_alg_parse(const char *s, enum jws_alg *out);
const char *jws_alg_name(enum jws_alg alg);

/* {"alg":…,"kid":…} when kid is set, else {"alg":…,"x5c":[leaf, chain…]} with standard
 * base64 DER (RFC 7515 §4.1.6). Exactly one of kid and leaf must be given. */
enum mp_err jws_header_json(enum jws_alg alg, const char *kid, X509 *leaf, STACK_OF(X509) * chain,
    json_t **out, struct mp_errmsg *e);

/* Appends base64url(compact header) "." base64url(compact claims) to out. */
enum mp_err jws_signing_input(const json_t *header, const json_t *claims, struct mp_buf *out,
    struct mp_errmsg *e);

/* Appends "." base64url(sig). */
enum mp_err jws_append_signature(struct mp_buf *out, const unsigned char *sig, size_t siglen);

/* Verifies a compact JWS's RSASSA-PKCS1-v1_5 signature with pub. */
enum mp_err jws_verify(const char *jws, size_t len, enum jws_alg alg, EVP_PKEY *pub,
    struct mp_errmsg *e);
/* A signature check prepared once for a key and alg; threads may share one. */
struct jws_verifier;
enum mp_err jws_verifier_new(enum jws_alg alg, EVP_PKEY *pub, struct jws_verifier **out,
    struct mp_errmsg *e);
/* Verifies sig over the signing input as it went to the token, before it is encoded. */
enum mp_err jws_verifier_check(const struct jws_verifier *v, const void *input, size_t inlen,
    const unsigned char *sig, size_t siglen, struct mp_errmsg *e);
void jws_verifier_free(struct jws_verifier *v);

/* kid is a printable, quote-free string of at most 128 characters. */
int jws_kid_valid(const char *kid);

#endif
