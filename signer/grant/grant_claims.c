/* Checking a grant request and building its Maskinporten claims (grant_claims.h). */
#include "signer/grant/grant_claims.h"

#include <stdio.h>
#include <string.h>

#include "common/orgno.h"
#include "common/pid.h"
#include "common/uuid.h"

#define MAX_SCOPE_LEN 1024
#define MAX_RESOURCE_LEN 512
#define MAX_REF_LEN 128

/* RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E. */
static int
scope_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

static int
printable_ascii(const char *s, size_t max)
{
    size_t n = 0;

    for (; *s != '\0'; s++, n++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\')
            return 0;
    return n > 0 && n <= max;
}

static int
scope_seen(const char *list, size_t listlen, const char *tok, size_t toklen)
{
    const char *p = list, *end = list + listlen, *sp;

    while (p < end) {
        sp = memchr(p, ' ', (size_t)(end - p));
        if (sp == NULL)
            sp = end;
        if ((size_t)(sp - p) == toklen && memcmp(p, tok, toklen) == 0)
            return 1;
        p = sp + 1;
    }
    return 0;
}

enum mp_err
grant_scope_normalise(const char *scope, char *out, size_t outlen, struct mp_errmsg *e)
{
    const char *p = scope, *start;
    size_t n = 0, len, count = 0;

    if (scope == NULL)
        return mp_errf(e, MP_ERR_INVALID, "no scope given (--scope \"A B\")");
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        for (start = p; *p != '\0' && *p != ' ' && *p != '\t'; p++)
            if (!scope_char((unsigned char)*p))
                return mp_errf(e, MP_ERR_INVALID,
                    "scope contains a character not allowed in a scope token (byte 0x%02x)",
                    (unsigned char)*p);
        len = (size_t)(p - start);
        if (scope_seen(out, n, start, len))
            return mp_errf(e, MP_ERR_INVALID, "scope %.*s is given twice", (int)len, start);
        if (++count > GRANT_MAX_SCOPES || n + len + 2 > outlen)
            return mp_errf(e, MP_ERR_INVALID, "scope list too long");
        if (n > 0)
            out[n++] = ' ';
        memcpy(out + n, start, len);
        n += len;
        out[n] = '\0';
    }
    if (count == 0)
        return mp_errf(e, MP_ERR_INVALID, "scope is empty");
    return MP_OK;
}

/* An absolute URI: scheme ":" rest, printable ASCII, no spaces or quotes. */
static int
absolute_uri(const char *s)
{
    const char *c = strchr(s, ':');
    const char *p;

    if (!printable_ascii(s, MAX_RESOURCE_LEN) || c == NULL || c == s || c[1] == '\0')
        return 0;
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return 0;
    for (p = s; p < c; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '+' || *p == '-' || *p == '.'))
            return 0;
    return 1;
}

static enum mp_err
check_orgs(const struct grant_request *g, const char *own_org, struct mp_errmsg *e)
{
    if (g->consumer_org != NULL) {
        if (!mp_orgno_valid(g->consumer_org))
            return mp_errf(e, MP_ERR_INVALID,
                "consumer_org \"%.20s\" is not a valid organisation number (9 digits, mod-11 "
                "check digit)",
                g->consumer_org);
        if (own_org != NULL && strcmp(own_org, g->consumer_org) == 0)
            return mp_errf(e, MP_ERR_INVALID,
                "consumer_org %s is the certificate's own organisation; omit it", own_org);
    }
    if (g->systemuser_org != NULL && !mp_orgno_valid(g->systemuser_org))
        return mp_errf(e, MP_ERR_INVALID,
            "systemuser_org \"%.20s\" is not a valid organisation number (9 digits, mod-11 "
            "check digit)",
            g->systemuser_org);
    if (g->systemuser_ref != NULL && g->systemuser_org == NULL)
        return mp_errf(e, MP_ERR_INVALID, "systemuser_ref needs systemuser_org");
    if (g->systemuser_ref != NULL && !printable_ascii(g->systemuser_ref, MAX_REF_LEN))
        return mp_errf(e, MP_ERR_INVALID,
            "systemuser_ref must be 1..%d printable ASCII characters without spaces", MAX_REF_LEN);
    return MP_OK;
}

/* pid and consent name people: no message echoes their values. */
static enum mp_err
check_person(const struct grant_request *g, struct mp_errmsg *e)
{
    const char *f = g->consent_from;

    if (g->person != NULL && !mp_pid_valid(g->person))
        return mp_errf(e, MP_ERR_INVALID,
            "pid is not a national identity number (11 digits, two mod-11 control digits)");
    if ((g->consent_id == NULL) != (f == NULL))
        return mp_errf(e, MP_ERR_INVALID, "a consent needs both its id and from");
    if (f == NULL)
        return MP_OK;
    if (!mp_uuid_valid(g->consent_id))
        return mp_errf(e, MP_ERR_INVALID, "consent id must be a UUID");
    if (g->systemuser_org != NULL)
        return mp_errf(e, MP_ERR_INVALID,
            "a grant names one party: a system user or a consent, not both");
    if (!mp_party_urn_valid(f))
        return mp_errf(e, MP_ERR_INVALID,
            "consent from must be " MP_URN_PERSON "<pid> or " MP_URN_ORG "<orgno>, valid");
    return MP_OK;
}

enum mp_err
grant_request_check(const struct grant_request *g, const char *own_org, struct mp_errmsg *e)
{
    char scope[MAX_SCOPE_LEN];
    size_t i;
    enum mp_err r;

    if (g->aud == NULL || !absolute_uri(g->aud))
        return mp_errf(e, MP_ERR_INVALID,
            "aud must be an absolute URL such as "
            "https://test.maskinporten.no/");
    if (g->client_id == NULL || !printable_ascii(g->client_id, 128))
        return mp_errf(e, MP_ERR_INVALID, "client_id missing or not printable ASCII");
    if ((r = grant_scope_normalise(g->scope, scope, sizeof(scope), e)) != MP_OK)
        return r;
    if (g->lifetime < 1 || g->lifetime > GRANT_MAX_LIFETIME)
        return mp_errf(e, MP_ERR_INVALID, "lifetime %u s is out of range 1..%d", g->lifetime,
            GRANT_MAX_LIFETIME);
    if (g->nresources > GRANT_MAX_RESOURCES)
        return mp_errf(e, MP_ERR_INVALID, "at most %d resources", GRANT_MAX_RESOURCES);
    for (i = 0; i < g->nresources; i++)
        if (!absolute_uri(g->resources[i]))
            return mp_errf(e, MP_ERR_INVALID, "resource \"%.64s\" is not an absolute URI",
                g->resources[i]);
    if ((r = check_orgs(g, own_org, e)) != MP_OK)
        return r;
    return check_person(g, e);
}

static json_t *
systemuser_json(const struct grant_request *g)
{
    char id[16];
    json_t *d;

    snprintf(id, sizeof(id), "0192:%s", g->systemuser_org);
    d = json_pack("{s:s, s:{s:s, s:s}}", "type", "urn:altinn:systemuser", "systemuser_org",
        "authority", "iso6523-actorid-upis", "ID", id);
    if (d != NULL && g->systemuser_ref != NULL &&
        json_object_set_new(d, "externalRef", json_string(g->systemuser_ref)) != 0) {
        json_decref(d);
        return NULL;
    }
    return d != NULL ? json_pack("[o]", d) : NULL;
}

static json_t *
consent_json(const struct grant_request *g)
{
    return json_pack("[{s:s, s:s, s:s}]", "type", "urn:altinn:consent", "id", g->consent_id, "from",
        g->consent_from);
}

static enum mp_err
claims_optional(json_t *c, const struct grant_request *g)
{
    json_t *res;
    size_t i;

    if (g->nresources > 0) {
        /* Digdir's current grant page: "Currently only array supported". */
        if ((res = json_array()) == NULL || json_object_set_new(c, "resource", res) != 0)
            return MP_ERR_NOMEM;
        for (i = 0; i < g->nresources; i++)
            if (json_array_append_new(res, json_string(g->resources[i])) != 0)
                return MP_ERR_NOMEM;
    }
    if (g->consumer_org != NULL &&
        json_object_set_new(c, "consumer_org", json_string(g->consumer_org)) != 0)
        return MP_ERR_NOMEM;
    if (g->person != NULL && json_object_set_new(c, "pid", json_string(g->person)) != 0)
        return MP_ERR_NOMEM;
    if (g->systemuser_org != NULL &&
        json_object_set_new(c, "authorization_details", systemuser_json(g)) != 0)
        return MP_ERR_NOMEM;
    if (g->consent_id != NULL &&
        json_object_set_new(c, "authorization_details", consent_json(g)) != 0)
        return MP_ERR_NOMEM;
    return MP_OK;
}

enum mp_err
grant_claims_json(const struct grant_request *g, time_t now, const char *jti, json_t **out,
    struct mp_errmsg *e)
{
    char scope[MAX_SCOPE_LEN];
    json_t *c = NULL;
    enum mp_err r;

    if ((r = grant_request_check(g, NULL, e)) != MP_OK)
        return r;
    if ((r = grant_scope_normalise(g->scope, scope, sizeof(scope), e)) != MP_OK)
        return r;
    c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "aud", g->aud, "iss", g->client_id, "scope",
        scope, "iat", (json_int_t)now, "exp", (json_int_t)now + g->lifetime, "jti", jti);
    if (c == NULL || claims_optional(c, g) != MP_OK) {
        json_decref(c);
        return mp_errf(e, MP_ERR_NOMEM, "out of memory building claims");
    }
    *out = c;
    return MP_OK;
}
