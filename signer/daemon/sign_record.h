/* The audit record of one sign decision, built whole or not at all: a record missing a field
 * (out of memory, or a string jansson refuses) is never written. Caller-supplied strings
 * (the caller's executable, the profile, the request's fields, the reason) are stored through
 * mp_text_escape, so bytes that are not UTF-8 text show as \xNN instead of dropping the field. */
#ifndef MP_SIGN_RECORD_H
#define MP_SIGN_RECORD_H

#include <jansson.h>

#include "common/secret.h"
#include "signer/daemon/policy.h"
#include "signer/grant/grant.h"
#include "signer/grant/grant_claims.h"

struct sign_record {
    const char *outcome; /* granted, refused, error */
    const char *reason; /* NULL when granted */
    const struct peer *who; /* the caller the decision is for */
    const struct peer *forwarder; /* the peer that forwarded the request for who, or NULL */
    const char *profile;
    const char *client_id, *key, *cert_sha256; /* NULL: JSON null */
    const struct grant_request *g;
    const struct grant_info *info; /* info->jti "" when nothing was signed */
    /* audit_person_key_file's key: a pid, and the person a consent is from, are recorded only
     * as their HMAC (audit_format.h); without a key, only that one was withheld. */
    const struct mp_secret *person_key;
};

/* The record (event "sign", fields in audit_format.h's order), or NULL if any part of it
 * could not be made. */
json_t *sign_record_build(const struct sign_record *r);

/* The smallest record of a decision whose full record could not be built: an error naming
 * the caller by uid, gid and pid. NULL if even that cannot be made. */
json_t *sign_record_unbuilt(const struct peer *who);

#endif
