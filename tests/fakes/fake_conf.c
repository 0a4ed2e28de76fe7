/* mp-fake's config file: keyword tables for global settings, [client ID] and [consent UUID]
 * sections. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

const struct fake_consent *
fake_consent_find(const struct fake *f, const char *id)
{
    size_t i;

    for (i = 0; i < f->nconsents; i++)
        if (strcasecmp(f->consents[i].id, id) == 0)
            return &f->consents[i];
    return NULL;
}

/* Control digit over the first n digits with these weights; -1 if the remainder is 1. */
static int
mod11(const char *s, const int *weight, int n)
{
    int i, sum = 0;

    for (i = 0; i < n; i++)
        sum += (s[i] - '0') * weight[i];
    sum %= 11;
    return sum == 0 ? 0 : sum == 1 ? -1 : 11 - sum;
}

int
fake_pid_valid(const char *s)
{
    static const int k1[9] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
    static const int k2[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
    int i;

    if (s == NULL || strlen(s) != 11)
        return 0;
    for (i = 0; i < 11; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    /* Test numbers add 80 to the month (40 for d-numbers' day): no date check at all. */
    return mod11(s, k1, 9) == s[9] - '0' && mod11(s, k2, 10) == s[10] - '0';
}

int
fake_from_valid(const char *s)
{
    size_t np = strlen(FAKE_FROM_PERSON), no = strlen(FAKE_FROM_ORG);

    if (s == NULL)
        return 0;
    if (strncmp(s, FAKE_FROM_PERSON, np) == 0)
        return fake_pid_valid(s + np);
    return strncmp(s, FAKE_FROM_ORG, no) == 0 && mp_orgno_valid(s + no);
}

int
fake_uuid_valid(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 36)
        return 0;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL || s[i] == '\0')
            return 0;
    }
    return 1;
}

/* Two digits at s, in lo..hi; -1 if not. */
static int
two_digits(const char *s, int lo, int hi)
{
    int v;

    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    v = (s[0] - '0') * 10 + (s[1] - '0');
    return v >= lo && v <= hi ? v : -1;
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM). */
static int
rfc3339_parse(const char *s, time_t *out)
{
    /* Offset of each two-digit field, its range, and the separator after it ('\0': none). */
    static const struct {
        int at, lo, hi;
        char sep;
    } field[7] = {{0, 0, 99, '\0'}, {2, 0, 99, '-'}, {5, 1, 12, '-'}, {8, 1, 31, 'T'},
        {11, 0, 23, ':'}, {14, 0, 59, ':'}, {17, 0, 60, '\0'}};
    int v[7], i, off, sign;
    struct tm tm;
    const char *p;

    if (strlen(s) < 20)
        return 0;
    for (i = 0; i < 7; i++) {
        v[i] = two_digits(s + field[i].at, field[i].lo, field[i].hi);
        if (v[i] < 0 ||
            (field[i].sep != '\0' && toupper((unsigned char)s[field[i].at + 2]) != field[i].sep))
            return 0;
    }
    p = s + 19;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    off = 0;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if (strlen(p) != 6 || p[3] != ':' || two_digits(p + 1, 0, 23) < 0 ||
            two_digits(p + 4, 0, 59) < 0)
            return 0;
        off = sign * (two_digits(p + 1, 0, 23) * 3600 + two_digits(p + 4, 0, 59) * 60);
    } else if (strcmp(p, "Z") != 0 && strcmp(p, "z") != 0)
        return 0;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] * 100 + v[1] - 1900;
    tm.tm_mon = v[2] - 1;
    tm.tm_mday = v[3];
    tm.tm_hour = v[4];
    tm.tm_min = v[5];
    tm.tm_sec = v[6];
    *out = timegm(&tm) - off;
    return 1;
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

static enum mp_err
kw_pid(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    struct fake_client *c = obj;

    (void)kw;
    if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
        return mp_errf(e, MP_ERR_INVALID, "pid must be yes or no");
    c->pid = strcmp(v, "yes") == 0;
    return MP_OK;
}

static enum mp_err
kw_from(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    struct fake_consent *c = obj;

    (void)kw;
    if (!fake_from_valid(v))
        return mp_errf(e, MP_ERR_INVALID,
            "from must be " FAKE_FROM_PERSON "PID or " FAKE_FROM_ORG "ORGNO, with valid control "
            "digits");
    return mp_conf_set_str(&c->from, v);
}

static enum mp_err
kw_to(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    struct fake_consent *c = obj;

    (void)kw;
    if (!mp_orgno_valid(v))
        return mp_errf(e, MP_ERR_INVALID, "to must be a valid organisation number");
    memcpy(c->to, v, 10);
    return MP_OK;
}

static enum mp_err
kw_resource(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    struct fake_consent *c = obj;

    (void)kw;
    if (*v == '\0' || strlen(v) > 200 || strpbrk(v, " \t\"\\") != NULL)
        return mp_errf(e, MP_ERR_INVALID, "resource must be one resource id (1..200 bytes)");
    return mp_conf_set_str(&c->resource, v);
}

static enum mp_err
kw_valid_to(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    struct fake_consent *c = obj;

    (void)kw;
    if (strlen(v) > 64 || !rfc3339_parse(v, &c->valid_until))
        return mp_errf(e, MP_ERR_INVALID,
            "valid_to must be an RFC 3339 time such as 2030-01-31T12:00:00Z");
    return mp_conf_set_str(&c->valid_to, v);
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
    {.name = "pid", .type = MP_CONF_FUNC, .parse = kw_pid},
    MP_CONF_END,
};

static const struct mp_conf_kw consent_kw[] = {
    {.name = "from", .type = MP_CONF_FUNC, .parse = kw_from},
    {.name = "to", .type = MP_CONF_FUNC, .parse = kw_to},
    {.name = "resource", .type = MP_CONF_FUNC, .parse = kw_resource},
    {.name = "valid_to", .type = MP_CONF_FUNC, .parse = kw_valid_to},
    MP_CONF_END,
};

/* The section a key line goes to, and its table; the global keys before the first header. */
struct fake_load_state {
    struct fake *f;
    const struct mp_conf_kw *table;
    const char *kind; /* "" for the global keys */
    void *cur;
};

/* A second header for the same name would silently merge into, and override, the first. */
static enum mp_err
section_open(struct fake_load_state *l, const char *kind, const char *name, struct mp_errmsg *e)
{
    struct fake *f = l->f;
    struct fake_client *c;
    struct fake_consent *cs;

    if (strcmp(kind, "client") == 0 && *name != '\0') {
        if (fake_client_find(f, name) != NULL)
            return mp_errf(e, MP_ERR_PARSE, "duplicate [client %s]", name);
        if (f->nclients == FAKE_MAX_CLIENTS)
            return mp_errf(e, MP_ERR_INVALID, "at most %d clients", FAKE_MAX_CLIENTS);
        c = &f->clients[f->nclients++];
        snprintf(c->id, sizeof(c->id), "%s", name);
        l->table = client_kw;
        l->cur = c;
    } else if (strcmp(kind, "consent") == 0 && *name != '\0') {
        if (!fake_uuid_valid(name))
            return mp_errf(e, MP_ERR_PARSE, "[consent %s]: the name must be a UUID", name);
        if (fake_consent_find(f, name) != NULL)
            return mp_errf(e, MP_ERR_PARSE, "duplicate [consent %s]", name);
        if (f->nconsents == FAKE_MAX_CONSENTS)
            return mp_errf(e, MP_ERR_INVALID, "at most %d consents", FAKE_MAX_CONSENTS);
        cs = &f->consents[f->nconsents++];
        snprintf(cs->id, sizeof(cs->id), "%s", name);
        l->table = consent_kw;
        l->cur = cs;
    } else
        return mp_errf(e, MP_ERR_PARSE,
            "unknown section [%.32s%s%.64s]: sections are [client CLIENT_ID] and "
            "[consent UUID]",
            kind, *name ? " " : "", name);
    l->kind = kind;
    return MP_OK;
}

static enum mp_err
load_cb(void *arg, const char *section, const char *name, const char *key, const char *value,
    struct mp_errmsg *e)
{
    struct fake_load_state *l = arg;
    const struct mp_conf_kw *kw;

    if (key == NULL)
        return section_open(l, section, name, e);
    /* mp_conf_set's own message would not say which section's setting is unknown. */
    for (kw = l->table; kw->name != NULL && strcmp(kw->name, key) != 0; kw++)
        ;
    if (kw->name == NULL)
        return mp_errf(e, MP_ERR_PARSE, "unknown %s%ssetting \"%.64s\"", l->kind,
            *l->kind ? " " : "", key);
    return mp_conf_set(l->table, l->cur, key, value, e);
}

/* A consent needs all four keys: a missing one would make every grant for it fail oddly. */
static enum mp_err
consents_check(const struct fake *f, const char *path, struct mp_errmsg *e)
{
    const struct fake_consent *c;
    size_t i;

    for (i = 0; i < f->nconsents; i++) {
        c = &f->consents[i];
        if (c->from == NULL || c->to[0] == '\0' || c->resource == NULL || c->valid_to == NULL)
            return mp_errf(e, MP_ERR_INVALID,
                "%s: [consent %s] needs from, to, resource and valid_to", path, c->id);
    }
    return MP_OK;
}

enum mp_err
fake_load(struct fake *f, const char *path, struct mp_errmsg *e)
{
    struct fake_load_state l = {.f = f, .table = global_kw, .kind = "", .cur = f};
    enum mp_err r;

    if (mp_conf_set_str(&f->listen, "127.0.0.1:0") != MP_OK)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    f->token_lifetime = 120;
    f->altinn_lifetime = 1800;
    f->started = time(NULL);
    if ((r = mp_conf_parse_file(path, load_cb, &l, e)) != MP_OK)
        return r;
    if (f->issuer == NULL || f->ca_file == NULL)
        return mp_errf(e, MP_ERR_INVALID, "%s: issuer and ca are required", path);
    if ((r = consents_check(f, path, e)) != MP_OK)
        return r;
    if ((f->trust = X509_STORE_new()) == NULL || X509_STORE_load_file(f->trust, f->ca_file) != 1) {
        ERR_clear_error();
        return mp_errf(e, MP_ERR_INVALID, "ca %s: no PEM certificates", f->ca_file);
    }
    return MP_OK;
}
