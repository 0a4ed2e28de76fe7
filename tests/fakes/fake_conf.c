#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/conf.h"
#include "common/num.h"
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
set_str(char **slot, const char *v, struct mp_errmsg *e)
{
    free(*slot);
    if ((*slot = strdup(v)) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    return MP_OK;
}

static enum mp_err
client_kw(struct fake_client *c, const char *key, const char *v, struct mp_errmsg *e)
{
    json_error_t je;

    if (strcmp(key, "org") == 0) {
        if (!mp_orgno_valid(v))
            return mp_errf(e, MP_ERR_INVALID, "org must be a valid organisation number");
        memcpy(c->org, v, 10);
        return MP_OK;
    }
    if (strcmp(key, "scopes") == 0)
        return set_str(&c->scopes, v, e);
    if (strcmp(key, "consumer_orgs") == 0)
        return set_str(&c->consumer_orgs, v, e);
    if (strcmp(key, "systemuser_orgs") == 0)
        return set_str(&c->systemuser_orgs, v, e);
    if (strcmp(key, "jwks") == 0) {
        json_decref(c->jwks);
        c->jwks = json_load_file(v, JSON_REJECT_DUPLICATES, &je);
        if (c->jwks == NULL || !json_is_array(json_object_get(c->jwks, "keys")))
            return mp_errf(e, MP_ERR_PARSE, "jwks %s: not a JWKS ({\"keys\":[…]})", v);
        return MP_OK;
    }
    return mp_errf(e, MP_ERR_PARSE, "unknown client setting \"%.64s\"", key);
}

static enum mp_err
global_kw(struct fake *f, const char *key, const char *v, struct mp_errmsg *e)
{
    uint64_t n;

    if (strcmp(key, "listen") == 0) {
        snprintf(f->listen, sizeof(f->listen), "%s", v);
        return MP_OK;
    }
    if (strcmp(key, "tls_cert") == 0)
        return set_str(&f->tls_cert, v, e);
    if (strcmp(key, "tls_key") == 0)
        return set_str(&f->tls_key, v, e);
    if (strcmp(key, "ca") == 0)
        return set_str(&f->ca_file, v, e);
    if (strcmp(key, "issuer") == 0)
        return set_str(&f->issuer, v, e);
    if (strcmp(key, "token_lifetime") == 0 || strcmp(key, "altinn_lifetime") == 0) {
        if (mp_parse_u64(v, 1, 86400, &n) != MP_OK)
            return mp_errf(e, MP_ERR_INVALID, "%s must be 1..86400", key);
        *(key[0] == 't' ? &f->token_lifetime : &f->altinn_lifetime) = (long)n;
        return MP_OK;
    }
    return mp_errf(e, MP_ERR_PARSE, "unknown setting \"%.64s\"", key);
}

static enum mp_err
conf_cb(void *arg, const char *section, const char *name, const char *key, const char *value,
    struct mp_errmsg *e)
{
    struct fake *f = arg;
    struct fake_client *c;

    if (*section == '\0' && key != NULL)
        return global_kw(f, key, value, e);
    if (strcmp(section, "client") != 0 || *name == '\0')
        return mp_errf(e, MP_ERR_PARSE, "sections are [client CLIENT_ID]");
    if ((c = fake_client_find(f, name)) == NULL) {
        if (f->nclients == FAKE_MAX_CLIENTS)
            return mp_errf(e, MP_ERR_INVALID, "at most %d clients", FAKE_MAX_CLIENTS);
        c = &f->clients[f->nclients++];
        snprintf(c->id, sizeof(c->id), "%s", name);
    }
    return key == NULL ? MP_OK : client_kw(c, key, value, e);
}

enum mp_err
fake_load(struct fake *f, const char *path, struct mp_errmsg *e)
{
    enum mp_err r;

    snprintf(f->listen, sizeof(f->listen), "127.0.0.1:0");
    f->token_lifetime = 120;
    f->altinn_lifetime = 1800;
    if ((r = mp_conf_parse_file(path, conf_cb, f, e)) != MP_OK)
        return r;
    if (f->issuer == NULL || f->ca_file == NULL)
        return mp_errf(e, MP_ERR_INVALID, "%s: issuer and ca are required", path);
    if ((f->trust = X509_STORE_new()) == NULL || X509_STORE_load_file(f->trust, f->ca_file) != 1) {
        ERR_clear_error();
        return mp_errf(e, MP_ERR_INVALID, "ca %s: no PEM certificates", f->ca_file);
    }
    return MP_OK;
}
