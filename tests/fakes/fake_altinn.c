/* The fake Altinn token exchange (PROTOCOL.md §4): a Maskinporten token from the fake
 * Maskinporten in, an Altinn JWT out as text/plain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/uuid.h"
#include "tests/fakes/fake.h"

static void
problem(struct fake_reply *r, unsigned int status, const char *title)
{
    fake_json(r, status,
        json_pack("{s:s, s:s, s:i}", "type", "https://tools.ietf.org/html/rfc7231#section-6.5.1",
            "title", title, "status", (int)status));
}

/* The consumer claim must be {authority: iso6523-actorid-upis, ID: "<icd>:<orgno>"}. */
static const char *
consumer_org(json_t *claims)
{
    json_t *c = json_object_get(claims, "consumer");
    const char *auth = json_string_value(json_object_get(c, "authority"));
    const char *id = json_string_value(json_object_get(c, "ID"));
    const char *colon = id != NULL ? strchr(id, ':') : NULL;

    if (auth == NULL || strcmp(auth, "iso6523-actorid-upis") != 0 || colon == NULL ||
        strlen(colon + 1) != 9)
        return NULL;
    return colon + 1;
}

static json_t *
altinn_claims(struct fake *f, json_t *mp, const char *org)
{
    json_t *c = json_deep_copy(mp);
    const char *scope = json_string_value(json_object_get(mp, "scope"));
    char iss[256], sid[40];
    json_int_t now = (json_int_t)time(NULL);

    if (c == NULL)
        return NULL;
    json_object_del(c, "aud");
    json_object_del(c, "iss");
    json_object_del(c, "client_amr");
    snprintf(iss, sizeof(iss), "%s/authentication/api/v1/openid/", f->base);
    mp_uuid_v4(sid);
    json_object_set_new(c, "urn:altinn:orgNumber", json_string(org));
    json_object_set_new(c, "urn:altinn:authenticatemethod", json_string("maskinporten"));
    json_object_set_new(c, "urn:altinn:authlevel", json_integer(3));
    if (scope != NULL && strstr(scope, "altinn:serviceowner") != NULL)
        json_object_set_new(c, "urn:altinn:org", json_string("ttd"));
    json_object_set_new(c, "iss", json_string(iss));
    json_object_set_new(c, "sid", json_string(sid));
    json_object_set_new(c, "iat", json_integer(now));
    json_object_set_new(c, "nbf", json_integer(now));
    json_object_set_new(c, "exp", json_integer(now + f->altinn_lifetime));
    return c;
}

void
fake_exchange(struct fake *f, const char *provider, const char *authz, int enterprise_user,
    struct fake_reply *r)
{
    json_t *h = NULL, *c = NULL, *out = NULL;
    const char *tok, *org;
    json_int_t now = (json_int_t)time(NULL);

    if (strcasecmp(provider, "maskinporten") != 0) {
        r->status = 400;
        r->type = "text/plain";
        mp_buf_puts(r->body, "Unknown token provider");
        return;
    }
    if (enterprise_user) {
        problem(r, 410, "Enterprise user authentication is gone with Altinn 2");
        return;
    }
    if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0) {
        problem(r, 401, "Unauthorized");
        return;
    }
    tok = authz + 7;
    if (fake_jwt_parse(tok, strlen(tok), &h, &c) != MP_OK ||
        !fake_jwt_verify(tok, strlen(tok), "RS256", f->mp_key) ||
        !json_is_integer(json_object_get(c, "exp")) ||
        json_integer_value(json_object_get(c, "exp")) + 10 < now ||
        (org = consumer_org(c)) == NULL) {
        problem(r, 401, "Unauthorized");
        goto out;
    }
    if ((out = altinn_claims(f, c, org)) == NULL ||
        fake_jwt_sign(f->altinn_key, "altinn-fake-1", out, r->body) != MP_OK) {
        problem(r, 500, "Internal Server Error");
        goto out;
    }
    r->status = 200;
    r->type = "text/plain; charset=utf-8";
    pthread_mutex_lock(&f->mu);
    f->stats[ST_EXCHANGE_OK]++;
    pthread_mutex_unlock(&f->mu);
out:
    json_decref(h);
    json_decref(c);
    json_decref(out);
}
