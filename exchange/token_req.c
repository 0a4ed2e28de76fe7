/* Token request parameters: checks, normalisation, authorization_details, and the cache key. */
#include "exchange/token_req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/orgno.h"
#include "common/pid.h"
#include "common/uuid.h"
#include "common/profile_name.h"

static int
printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

static enum mp_err
copy(char *dst, size_t size, const char *v, const char *what, struct mp_errmsg *e)
{
    size_t n = strlen(v);

    if (n == 0 || n >= size)
        return mp_errf(e, MP_ERR_INVALID, "%s must be 1..%zu characters", what, size - 1);
    memcpy(dst, v, n + 1);
    return MP_OK;
}

enum mp_err
token_req_set(struct token_req *q, const char *key, const char *v, struct mp_errmsg *e)
{
    if (strcmp(key, "scope") == 0)
        return copy(q->scope, sizeof(q->scope), v, "scope", e);
    if (strcmp(key, "profile") == 0) {
        /* Empty is the default profile (finish fills it in); the value is never echoed. */
        if (v[0] != '\0' && !mp_profile_name_valid(v, strlen(v)))
            return mp_errf(e, MP_ERR_INVALID,
                "profile may hold only " MP_PROFILE_NAME_CHARS " (1..%d characters)",
                MP_PROFILE_NAME_MAX);
        memcpy(q->profile, v, strlen(v) + 1);
        return MP_OK;
    }
    if (strcmp(key, "resource") == 0) {
        if (q->nresources >= TOKEN_REQ_MAX_RESOURCES)
            return mp_errf(e, MP_ERR_INVALID, "at most %d resource parameters",
                TOKEN_REQ_MAX_RESOURCES);
        if (!printable(v) || strchr(v, ':') == NULL)
            return mp_errf(e, MP_ERR_INVALID, "resource must be an absolute URI");
        return copy(q->resources[q->nresources++], sizeof(q->resources[0]), v, "resource", e);
    }
    if (strcmp(key, "consumer_org") == 0 || strcmp(key, "systemuser_org") == 0) {
        if (!mp_orgno_valid(v))
            return mp_errf(e, MP_ERR_INVALID,
                "%s must be a 9-digit organisation number with a valid check digit", key);
        return copy(key[0] == 'c' ? q->consumer_org : q->su_org, 16, v, key, e);
    }
    if (strcmp(key, "pid") == 0) {
        if (!mp_pid_valid(v)) /* never echoed: it names a person */
            return mp_errf(e, MP_ERR_INVALID,
                "pid must be a national identity number (11 digits, two mod-11 control digits)");
        return copy(q->person, sizeof(q->person), v, key, e);
    }
    if (strcmp(key, "systemuser_ref") == 0) {
        if (!printable(v))
            return mp_errf(e, MP_ERR_INVALID, "systemuser_ref must be printable ASCII");
        return copy(q->su_ref, sizeof(q->su_ref), v, key, e);
    }
    return mp_errf(e, MP_ERR_INVALID, "unknown parameter \"%.32s\"", key);
}

/* systemuser_org of a system-user detail: {"authority":"iso6523-actorid-upis","ID":"0192:<orgno>"}. */
static enum mp_err
authz_org(struct token_req *q, const json_t *org, struct mp_errmsg *e)
{
    const char *auth = json_string_value(json_object_get(org, "authority"));
    const char *id = json_string_value(json_object_get(org, "ID"));

    if (!json_is_object(org) || json_object_size(org) != 2 || auth == NULL || id == NULL ||
        strcmp(auth, "iso6523-actorid-upis") != 0 || strncmp(id, "0192:", 5) != 0 ||
        !mp_orgno_valid(id + 5))
        return mp_errf(e, MP_ERR_INVALID,
            "authorization_details: systemuser_org must be {\"authority\":\"iso6523-actorid-upis\","
            "\"ID\":\"0192:<organisation number>\"}");
    memcpy(q->su_org, id + 5, strlen(id + 5) + 1);
    return MP_OK;
}

/* {type:"urn:altinn:consent", id, from}: exactly those members. */
static enum mp_err
authz_consent(struct token_req *q, json_t *d, struct mp_errmsg *e)
{
    const char *id = json_string_value(json_object_get(d, "id"));
    const char *from = json_string_value(json_object_get(d, "from"));

    if (json_object_size(d) != 3 || id == NULL || from == NULL)
        return mp_errf(e, MP_ERR_INVALID,
            "authorization_details: a consent is {\"type\",\"id\",\"from\"}, all strings");
    if (!mp_uuid_valid(id))
        return mp_errf(e, MP_ERR_INVALID, "authorization_details: consent id must be a UUID");
    if (!mp_party_urn_valid(from))
        return mp_errf(e, MP_ERR_INVALID,
            "authorization_details: consent from must be " MP_URN_PERSON "<pid> or " MP_URN_ORG
            "<orgno>");
    if (q->su_org[0] != '\0' || q->consent_id[0] != '\0')
        return mp_errf(e, MP_ERR_INVALID, "a grant names one party: a system user or a consent");
    memcpy(q->consent_id, id, strlen(id) + 1);
    memcpy(q->consent_from, from, strlen(from) + 1);
    return MP_OK;
}

enum mp_err
token_req_authz_json(struct token_req *q, json_t *details, struct mp_errmsg *e)
{
    json_t *d = json_array_get(details, 0), *ref;
    const char *type = json_string_value(json_object_get(d, "type")), *key;
    json_t *v;
    enum mp_err r;

    if (json_is_string(details))
        return token_req_authz(q, json_string_value(details), e);
    if (!json_is_array(details) || json_array_size(details) != 1 || !json_is_object(d))
        return mp_errf(e, MP_ERR_INVALID,
            "authorization_details must be an array of one object (one party per grant)");
    if (type != NULL && strcmp(type, "urn:altinn:consent") == 0)
        return authz_consent(q, d, e);
    if (type == NULL || strcmp(type, "urn:altinn:systemuser") != 0)
        return mp_errf(e, MP_ERR_INVALID,
            "authorization_details type must be urn:altinn:systemuser or urn:altinn:consent");
    json_object_foreach(d, key, v) if (strcmp(key, "type") != 0 &&
        strcmp(key, "systemuser_org") != 0 && strcmp(key, "externalRef") != 0) return mp_errf(e,
        MP_ERR_INVALID, "authorization_details: unknown member \"%.32s\"", key);
    if (q->su_org[0] != '\0' || q->consent_id[0] != '\0')
        return mp_errf(e, MP_ERR_INVALID,
            "a grant names one party: a system user (given twice?) or a consent");
    if ((r = authz_org(q, json_object_get(d, "systemuser_org"), e)) != MP_OK)
        return r;
    if ((ref = json_object_get(d, "externalRef")) == NULL)
        return MP_OK;
    if (!json_is_string(ref))
        return mp_errf(e, MP_ERR_INVALID, "authorization_details: externalRef must be a string");
    return token_req_set(q, "systemuser_ref", json_string_value(ref), e);
}

enum mp_err
token_req_authz(struct token_req *q, const char *text, struct mp_errmsg *e)
{
    json_error_t je;
    json_t *j = mp_json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, &je);
    enum mp_err r;

    if (j == NULL)
        return mp_errf(e, MP_ERR_PARSE, "authorization_details is not JSON: %.100s", je.text);
    r = json_is_string(j) ? mp_errf(e, MP_ERR_INVALID, "authorization_details must be an array")
                          : token_req_authz_json(q, j, e);
    json_decref(j);
    return r;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_res(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* RFC 6749 scope tokens, sorted and deduplicated so equal sets share a cache entry. */
static enum mp_err
scope_normalise(char *scope, struct mp_errmsg *e)
{
    char copy_[1024], *tok[64], *save = NULL, *t;
    size_t n = 0, i, len = 0;
    const char *p;

    memcpy(copy_, scope, strlen(scope) + 1);
    for (t = strtok_r(copy_, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
        for (p = t; *p != '\0'; p++)
            if ((unsigned char)*p < 0x21 || *p == '"' || *p == '\\' || (unsigned char)*p > 0x7e)
                return mp_errf(e, MP_ERR_INVALID, "scope contains a character not allowed");
        if (n == 64)
            return mp_errf(e, MP_ERR_INVALID, "too many scopes");
        tok[n++] = t;
    }
    if (n == 0)
        return mp_errf(e, MP_ERR_INVALID, "scope is empty");
    qsort(tok, n, sizeof(tok[0]), cmp_str);
    scope[0] = '\0';
    for (i = 0; i < n; i++) {
        if (i > 0 && strcmp(tok[i], tok[i - 1]) == 0)
            continue;
        len += (size_t)snprintf(scope + len, 1024 - len, "%s%s", len ? " " : "", tok[i]);
    }
    return MP_OK;
}

/* Sorted, duplicates dropped: the resource list is a set, and the key must not depend on how
 * often or in which order a caller repeated a value. */
static void
resources_normalise(struct token_req *q)
{
    size_t i, n = 0;

    qsort(q->resources, q->nresources, sizeof(q->resources[0]), cmp_res);
    for (i = 0; i < q->nresources; i++) {
        if (n > 0 && strcmp(q->resources[i], q->resources[n - 1]) == 0)
            continue;
        if (n != i)
            memcpy(q->resources[n], q->resources[i], sizeof(q->resources[0]));
        n++;
    }
    for (i = n; i < q->nresources; i++)
        memset(q->resources[i], 0, sizeof(q->resources[0]));
    q->nresources = n;
}

enum mp_err
token_req_finish(struct token_req *q, struct mp_errmsg *e)
{
    enum mp_err r;

    if (q->scope[0] == '\0')
        return mp_errf(e, MP_ERR_INVALID, "scope is required");
    if ((r = scope_normalise(q->scope, e)) != MP_OK)
        return r;
    if (q->su_ref[0] != '\0' && q->su_org[0] == '\0')
        return mp_errf(e, MP_ERR_INVALID, "systemuser_ref needs systemuser_org");
    /* profile= and no profile mean the signer's default profile: one key, one fetch. */
    if (q->profile[0] == '\0')
        memcpy(q->profile, "default", sizeof("default"));
    resources_normalise(q);
    return MP_OK;
}

/* Appends "LEN:VALUE," to out at *n; a separator byte alone would let one field's bytes pass
 * for the next field's. */
static int
key_field(char *out, size_t outlen, size_t *n, const char *v)
{
    int w;

    if (*n >= outlen)
        return 0;
    w = snprintf(out + *n, outlen - *n, "%zu:%s,", strlen(v), v);
    if (w < 0 || (size_t)w >= outlen - *n)
        return 0;
    *n += (size_t)w;
    return 1;
}

enum mp_err
token_req_key(const struct token_req *q, char *out, size_t outlen)
{
    const char *fixed[8] = {q->profile, q->scope, q->consumer_org, q->su_org, q->su_ref, q->person,
        q->consent_id, q->consent_from};
    size_t n = 0, i;

    if (outlen == 0)
        return MP_ERR_TOOBIG;
    out[0] = '\0';
    for (i = 0; i < 8; i++)
        if (!key_field(out, outlen, &n, fixed[i]))
            return MP_ERR_TOOBIG;
    for (i = 0; i < q->nresources; i++)
        if (!key_field(out, outlen, &n, q->resources[i]))
            return MP_ERR_TOOBIG;
    if (q->caller.set) {
        char who[24];

        snprintf(who, sizeof(who), "%u:%u", q->caller.uid, q->caller.gid);
        if (!key_field(out, outlen, &n, "caller") || !key_field(out, outlen, &n, who))
            return MP_ERR_TOOBIG;
    }
    return MP_OK;
}
