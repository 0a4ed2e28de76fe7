/* mp-signer's keyword tables for global settings and profile sections (signer_conf.h). */
#include "signer/signer_conf.h"

#include <grp.h>
#include <stddef.h>
#include <stdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/num.h"
#include "common/profile_name.h"
#include "common/sandbox.h"
#include "signer/audit/audit_note.h"

#define DEFAULT_LIFETIME 60

struct signer_conf *
signer_conf_new(void)
{
    struct signer_conf *c = calloc(1, sizeof(*c));

    if (c != NULL) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        c->socket_mode = 0660;
        c->anchor_timeout = 10;
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
    free(c->audit_origin);
    free(c->anchor_command);
    free(c->user);
    free(c->audit_person_key_file);
    mp_secret_free(c->person_key);
    for (i = 0; i < c->nprofiles; i++)
        profile_free(c->profiles[i]);
    free(c);
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

/* Space-separated user names or numeric ids (a comma between them is accepted, as ever). */
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
kw_uids(void *obj, const struct mp_conf_kw *kw, const char *value, struct mp_errmsg *e)
{
    struct signer_conf_profile *p = obj;

    (void)kw;
    return parse_ids(value, 0, p->uids, &p->nuids, e);
}

static enum mp_err
kw_gids(void *obj, const struct mp_conf_kw *kw, const char *value, struct mp_errmsg *e)
{
    struct signer_conf_profile *p = obj;

    (void)kw;
    return parse_ids(value, 1, p->gids, &p->ngids, e);
}

static enum mp_err
kw_forwarders(void *obj, const struct mp_conf_kw *kw, const char *value, struct mp_errmsg *e)
{
    struct signer_conf *c = obj;

    (void)kw;
    return parse_ids(value, 0, c->forwarders, &c->nforwarders, e);
}

static void
print_ids(FILE *f, const char *name, const unsigned int *ids, size_t n)
{
    size_t i;

    if (n == 0) {
        mp_conf_print_value(f, name, NULL);
        return;
    }
    fprintf(f, "%s =", name);
    for (i = 0; i < n; i++)
        fprintf(f, " %u", ids[i]);
    fputc('\n', f);
}

static void
kw_uids_print(FILE *f, const void *obj, const struct mp_conf_kw *kw)
{
    const struct signer_conf_profile *p = obj;

    print_ids(f, kw->name, p->uids, p->nuids);
}

static void
kw_gids_print(FILE *f, const void *obj, const struct mp_conf_kw *kw)
{
    const struct signer_conf_profile *p = obj;

    print_ids(f, kw->name, p->gids, p->ngids);
}

static void
kw_forwarders_print(FILE *f, const void *obj, const struct mp_conf_kw *kw)
{
    const struct signer_conf *c = obj;

    print_ids(f, kw->name, c->forwarders, c->nforwarders);
}

/* env = test|prod is a shorthand for aud =, which prints it. */
static enum mp_err
kw_env(void *obj, const struct mp_conf_kw *kw, const char *value, struct mp_errmsg *e)
{
    const char *aud = signer_conf_env_aud(value);

    if (aud == NULL)
        return mp_errf(e, MP_ERR_INVALID, "env must be test or prod");
    return mp_conf_set_str(mp_conf_field(obj, kw), aud);
}

static enum mp_err
kw_alg(void *obj, const struct mp_conf_kw *kw, const char *value, struct mp_errmsg *e)
{
    return jws_alg_parse(value, mp_conf_field(obj, kw)) == MP_OK
        ? MP_OK
        : mp_errf(e, MP_ERR_INVALID, "alg must be RS256, RS384 or RS512");
}

static void
kw_alg_print(FILE *f, const void *obj, const struct mp_conf_kw *kw)
{
    const enum jws_alg *alg = mp_conf_cfield(obj, kw);

    mp_conf_print_value(f, kw->name, jws_alg_name(*alg));
}

static enum mp_err
kw_module_env(void *obj, const struct mp_conf_kw *kw, const char *value, struct mp_errmsg *e)
{
    struct signer_conf *c = obj;

    (void)kw;
    if (strchr(value, '=') == NULL || value[0] == '=')
        return mp_errf(e, MP_ERR_INVALID, "module_env must be NAME=VALUE");
    if (c->nmodule_env >= SIGNER_CONF_MAX_ENV)
        return mp_errf(e, MP_ERR_INVALID, "at most %d module_env lines", SIGNER_CONF_MAX_ENV);
    if (mp_conf_set_str(&c->module_env[c->nmodule_env], value) != MP_OK)
        return MP_ERR_NOMEM;
    c->nmodule_env++; /* only once the slot holds a string: apply reads every counted one */
    return MP_OK;
}

static void
kw_module_env_print(FILE *f, const void *obj, const struct mp_conf_kw *kw)
{
    const struct signer_conf *c = obj;
    size_t i;

    if (c->nmodule_env == 0)
        mp_conf_print_value(f, kw->name, NULL);
    for (i = 0; i < c->nmodule_env; i++)
        mp_conf_print_value(f, kw->name, c->module_env[i]);
}

#define G(f, kind) MP_CONF_KW(struct signer_conf, f, kind)
#define P(f, kind) MP_CONF_KW(struct signer_conf_profile, f, kind)

static const struct mp_conf_kw global_kw[] = {
    G(module, MP_CONF_STR),
    G(module_init_args, MP_CONF_STR),
    {.name = "module_env",
        .type = MP_CONF_FUNC,
        .parse = kw_module_env,
        .print = kw_module_env_print,
        .repeat = 1},
    G(pin_file, MP_CONF_STR), /* the path only: the PIN itself is never in the config */
    G(socket, MP_CONF_STR),
    G(socket_mode, MP_CONF_MODE),
    G(socket_group, MP_CONF_STR),
    G(audit_log, MP_CONF_STR),
    G(audit_key, MP_CONF_STR),
    MP_CONF_STR_KW(struct signer_conf, audit_origin, AUDIT_ORIGIN_MAX),
    MP_CONF_UINT_KW(struct signer_conf, audit_rotate_bytes, 0, 4000000000U, " bytes"),
    MP_CONF_UINT_KW(struct signer_conf, audit_rotate_interval, 0, 31622400, " seconds"),
    G(anchor_command, MP_CONF_STR),
    MP_CONF_UINT_KW(struct signer_conf, anchor_timeout, 1, 600, " seconds"),
    MP_CONF_UINT_KW(struct signer_conf, workers, 1, 64, NULL),
    G(user, MP_CONF_STR),
    MP_SANDBOX_KW(struct signer_conf, sandbox),
    {.name = "trusted_forwarders",
        .type = MP_CONF_FUNC,
        .parse = kw_forwarders,
        .print = kw_forwarders_print},
    G(audit_person_key_file, MP_CONF_STR),
    MP_CONF_END,
};

static const struct mp_conf_kw profile_kw[] = {
    MP_CONF_STR_KW(struct signer_conf_profile, key, SIGNER_CONF_STR_MAX),
    MP_CONF_STR_KW(struct signer_conf_profile, client_id, SIGNER_CONF_STR_MAX),
    {.name = "env",
        .type = MP_CONF_FUNC,
        .offset = offsetof(struct signer_conf_profile, aud),
        .parse = kw_env}, /* no print: aud prints what it set */
    MP_CONF_STR_KW(struct signer_conf_profile, aud, SIGNER_CONF_STR_MAX),
    P(scopes, MP_CONF_LIST),
    P(kid, MP_CONF_STR),
    P(chain, MP_CONF_STR),
    {.name = "alg",
        .type = MP_CONF_FUNC,
        .offset = offsetof(struct signer_conf_profile, alg),
        .parse = kw_alg,
        .print = kw_alg_print},
    MP_CONF_UINT_KW(struct signer_conf_profile, lifetime, 1, GRANT_MAX_LIFETIME, " seconds"),
    MP_CONF_UINT_KW(struct signer_conf_profile, max_lifetime, 1, GRANT_MAX_LIFETIME, " seconds"),
    P(resources, MP_CONF_LIST),
    P(consumer_orgs, MP_CONF_LIST),
    P(systemuser_orgs, MP_CONF_LIST),
    MP_CONF_YESNO_KW(struct signer_conf_profile, allow_pid),
    MP_CONF_YESNO_KW(struct signer_conf_profile, allow_consent),
    {.name = "allow_uids", .type = MP_CONF_FUNC, .parse = kw_uids, .print = kw_uids_print},
    {.name = "allow_gids", .type = MP_CONF_FUNC, .parse = kw_gids, .print = kw_gids_print},
    MP_CONF_END,
};

static enum mp_err
profile_open(void *obj, const char *name, void **out, struct mp_errmsg *e)
{
    struct signer_conf *c = obj;
    struct signer_conf_profile *p;

    if (!mp_profile_name_valid(name, strlen(name)))
        return mp_errf(e, MP_ERR_INVALID,
            "profile name \"%.64s\" may hold only " MP_PROFILE_NAME_CHARS " (1..%d characters)",
            name, MP_PROFILE_NAME_MAX);
    if ((p = signer_conf_profile(c, name)) == NULL &&
        (p = signer_conf_profile_add(c, name)) == NULL)
        return mp_errf(e, MP_ERR_INVALID, "too many profiles or name too long");
    *out = p;
    return MP_OK;
}

static const void *
profile_at(const void *obj, size_t i, const char **name)
{
    const struct signer_conf *c = obj;

    if (i >= c->nprofiles)
        return NULL;
    *name = c->profiles[i]->name;
    return c->profiles[i];
}

const struct mp_conf_schema signer_conf_schema = {
    .global = global_kw,
    .kind = "profile",
    .section = profile_kw,
    .open = profile_open,
    .at = profile_at,
};

/* The audit log names people only by keyed marks: a profile that lets callers name one needs
 * the key, read here so that config check, start and reload all refuse a missing one. */
static enum mp_err
person_key_read(const struct signer_conf *c, struct mp_secret **out, struct mp_errmsg *e)
{
    size_t i;

    *out = NULL;
    for (i = 0; i < c->nprofiles && c->audit_person_key_file == NULL; i++)
        if (c->profiles[i]->allow_pid || c->profiles[i]->allow_consent)
            return mp_errf(e, MP_ERR_INVALID,
                "profile %s: allow_pid and allow_consent need audit_person_key_file (the audit "
                "log records a person's number only as its HMAC under that key)",
                c->profiles[i]->name);
    if (c->audit_person_key_file == NULL)
        return MP_OK;
    if (mp_secret_read_named(c->audit_person_key_file, "audit_person_key_file", out, e) != MP_OK)
        return MP_ERR_INVALID;
    if (mp_secret_len(*out) >= 16)
        return MP_OK;
    mp_secret_free(*out);
    *out = NULL;
    return mp_errf(e, MP_ERR_INVALID,
        "audit_person_key_file %s: the key must be at least 16 bytes (e.g. openssl rand -hex 32)",
        c->audit_person_key_file);
}

static enum mp_err
person_key(struct signer_conf *c, struct mp_errmsg *e)
{
    return person_key_read(c, &c->person_key, e);
}

/* The audit keys whose values the keyword table cannot judge alone. */
static enum mp_err
audit_keys_check(const struct signer_conf *c, struct mp_errmsg *e)
{
    if (c->audit_origin != NULL && !audit_origin_valid(c->audit_origin))
        return mp_errf(e, MP_ERR_INVALID,
            "audit_origin must be printable ASCII without spaces or '+' (a name such as "
            "example.no/mp-signer/audit)");
    if (c->anchor_command != NULL && c->anchor_command[0] != '/')
        return mp_errf(e, MP_ERR_INVALID, "anchor_command must be an absolute path");
    return MP_OK;
}

enum mp_err
signer_conf_check(const void *obj, struct mp_errmsg *e)
{
    struct mp_secret *k = NULL;
    enum mp_err r;

    if ((r = audit_keys_check(obj, e)) != MP_OK)
        return r;
    r = person_key_read(obj, &k, e);
    mp_secret_free(k);
    return r;
}

enum mp_err
signer_conf_load(struct signer_conf *c, const char *path, struct mp_errmsg *e)
{
    enum mp_err r = mp_conf_load_file(path, &signer_conf_schema, c, e);

    if (r == MP_OK)
        r = audit_keys_check(c, e);
    return r != MP_OK ? r : person_key(c, e);
}

enum mp_err
signer_conf_load_text(struct signer_conf *c, const char *text, const char *label,
    struct mp_errmsg *e)
{
    enum mp_err r = mp_conf_load_text(text, strlen(text), label, &signer_conf_schema, c, e);

    if (r == MP_OK)
        r = audit_keys_check(c, e);
    return r != MP_OK ? r : person_key(c, e);
}

void
signer_conf_print(FILE *f, const struct signer_conf *c)
{
    mp_conf_print(f, &signer_conf_schema, c);
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
