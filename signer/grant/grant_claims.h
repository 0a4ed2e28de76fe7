/* Maskinporten JWT-grant claims (PROTOCOL.md §2). The signer sets aud, iss, iat, exp and jti
 * itself; callers choose only scope, resource, consumer_org, the system user or a consent, and
 * pid, and nothing
 * else ever reaches the claims: Maskinporten rejects unknown claims. */
#ifndef MP_GRANT_CLAIMS_H
#define MP_GRANT_CLAIMS_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "common/err.h"

#define GRANT_MAX_RESOURCES 8
#define GRANT_MAX_SCOPES 32
#define GRANT_MAX_LIFETIME 120 /* Maskinporten: exp - iat <= 120 s */

/* A parameter bundle; every string is owned by the caller, NULL means absent. */
struct grant_request {
    const char *aud;
    const char *client_id;
    const char *scope; /* space-separated */
    const char *resources[GRANT_MAX_RESOURCES];
    size_t nresources;
    const char *consumer_org;
    const char *systemuser_org;
    const char *systemuser_ref;
    const char *person; /* the pid claim: 11 digits (common/pid.h) */
    const char *consent_id; /* an Altinn consent request id (UUID) ... */
    const char
        *consent_from; /* ... and who gave it: urn:altinn:person|organization:identifier-no:N */
    unsigned int lifetime;
};

/* Validates every field; own_org (may be NULL) is the certificate's organisation number, which
 * consumer_org must differ from. The message names the offending field. */
enum mp_err grant_request_check(const struct grant_request *g, const char *own_org,
    struct mp_errmsg *e);

/* Claims in a stable order: aud, iss, scope, iat, exp, jti, resource, consumer_org, pid,
 * authorization_details. scope is normalised to single spaces. */
enum mp_err grant_claims_json(const struct grant_request *g, time_t now, const char *jti,
    json_t **out, struct mp_errmsg *e);

/* Splits scope on spaces into a normalised copy ("a b c"); MP_ERR_INVALID names the bad token. */
enum mp_err grant_scope_normalise(const char *scope, char *out, size_t outlen, struct mp_errmsg *e);

#endif
