/* The fake Digdir self-service API (PROTOCOL.md §6): POST/GET /clients, GET /clients/{id} and
 * GET/POST/PUT/DELETE /clients/{id}/jwks, behind a Maskinporten token that this fake issued
 * with the idporten:dcr.* scopes. Clients registered here join the fake's registry, so the
 * token endpoint accepts kid grants signed with the keys uploaded here. Validation is as strict
 * as the docs say the real API is: required fields, `use` on every key, at most 5 keys. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/uuid.h"
#include "signer/daemon/policy.h"
#include "tests/fakes/fake.h"

#define SS_MAX_KEYS 5
#define SS_KEY_LIFETIME (365L * 24 * 3600) /* a key lives one year from its upload */
#define SS_JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"

static void ss_error(struct fake_reply *r, unsigned int status, const char *error, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
ss_error(struct fake_reply *r, unsigned int status, const char *error, const char *fmt, ...)
{
    char desc[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    fake_json(r, status, json_pack("{s:s, s:s}", "error", error, "error_description", desc));
}

static const char *
str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void
iso_time(time_t t, char out[32])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The organisation behind a token: its client's owner, else the consumer it names. */
static int
token_org(struct fake *f, json_t *claims, char org[10])
{
    const char *cid = str(claims, "client_id"),
               *id = str(json_object_get(claims, "consumer"), "ID");
    struct fake_client *c;
    int ok = 0;

    pthread_mutex_lock(&f->reg);
    if (cid != NULL && (c = fake_client_find(f, cid)) != NULL && c->org[0] != '\0') {
        memcpy(org, c->org, 10);
        ok = 1;
    }
    pthread_mutex_unlock(&f->reg);
    if (!ok && id != NULL && strncmp(id, "0192:", 5) == 0 && strlen(id + 5) == 9) {
        memcpy(org, id + 5, 10);
        ok = 1;
    }
    return ok;
}

/* Only a token this fake issued, unexpired, holding a scope of need (space-separated). */
static int
ss_auth(struct fake *f, const char *authz, const char *need, char org[10], struct fake_reply *r)
{
    json_t *h = NULL, *c = NULL;
    const char *jwt, *scope, *w, *end;
    int ok = 0;

    if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0 || authz[7] == '\0') {
        ss_error(r, 401, "invalid_token", "Authorization: Bearer <Maskinporten token> is required");
        return 0;
    }
    jwt = authz + 7;
    if (fake_jwt_parse(jwt, strlen(jwt), &h, &c) != MP_OK || str(h, "kid") == NULL ||
        strcmp(str(h, "kid"), "mp-fake-1") != 0 ||
        !fake_jwt_verify(jwt, strlen(jwt), "RS256", f->mp_key) || str(c, "iss") == NULL ||
        strcmp(str(c, "iss"), f->issuer) != 0) {
        ss_error(r, 401, "invalid_token", "the token was not issued by this Maskinporten");
        goto out;
    }
    if (!json_is_integer(json_object_get(c, "exp")) ||
        json_integer_value(json_object_get(c, "exp")) <= (json_int_t)time(NULL)) {
        ss_error(r, 401, "invalid_token", "the token has expired");
        goto out;
    }
    scope = str(c, "scope");
    for (w = need; *w != '\0' && !ok; w = *end ? end + 1 : end) {
        end = w + strcspn(w, " ");
        ok = scope != NULL && policy_list_has(scope, w, (size_t)(end - w));
    }
    if (!ok) {
        ss_error(r, 403, "insufficient_scope", "the token lacks the scope %s", need);
        goto out;
    }
    if (!(ok = token_org(f, c, org)))
        ss_error(r, 403, "access_denied", "the token names no organisation");
out:
    json_decref(h);
    json_decref(c);
    return ok;
}

/* Client ids and kids: [A-Za-z0-9._-]+, bounded. */
static int
id_ok(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0, i;

    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

static const char *
fixed_field(json_t *b, const char *key, const char *want)
{
    const char *v = str(b, key);

    return v != NULL && strcmp(v, want) == 0 ? NULL : key;
}

/* The name of the first field that is missing or wrong, or NULL when the metadata is fine. */
static const char *
metadata_bad(json_t *b)
{
    json_t *g = json_object_get(b, "grant_types"), *sc = json_object_get(b, "scopes"), *v;
    const char *bad;
    size_t i;

    if ((bad = fixed_field(b, "integration_type", "maskinporten")) != NULL ||
        (bad = fixed_field(b, "application_type", "web")) != NULL ||
        (bad = fixed_field(b, "token_endpoint_auth_method", "private_key_jwt")) != NULL)
        return bad;
    if (!json_is_array(g) || json_array_size(g) != 1 ||
        json_string_value(json_array_get(g, 0)) == NULL ||
        strcmp(json_string_value(json_array_get(g, 0)), SS_JWT_BEARER) != 0)
        return "grant_types";
    if (str(b, "client_name") == NULL || *str(b, "client_name") == '\0')
        return "client_name";
    if (json_object_get(b, "description") != NULL &&
        !json_is_string(json_object_get(b, "description")))
        return "description";
    if (!json_is_array(sc) || json_array_size(sc) == 0)
        return "scopes";
    json_array_foreach(sc, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 256 ||
            strpbrk(json_string_value(v), " \t\r\n") != NULL)
            return "scopes";
    }
    return NULL;
}

static char *
scope_list(json_t *sc)
{
    struct mp_buf *b = mp_buf_new(16 * 1024);
    json_t *v;
    size_t i;
    char *out = NULL;

    if (b == NULL)
        return NULL;
    json_array_foreach(sc, i, v) mp_buf_putf(b, "%s%s", i ? " " : "", json_string_value(v));
    out = mp_buf_take(b, NULL);
    mp_buf_free(b);
    return out;
}

static json_t *
client_model(const char *id, const char *org, json_t *b)
{
    char now[32];

    iso_time(time(NULL), now);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:O, s:s, s:s, s:b, s:I}",
        "client_id", id, "client_orgno", org, "client_name", str(b, "client_name"), "description",
        str(b, "description") != NULL ? str(b, "description") : "", "integration_type",
        "maskinporten", "application_type", "web", "token_endpoint_auth_method", "private_key_jwt",
        "grant_types", SS_JWT_BEARER, "scopes", json_object_get(b, "scopes"), "created", now,
        "last_updated", now, "active", 1, "access_token_lifetime", (json_int_t)0);
}

/* Adds the client under reg; answers 201 with its model. */
static void
client_add(struct fake *f, const char *org, json_t *b, struct fake_reply *r)
{
    struct fake_client *c;
    char id[MP_UUID_STRLEN + 1];
    json_t *model;
    char *scopes;

    if (mp_uuid_v4(id) != MP_OK || (model = client_model(id, org, b)) == NULL) {
        ss_error(r, 500, "server_error", "out of memory");
        return;
    }
    scopes = scope_list(json_object_get(b, "scopes"));
    pthread_mutex_lock(&f->reg);
    if (scopes == NULL || f->nclients == FAKE_MAX_CLIENTS) {
        pthread_mutex_unlock(&f->reg);
        ss_error(r, 507, "server_error", "mp-fake holds at most %d clients", FAKE_MAX_CLIENTS);
        json_decref(model);
        free(scopes);
        return;
    }
    c = &f->clients[f->nclients++];
    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", id);
    memcpy(c->org, org, 10);
    c->scopes = scopes;
    c->meta = model;
    fake_json(r, 201, json_deep_copy(model));
    pthread_mutex_unlock(&f->reg);
}

static void
client_create(struct fake *f, const char *org, const char *body, size_t len, struct fake_reply *r)
{
    json_t *b = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    const char *bad;

    if (!json_is_object(b))
        ss_error(r, 400, "invalid_client_metadata", "the body must be a JSON object");
    else if ((bad = metadata_bad(b)) != NULL)
        ss_error(r, 400, "invalid_client_metadata", "%s is missing or invalid", bad);
    else
        client_add(f, org, b, r);
    json_decref(b);
}

static void
client_list(struct fake *f, const char *org, struct fake_reply *r)
{
    json_t *a = json_array();
    size_t i;

    pthread_mutex_lock(&f->reg);
    for (i = 0; a != NULL && i < f->nclients; i++)
        if (f->clients[i].meta != NULL && strcmp(f->clients[i].org, org) == 0)
            json_array_append_new(a, json_deep_copy(f->clients[i].meta));
    pthread_mutex_unlock(&f->reg);
    fake_json(r, 200, a);
}

/* The caller's own API-registered client (call with reg held), or NULL after a 404. */
static struct fake_client *
owned(struct fake *f, const char *id, const char *org, struct fake_reply *r)
{
    struct fake_client *c = fake_client_find(f, id);

    if (c == NULL || c->meta == NULL || strcmp(c->org, org) != 0) {
        ss_error(r, 404, "not_found", "no client %.64s owned by %s", id, org);
        return NULL;
    }
    return c;
}

static json_t *
jwks_copy(const struct fake_client *c)
{
    return c->jwks != NULL ? json_deep_copy(c->jwks) : json_pack("{s:[]}", "keys");
}

/* The first problem with key i, or NULL. Also refuses a kid seen earlier in the set. */
static const char *
key_bad(json_t *keys, size_t i, char *why, size_t whylen)
{
    json_t *k = json_array_get(keys, i);
    const char *alg = str(k, "alg"), *kid = str(k, "kid");
    EVP_PKEY *pub;
    size_t j;

    if (!json_is_object(k))
        snprintf(why, whylen, "keys[%zu] is not a JSON object", i);
    else if (str(k, "kty") == NULL || strcmp(str(k, "kty"), "RSA") != 0)
        snprintf(why, whylen, "keys[%zu]: kty must be RSA", i);
    else if (alg == NULL || (strcmp(alg, "RS256") && strcmp(alg, "RS384") && strcmp(alg, "RS512")))
        snprintf(why, whylen, "keys[%zu]: alg must be RS256, RS384 or RS512", i);
    else if (str(k, "use") == NULL || strcmp(str(k, "use"), "sig") != 0)
        snprintf(why, whylen, "keys[%zu]: use is required and must be sig", i);
    else if (!id_ok(kid, 128))
        snprintf(why, whylen, "keys[%zu]: kid is required, [A-Za-z0-9._-], at most 128", i);
    else if ((pub = fake_jwk_key(k)) == NULL)
        snprintf(why, whylen, "keys[%zu]: n and e are not an RSA public key", i);
    else {
        j = (size_t)EVP_PKEY_get_bits(pub);
        EVP_PKEY_free(pub);
        if (j < 2048)
            snprintf(why, whylen, "keys[%zu]: RSA keys must have at least 2048 bits", i);
        else
            why[0] = '\0';
    }
    for (j = 0; why[0] == '\0' && j < i; j++)
        if (strcmp(str(json_array_get(keys, j), "kid"), kid) == 0)
            snprintf(why, whylen, "keys[%zu]: duplicate kid %s", i, kid);
    return why[0] != '\0' ? why : NULL;
}

/* The key set to store: each key's public members, exp = now + 1 year. exp on input (as a
 * GET answered it) is accepted and ignored: re-posting a key renews it. */
static json_t *
jwks_stored(json_t *keys)
{
    static const char *const keep[] = {"kty", "kid", "alg", "use", "n", "e", "x5c"};
    json_t *out = json_array(), *k, *n;
    size_t i, j;

    json_array_foreach(keys, i, k)
    {
        if ((n = json_object()) == NULL)
            break;
        for (j = 0; j < sizeof(keep) / sizeof(keep[0]); j++)
            if (json_object_get(k, keep[j]) != NULL)
                json_object_set(n, keep[j], json_object_get(k, keep[j]));
        json_object_set_new(n, "exp", json_integer((json_int_t)(time(NULL) + SS_KEY_LIFETIME)));
        json_array_append_new(out, n);
    }
    return json_pack("{s:o}", "keys", out);
}

static json_t *
jwks_validate(const char *body, size_t len, struct fake_reply *r)
{
    json_t *b = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL),
           *keys = json_object_get(b, "keys");
    json_t *out = NULL;
    char why[200];
    size_t i;

    if (!json_is_array(keys))
        ss_error(r, 400, "invalid_request", "the body must be {\"keys\":[...]}");
    else if (json_array_size(keys) == 0)
        ss_error(r, 400, "invalid_request", "keys is empty: DELETE .../jwks removes every key");
    else if (json_array_size(keys) > SS_MAX_KEYS)
        ss_error(r, 400, "invalid_request", "at most %d keys per client, got %zu", SS_MAX_KEYS,
            json_array_size(keys));
    else {
        for (i = 0; i < json_array_size(keys); i++)
            if (key_bad(keys, i, why, sizeof(why)) != NULL) {
                ss_error(r, 400, "invalid_request", "%s", why);
                goto out;
            }
        out = jwks_stored(keys);
    }
out:
    json_decref(b);
    return out;
}

/* GET, POST, PUT or DELETE on /clients/{id}/jwks. */
static void
jwks_route(struct fake *f, const char *method, const char *id, const char *org, const char *body,
    size_t len, struct fake_reply *r)
{
    int get = strcmp(method, "GET") == 0, del = strcmp(method, "DELETE") == 0;
    int put = strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0;
    struct fake_client *c;
    json_t *fresh = NULL;

    if (!get && !del && !put) {
        ss_error(r, 405, "invalid_request", "%s is not allowed on .../jwks", method);
        return;
    }
    if (put && (fresh = jwks_validate(body, len, r)) == NULL)
        return;
    pthread_mutex_lock(&f->reg);
    if ((c = owned(f, id, org, r)) != NULL) {
        if (!get) {
            json_decref(c->jwks);
            c->jwks = fresh; /* NULL after DELETE: x5c grants only, as before any key */
            fresh = NULL;
        }
        fake_json(r, strcmp(method, "POST") == 0 ? 201 : 200, jwks_copy(c));
    }
    pthread_mutex_unlock(&f->reg);
    json_decref(fresh);
}

static void
client_route(struct fake *f, const char *method, const char *rest, const char *org,
    const char *body, size_t len, struct fake_reply *r)
{
    char id[128];
    size_t n = strcspn(rest, "/");
    struct fake_client *c;

    if (n >= sizeof(id))
        n = sizeof(id) - 1;
    memcpy(id, rest, n);
    id[n] = '\0';
    if (strcmp(rest + n, "/jwks") == 0 || strcmp(rest + n, "/jwks/") == 0) {
        jwks_route(f, method, id, org, body, len, r);
        return;
    }
    if (rest[n] != '\0' && strcmp(rest + n, "/") != 0) {
        ss_error(r, 404, "not_found", "no such resource");
        return;
    }
    if (strcmp(method, "GET") != 0) {
        ss_error(r, 405, "invalid_request", "mp-fake does not implement %s on a client", method);
        return;
    }
    pthread_mutex_lock(&f->reg);
    if ((c = owned(f, id, org, r)) != NULL)
        fake_json(r, 200, json_deep_copy(c->meta));
    pthread_mutex_unlock(&f->reg);
}

void
fake_selfservice(struct fake *f, const char *method, const char *path, const char *authz,
    const char *body, size_t len, struct fake_reply *r)
{
    int get = strcmp(method, "GET") == 0;
    char org[10];

    if (!ss_auth(f, authz, get ? "idporten:dcr.read" : "idporten:dcr.write idporten:dcr.modify",
            org, r))
        return;
    if (strcmp(path, "") == 0 || strcmp(path, "/") == 0) {
        if (get)
            client_list(f, org, r);
        else if (strcmp(method, "POST") == 0)
            client_create(f, org, body, len, r);
        else
            ss_error(r, 405, "invalid_request", "%s is not allowed on /clients", method);
        return;
    }
    client_route(f, method, path + 1, org, body, len, r);
}
