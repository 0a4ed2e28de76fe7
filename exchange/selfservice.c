/* Calls to Digdir's self-service API for clients and their key sets (selfservice.h). */
#include "exchange/selfservice.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "exchange/https.h"

#define SS_URL_MAX 4096
#define SS_JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"

struct selfservice {
    const struct exchange_conf *conf;
    char *base;
    char *token;
};

int
selfservice_id_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0, i;

    if (n == 0 || n > 128)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

enum mp_err
selfservice_new(const struct exchange_conf *c, const char *base_url, const char *token,
    struct selfservice **out, struct mp_errmsg *e)
{
    struct selfservice *s = calloc(1, sizeof(*s));

    if (s == NULL || (s->base = strdup(base_url)) == NULL || (s->token = strdup(token)) == NULL) {
        selfservice_free(s);
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    }
    if (strlen(s->base) + 200 > SS_URL_MAX) {
        selfservice_free(s);
        return mp_errf(e, MP_ERR_INVALID, "the self-service URL is too long");
    }
    s->conf = c;
    *out = s;
    return MP_OK;
}

void
selfservice_free(struct selfservice *s)
{
    if (s == NULL)
        return;
    if (s->token != NULL)
        explicit_bzero(s->token, strlen(s->token));
    free(s->token);
    free(s->base);
    free(s);
}

/* An upstream string fit for one line of a terminal: printable ASCII only, bounded. */
static void
printable(const char *in, char *out, size_t outlen)
{
    size_t i;

    for (i = 0; in != NULL && in[i] != '\0' && i + 1 < outlen; i++)
        out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
    out[i] = '\0';
}

/* A non-2xx answer: the status and whatever error the API named. */
static enum mp_err
refusal(const char *what, const struct https_resp *r, struct mp_errmsg *e)
{
    json_t *j = mp_json_loadb(mp_buf_str(r->body), mp_buf_len(r->body), 0, NULL);
    const char *err = json_string_value(json_object_get(j, "error"));
    const char *desc = json_string_value(json_object_get(j, "error_description"));
    char perr[64], pdesc[256];

    printable(err != NULL ? err : "no JSON error body", perr, sizeof(perr));
    printable(desc, pdesc, sizeof(pdesc));
    json_decref(j);
    return mp_errf(e, r->status >= 500 ? MP_ERR_IO : MP_ERR_POLICY, "%s: HTTP %ld %s%s%s", what,
        r->status, perr, pdesc[0] ? ": " : "", pdesc);
}

/* One call; MP_OK on 2xx with *out the parsed answer (NULL for an empty body). */
static enum mp_err
ss_call(struct selfservice *s, const char *method, const char *path, const json_t *body,
    json_t **out, struct mp_errmsg *e)
{
    char url[SS_URL_MAX], what[SS_URL_MAX + 16];
    char *json = NULL;
    struct https_resp r;
    json_error_t je;
    enum mp_err rc;

    *out = NULL;
    memset(&r, 0, sizeof(r));
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    snprintf(what, sizeof(what), "%s %s", method, url);
    if (body != NULL && (json = mp_json_dumps(body, JSON_COMPACT)) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if ((rc = https_call_json(s->conf, method, url, s->token, json, &r, e)) != MP_OK) {
        if (r.fail == HTTPS_TLS)
            mp_err_prefix(e, "TLS (check --ca-file and the URL)");
        goto out;
    }
    if (r.status < 200 || r.status > 299) {
        rc = refusal(what, &r, e);
        goto out;
    }
    if (mp_buf_len(r.body) > 0 &&
        (*out = mp_json_loadb(mp_buf_str(r.body), mp_buf_len(r.body), JSON_REJECT_DUPLICATES,
             &je)) == NULL)
        rc = mp_errf(e, MP_ERR_PARSE, "%s: HTTP %ld with a body that is not JSON (%.80s)", what,
            r.status, je.text);
out:
    free(json);
    https_resp_clear(&r);
    return rc;
}

/* An answer that must be a JSON value of one type. */
static enum mp_err
ss_expect(struct selfservice *s, const char *method, const char *path, const json_t *body,
    json_type type, json_t **out, struct mp_errmsg *e)
{
    json_t *j = NULL;
    enum mp_err rc;

    *out = NULL;
    if ((rc = ss_call(s, method, path, body, &j, e)) != MP_OK)
        return rc;
    if (j == NULL || json_typeof(j) != type) {
        json_decref(j);
        return mp_errf(e, MP_ERR_PARSE, "%s %s%s: the answer is not a JSON %s", method, s->base,
            path, type == JSON_ARRAY ? "array" : "object");
    }
    *out = j;
    return MP_OK;
}

enum mp_err
selfservice_create(struct selfservice *s, const char *name, const char *description,
    const char *const *scopes, size_t nscopes, json_t **out, struct mp_errmsg *e)
{
    json_t *body, *sc = json_array();
    size_t i;
    enum mp_err rc;

    for (i = 0; sc != NULL && i < nscopes; i++)
        if (json_array_append_new(sc, json_string(scopes[i])) != 0) {
            json_decref(sc);
            sc = NULL;
        }
    body = json_pack("{s:s, s:s, s:s, s:[s], s:s, s:s, s:o}", "integration_type", "maskinporten",
        "application_type", "web", "token_endpoint_auth_method", "private_key_jwt", "grant_types",
        SS_JWT_BEARER, "client_name", name, "description", description, "scopes", sc);
    if (body == NULL)
        return mp_errf(e, MP_ERR_INVALID, "--name, --description and --scope must be UTF-8");
    rc = ss_expect(s, "POST", "/", body, JSON_OBJECT, out, e);
    json_decref(body);
    if (rc == MP_OK && !selfservice_id_ok(json_string_value(json_object_get(*out, "client_id")))) {
        json_decref(*out);
        *out = NULL;
        rc = mp_errf(e, MP_ERR_PARSE, "POST %s/: the answer has no usable client_id", s->base);
    }
    return rc;
}

enum mp_err
selfservice_list(struct selfservice *s, json_t **out, struct mp_errmsg *e)
{
    return ss_expect(s, "GET", "", NULL, JSON_ARRAY, out, e);
}

static enum mp_err
id_path(const char *id, const char *suffix, char *path, size_t pathlen, struct mp_errmsg *e)
{
    if (!selfservice_id_ok(id))
        return mp_errf(e, MP_ERR_INVALID, "a client id is [A-Za-z0-9._-], at most 128 characters");
    snprintf(path, pathlen, "/%s%s", id, suffix);
    return MP_OK;
}

enum mp_err
selfservice_show(struct selfservice *s, const char *id, json_t **out, struct mp_errmsg *e)
{
    char path[160];
    enum mp_err rc;

    *out = NULL;
    if ((rc = id_path(id, "", path, sizeof(path), e)) != MP_OK)
        return rc;
    return ss_expect(s, "GET", path, NULL, JSON_OBJECT, out, e);
}

/* {"keys": [...]} -> the array, every key an object. */
static enum mp_err
keys_of(json_t *jwks, const char *what, json_t **out, struct mp_errmsg *e)
{
    json_t *keys = json_object_get(jwks, "keys"), *k;
    size_t i;

    *out = NULL;
    if (!json_is_array(keys))
        return mp_errf(e, MP_ERR_PARSE, "%s: the answer has no \"keys\" array", what);
    json_array_foreach(keys, i, k)
    {
        if (!json_is_object(k))
            return mp_errf(e, MP_ERR_PARSE, "%s: keys[%zu] is not an object", what, i);
    }
    *out = json_incref(keys);
    return MP_OK;
}

enum mp_err
selfservice_keys(struct selfservice *s, const char *id, json_t **out, struct mp_errmsg *e)
{
    char path[160];
    json_t *j = NULL;
    enum mp_err rc;

    *out = NULL;
    if ((rc = id_path(id, "/jwks", path, sizeof(path), e)) != MP_OK ||
        (rc = ss_expect(s, "GET", path, NULL, JSON_OBJECT, &j, e)) != MP_OK)
        return rc;
    rc = keys_of(j, "GET .../jwks", out, e);
    json_decref(j);
    return rc;
}

enum mp_err
selfservice_keys_put(struct selfservice *s, const char *id, json_t *keys, json_t **out,
    struct mp_errmsg *e)
{
    char path[160];
    json_t *body = NULL, *j = NULL;
    enum mp_err rc;

    *out = NULL;
    if ((rc = id_path(id, "/jwks", path, sizeof(path), e)) != MP_OK)
        return rc;
    if ((body = json_pack("{s:O}", "keys", keys)) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if ((rc = ss_expect(s, "PUT", path, body, JSON_OBJECT, &j, e)) == MP_OK)
        rc = keys_of(j, "PUT .../jwks", out, e);
    json_decref(j);
    json_decref(body);
    return rc;
}

enum mp_err
selfservice_keys_delete(struct selfservice *s, const char *id, struct mp_errmsg *e)
{
    char path[160];
    json_t *j = NULL;
    enum mp_err rc;

    if ((rc = id_path(id, "/jwks", path, sizeof(path), e)) != MP_OK)
        return rc;
    rc = ss_call(s, "DELETE", path, NULL, &j, e);
    json_decref(j);
    return rc;
}

enum mp_err
selfservice_url(const char *flag, const char *env, char *out, size_t outlen, struct mp_errmsg *e)
{
    const char *base = flag;
    size_t n;

    if (base == NULL)
        base = strcmp(env, "prod") == 0 ? "https://api.samarbeid.digdir.no"
                                        : "https://api.test.samarbeid.digdir.no";
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    /* A URL that already names the collection is taken as it is. */
    if (n >= 8 && strncmp(base + n - 8, "/clients", 8) == 0)
        n -= 8;
    if (!(strncmp(base, "https://", 8) == 0 && n > 8) &&
        !(strncmp(base, "http://", 7) == 0 && exchange_conf_url_loopback(base)))
        return mp_errf(e, MP_ERR_INVALID,
            "--selfservice-url %.200s: only https:// (or http:// to loopback)", base);
    if (n + sizeof("/clients") > outlen || n + 200 > SS_URL_MAX)
        return mp_errf(e, MP_ERR_INVALID, "--selfservice-url is too long");
    snprintf(out, outlen, "%.*s/clients", (int)n, base);
    return MP_OK;
}

const char *
selfservice_key_kid(const json_t *key)
{
    return json_string_value(json_object_get(key, "kid"));
}

const json_t *
selfservice_key_find(const json_t *keys, const char *kid)
{
    const json_t *k;
    size_t i;

    json_array_foreach(keys, i, k)
    {
        if (kid != NULL && selfservice_key_kid(k) != NULL &&
            strcmp(selfservice_key_kid(k), kid) == 0)
            return k;
    }
    return NULL;
}

/* Key i of keys: a public JWK with a usable kid that no key before it has. */
static enum mp_err
jwk_check(const json_t *keys, size_t i, const char *label, struct mp_errmsg *e)
{
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    const json_t *k = json_array_get(keys, i);
    const char *kid = selfservice_key_kid(k);
    size_t j;

    if (!json_is_object(k))
        return mp_errf(e, MP_ERR_INVALID, "%s: key %zu is not a JSON object", label, i);
    for (j = 0; j < sizeof(private_members) / sizeof(private_members[0]); j++)
        if (json_object_get(k, private_members[j]) != NULL)
            return mp_errf(e, MP_ERR_INVALID,
                "%s: key %zu holds private key material (\"%s\"): give the public JWK", label, i,
                private_members[j]);
    if (!selfservice_id_ok(kid))
        return mp_errf(e, MP_ERR_INVALID,
            "%s: key %zu needs a kid of [A-Za-z0-9._-], at most 128 characters", label, i);
    for (j = 0; j < i; j++)
        if (strcmp(selfservice_key_kid(json_array_get(keys, j)), kid) == 0)
            return mp_errf(e, MP_ERR_INVALID, "%s: kid %s appears twice", label, kid);
    return MP_OK;
}

enum mp_err
selfservice_jwk_parse(const char *text, size_t len, const char *label, json_t **out,
    struct mp_errmsg *e)
{
    json_t *j = mp_json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL), *keys = NULL;
    size_t i;
    enum mp_err rc = MP_ERR_INVALID;

    *out = NULL;
    if (json_is_array(json_object_get(j, "keys")))
        keys = json_deep_copy(json_object_get(j, "keys"));
    else if (json_is_object(j) && json_object_get(j, "kty") != NULL)
        keys = json_pack("[O]", j);
    else {
        rc = mp_errf(e, MP_ERR_INVALID, "%s: neither a JWK nor a JWKS ({\"keys\":[...]})", label);
        goto out;
    }
    if (keys == NULL || json_array_size(keys) == 0) {
        rc = mp_errf(e, keys == NULL ? MP_ERR_NOMEM : MP_ERR_INVALID, "%s: %s", label,
            keys == NULL ? "out of memory" : "no keys");
        goto out;
    }
    for (i = 0; i < json_array_size(keys); i++)
        if ((rc = jwk_check(keys, i, label, e)) != MP_OK)
            goto out;
    *out = keys;
    keys = NULL;
    rc = MP_OK;
out:
    json_decref(keys);
    json_decref(j);
    return rc;
}

/* A key as it goes back to the API: what the API added on its own (exp, the key's expiry a
 * year after upload) is left out; the API sets it again. */
static json_t *
key_for_upload(const json_t *k)
{
    json_t *c = json_deep_copy(k);

    if (c != NULL)
        json_object_del(c, "exp");
    return c;
}

enum mp_err
selfservice_keys_merge(const json_t *cur, const json_t *add, const char *id, json_t **out,
    struct mp_errmsg *e)
{
    json_t *set = json_array(), *k;
    size_t i, n = json_array_size(cur) + json_array_size(add);

    *out = NULL;
    json_array_foreach(add, i, k)
    {
        if (selfservice_key_find(cur, selfservice_key_kid(k)) != NULL) {
            json_decref(set);
            return mp_errf(e, MP_ERR_INVALID,
                "client %s already has a key with kid %s (nothing was sent)", id,
                selfservice_key_kid(k));
        }
    }
    if (n > SS_MAX_KEYS) {
        json_decref(set);
        return mp_errf(e, MP_ERR_TOOBIG,
            "client %s has %zu keys; adding %zu would make %zu, over the API's maximum of %d: "
            "remove one first (nothing was sent)",
            id, json_array_size(cur), json_array_size(add), n, SS_MAX_KEYS);
    }
    json_array_foreach(cur, i, k) json_array_append_new(set, key_for_upload(k));
    json_array_foreach(add, i, k) json_array_append_new(set, key_for_upload(k));
    if (set == NULL || json_array_size(set) != n) {
        json_decref(set);
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    }
    *out = set;
    return MP_OK;
}

enum mp_err
selfservice_keys_without(const json_t *cur, const char *kid, const char *id, json_t **out,
    struct mp_errmsg *e)
{
    json_t *set, *k;
    size_t i;

    *out = NULL;
    if (selfservice_key_find(cur, kid) == NULL)
        return mp_errf(e, MP_ERR_NOTFOUND, "client %s has no key with kid %s (nothing was sent)",
            id, kid);
    if ((set = json_array()) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    json_array_foreach(cur, i, k)
    {
        if (strcmp(selfservice_key_kid(k) != NULL ? selfservice_key_kid(k) : "", kid) != 0 &&
            json_array_append_new(set, key_for_upload(k)) != 0) {
            json_decref(set);
            return mp_errf(e, MP_ERR_NOMEM, "out of memory");
        }
    }
    *out = set;
    return MP_OK;
}
