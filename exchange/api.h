/* The local HTTP API of mp-exchange (libmicrohttpd, thread pool), on loopback TCP and/or a
 * Unix socket:
 *   GET /v1/maskinporten?scope=…[&profile=…][&resource=…]*[&consumer_org=…][&systemuser_org=…]
 *       [&systemuser_ref=…]  → {"access_token","token_type","expires_in","scope"}
 *   GET /v1/altinn?…same…    → {"access_token","token_type":"Bearer","expires_in"}
 *   GET /healthz, /readyz (signer answers PING, last upstream call did not fail), /metrics
 * Errors are JSON {error, error_description[, error_uri, mp_code]}, never an empty 500.
 * Before routing, api_guard.h refuses what a browser would send (Host, Origin, the
 * X-MP-Exchange header on token requests). */
#ifndef MP_API_H
#define MP_API_H

#include "exchange/exchange.h"

struct api;

enum mp_err api_start(struct exchange *x, struct api **out, struct mp_errmsg *e);
/* Stops accepting, finishes requests in progress, removes the Unix socket. */
void api_stop(struct api *a);

#endif
