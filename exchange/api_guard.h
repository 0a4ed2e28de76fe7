/* What the local HTTP API refuses before it routes a request, so that a web page in a browser
 * on the same host can neither read answers (DNS rebinding) nor make the exchange sign and call
 * upstream (a plain <img src=...>):
 *
 *   - on loopback TCP, a Host header that is not one of the exchange's own names:
 *     localhost, 127.0.0.1, [::1] and the listen host, each with the bound port (bare only on
 *     port 80), plus allowed_hosts entries  → 421
 *   - an Origin header, or Sec-Fetch-Site other than "none"  → 403
 *   - a token request without the header X-MP-Exchange (any value): a browser cannot send a
 *     custom header cross-origin without a CORS preflight, which is never answered  → 403
 *
 * The POST routes of api_oauth.h are not token_route here: OAuth2 libraries cannot be told to
 * send X-MP-Exchange, and a browser sends Origin with every POST (Fetch standard), refused above.
 *
 * The Unix socket skips the Host check only: a browser cannot reach it, and HTTP clients put
 * anything there (curl sends "localhost", others the socket path). */
#ifndef MP_API_GUARD_H
#define MP_API_GUARD_H

#include "common/err.h"
#include "exchange/pipeline.h"

#define API_GUARD_HEADER "X-MP-Exchange"

struct api_guard;

/* listen_host is the host part of listen ("127.0.0.1", "localhost", "[::1]"); allowed_hosts
 * is the config's space-separated list (NULL: none). */
enum mp_err api_guard_new(const char *listen_host, unsigned int port, const char *allowed_hosts,
    struct api_guard **out, struct mp_errmsg *e);
void api_guard_free(struct api_guard *g);

/* The request's headers (NULL when absent) and where it came from. MP_OK lets it through;
 * MP_ERR_POLICY fills err with the status and a description that echoes no header value. */
struct api_guard_req {
    int tcp; /* came over loopback TCP, not the Unix socket */
    int token_route; /* /v1/maskinporten or /v1/altinn */
    const char *host, *origin, *sec_fetch_site, *marker;
};
enum mp_err api_guard_check(const struct api_guard *g, const struct api_guard_req *rq,
    struct xerr *err);

/* One allowed_hosts word: a DNS name, an IPv4 address or a bracketed IPv6 address, optionally
 * ":PORT". */
int api_guard_host_valid(const char *word, size_t len);

#endif
