/* mp-exchange's keyword table, URL presets and combination checks (exchange_conf.h). */
#include "exchange/exchange_conf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/profile_name.h"
#include "common/sandbox.h"
#include "exchange/api_guard.h"

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
    /* Without it the signer's per-caller policy sees one caller, this exchange (#19). */
    c->forward_caller = 1;
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
    free(c->unix_group);
    free(c->user);
    free(c->selfservice_url);
    free(c->key_watch_profile);
    free(c->allowed_hosts);
    free(c->oauth_secrets_dir);
    free(c);
}

/* env = test|prod: presets for both URLs, which a later maskinporten_url or altinn_url line
 * overrides; printed before them, so a printed config reads back the same. */
static enum mp_err
kw_env(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    static const char *const urls[][3] = {
        {"test", "https://test.maskinporten.no/", "https://platform.tt02.altinn.no"},
        {"prod", "https://maskinporten.no/", "https://platform.altinn.no"},
    };
    struct exchange_conf *c = obj;
    size_t i;

    (void)kw;
    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
        if (strcmp(v, urls[i][0]) == 0) {
            snprintf(c->env, sizeof(c->env), "%s", v);
            if (mp_conf_set_str(&c->maskinporten_url, urls[i][1]) != MP_OK ||
                mp_conf_set_str(&c->altinn_url, urls[i][2]) != MP_OK)
                return MP_ERR_NOMEM;
            return MP_OK;
        }
    return mp_errf(e, MP_ERR_INVALID, "env must be test or prod");
}

static void
kw_env_print(FILE *f, const void *obj, const struct mp_conf_kw *kw)
{
    const struct exchange_conf *c = obj;

    mp_conf_print_value(f, kw->name, c->env[0] != '\0' ? c->env : NULL);
}

/* A signer profile name: the same charset the signer's [profile NAME] sections take. */
static enum mp_err
kw_profile(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    if (!mp_profile_name_valid(v, strlen(v)))
        return mp_errf(e, MP_ERR_INVALID,
            "profile name \"%.64s\" may hold only " MP_PROFILE_NAME_CHARS " (1..%d characters)", v,
            MP_PROFILE_NAME_MAX);
    return mp_conf_set_str(mp_conf_field(obj, kw), v);
}

/* allowed_hosts = NAME[:PORT] ...: each word checked here, so config check names a bad one. */
static enum mp_err
kw_hosts(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    const char *p = v;
    size_t len;

    while (*(p += strspn(p, " \t")) != '\0') {
        len = strcspn(p, " \t");
        if (!api_guard_host_valid(p, len))
            return mp_errf(e, MP_ERR_INVALID,
                "allowed_hosts: \"%.*s\" is not NAME[:PORT] (a DNS name, an address or [IPv6]; "
                "words separated by spaces)",
                (int)(len > 64 ? 64 : len), p);
        p += len;
    }
    return mp_conf_set_str(mp_conf_field(obj, kw), v);
}

static void
kw_str_print(FILE *f, const void *obj, const struct mp_conf_kw *kw)
{
    mp_conf_print_value(f, kw->name, *(char *const *)mp_conf_cfield(obj, kw));
}

#define S(f) MP_CONF_KW(struct exchange_conf, f, MP_CONF_STR)
#define N(f, lo, hi) MP_CONF_UINT_KW(struct exchange_conf, f, lo, hi, NULL)

static const struct mp_conf_kw exchange_kw[] = {
    {.name = "env", .type = MP_CONF_FUNC, .parse = kw_env, .print = kw_env_print},
    S(maskinporten_url),
    S(altinn_url),
    S(ca_file),
    S(signer_socket),
    S(listen),
    S(listen_unix),
    MP_CONF_YESNO_KW(struct exchange_conf, forward_caller),
    N(connect_timeout_ms, 100, 60000),
    N(timeout_ms, 100, 120000),
    N(retries, 0, 5),
    N(threads, 1, 64),
    MP_CONF_KW(struct exchange_conf, unix_mode, MP_CONF_MODE),
    S(unix_group),
    S(user),
    MP_SANDBOX_KW(struct exchange_conf, sandbox),
    S(selfservice_url),
    {.name = "key_watch_profile",
        .type = MP_CONF_FUNC,
        .offset = offsetof(struct exchange_conf, key_watch_profile),
        .parse = kw_profile,
        .print = kw_str_print},
    N(key_watch_interval_s, 1, 86400),
    {.name = "allowed_hosts",
        .type = MP_CONF_FUNC,
        .offset = offsetof(struct exchange_conf, allowed_hosts),
        .parse = kw_hosts,
        .print = kw_str_print},
    S(oauth_secrets_dir),
    MP_CONF_END,
};

const struct mp_conf_schema exchange_conf_schema = {
    .global = exchange_kw,
    .hint = "mp-exchange takes no sections",
};

enum mp_err
exchange_conf_set(struct exchange_conf *c, const char *key, const char *v, struct mp_errmsg *e)
{
    return mp_conf_set(exchange_kw, c, key, v, e);
}

enum mp_err
exchange_conf_load(struct exchange_conf *c, const char *path, struct mp_errmsg *e)
{
    return mp_conf_load_file(path, &exchange_conf_schema, c, e);
}

void
exchange_conf_print(FILE *f, const struct exchange_conf *c)
{
    mp_conf_print(f, &exchange_conf_schema, c);
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
