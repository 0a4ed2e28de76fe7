/* The signing certificate's expiry, read from the x5c header of the grants the signer hands
 * out: the exchange never touches the token, yet an SRE watching its /metrics sees the
 * virksomhetssertifikat run out. */
#ifndef MP_CERTEXP_H
#define MP_CERTEXP_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"

/* notAfter and subject of x5c[0] of a compact JWS. MP_ERR_NOTFOUND for a grant without x5c
 * (a kid grant), MP_ERR_PARSE for a header that is not what the signer writes. */
enum mp_err certexp_from_jws(const char *jws, time_t *not_after, char *subject, size_t subject_len);

/* The kid (header) and client_id (claim iss) of a kid grant; MP_ERR_NOTFOUND for an x5c grant.
 * Both are [A-Za-z0-9._-] only, or MP_ERR_PARSE. */
enum mp_err certexp_kid(const char *jws, char *kid, size_t kid_len, char *client_id,
    size_t client_id_len);

#endif
