/* mp-exchange configuration (same syntax as the signer's, common/conf.h):
 *
 *     env              = test | prod          presets for the two URLs below
 *     maskinporten_url = https://test.maskinporten.no/   token endpoint = this + "token"
 *     altinn_url       = https://platform.tt02.altinn.no
 *     ca_file          = /etc/ssl/private-ca.pem   (default: the system store)
 *     signer_socket    = /run/mp-signer/signer.sock
 *     listen           = 127.0.0.1:8471            (loopback TCP) and/or
 *     listen_unix      = /run/mp-exchange/exchange.sock
 *     connect_timeout_ms = 3000, timeout_ms = 10000, retries = 2, threads = 8
 *     allowed_hosts    = exchange.internal:8471   Host names besides the loopback ones
 *     forward_caller   = yes | no               name each caller to the signer (default yes)
 *     oauth_secrets_dir = /etc/mp-exchange/oauth  client secrets of the OAuth2 route, a file a
 *                                                 client (profile) named like it
 *
 * http:// URLs are accepted only for loopback hosts (a local fake); everything else must be
 * https:// and is verified. */
#ifndef MP_EXCHANGE_CONF_H
#define MP_EXCHANGE_CONF_H

#include <stdio.h>

#include "common/conf.h"
#include "common/err.h"

struct exchange_conf {
    char *maskinporten_url;
    char *altinn_url;
    char *ca_file;
    char *signer_socket;
    char *listen; /* host:port */
    char *listen_unix;
    unsigned int connect_timeout_ms;
    unsigned int timeout_ms;
    unsigned int retries;
    unsigned int threads;
    unsigned int unix_mode;
    char *unix_group; /* the listen_unix socket's group, so its members may connect */
    char *user; /* started as root: become this user before serving */
    int sandbox; /* enum mp_sandbox_mode: enforce (default), log, off */
    char env[8]; /* the last env = (test|prod), "" if none */
    char *selfservice_url; /* Digdir's self-service API (clients collection or its base) */
    /* serve: the signer profile whose client holds idporten:dcr.read; set, the exchange reads
     * the registered keys behind its kid grants every key_watch_interval_s for their expiry. */
    char *key_watch_profile;
    unsigned int key_watch_interval_s;
    /* Host header names the TCP API answers to besides localhost, 127.0.0.1, [::1] and the
     * listen host (api_guard.h); space-separated NAME[:PORT]. */
    char *allowed_hosts;
    /* yes: every token request names its caller to the signer (SO_PEERCRED on listen_unix,
     * the socket table's uid on TCP); the signer must list this exchange in trusted_forwarders. */
    int forward_caller;
    /* POST /oauth2/token: DIR/CLIENT_ID holds that client's secret (an owner-only file, as a
     * PIN file); a client without one is named by its caller alone (forward_caller). */
    char *oauth_secrets_dir;
};

struct exchange_conf *exchange_conf_new(void);
void exchange_conf_free(struct exchange_conf *c);
enum mp_err exchange_conf_load(struct exchange_conf *c, const char *path, struct mp_errmsg *e);
/* Sets one key as the config file would (flags use it too). */
enum mp_err exchange_conf_set(struct exchange_conf *c, const char *key, const char *value,
    struct mp_errmsg *e);
/* Writes the effective configuration (defaults filled in), one "key = value" a line in the
 * file's syntax (mp-exchange config check). */
void exchange_conf_print(FILE *f, const struct exchange_conf *c);
/* The keyword table behind load, set and print (common/conf.h), for mp-exchange config check. */
extern const struct mp_conf_schema exchange_conf_schema;
/* Checks the combination: URLs present and acceptable, something to listen on if serve. */
enum mp_err exchange_conf_check(const struct exchange_conf *c, int serve, struct mp_errmsg *e);
/* True for http(s) URLs whose host is 127.0.0.0/8, ::1 or localhost. */
int exchange_conf_url_loopback(const char *url);

#endif
