/* The drop-in token routes, for applications that already speak a standard:
 *
 *   POST /oauth2/token         RFC 6749 §4.4 client credentials → a Maskinporten token
 *   POST /oauth2/altinn/token  the same → the Altinn token exchanged from it
 *   POST /api/v1/token         nais/texas's API, identity_provider "maskinporten"
 *   POST /api/v1/introspect    TEXAS's introspection, of tokens this exchange handed out
 *   GET  /.well-known/oauth-authorization-server   RFC 8414 metadata
 *
 * The OAuth2 client is a signer profile: client_id names it, authenticated by its secret in
 * oauth_secrets_dir when it has one, else by the caller's uid alone (forward_caller), which the
 * signer checks against the profile. TEXAS requests use the default profile. Answers and errors
 * are RFC 6749 §5.1/§5.2 shaped (TEXAS: its own subset). */
#ifndef MP_API_OAUTH_H
#define MP_API_OAUTH_H

#include <stddef.h>

#include <jansson.h>

#include "exchange/exchange.h"
#include "exchange/token_req.h"

enum oauth_route {
    OAUTH_MASKINPORTEN,
    OAUTH_ALTINN,
    OAUTH_TEXAS, /* from here on: TEXAS's bodies (JSON or form) */
    OAUTH_INTROSPECT,
};

/* The request as HTTP brought it; NULL for an absent header. */
struct oauth_http {
    const char *content_type;
    const char *authorization;
    const char *body;
    size_t len;
};

/* The answer to send: status, JSON body (NULL on allocation failure), and whether a 401 carries
 * WWW-Authenticate: Basic (RFC 6749 §5.2). */
struct oauth_answer {
    unsigned int status;
    json_t *body;
    int challenge;
};

/* who: the end caller (forward_caller), or NULL. */
void oauth_token(struct exchange *x, enum oauth_route route, const struct token_caller *who,
    const struct oauth_http *in, struct oauth_answer *out);

/* POST /api/v1/introspect. */
void oauth_introspect(struct exchange *x, const struct oauth_http *in, struct oauth_answer *out);

/* RFC 8414 metadata for an exchange reached as http://HOST (the request's checked Host). */
json_t *oauth_metadata(const char *host);

#endif
