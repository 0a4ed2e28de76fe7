/* What a grant says about its key, read by the exchange, which never touches the token: an x5c
 * grant carries the signing certificate, whose expiry an SRE wants in /metrics; a kid grant
 * names the key registered at Digdir (kid, and the client it belongs to in iss). */
#ifndef MP_CERTEXP_H
#define MP_CERTEXP_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"

struct grant_key {
    int x5c; /* 1: not_after and subject of x5c[0]; 0: kid and client_id */
    time_t not_after;
    char subject[256];
    char kid[65];
    char client_id[64];
};

/* Reads the grant's header once (and, for a kid grant, its claims). MP_ERR_PARSE for a grant
 * that is not what the signer writes, or whose kid or iss is not a self-service id. */
enum mp_err certexp_read(const char *jws, struct grant_key *out);

#endif
