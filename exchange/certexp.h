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
enum mp_err certexp_from_jws(const char *jws, time_t *not_after, char *subject,
    size_t subject_len);

#endif
