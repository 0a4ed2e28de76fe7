/* The fake Maskinporten: every rule of PROTOCOL.md §1-3 a grant must pass, in the order a
 * client can act on, each failure with the documented error and MP code. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "common/b64.h"
#include "common/orgno.h"
#include "common/uuid.h"
#include "signer/grant/cert.h"
#include "signer/daemon/policy.h"
#include "tests/fakes/fake.h"

/* What a valid grant established, for the token to issue. */
struct grant_ctx {
    struct fake_client *client;
    json_t *header, *claims;
    EVP_PKEY *pub; /* owned */
    int x5c;
    const struct fake_consent *consent; /* an urn:altinn:consent grant's consent */
};

void
fake_json(struct fake_reply *r, unsigned int status, json_t *j)
{
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

    r->status = s != NULL ? status : 500;
    r->type = "application/json";
    mp_buf_puts(r->body, s != NULL ? s : "{\"error\":\"server_error\"}");
    free(s);
    json_decref(j);
}

void
fake_mp_error(struct fake_reply *r, unsigned int status, const char *error, const char *code,
    const char *fmt, ...)
{
    char desc[400], full[512], trace[40], uri[96];
    va_list ap;
    json_t *j;

    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    mp_uuid_v4(trace);
    snprintf(full, sizeof(full), "%s (trace_id: %.8s)", desc, trace);
    j = json_pack("{s:s, s:s}", "error", error, "error_description", full);
    if (j != NULL && code != NULL) {
        snprintf(uri, sizeof(uri), "https://maskinporten.no/errors/%s", code);
        json_object_set_new(j, "error_uri", json_string(uri));
    }
    fake_json(r, status, j);
}

/* application/x-www-form-urlencoded: finds key and percent-decodes its value into out. */
static int
form_get(const char *body, size_t len, const char *key, struct mp_buf *out)
{
    const char *p = body, *end = body + len, *amp, *v;
    size_t klen = strlen(key);
    char c;
    unsigned int hex;

    while (p < end) {
        amp = memchr(p, '&', (size_t)(end - p));
        if (amp == NULL)
            amp = end;
        if ((size_t)(amp - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
            for (v = p + klen + 1; v < amp; v++) {
                c = *v;
                if (c == '+')
                    c = ' ';
                else if (c == '%' && amp - v > 2 && sscanf(v + 1, "%2x", &hex) == 1) {
                    c = (char)hex;
                    v += 2;
                }
                if (mp_buf_put(out, &c, 1) != MP_OK)
                    return 0;
            }
            return 1;
        }
        p = amp + 1;
    }
    return 0;
}

static const char *
str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int
header_ok(struct fake_reply *r, json_t *h)
{
    const char *alg = str(h, "alg"), *key;
    json_t *v;

    if (alg == NULL ||
        (strcmp(alg, "RS256") != 0 && strcmp(alg, "RS384") != 0 && strcmp(alg, "RS512") != 0)) {
        fake_mp_error(r, 400, "invalid_grant", NULL,
            "Invalid assertion. Algorithm %.16s is not supported (RS256, RS384, RS512 only)",
            alg != NULL ? alg : "(none)");
        return 0;
    }
    json_object_foreach(h, key, v)
    {
        if (strcmp(key, "alg") != 0 && strcmp(key, "x5c") != 0 && strcmp(key, "kid") != 0 &&
            strcmp(key, "typ") != 0) {
            fake_mp_error(r, 400, "invalid_grant", NULL,
                "Invalid assertion. Header parameter %.32s is not accepted", key);
            return 0;
        }
    }
    if ((json_object_get(h, "x5c") == NULL) == (json_object_get(h, "kid") == NULL)) {
        fake_mp_error(r, 400, "invalid_grant", NULL,
            "Invalid assertion. The header must carry exactly one of x5c and kid");
        return 0;
    }
    return 1;
}

static X509 *
x5c_cert(json_t *s)
{
    struct mp_buf *der = mp_buf_new(64 * 1024);
    const unsigned char *p;
    X509 *x = NULL;
    BIO *b64 = NULL, *mem = NULL;
    unsigned char buf[4096];
    int n;

    /* x5c entries are standard base64 (RFC 7515 §4.1.6), not base64url. */
    if (der == NULL || !json_is_string(s) ||
        (mem = BIO_new_mem_buf(json_string_value(s), (int)json_string_length(s))) == NULL ||
        (b64 = BIO_new(BIO_f_base64())) == NULL)
        goto out;
    BIO_set_flags(b64, BIO_FLAGS_BASE64_NO_NL);
    mem = BIO_push(b64, mem);
    b64 = NULL;
    while ((n = BIO_read(mem, buf, sizeof(buf))) > 0)
        mp_buf_put(der, buf, (size_t)n);
    p = mp_buf_ptr(der);
    x = d2i_X509(NULL, &p, (long)mp_buf_len(der));
out:
    BIO_free_all(mem);
    BIO_free(b64);
    mp_buf_free(der);
    ERR_clear_error();
    return x;
}

/* x5c: a chain to the configured CA, issued to the client's own organisation. */
static int
key_from_x5c(struct fake *f, struct fake_reply *r, struct grant_ctx *g)
{
    json_t *x5c = json_object_get(g->header, "x5c"), *v;
    STACK_OF(X509) *rest = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509 *leaf = NULL, *x;
    char org[10];
    size_t i;
    int ok = 0;

    if (g->client->jwks != NULL) {
        fake_mp_error(r, 400, "invalid_grant", NULL,
            "Invalid assertion. Client authentication "
            "failed. Invalid JWT. The client requires pre-registered jwk and no key identifier "
            "(kid) provided");
        goto out;
    }
    if (!json_is_array(x5c) || json_array_size(x5c) == 0) {
        fake_mp_error(r, 400, "invalid_grant", "MP-123",
            "Invalid assertion. x5c must be an "
            "array of base64 certificates");
        goto out;
    }
    json_array_foreach(x5c, i, v)
    {
        if ((x = x5c_cert(v)) == NULL) {
            fake_mp_error(r, 400, "invalid_grant", "MP-123",
                "Invalid assertion. x5c[%zu] is "
                "not a base64 DER certificate",
                i);
            goto out;
        }
        if (i == 0)
            leaf = x;
        else
            sk_X509_push(rest, x);
    }
    if (X509_STORE_CTX_init(ctx, f->trust, leaf, rest) != 1 || X509_verify_cert(ctx) != 1) {
        fake_mp_error(r, 400, "invalid_grant", "MP-120", "Invalid certificate: %s",
            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        goto out;
    }
    if (cert_orgno(leaf, org) != MP_OK || strcmp(org, g->client->org) != 0) {
        fake_mp_error(r, 400, "invalid_grant", "MP-122",
            "Organization number in certificate "
            "does not match the client's organization number %s",
            g->client->org);
        goto out;
    }
    g->pub = X509_get_pubkey(leaf);
    g->x5c = 1;
    ok = g->pub != NULL;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(rest, X509_free);
    X509_free(leaf);
    return ok;
}

static int
key_from_kid(struct fake_reply *r, struct grant_ctx *g)
{
    const char *kid = str(g->header, "kid");
    json_t *keys = json_object_get(g->client->jwks, "keys"), *k;
    size_t i;

    json_array_foreach(keys, i, k)
    {
        if (kid == NULL || str(k, "kid") == NULL || strcmp(str(k, "kid"), kid) != 0)
            continue;
        /* Keys uploaded through the self-service API live one year (PROTOCOL.md §6). */
        if (json_is_integer(json_object_get(k, "exp")) &&
            json_integer_value(json_object_get(k, "exp")) < (json_int_t)time(NULL)) {
            fake_mp_error(r, 400, "invalid_grant", "MP-121",
                "Invalid assertion. The registered key %.64s has expired", kid);
            return 0;
        }
        if ((g->pub = fake_jwk_key(k)) != NULL)
            return 1;
    }
    fake_mp_error(r, 400, "invalid_grant", NULL,
        "Invalid assertion. Client authentication "
        "failed. No registered key with kid %.64s",
        kid != NULL ? kid : "(not a string)");
    return 0;
}

static int
claims_known(struct fake_reply *r, json_t *c)
{
    static const char *const known[] = {"aud", "iss", "scope", "iat", "exp", "jti", "resource",
        "consumer_org", "authorization_details", "pid"};
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach(c, key, v)
    {
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(key, known[i]) == 0)
                break;
        if (i == sizeof(known) / sizeof(known[0])) {
            fake_mp_error(r, 400, "invalid_request", NULL, "Invalid assertion. Unknown claim %.32s",
                key);
            return 0;
        }
    }
    return 1;
}

static int
time_ok(struct fake_reply *r, json_t *c)
{
    json_t *iat = json_object_get(c, "iat"), *exp = json_object_get(c, "exp");
    json_int_t now = (json_int_t)time(NULL), i, x;

    if (!json_is_integer(iat) || !json_is_integer(exp)) {
        fake_mp_error(r, 400, "invalid_grant", "MP-130",
            "Invalid assertion. iat and exp are "
            "required integers");
        return 0;
    }
    i = json_integer_value(iat);
    x = json_integer_value(exp);
    if (i > now + 10) {
        fake_mp_error(r, 400, "invalid_grant", "MP-130",
            "Invalid assertion. Issue time is after "
            "now (check your clock)");
        return 0;
    }
    if (i < now - 10 || x <= now) {
        fake_mp_error(r, 400, "invalid_grant", "MP-130",
            "Invalid assertion. JWT expired or issue "
            "time too far in the past");
        return 0;
    }
    if (x - i > 120) {
        fake_mp_error(r, 400, "invalid_grant", "MP-130",
            "Invalid assertion. exp - iat is over "
            "120 seconds");
        return 0;
    }
    return 1;
}

/* Single use: a jti seen before is refused; old ones are forgotten after they expire. */
static int
jti_ok(struct fake *f, struct fake_reply *r, json_t *c)
{
    const char *jti = str(c, "jti");
    time_t now = time(NULL);
    size_t i, w = 0;
    int seen = 0;

    if (jti == NULL || strlen(jti) == 0 || strlen(jti) >= sizeof(f->jti[0])) {
        fake_mp_error(r, 400, "invalid_grant", "MP-012", "Invalid assertion. jti is required");
        return 0;
    }
    pthread_mutex_lock(&f->mu);
    for (i = 0; i < f->njti; i++) {
        if (f->jti_exp[i] + 30 < now)
            continue;
        seen |= strcmp(f->jti[i], jti) == 0;
        memcpy(f->jti[w], f->jti[i], sizeof(f->jti[0]));
        f->jti_exp[w++] = f->jti_exp[i];
    }
    f->njti = w;
    if (!seen && f->njti < FAKE_MAX_JTI) {
        snprintf(f->jti[f->njti], sizeof(f->jti[0]), "%s", jti);
        f->jti_exp[f->njti++] = (time_t)json_integer_value(json_object_get(c, "exp"));
    }
    pthread_mutex_unlock(&f->mu);
    if (seen)
        fake_mp_error(r, 400, "invalid_grant", "MP-012",
            "Invalid assertion. Grant is used "
            "before");
    return !seen;
}

static int
scope_ok(struct fake_reply *r, const struct fake_client *cl, json_t *c)
{
    const char *scope = str(c, "scope"), *p, *start;

    if (scope == NULL || *scope == '\0') {
        fake_mp_error(r, 400, "invalid_scope", NULL, "Bad request. scope is required");
        return 0;
    }
    for (p = scope; *p != '\0';) {
        while (*p == ' ')
            p++;
        for (start = p; *p != '\0' && *p != ' '; p++)
            ;
        if (p > start && !policy_list_has(cl->scopes, start, (size_t)(p - start))) {
            fake_mp_error(r, 400, "invalid_scope", "MP-200",
                "Bad request. Scope %.*s is not registered on the client", (int)(p - start), start);
            return 0;
        }
    }
    return 1;
}

static int
resource_ok(struct fake_reply *r, json_t *c)
{
    json_t *res = json_object_get(c, "resource"), *v;
    size_t i;

    if (res == NULL)
        return 1;
    if (json_is_array(res) && json_array_size(res) > 0) {
        json_array_foreach(res, i, v) if (!json_is_string(v)) break;
        if (i == json_array_size(res))
            return 1;
    }
    fake_mp_error(r, 400, "invalid_request", NULL,
        "Invalid assertion. resource must be an array "
        "of strings (currently only array supported)");
    return 0;
}

static int
consumer_ok(struct fake_reply *r, const struct fake_client *cl, json_t *c)
{
    json_t *v = json_object_get(c, "consumer_org");
    const char *org = json_string_value(v);

    if (v == NULL)
        return 1;
    if (org == NULL || !mp_orgno_valid(org)) {
        fake_mp_error(r, 400, "invalid_request", NULL,
            "Invalid assertion. consumer_org is not a "
            "valid organization number");
        return 0;
    }
    if (strcmp(org, cl->org) == 0) {
        fake_mp_error(r, 400, "invalid_request", NULL,
            "Invalid assertion. The combination consumer_org %s and client is invalid", org);
        return 0;
    }
    if (!policy_list_has(cl->consumer_orgs, org, strlen(org))) {
        fake_mp_error(r, 403, "access_denied", "MP-251",
            "Forbidden. %s has not delegated the "
            "scope to this client",
            org);
        return 0;
    }
    return 1;
}

/* pid (PROTOCOL.md §2, D-PID): a national identity number, for a client allowed pid. */
static int
pid_ok(struct fake_reply *r, const struct fake_client *cl, json_t *c)
{
    json_t *v = json_object_get(c, "pid");

    if (v == NULL)
        return 1;
    if (!fake_pid_valid(json_string_value(v))) {
        fake_mp_error(r, 400, "invalid_request", NULL,
            "Invalid assertion. pid must be a national identity number: a string of 11 digits "
            "with valid control digits");
        return 0;
    }
    if (!cl->pid) {
        fake_mp_error(r, 400, "invalid_request", NULL,
            "Invalid assertion. The client is not allowed to ask for pid-restricted tokens");
        return 0;
    }
    return 1;
}

/* Refuses any member of authorization_details d outside known (NULL-terminated). */
static int
rar_fields_ok(struct fake_reply *r, json_t *d, const char *const *known)
{
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach(d, key, v)
    {
        for (i = 0; known[i] != NULL && strcmp(key, known[i]) != 0; i++)
            ;
        if (known[i] == NULL) {
            fake_mp_error(r, 400, "invalid_request", "MP-302",
                "Unknown field %.32s in "
                "authorization_details",
                key);
            return 0;
        }
    }
    return 1;
}

/* One urn:altinn:systemuser object (PROTOCOL.md §2). */
static int
sysuser_ok(struct fake_reply *r, const struct fake_client *cl, json_t *d)
{
    static const char *const known[] = {"type", "systemuser_org", "externalRef", NULL};
    json_t *su;
    const char *id;

    if (!rar_fields_ok(r, d, known))
        return 0;
    su = json_object_get(d, "systemuser_org");
    id = str(su, "ID");
    if (str(su, "authority") == NULL || strcmp(str(su, "authority"), "iso6523-actorid-upis") ||
        id == NULL || strncmp(id, "0192:", 5) != 0 || !mp_orgno_valid(id + 5) ||
        (json_object_get(d, "externalRef") != NULL && str(d, "externalRef") == NULL)) {
        fake_mp_error(r, 400, "invalid_request", "MP-303",
            "Invalid values in "
            "authorization_details");
        return 0;
    }
    if (!policy_list_has(cl->systemuser_orgs, id + 5, strlen(id + 5))) {
        fake_mp_error(r, 403, "access_denied", "MP-251", "Forbidden. No system user for %s",
            id + 5);
        return 0;
    }
    return 1;
}

/* One urn:altinn:consent object {type, id, from}: a consent of the config, from that party,
 * given to the client's organisation or to the consumer_org that delegated to it, and still
 * valid (docs.digdir.no maskinporten_func_samtykke; Altinn's "retrieve consent token"). */
static int
consent_ok(struct fake *f, struct fake_reply *r, struct grant_ctx *g, json_t *d)
{
    static const char *const known[] = {"type", "id", "from", NULL};
    const char *id = str(d, "id"), *from = str(d, "from");
    const char *consumer = str(g->claims, "consumer_org");
    const struct fake_consent *cs;

    if (!rar_fields_ok(r, d, known))
        return 0;
    if (!fake_uuid_valid(id)) {
        fake_mp_error(r, 400, "invalid_request", "MP-303",
            "Invalid values in authorization_details: id must be a UUID");
        return 0;
    }
    if (!fake_from_valid(from)) {
        fake_mp_error(r, 400, "invalid_request", "MP-303",
            "Invalid values in authorization_details: from must be " FAKE_FROM_PERSON
            "<national identity number> or " FAKE_FROM_ORG "<organization number>");
        return 0;
    }
    if ((cs = fake_consent_find(f, id)) == NULL) {
        fake_mp_error(r, 400, "invalid_request", NULL, "Consent %s not found", id);
        return 0;
    }
    if (strcmp(cs->from, from) != 0) {
        fake_mp_error(r, 400, "invalid_request", NULL, "Consent %s is not from %.64s", id, from);
        return 0;
    }
    if (strcmp(cs->to, g->client->org) != 0 && consumer == NULL) {
        fake_mp_error(r, 400, "invalid_request", NULL,
            "Consent %s is given to %s, not to the client's organization %s", id, cs->to,
            g->client->org);
        return 0;
    }
    if (strcmp(cs->to, g->client->org) != 0 && strcmp(cs->to, consumer) != 0) {
        fake_mp_error(r, 400, "invalid_request", NULL,
            "Consent %s is given to %s, neither the client's organization %s nor consumer_org %s",
            id, cs->to, g->client->org, consumer);
        return 0;
    }
    if (cs->valid_until <= time(NULL)) {
        fake_mp_error(r, 400, "invalid_request", NULL, "Consent %s expired at %s", id,
            cs->valid_to);
        return 0;
    }
    g->consent = cs;
    return 1;
}

/* authorization_details: an array of one urn:altinn:systemuser or urn:altinn:consent object. */
static int
rar_ok(struct fake *f, struct fake_reply *r, struct grant_ctx *g)
{
    json_t *ad = json_object_get(g->claims, "authorization_details");
    json_t *d = json_array_get(ad, 0);
    const char *type = str(d, "type");

    if (ad == NULL)
        return 1;
    if (json_is_array(ad) && json_array_size(ad) == 1 && type != NULL) {
        if (strcmp(type, "urn:altinn:systemuser") == 0)
            return sysuser_ok(r, g->client, d);
        if (strcmp(type, "urn:altinn:consent") == 0)
            return consent_ok(f, r, g, d);
    }
    fake_mp_error(r, 400, "invalid_request", "MP-301", "Unknown authorization_details type");
    return 0;
}

static json_t *
org_ref(const char *org)
{
    char id[16];

    snprintf(id, sizeof(id), "0192:%s", org);
    return json_pack("{s:s, s:s}", "authority", "iso6523-actorid-upis", "ID", id);
}

/* The consent as Altinn expands it into the token (Altinn's "retrieve consent token"). */
static json_t *
consent_details(const struct fake *f, const struct fake_consent *cs)
{
    char consented[40];
    struct tm tm;

    gmtime_r(&f->started, &tm);
    strftime(consented, sizeof(consented), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    return json_pack("[{s:s, s:s, s:s, s:o, s:s, s:s, s:[{s:[s], s:[{s:s, s:s}], s:{}}]}]", "type",
        "urn:altinn:consent", "id", cs->id, "from", cs->from, "to", org_ref(cs->to), "consented",
        consented, "validTo", cs->valid_to, "consentRights", "action", "consent", "resource",
        "type", "urn:altinn:resource", "value", cs->resource, "metaData");
}

static void
issue_token(struct fake *f, struct fake_reply *r, const struct grant_ctx *g)
{
    const char *consumer = str(g->claims, "consumer_org");
    json_t *res = json_object_get(g->claims, "resource"), *c;
    struct mp_buf *tok = mp_buf_new(64 * 1024);
    char jti[40];
    json_int_t now = (json_int_t)time(NULL);

    mp_uuid_v4(jti);
    c = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:I, s:s}", "iss", f->issuer, "client_id",
        g->client->id, "client_amr", g->x5c ? "virksomhetssertifikat" : "private_key_jwt",
        "consumer", org_ref(consumer != NULL ? consumer : g->client->org), "scope",
        str(g->claims, "scope"), "token_type", "Bearer", "iat", now, "exp", now + f->token_lifetime,
        "jti", jti);
    if (c == NULL || tok == NULL) {
        fake_mp_error(r, 500, "server_error", NULL, "out of memory");
        goto out;
    }
    if (consumer != NULL)
        json_object_set_new(c, "supplier", org_ref(g->client->org));
    /* The token's aud is the resource asked for, else "unspecified" (PROTOCOL.md §3). */
    if (res == NULL)
        json_object_set_new(c, "aud", json_string("unspecified"));
    else
        json_object_set(c, "aud", json_array_size(res) == 1 ? json_array_get(res, 0) : res);
    if (json_object_get(g->claims, "pid") != NULL)
        json_object_set(c, "pid", json_object_get(g->claims, "pid"));
    if (g->consent != NULL)
        json_object_set_new(c, "authorization_details", consent_details(f, g->consent));
    else if (json_object_get(g->claims, "authorization_details") != NULL)
        json_object_set(c, "authorization_details",
            json_object_get(g->claims, "authorization_details"));
    if (fake_jwt_sign(f->mp_key, "mp-fake-1", c, tok) != MP_OK) {
        fake_mp_error(r, 500, "server_error", NULL, "cannot sign the token");
        goto out;
    }
    fake_json(r, 200,
        json_pack("{s:s, s:s, s:I, s:s}", "access_token", mp_buf_str(tok), "token_type", "Bearer",
            "expires_in", (json_int_t)f->token_lifetime, "scope", str(g->claims, "scope")));
    pthread_mutex_lock(&f->mu);
    f->stats[ST_TOKEN_OK]++;
    pthread_mutex_unlock(&f->mu);
out:
    json_decref(c);
    mp_buf_free(tok);
}

static int
grant_ok(struct fake *f, struct fake_reply *r, const char *jwt, size_t len, struct grant_ctx *g)
{
    const char *iss, *aud;

    if (fake_jwt_parse(jwt, len, &g->header, &g->claims) != MP_OK) {
        fake_mp_error(r, 400, "invalid_request", "MP-011", "Invalid assertion. Malformed JWT");
        return 0;
    }
    if (!header_ok(r, g->header))
        return 0;
    if ((iss = str(g->claims, "iss")) == NULL || (g->client = fake_client_find(f, iss)) == NULL) {
        fake_mp_error(r, 400, "invalid_grant", "MP-100", "Invalid assertion. Client not found");
        return 0;
    }
    if (json_object_get(g->header, "x5c") != NULL ? !key_from_x5c(f, r, g) : !key_from_kid(r, g))
        return 0;
    if (!fake_jwt_verify(jwt, len, str(g->header, "alg"), g->pub)) {
        fake_mp_error(r, 400, "invalid_grant", "MP-124", "Invalid assertion. Signature invalid");
        return 0;
    }
    if (!claims_known(r, g->claims))
        return 0;
    if ((aud = str(g->claims, "aud")) == NULL || strcmp(aud, f->issuer) != 0) {
        fake_mp_error(r, 400, "invalid_grant", "MP-110", "Invalid assertion. aud must be %s",
            f->issuer);
        return 0;
    }
    return time_ok(r, g->claims) && scope_ok(r, g->client, g->claims) &&
        resource_ok(r, g->claims) && consumer_ok(r, g->client, g->claims) &&
        pid_ok(r, g->client, g->claims) && rar_ok(f, r, g) && jti_ok(f, r, g->claims);
}

void
fake_token(struct fake *f, const char *ctype, const char *body, size_t len, struct fake_reply *r)
{
    struct mp_buf *gt = mp_buf_new(256), *jwt = mp_buf_new(64 * 1024);
    struct grant_ctx g;

    memset(&g, 0, sizeof(g));
    if (gt == NULL || jwt == NULL)
        fake_mp_error(r, 500, "server_error", NULL, "out of memory");
    else if (ctype == NULL || strncmp(ctype, "application/x-www-form-urlencoded", 33) != 0)
        fake_mp_error(r, 400, "invalid_request", NULL,
            "Content-Type must be application/x-www-form-urlencoded");
    else if (!form_get(body, len, "grant_type", gt) ||
        strcmp(mp_buf_str(gt), "urn:ietf:params:oauth:grant-type:jwt-bearer") != 0)
        fake_mp_error(r, 400, "unsupported_grant_type", NULL,
            "grant_type must be urn:ietf:params:oauth:grant-type:jwt-bearer");
    else if (!form_get(body, len, "assertion", jwt) || mp_buf_len(jwt) == 0)
        fake_mp_error(r, 400, "invalid_request", "MP-011", "assertion is required");
    else {
        /* g.client points into the registry, whose keys the self-service API may replace. */
        pthread_mutex_lock(&f->reg);
        if (grant_ok(f, r, mp_buf_str(jwt), mp_buf_len(jwt), &g))
            issue_token(f, r, &g);
        pthread_mutex_unlock(&f->reg);
    }
    json_decref(g.header);
    json_decref(g.claims);
    EVP_PKEY_free(g.pub);
    mp_buf_free(gt);
    mp_buf_free(jwt);
}

void
fake_well_known(struct fake *f, struct fake_reply *r)
{
    char token[256], jwk[256];

    snprintf(token, sizeof(token), "%s/token", f->base);
    snprintf(jwk, sizeof(jwk), "%s/jwk", f->base);
    fake_json(r, 200,
        json_pack("{s:s, s:s, s:s, s:[s], s:[s], s:[s,s,s], s:[s,s]}", "issuer", f->issuer,
            "token_endpoint", token, "jwks_uri", jwk, "grant_types_supported",
            "urn:ietf:params:oauth:grant-type:jwt-bearer", "token_endpoint_auth_methods_supported",
            "private_key_jwt", "token_endpoint_auth_signing_alg_values_supported", "RS256", "RS384",
            "RS512", "authorization_details_types_supported", "urn:altinn:systemuser",
            "urn:altinn:consent"));
}

void
fake_jwks(struct fake *f, struct fake_reply *r)
{
    fake_json(r, 200, json_pack("{s:[o]}", "keys", fake_jwk(f->mp_key, "mp-fake-1")));
}
