#include "exchange/exchange_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/num.h"
#include "common/sandbox.h"

struct exchange_conf *
exchange_conf_new(void)
{
    struct exchange_conf *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->connect_timeout_ms = 3000;
    c->timeout_ms = 10000;
    c->retries = 2;
    c->threads = 8;
    c->unix_mode = 0660;
    c->key_watch_interval_s = 3600;
    return c;
}

void
exchange_conf_free(struct exchange_conf *c)
{
    if (c == NULL)
        return;
    free(c->maskinporten_url);
    free(c->altinn_url);
    free(c->ca_file);
    free(c->signer_socket);
    free(c->listen);
    free(c->listen_unix);
    free(c->user);
    free(c->selfservice_url);
    free(c->key_watch_profile);
    free(c);
}

static enum mp_err
set_str(char **slot, const char *v, struct mp_errmsg *e)
{
    char *n = strdup(v);

    if (n == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    free(*slot);
    *slot = n;
    return MP_OK;
}

static enum mp_err
set_num(unsigned int *slot, const char *key, const char *v, uint64_t lo, uint64_t hi,
    struct mp_errmsg *e)
{
    uint64_t n;

    if (mp_parse_u64(v, lo, hi, &n) != MP_OK)
        return mp_errf(e, MP_ERR_INVALID, "%s must be %llu..%llu", key, (unsigned long long)lo,
            (unsigned long long)hi);
    *slot = (unsigned int)n;
    return MP_OK;
}

static enum mp_err
set_env(struct exchange_conf *c, const char *v, struct mp_errmsg *e)
{
    enum mp_err r;

    if (strcmp(v, "test") == 0 || strcmp(v, "prod") == 0)
        snprintf(c->env, sizeof(c->env), "%s", v);
    if (strcmp(v, "test") == 0) {
        if ((r = set_str(&c->maskinporten_url, "https://test.maskinporten.no/", e)) != MP_OK)
            return r;
        return set_str(&c->altinn_url, "https://platform.tt02.altinn.no", e);
    }
    if (strcmp(v, "prod") == 0) {
        if ((r = set_str(&c->maskinporten_url, "https://maskinporten.no/", e)) != MP_OK)
            return r;
        return set_str(&c->altinn_url, "https://platform.altinn.no", e);
    }
    return mp_errf(e, MP_ERR_INVALID, "env must be test or prod");
}

enum mp_err
exchange_conf_set(struct exchange_conf *c, const char *key, const char *v, struct mp_errmsg *e)
{
    if (strcmp(key, "env") == 0)
        return set_env(c, v, e);
    if (strcmp(key, "maskinporten_url") == 0)
        return set_str(&c->maskinporten_url, v, e);
    if (strcmp(key, "altinn_url") == 0)
        return set_str(&c->altinn_url, v, e);
    if (strcmp(key, "ca_file") == 0)
        return set_str(&c->ca_file, v, e);
    if (strcmp(key, "signer_socket") == 0)
        return set_str(&c->signer_socket, v, e);
    if (strcmp(key, "listen") == 0)
        return set_str(&c->listen, v, e);
    if (strcmp(key, "listen_unix") == 0)
        return set_str(&c->listen_unix, v, e);
    if (strcmp(key, "connect_timeout_ms") == 0)
        return set_num(&c->connect_timeout_ms, key, v, 100, 60000, e);
    if (strcmp(key, "timeout_ms") == 0)
        return set_num(&c->timeout_ms, key, v, 100, 120000, e);
    if (strcmp(key, "retries") == 0)
        return set_num(&c->retries, key, v, 0, 5, e);
    if (strcmp(key, "threads") == 0)
        return set_num(&c->threads, key, v, 1, 64, e);
    if (strcmp(key, "unix_mode") == 0)
        return mp_parse_mode(v, &c->unix_mode) == MP_OK
            ? MP_OK
            : mp_errf(e, MP_ERR_INVALID, "unix_mode must be octal such as 0660");
    if (strcmp(key, "user") == 0)
        return set_str(&c->user, v, e);
    if (strcmp(key, "sandbox") == 0)
        return mp_sandbox_mode_parse(v, &c->sandbox, e);
    if (strcmp(key, "selfservice_url") == 0)
        return set_str(&c->selfservice_url, v, e);
    if (strcmp(key, "key_watch_profile") == 0)
        return set_str(&c->key_watch_profile, v, e);
    if (strcmp(key, "key_watch_interval_s") == 0)
        return set_num(&c->key_watch_interval_s, key, v, 1, 86400, e);
    return mp_errf(e, MP_ERR_PARSE, "unknown setting \"%.64s\"", key);
}

static enum mp_err
exchange_conf_cb(void *arg, const char *section, const char *name, const char *key,
    const char *value, struct mp_errmsg *e)
{
    (void)name;
    if (*section != '\0' || key == NULL)
        return mp_errf(e, MP_ERR_PARSE, "mp-exchange takes no [%.32s] sections", section);
    return exchange_conf_set(arg, key, value, e);
}

enum mp_err
exchange_conf_load(struct exchange_conf *c, const char *path, struct mp_errmsg *e)
{
    return mp_conf_parse_file(path, exchange_conf_cb, c, e);
}

int
exchange_conf_url_loopback(const char *url)
{
    const char *h = strstr(url, "://"), *end;
    size_t n, i;

    if (h == NULL)
        return 0;
    h += 3;
    if (strncmp(h, "[::1]", 5) == 0)
        return h[5] == '\0' || h[5] == ':' || h[5] == '/';
    end = h + strcspn(h, ":/?#");
    n = (size_t)(end - h);
    if (n == 9 && strncmp(h, "localhost", 9) == 0)
        return 1;
    /* A dotted-decimal address in 127.0.0.0/8, nothing that merely starts like one. */
    if (n < 9 || strncmp(h, "127.", 4) != 0)
        return 0;
    for (i = 0; i < n; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || h[i] == '.'))
            return 0;
    return 1;
}

static enum mp_err
check_url(const char *what, const char *url, struct mp_errmsg *e)
{
    if (url == NULL)
        return mp_errf(e, MP_ERR_INVALID, "%s is not set (env = test|prod, or the URL)", what);
    if (strncmp(url, "https://", 8) == 0 && url[8] != '\0')
        return MP_OK;
    if (strncmp(url, "http://", 7) == 0 && exchange_conf_url_loopback(url))
        return MP_OK;
    return mp_errf(e, MP_ERR_INVALID, "%s %s: only https:// (or http:// to loopback)", what, url);
}

enum mp_err
exchange_conf_check(const struct exchange_conf *c, int serve, struct mp_errmsg *e)
{
    enum mp_err r;

    if ((r = check_url("maskinporten_url", c->maskinporten_url, e)) != MP_OK ||
        (r = check_url("altinn_url", c->altinn_url, e)) != MP_OK)
        return r;
    if (c->signer_socket == NULL)
        return mp_errf(e, MP_ERR_INVALID, "signer_socket is not set");
    if (serve && c->listen == NULL && c->listen_unix == NULL)
        return mp_errf(e, MP_ERR_INVALID, "nothing to listen on: set listen or listen_unix");
    return MP_OK;
}
