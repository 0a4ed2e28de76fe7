/* The public half of a signing key as a JWK (RFC 7517), the form Maskinporten's self-service
 * API registers, with the RFC 7638 thumbprint as its default kid. Only RSA: Maskinporten takes
 * RS256/RS384/RS512 grants and nothing else. */
#ifndef MP_JWK_H
#define MP_JWK_H

#include <jansson.h>
#include <openssl/evp.h>

#include "common/err.h"

#define JWK_KID_MAX 64 /* Digdir: alphanumerics and "._-"; an RFC 7638 SHA-256 is 43 */

/* The RFC 7638 thumbprint (SHA-256, base64url, 43 characters) of an RSA public key, into
 * out[JWK_KID_MAX + 1]. */
enum mp_err jwk_thumbprint(EVP_PKEY *pub, char *out, struct mp_errmsg *e);

/* MP_OK if kid is 1..JWK_KID_MAX of [A-Za-z0-9._-]; otherwise e names the first bad byte. */
enum mp_err jwk_kid_check(const char *kid, struct mp_errmsg *e);

/* {"kty":"RSA","use":"sig","alg":alg,"kid":kid,"n":…,"e":…}; kid NULL means the thumbprint. */
enum mp_err jwk_from_pkey(EVP_PKEY *pub, const char *kid, const char *alg, json_t **out,
    struct mp_errmsg *e);

#endif
