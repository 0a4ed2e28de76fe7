/* The drop-in token routes (api_oauth.h): body → token request → client → cache → answer. */
#include "exchange/api_oauth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/frame.h"
#include "common/json.h"
#include "common/log.h"
#include "common/profile_name.h"
#include "common/secret.h"
#include "exchange/answer.h"
#include "exchange/form.h"

/* Parameters that may appear once (RFC 6749 §3.2); resource may repeat (RFC 8707 §2). */
enum seen {
    SEEN_GRANT = 1 << 0,
    SEEN_ID = 1 << 1,
    SEEN_SECRET = 1 << 2,
    SEEN_SCOPE = 1 << 3,
    SEEN_AUTHZ = 1 << 4,
    SEEN_IDP = 1 << 5,
    SEEN_SKIP = 1 << 6,
    SEEN_TOKEN = 1 << 7,
};

struct oreq {
    enum oauth_route route;
    struct token_req q;
    char grant_type[64];
    char client_id[MP_PROFILE_NAME_MAX + 1];
    char secret[MP_SECRET_MAX + 1];
    /* Basic credentials as sent: RFC 6749 §2.3.1 form-encodes them, but requests' HTTPBasicAuth
     * and curl -u send them raw, so a secret with '+' or '%' matches either way. */
    char secret_raw[MP_SECRET_MAX + 1];
    char idp[32];
    char *token; /* introspection's; malloc'd, wiped */
    unsigned int seen;
    struct xerr err;
};

static void
oreq_wipe(struct oreq *o)
{
    explicit_bzero(o->secret, sizeof(o->secret));
    explicit_bzero(o->secret_raw, sizeof(o->secret_raw));
    if (o->token != NULL)
        explicit_bzero(o->token, strlen(o->token));
    free(o->token);
}

static enum mp_err
bad(struct oreq *o, const char *error, const char *text)
{
    xerr_set(&o->err, 400, error, "%s", text);
    return MP_ERR_INVALID;
}

/* Marks a once-only parameter seen, refusing a repeat. */
static enum mp_err
first_time(struct oreq *o, unsigned int bit, const char *name, struct mp_errmsg *e)
{
    if (o->seen & bit)
        return mp_errf(e, MP_ERR_INVALID, "parameter %s is given twice", name);
    o->seen |= bit;
    return MP_OK;
}

/* Copies a once-only parameter, refusing a repeat and an oversized value. */
static enum mp_err
once(struct oreq *o, unsigned int bit, const char *name, char *dst, size_t size, const char *v,
    struct mp_errmsg *e)
{
    if (first_time(o, bit, name, e) != MP_OK)
        return MP_ERR_INVALID;
    if (strlen(v) >= size)
        return mp_errf(e, MP_ERR_INVALID, "parameter %s is over %zu bytes", name, size - 1);
    memcpy(dst, v, strlen(v) + 1);
    return MP_OK;
}

/* authorization_details as text (a form value) or parsed (a JSON body's array or string):
 * details of the wrong shape are RFC 9396's invalid_authorization_details, not JSON is the
 * caller's invalid_request. */
static enum mp_err
set_authz(struct oreq *o, const char *text, json_t *parsed, struct mp_errmsg *e)
{
    enum mp_err r;

    if (first_time(o, SEEN_AUTHZ, "authorization_details", e) != MP_OK)
        return MP_ERR_INVALID;
    r = parsed != NULL ? token_req_authz_json(&o->q, parsed, e) : token_req_authz(&o->q, text, e);
    if (r == MP_ERR_INVALID)
        xerr_set(&o->err, 400, "invalid_authorization_details", "%s", e->text);
    return r;
}

static enum mp_err
set_token(struct oreq *o, const char *v, struct mp_errmsg *e)
{
    if (first_time(o, SEEN_TOKEN, "token", e) != MP_OK)
        return MP_ERR_INVALID;
    if ((o->token = strdup(v)) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    return MP_OK;
}

static enum mp_err
set_skip(struct oreq *o, const char *v, struct mp_errmsg *e)
{
    if (first_time(o, SEEN_SKIP, "skip_cache", e) != MP_OK)
        return MP_ERR_INVALID;
    if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
        return mp_errf(e, MP_ERR_INVALID, "skip_cache must be true or false");
    o->q.skip_cache = v[0] == 't';
    return MP_OK;
}

/* One form parameter. Unknown ones are ignored, as RFC 6749 §3.2 and TEXAS both require. */
static enum mp_err
on_param(void *ctx, const char *k, const char *v, struct mp_errmsg *e)
{
    struct oreq *o = ctx;
    int texas = o->route == OAUTH_TEXAS || o->route == OAUTH_INTROSPECT;

    if (strcmp(k, texas ? "target" : "scope") == 0)
        return once(o, SEEN_SCOPE, k, o->q.scope, sizeof(o->q.scope), v, e);
    if (strcmp(k, "resource") == 0)
        return token_req_set(&o->q, k, v, e);
    if (strcmp(k, "authorization_details") == 0)
        return set_authz(o, v, NULL, e);
    if (texas && strcmp(k, "identity_provider") == 0)
        return once(o, SEEN_IDP, k, o->idp, sizeof(o->idp), v, e);
    if (texas && strcmp(k, "skip_cache") == 0)
        return set_skip(o, v, e);
    if (o->route == OAUTH_INTROSPECT && strcmp(k, "token") == 0)
        return set_token(o, v, e);
    if (texas)
        return MP_OK;
    if (strcmp(k, "grant_type") == 0)
        return once(o, SEEN_GRANT, k, o->grant_type, sizeof(o->grant_type), v, e);
    if (strcmp(k, "client_id") == 0)
        return once(o, SEEN_ID, k, o->client_id, sizeof(o->client_id), v, e);
    if (strcmp(k, "client_secret") == 0)
        return once(o, SEEN_SECRET, k, o->secret, sizeof(o->secret), v, e);
    if (strcmp(k, "consumer_org") == 0 || strcmp(k, "systemuser_org") == 0 ||
        strcmp(k, "systemuser_ref") == 0 || strcmp(k, "pid") == 0)
        return token_req_set(&o->q, k, v, e);
    return MP_OK;
}

/* A TEXAS JSON body: the same fields, typed; authorization_details an array or a string. */
static enum mp_err
json_fields(struct oreq *o, json_t *j, struct mp_errmsg *e)
{
    json_t *skip = json_object_get(j, "skip_cache"),
           *authz = json_object_get(j, "authorization_details");
    const char *names[4] = {"identity_provider", "target", "resource", "token"};
    const char *v;
    enum mp_err r;
    size_t i;

    for (i = 0; i < 4; i++) {
        json_t *f = json_object_get(j, names[i]);

        if (f == NULL || json_is_null(f))
            continue;
        if ((v = json_string_value(f)) == NULL)
            return mp_errf(e, MP_ERR_INVALID, "%s must be a string", names[i]);
        if ((r = on_param(o, names[i], v, e)) != MP_OK)
            return r;
    }
    if (skip != NULL && !json_is_null(skip) && !json_is_boolean(skip))
        return mp_errf(e, MP_ERR_INVALID, "skip_cache must be true or false");
    o->q.skip_cache = json_is_true(skip);
    if (authz == NULL || json_is_null(authz))
        return MP_OK;
    return set_authz(o, NULL, authz, e);
}

static enum mp_err
parse_json(struct oreq *o, const struct oauth_http *in, struct mp_errmsg *e)
{
    json_error_t je;
    json_t *j = mp_json_loadb(in->body, in->len, JSON_REJECT_DUPLICATES, &je);
    enum mp_err r;

    if (!json_is_object(j)) {
        json_decref(j);
        return mp_errf(e, MP_ERR_INVALID, "the body is not a JSON object: %.100s",
            j == NULL ? je.text : "another JSON value");
    }
    r = json_fields(o, j, e);
    json_decref(j);
    return r;
}

/* "application/x-www-form-urlencoded; charset=UTF-8" counts as the form type. */
static int
media_is(const char *type, const char *want)
{
    size_t n = strlen(want);

    return type != NULL && strncasecmp(type, want, n) == 0 &&
        (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

static enum mp_err
parse_body(struct oreq *o, const struct oauth_http *in)
{
    struct mp_errmsg e = {{0}};
    enum mp_err r;

    if (media_is(in->content_type, "application/x-www-form-urlencoded"))
        r = form_parse(in->body, in->len, on_param, o, &e);
    else if (o->route >= OAUTH_TEXAS && media_is(in->content_type, "application/json"))
        r = parse_json(o, in, &e);
    else
        return bad(o, "invalid_request",
            o->route >= OAUTH_TEXAS
                ? "unsupported media type: expected application/json or "
                  "application/x-www-form-urlencoded"
                : "unsupported media type: expected application/x-www-form-urlencoded");
    if (r != MP_OK && o->err.status == 0)
        bad(o, "invalid_request", e.text);
    if (r == MP_OK && o->route == OAUTH_INTROSPECT)
        return o->token != NULL ? MP_OK : bad(o, "invalid_request", "token is required");
    if (r == MP_OK && o->route == OAUTH_TEXAS && o->q.scope[0] == '\0')
        return bad(o, "invalid_request", "target is required");
    if (r == MP_OK && token_req_finish(&o->q, &e) != MP_OK)
        r = bad(o, "invalid_request", e.text);
    return r;
}

/* Authorization: Basic base64(urlencode(id) ":" urlencode(secret)) (RFC 6749 §2.3.1). */
static enum mp_err
basic_auth(struct oreq *o, const char *h)
{
    unsigned char raw[512];
    const char *b64 = h + 6, *colon;
    size_t n = strlen(b64);
    int len;
    char id[sizeof(o->client_id)], secret[sizeof(o->secret)];
    enum mp_err r = MP_ERR_INVALID;

    if (strncasecmp(h, "Basic ", 6) != 0 || n == 0 || n % 4 != 0 || n / 4 * 3 >= sizeof(raw) ||
        (len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n)) < 0)
        goto out;
    len -= (b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');
    raw[len] = '\0';
    if ((colon = memchr(raw, ':', (size_t)len)) == NULL ||
        form_decode((char *)raw, (size_t)(colon - (char *)raw), 1, id, sizeof(id)) != MP_OK ||
        form_decode(colon + 1, (size_t)len - (size_t)(colon - (char *)raw) - 1, 1, secret,
            sizeof(secret)) != MP_OK)
        goto out;
    if ((o->seen & SEEN_SECRET) || ((o->seen & SEEN_ID) && strcmp(id, o->client_id) != 0)) {
        xerr_set(&o->err, 400, "invalid_request",
            "client credentials given both in Authorization and in the body");
        goto out;
    }
    memcpy(o->client_id, id, sizeof(id));
    memcpy(o->secret, secret, sizeof(secret));
    n = (size_t)len - (size_t)(colon - (char *)raw) - 1;
    if (n < sizeof(o->secret_raw))
        memcpy(o->secret_raw, colon + 1, n + 1);
    o->seen |= SEEN_ID | SEEN_SECRET;
    r = MP_OK;
out:
    explicit_bzero(raw, sizeof(raw));
    explicit_bzero(secret, sizeof(secret));
    if (r != MP_OK && o->err.status == 0)
        xerr_set(&o->err, 401, "invalid_client", "the Authorization header is not HTTP Basic");
    return r;
}

/* Equal secrets, compared in constant time over their digests (lengths differ too). */
static int
secret_equal(const struct mp_secret *want, const char *got)
{
    unsigned char a[32], b[32];
    unsigned int la = 0, lb = 0;
    int eq;

    if (EVP_Digest(mp_secret_data(want), mp_secret_len(want), a, &la, EVP_sha256(), NULL) != 1 ||
        EVP_Digest(got, strlen(got), b, &lb, EVP_sha256(), NULL) != 1)
        return 0;
    eq = la == 32 && lb == 32 && CRYPTO_memcmp(a, b, 32) == 0;
    explicit_bzero(a, sizeof(a));
    explicit_bzero(b, sizeof(b));
    return eq;
}

static enum mp_err
client_denied(struct oreq *o, const char *why)
{
    xerr_set(&o->err, 401, "invalid_client", "client %s: %s", o->client_id, why);
    return MP_ERR_POLICY;
}

/* The client's secret file: MP_ERR_NOTFOUND when it has none. */
static enum mp_err
client_secret(const struct exchange_conf *c, const char *id, struct mp_secret **s,
    struct mp_errmsg *e)
{
    char path[4096];
    struct stat st;

    *s = NULL;
    if (c->oauth_secrets_dir == NULL)
        return MP_ERR_NOTFOUND;
    if (snprintf(path, sizeof(path), "%s/%s", c->oauth_secrets_dir, id) >= (int)sizeof(path))
        return mp_errf(e, MP_ERR_TOOBIG, "oauth_secrets_dir path too long");
    if (lstat(path, &st) != 0 && errno == ENOENT)
        return MP_ERR_NOTFOUND;
    return mp_secret_read_named(path, "oauth client secret file", s, e);
}

/* The client is the profile; its secret when it has one, else the caller's uid must speak. */
static enum mp_err
authenticate(struct oreq *o, const struct exchange_conf *c, const struct oauth_http *in)
{
    struct mp_secret *want = NULL;
    struct mp_errmsg e = {{0}};
    enum mp_err r;

    if (in->authorization != NULL && basic_auth(o, in->authorization) != MP_OK)
        return MP_ERR_INVALID;
    if (o->client_id[0] == '\0') {
        xerr_set(&o->err, 401, "invalid_client",
            "no client_id (HTTP Basic or the client_id parameter)");
        return MP_ERR_POLICY;
    }
    if (!mp_profile_name_valid(o->client_id, strlen(o->client_id))) {
        xerr_set(&o->err, 401, "invalid_client", "client_id is not a profile name");
        return MP_ERR_POLICY;
    }
    r = client_secret(c, o->client_id, &want, &e);
    if (r == MP_ERR_NOTFOUND) {
        if (o->secret[0] != '\0')
            return client_denied(o, "it has no secret here, so send none");
        if (!c->forward_caller)
            return client_denied(o, "it has no secret and forward_caller = no");
        r = MP_OK;
    } else if (r != MP_OK) {
        mp_error("oauth client %s: %s", o->client_id, e.text);
        xerr_set(&o->err, 503, "temporarily_unavailable", "the client's secret is unreadable");
    } else if (!secret_equal(want, o->secret) &&
        (o->secret_raw[0] == '\0' || !secret_equal(want, o->secret_raw)))
        r = client_denied(o, "wrong client secret");
    mp_secret_free(want);
    if (r == MP_OK)
        memcpy(o->q.profile, o->client_id, strlen(o->client_id) + 1);
    return r;
}

/* RFC 6749 §5.2 names for the signer's refusals; everything else keeps its status and code. */
static void
oauth_error(struct xerr *err)
{
    if (err->refusal == FCODE_REFUSED || err->refusal == FCODE_NO_PROFILE) {
        err->status = 401;
        snprintf(err->error, sizeof(err->error), "invalid_client");
    } else if (err->refusal == FCODE_OUT_OF_PROFILE) {
        err->status = 400;
        snprintf(err->error, sizeof(err->error), "invalid_scope");
    } else if (err->refusal == FCODE_BAD_REQUEST) {
        err->status = 400;
        snprintf(err->error, sizeof(err->error), "invalid_request");
    }
}

static json_t *
error_body(const struct xerr *err)
{
    return json_pack("{s:s, s:s}", "error", err->error, "error_description", err->description);
}

/* What the route asks beyond the body: grant_type and client for OAuth2, the provider for
 * TEXAS (whose wording for the others it knows is kept). */
static enum mp_err
route_check(struct oreq *o, const struct exchange_conf *c, const struct oauth_http *in)
{
    static const char *const other[] = {"entra_id", "azuread", "tokenx", "idporten"};
    size_t i;

    if (o->route < OAUTH_TEXAS) {
        if (o->grant_type[0] == '\0')
            return bad(o, "invalid_request", "grant_type is required");
        if (strcmp(o->grant_type, "client_credentials") != 0)
            return bad(o, "unsupported_grant_type", "only grant_type=client_credentials is served");
        return authenticate(o, c, in);
    }
    if (strcmp(o->idp, "maskinporten") == 0)
        return MP_OK;
    for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        if (strcmp(o->idp, other[i]) == 0) {
            xerr_set(&o->err, 400, "invalid_request", "identity provider '%s' is not enabled",
                other[i]);
            return MP_ERR_INVALID;
        }
    return bad(o, "invalid_request",
        o->idp[0] ? "identity_provider must be maskinporten" : "identity_provider is required");
}

static json_t *
token_body(enum oauth_route route, const struct xtok *t, const char *scope)
{
    json_t *j = json_pack("{s:s, s:s, s:I}", "access_token", t->value, "token_type", "Bearer",
        "expires_in", (json_int_t)(t->exp - time(NULL)));

    if (j != NULL && route == OAUTH_MASKINPORTEN)
        json_object_set_new(j, "scope", json_string(t->scope[0] ? t->scope : scope));
    return j;
}

void
oauth_token(struct exchange *x, enum oauth_route route, const struct token_caller *who,
    const struct oauth_http *in, struct oauth_answer *out)
{
    struct oreq *o = calloc(1, sizeof(*o));
    struct xtok t;
    enum mp_err r;

    memset(out, 0, sizeof(*out));
    memset(&t, 0, sizeof(t));
    if (o == NULL) {
        out->status = 503;
        return;
    }
    o->route = route;
    if (parse_body(o, in) != MP_OK || route_check(o, x->conf, in) != MP_OK)
        goto out;
    if (who != NULL)
        o->q.caller = *who;
    r = route == OAUTH_ALTINN ? cache_altinn(x->cache, &o->q, &t, &o->err)
                              : cache_maskinporten(x->cache, &o->q, &t, &o->err);
    if (r == MP_OK) {
        out->status = 200;
        out->body = token_body(route, &t, o->q.scope);
    }
    oauth_error(&o->err);
out:
    if (out->status == 0) {
        out->status = o->err.status >= 400 && o->err.status < 600 ? (unsigned)o->err.status : 502;
        out->body = error_body(&o->err);
        out->challenge = out->status == 401;
    }
    xtok_clear(&t);
    oreq_wipe(o);
    free(o);
}

/* TEXAS's introspection answer: always 200, {"active":true, claims…} or {"active":false,
 * "error"}. Only a token this exchange handed out is active: its claims are then the ones
 * Maskinporten or Altinn sent over verified TLS, so they are read without a signature check. */
static json_t *
introspection(struct exchange *x, const char *token)
{
    json_t *claims, *exp;

    if (!cache_issued(x->cache, token))
        return json_pack("{s:b, s:s}", "active", 0, "error",
            "token was not issued by this exchange (or is too old to be remembered)");
    claims = answer_jwt_part(token, 1);
    exp = json_object_get(claims, "exp");
    if (!json_is_integer(exp) || json_integer_value(exp) <= (json_int_t)time(NULL)) {
        json_decref(claims);
        return json_pack("{s:b, s:s}", "active", 0, "error", "invalid token: ExpiredSignature");
    }
    json_object_set_new(claims, "active", json_true());
    return claims;
}

void
oauth_introspect(struct exchange *x, const struct oauth_http *in, struct oauth_answer *out)
{
    struct oreq *o = calloc(1, sizeof(*o));

    memset(out, 0, sizeof(*out));
    if (o == NULL) {
        out->status = 503;
        return;
    }
    o->route = OAUTH_INTROSPECT;
    if (parse_body(o, in) == MP_OK && route_check(o, x->conf, in) == MP_OK) {
        out->status = 200;
        out->body = introspection(x, o->token);
    } else {
        out->status = (unsigned)o->err.status;
        out->body = error_body(&o->err);
    }
    oreq_wipe(o);
    free(o);
}

json_t *
oauth_metadata(const char *host)
{
    char base[300], tok[340], alt[340];

    snprintf(base, sizeof(base), "http://%.256s", host);
    snprintf(tok, sizeof(tok), "%s/oauth2/token", base);
    snprintf(alt, sizeof(alt), "%s/oauth2/altinn/token", base);
    return json_pack("{s:s, s:s, s:s, s:[s], s:[sss], s:[], s:[ss]}", "issuer", base,
        "token_endpoint", tok, "mp_altinn_token_endpoint", alt, "grant_types_supported",
        "client_credentials", "token_endpoint_auth_methods_supported", "client_secret_basic",
        "client_secret_post", "none", "response_types_supported",
        "authorization_details_types_supported", "urn:altinn:systemuser", "urn:altinn:consent");
}
