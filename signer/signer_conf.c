#include "signer/signer_conf.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/num.h"
#include "common/sandbox.h"

#define DEFAULT_LIFETIME 60

struct signer_conf *
signer_conf_new(void)
{
    struct signer_conf *c = calloc(1, sizeof(*c));

    if (c != NULL) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        c->socket_mode = 0660;
        /* One signing worker per core saturates a CPU-bound token (SoftHSM); a network HSM
         * with its own parallelism wants more: set workers. */
        c->workers = n < 2 ? 2 : n > 16 ? 16 : (unsigned int)n;
    }
    return c;
}

static void
profile_free(struct signer_conf_profile *p)
{
    if (p == NULL)
        return;
    free(p->key);
    free(p->client_id);
    free(p->aud);
    free(p->scopes);
    free(p->kid);
    free(p->chain);
    free(p->resources);
    free(p->consumer_orgs);
    free(p->systemuser_orgs);
    free(p);
}

void
signer_conf_free(struct signer_conf *c)
{
    size_t i;

    if (c == NULL)
        return;
    free(c->module);
    free(c->module_init_args);
    for (i = 0; i < c->nmodule_env; i++)
        free(c->module_env[i]);
    free(c->pin_file);
    free(c->socket);
    free(c->socket_group);
    free(c->audit_log);
    free(c->audit_key);
    free(c->user);
    for (i = 0; i < c->nprofiles; i++)
        profile_free(c->profiles[i]);
    free(c);
}

enum mp_err
signer_conf_set_str(char **slot, const char *value)
{
    char *v = strdup(value);

    if (v == NULL)
        return MP_ERR_NOMEM;
    free(*slot);
    *slot = v;
    return MP_OK;
}

const char *
signer_conf_env_aud(const char *env)
{
    if (strcmp(env, "test") == 0)
        return "https://test.maskinporten.no/";
    if (strcmp(env, "prod") == 0)
        return "https://maskinporten.no/";
    return NULL;
}

struct signer_conf_profile *
signer_conf_profile(struct signer_conf *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nprofiles; i++)
        if (strcmp(c->profiles[i]->name, name) == 0)
            return c->profiles[i];
    return NULL;
}

struct signer_conf_profile *
signer_conf_profile_add(struct signer_conf *c, const char *name)
{
    struct signer_conf_profile *p;

    if (c->nprofiles >= SIGNER_CONF_MAX_PROFILES || strlen(name) >= sizeof(p->name))
        return NULL;
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return NULL;
    memcpy(p->name, name, strlen(name) + 1);
    p->alg = JWS_RS256;
    p->lifetime = DEFAULT_LIFETIME;
    p->max_lifetime = GRANT_MAX_LIFETIME;
    c->profiles[c->nprofiles++] = p;
    return p;
}

/* Space-separated user names or numeric ids. */
static enum mp_err
parse_ids(const char *value, int group, unsigned int *ids, size_t *n, struct mp_errmsg *e)
{
    char buf[1024], *tok, *save = NULL;
    uint64_t v;
    struct passwd *pw;
    struct group *gr;

    if (strlen(value) >= sizeof(buf))
        return mp_errf(e, MP_ERR_INVALID, "list too long");
    memcpy(buf, value, strlen(value) + 1);
    *n = 0;
    for (tok = strtok_r(buf, " \t,", &save); tok != NULL; tok = strtok_r(NULL, " \t,", &save)) {
        if (*n >= SIGNER_CONF_MAX_IDS)
            return mp_errf(e, MP_ERR_INVALID, "at most %d ids", SIGNER_CONF_MAX_IDS);
        if (mp_parse_u64(tok, 0, 0x7fffffff, &v) == MP_OK)
            ids[(*n)++] = (unsigned int)v;
        else if (!group && (pw = getpwnam(tok)) != NULL)
            ids[(*n)++] = pw->pw_uid;
        else if (group && (gr = getgrnam(tok)) != NULL)
            ids[(*n)++] = gr->gr_gid;
        else
            return mp_errf(e, MP_ERR_INVALID, "unknown %s \"%.64s\"", group ? "group" : "user",
                tok);
    }
    return MP_OK;
}

static enum mp_err
parse_lifetime(const char *value, unsigned int *out, struct mp_errmsg *e)
{
    uint64_t v;

    if (mp_parse_u64(value, 1, GRANT_MAX_LIFETIME, &v) != MP_OK)
        return mp_errf(e, MP_ERR_INVALID, "lifetime must be 1..%d seconds", GRANT_MAX_LIFETIME);
    *out = (unsigned int)v;
    return MP_OK;
}

static enum mp_err
profile_kw(struct signer_conf_profile *p, const char *key, const char *value, struct mp_errmsg *e)
{
    const char *aud;

    if (strcmp(key, "key") == 0)
        return signer_conf_set_str(&p->key, value);
    if (strcmp(key, "client_id") == 0)
        return signer_conf_set_str(&p->client_id, value);
    if (strcmp(key, "env") == 0) {
        if ((aud = signer_conf_env_aud(value)) == NULL)
            return mp_errf(e, MP_ERR_INVALID, "env must be test or prod");
        return signer_conf_set_str(&p->aud, aud);
    }
    if (strcmp(key, "aud") == 0)
        return signer_conf_set_str(&p->aud, value);
    if (strcmp(key, "scopes") == 0)
        return signer_conf_set_str(&p->scopes, value);
    if (strcmp(key, "kid") == 0)
        return signer_conf_set_str(&p->kid, value);
    if (strcmp(key, "chain") == 0)
        return signer_conf_set_str(&p->chain, value);
    if (strcmp(key, "alg") == 0)
        return jws_alg_parse(value, &p->alg) == MP_OK
            ? MP_OK
            : mp_errf(e, MP_ERR_INVALID, "alg must be RS256, RS384 or RS512");
    if (strcmp(key, "lifetime") == 0)
        return parse_lifetime(value, &p->lifetime, e);
    if (strcmp(key, "max_lifetime") == 0)
        return parse_lifetime(value, &p->max_lifetime, e);
    if (strcmp(key, "resources") == 0)
        return signer_conf_set_str(&p->resources, value);
    if (strcmp(key, "consumer_orgs") == 0)
        return signer_conf_set_str(&p->consumer_orgs, value);
    if (strcmp(key, "systemuser_orgs") == 0)
        return signer_conf_set_str(&p->systemuser_orgs, value);
    if (strcmp(key, "allow_uids") == 0)
        return parse_ids(value, 0, p->uids, &p->nuids, e);
    if (strcmp(key, "allow_gids") == 0)
        return parse_ids(value, 1, p->gids, &p->ngids, e);
    return mp_errf(e, MP_ERR_PARSE, "unknown profile setting \"%.64s\"", key);
}

static enum mp_err
global_kw(struct signer_conf *c, const char *key, const char *value, struct mp_errmsg *e)
{
    uint64_t v;

    if (strcmp(key, "module") == 0)
        return signer_conf_set_str(&c->module, value);
    if (strcmp(key, "module_init_args") == 0)
        return signer_conf_set_str(&c->module_init_args, value);
    if (strcmp(key, "module_env") == 0) {
        if (strchr(value, '=') == NULL || value[0] == '=')
            return mp_errf(e, MP_ERR_INVALID, "module_env must be NAME=VALUE");
        if (c->nmodule_env >= SIGNER_CONF_MAX_ENV)
            return mp_errf(e, MP_ERR_INVALID, "at most %d module_env lines", SIGNER_CONF_MAX_ENV);
        if (signer_conf_set_str(&c->module_env[c->nmodule_env], value) != MP_OK)
            return mp_errf(e, MP_ERR_NOMEM, "out of memory");
        c->nmodule_env++; /* only once the slot holds a string: apply reads every counted one */
        return MP_OK;
    }
    if (strcmp(key, "pin_file") == 0)
        return signer_conf_set_str(&c->pin_file, value);
    if (strcmp(key, "socket") == 0)
        return signer_conf_set_str(&c->socket, value);
    if (strcmp(key, "socket_mode") == 0)
        return mp_parse_mode(value, &c->socket_mode) == MP_OK
            ? MP_OK
            : mp_errf(e, MP_ERR_INVALID, "socket_mode must be octal such as 0660");
    if (strcmp(key, "socket_group") == 0)
        return signer_conf_set_str(&c->socket_group, value);
    if (strcmp(key, "audit_log") == 0)
        return signer_conf_set_str(&c->audit_log, value);
    if (strcmp(key, "audit_key") == 0)
        return signer_conf_set_str(&c->audit_key, value);
    if (strcmp(key, "workers") == 0) {
        if (mp_parse_u64(value, 1, 64, &v) != MP_OK)
            return mp_errf(e, MP_ERR_INVALID, "workers must be 1..64");
        c->workers = (unsigned int)v;
        return MP_OK;
    }
    if (strcmp(key, "user") == 0)
        return signer_conf_set_str(&c->user, value);
    if (strcmp(key, "sandbox") == 0)
        return mp_sandbox_mode_parse(value, &c->sandbox, e);
    return mp_errf(e, MP_ERR_PARSE, "unknown setting \"%.64s\"", key);
}

/* One file or text: the profiles whose [profile NAME] header it has opened so far. */
struct signer_conf_parse {
    struct signer_conf *c;
    const struct signer_conf_profile *opened[SIGNER_CONF_MAX_PROFILES];
    size_t nopened;
};

/* A second header for the same name would silently merge into, and override, the first. */
static enum mp_err
profile_open(struct signer_conf_parse *ps, const struct signer_conf_profile *p, struct mp_errmsg *e)
{
    size_t i;

    for (i = 0; i < ps->nopened; i++)
        if (ps->opened[i] == p)
            return mp_errf(e, MP_ERR_PARSE, "duplicate [profile %s]", p->name);
    ps->opened[ps->nopened++] = p; /* distinct members of c->profiles: never more than fit */
    return MP_OK;
}

static enum mp_err
signer_conf_cb(void *arg, const char *section, const char *name, const char *key, const char *value,
    struct mp_errmsg *e)
{
    struct signer_conf_parse *ps = arg;
    struct signer_conf *c = ps->c;
    struct signer_conf_profile *p;
    enum mp_err r;

    if (*section == '\0')
        r = global_kw(c, key, value, e);
    else if (strcmp(section, "profile") == 0 && *name != '\0') {
        if ((p = signer_conf_profile(c, name)) == NULL &&
            (p = signer_conf_profile_add(c, name)) == NULL)
            return mp_errf(e, MP_ERR_INVALID, "too many profiles or name too long");
        r = key == NULL ? profile_open(ps, p, e) : profile_kw(p, key, value, e);
    } else
        return mp_errf(e, MP_ERR_PARSE, "unknown section [%.32s%s%.64s]", section, *name ? " " : "",
            name);
    if (r == MP_ERR_NOMEM)
        mp_errf(e, r, "out of memory");
    return r;
}

enum mp_err
signer_conf_load(struct signer_conf *c, const char *path, struct mp_errmsg *e)
{
    struct signer_conf_parse ps = {.c = c};

    return mp_conf_parse_file(path, signer_conf_cb, &ps, e);
}

enum mp_err
signer_conf_load_text(struct signer_conf *c, const char *text, const char *label,
    struct mp_errmsg *e)
{
    struct signer_conf_parse ps = {.c = c};

    return mp_conf_parse_text(text, strlen(text), label, signer_conf_cb, &ps, e);
}

enum mp_err
signer_conf_apply_module_env(const struct signer_conf *c, struct mp_errmsg *e)
{
    char buf[1024], *eq;
    size_t i;

    for (i = 0; i < c->nmodule_env; i++) {
        if (strlen(c->module_env[i]) >= sizeof(buf))
            return mp_errf(e, MP_ERR_INVALID, "module_env entry too long");
        memcpy(buf, c->module_env[i], strlen(c->module_env[i]) + 1);
        eq = strchr(buf, '=');
        *eq = '\0';
        if (setenv(buf, eq + 1, 1) != 0)
            return mp_errf(e, MP_ERR_INVALID, "cannot set %s", buf);
    }
    return MP_OK;
}
