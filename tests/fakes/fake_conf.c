/* mp-fake's config file: keyword tables for global settings and [client ID] sections. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/conf.h"
#include "common/orgno.h"
#include "tests/fakes/fake.h"

struct fake_client *
fake_client_find(struct fake *f, const char *id)
{
    size_t i;

    for (i = 0; i < f->nclients; i++)
        if (strcmp(f->clients[i].id, id) == 0)
            return &f->clients[i];
    return NULL;
}

static enum mp_err
kw_org(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    struct fake_client *c = obj;

    (void)kw;
    if (!mp_orgno_valid(v))
        return mp_errf(e, MP_ERR_INVALID, "org must be a valid organisation number");
    memcpy(c->org, v, 10);
    return MP_OK;
}

static enum mp_err
kw_jwks(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    struct fake_client *c = obj;
    json_error_t je;

    (void)kw;
    json_decref(c->jwks);
    c->jwks = json_load_file(v, JSON_REJECT_DUPLICATES, &je);
    if (c->jwks == NULL || !json_is_array(json_object_get(c->jwks, "keys")))
        return mp_errf(e, MP_ERR_PARSE, "jwks %s: not a JWKS ({\"keys\":[…]})", v);
    return MP_OK;
}

#define G(f, kind) MP_CONF_KW(struct fake, f, kind)
#define C(f) MP_CONF_KW(struct fake_client, f, MP_CONF_LIST)

static const struct mp_conf_kw global_kw[] = {
    G(listen, MP_CONF_STR),
    G(tls_cert, MP_CONF_STR),
    G(tls_key, MP_CONF_STR),
    {.name = "ca", .type = MP_CONF_STR, .offset = offsetof(struct fake, ca_file)},
    G(issuer, MP_CONF_STR),
    MP_CONF_UINT_KW(struct fake, token_lifetime, 1, 86400, NULL),
    MP_CONF_UINT_KW(struct fake, altinn_lifetime, 1, 86400, NULL),
    MP_CONF_END,
};

static const struct mp_conf_kw client_kw[] = {
    {.name = "org", .type = MP_CONF_FUNC, .parse = kw_org},
    C(scopes),
    C(consumer_orgs),
    C(systemuser_orgs),
    {.name = "jwks", .type = MP_CONF_FUNC, .parse = kw_jwks},
    MP_CONF_END,
};

static enum mp_err
client_open(void *obj, const char *name, void **out, struct mp_errmsg *e)
{
    struct fake *f = obj;
    struct fake_client *c;

    if ((c = fake_client_find(f, name)) == NULL) {
        if (f->nclients == FAKE_MAX_CLIENTS)
            return mp_errf(e, MP_ERR_INVALID, "at most %d clients", FAKE_MAX_CLIENTS);
        c = &f->clients[f->nclients++];
        snprintf(c->id, sizeof(c->id), "%s", name);
    }
    *out = c;
    return MP_OK;
}

static const struct mp_conf_schema schema = {
    .global = global_kw,
    .kind = "client",
    .section = client_kw,
    .open = client_open,
    .hint = "sections are [client CLIENT_ID]",
};

enum mp_err
fake_load(struct fake *f, const char *path, struct mp_errmsg *e)
{
    enum mp_err r;

    if (mp_conf_set_str(&f->listen, "127.0.0.1:0") != MP_OK)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    f->token_lifetime = 120;
    f->altinn_lifetime = 1800;
    if ((r = mp_conf_load_file(path, &schema, f, e)) != MP_OK)
        return r;
    if (f->issuer == NULL || f->ca_file == NULL)
        return mp_errf(e, MP_ERR_INVALID, "%s: issuer and ca are required", path);
    if ((f->trust = X509_STORE_new()) == NULL || X509_STORE_load_file(f->trust, f->ca_file) != 1) {
        ERR_clear_error();
        return mp_errf(e, MP_ERR_INVALID, "ca %s: no PEM certificates", f->ca_file);
    }
    return MP_OK;
}
