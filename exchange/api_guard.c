/* The browser defences in front of the HTTP API: Host allow-list, Origin / Sec-Fetch-Site
 * refusal and the X-MP-Exchange header (api_guard.h). */
#include "exchange/api_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GUARD_MAX_HOSTS 40
#define GUARD_HOST_MAX 270 /* a 253-character name, ':' and a port */

struct api_guard {
    size_t n;
    char host[GUARD_MAX_HOSTS][GUARD_HOST_MAX];
};

static int
name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
        ch == '.' || ch == '-';
}

/* NAME or [V6] then optionally :PORT with PORT in 1..65535. */
int
api_guard_host_valid(const char *w, size_t len)
{
    size_t i = 0, name_end;
    unsigned long port = 0;

    if (len == 0 || len >= GUARD_HOST_MAX - 7)
        return 0;
    if (w[0] == '[') {
        for (i = 1; i < len && w[i] != ']'; i++)
            if (!((w[i] >= '0' && w[i] <= '9') || (w[i] >= 'a' && w[i] <= 'f') ||
                    (w[i] >= 'A' && w[i] <= 'F') || w[i] == ':' || w[i] == '.'))
                return 0;
        if (i == len || i == 1)
            return 0;
        name_end = ++i;
    } else {
        while (i < len && name_char(w[i]))
            i++;
        name_end = i;
    }
    if (name_end == 0 || w[0] == '.' || w[0] == '-')
        return 0;
    if (i == len)
        return 1;
    if (w[i++] != ':' || i == len || len - i > 5)
        return 0;
    for (; i < len; i++) {
        if (w[i] < '0' || w[i] > '9')
            return 0;
        port = port * 10 + (unsigned long)(w[i] - '0');
    }
    return port >= 1 && port <= 65535;
}

static enum mp_err
guard_add(struct api_guard *g, const char *host, size_t len, struct mp_errmsg *e)
{
    size_t i;

    for (i = 0; i < g->n; i++)
        if (strlen(g->host[i]) == len && strncasecmp(g->host[i], host, len) == 0)
            return MP_OK;
    if (g->n == GUARD_MAX_HOSTS)
        return mp_errf(e, MP_ERR_TOOBIG, "allowed_hosts: at most %d names", GUARD_MAX_HOSTS - 8);
    memcpy(g->host[g->n], host, len);
    g->host[g->n++][len] = '\0';
    return MP_OK;
}

/* A name as a browser would write it in Host for this port: with ":PORT", bare on port 80. */
static enum mp_err
guard_add_name(struct api_guard *g, const char *name, size_t len, unsigned int port,
    struct mp_errmsg *e)
{
    char h[GUARD_HOST_MAX];
    int n = snprintf(h, sizeof(h), "%.*s:%u", (int)len, name, port);
    enum mp_err r;

    if (n < 0 || (size_t)n >= sizeof(h))
        return mp_errf(e, MP_ERR_INVALID, "allowed_hosts: name too long");
    if ((r = guard_add(g, h, (size_t)n, e)) != MP_OK || port != 80)
        return r;
    return guard_add(g, name, len, e);
}

/* One allowed_hosts word: with a port it is matched as written, without one like the
 * built-in names. */
static enum mp_err
guard_add_word(struct api_guard *g, const char *w, size_t len, unsigned int port,
    struct mp_errmsg *e)
{
    const char *close = memchr(w, ']', len);
    const char *colon =
        memchr(close != NULL ? close : w, ':', len - (size_t)((close ? close : w) - w));

    if (!api_guard_host_valid(w, len))
        return mp_errf(e, MP_ERR_INVALID,
            "allowed_hosts: \"%.*s\" is not NAME[:PORT] (a DNS name, an address or [IPv6])",
            (int)(len > 64 ? 64 : len), w);
    if (colon != NULL)
        return guard_add(g, w, len, e);
    return guard_add_name(g, w, len, port, e);
}

enum mp_err
api_guard_new(const char *listen_host, unsigned int port, const char *allowed_hosts,
    struct api_guard **out, struct mp_errmsg *e)
{
    static const char *const builtin[] = {"localhost", "127.0.0.1", "[::1]"};
    struct api_guard *g = calloc(1, sizeof(*g));
    const char *p = allowed_hosts;
    enum mp_err r = MP_OK;
    size_t i, len;

    if (g == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    for (i = 0; r == MP_OK && i < sizeof(builtin) / sizeof(builtin[0]); i++)
        r = guard_add_name(g, builtin[i], strlen(builtin[i]), port, e);
    if (r == MP_OK && listen_host != NULL)
        r = guard_add_name(g, listen_host, strlen(listen_host), port, e);
    while (r == MP_OK && p != NULL && *(p += strspn(p, " \t")) != '\0') {
        len = strcspn(p, " \t");
        r = guard_add_word(g, p, len, port, e);
        p += len;
    }
    if (r != MP_OK) {
        free(g);
        return r;
    }
    *out = g;
    return MP_OK;
}

void
api_guard_free(struct api_guard *g)
{
    free(g);
}

static int
host_allowed(const struct api_guard *g, const char *host)
{
    size_t i;

    for (i = 0; host != NULL && i < g->n; i++)
        if (strcasecmp(g->host[i], host) == 0)
            return 1;
    return 0;
}

enum mp_err
api_guard_check(const struct api_guard *g, const struct api_guard_req *rq, struct xerr *err)
{
    if (rq->tcp && !host_allowed(g, rq->host)) {
        xerr_set(err, 421, "invalid_request",
            rq->host == NULL ? "no Host header: send Host: 127.0.0.1:PORT (or localhost:PORT)"
                             : "Host is not a name of this exchange (localhost, 127.0.0.1, [::1] "
                               "with its port, or allowed_hosts)");
        return MP_ERR_POLICY;
    }
    if (rq->origin != NULL ||
        (rq->sec_fetch_site != NULL && strcmp(rq->sec_fetch_site, "none") != 0)) {
        xerr_set(err, 403, "access_denied",
            "requests from web pages are refused (Origin or Sec-Fetch-Site header)");
        return MP_ERR_POLICY;
    }
    if (rq->token_route && (rq->marker == NULL || rq->marker[0] == '\0')) {
        xerr_set(err, 403, "access_denied",
            "token requests must carry the header " API_GUARD_HEADER " (any value)");
        return MP_ERR_POLICY;
    }
    return MP_OK;
}
