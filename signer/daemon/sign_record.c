/* Builds the audit record of a sign decision, checking every jansson call (sign_record.h). */
#include "signer/daemon/sign_record.h"

#include <stdlib.h>
#include <string.h>

#include "common/frame.h"
#include "common/pid.h"
#include "common/text.h"
#include "signer/audit/audit_format.h"
#include "signer/audit/audit_person.h"
#include "signer/signer_conf.h"

/* The longest line a decision can make still fits an audit line, so no request is refused for
 * its record's length: every string is escaped (4 bytes a byte at worst, "\xNN"), and JSON
 * then doubles the backslash (5). The caller's fields are bounded by the frame's, the reason by
 * MP_ERRMSG_MAX, the config's key, client_id and aud by SIGNER_CONF_STR_MAX; 1 KiB covers the
 * keys, numbers and hashes. */
#define JSON_TEXT_MAX(n) ((n)*5 + 2)
_Static_assert(JSON_TEXT_MAX(sizeof(((struct frame_msg *)0)->profile) +
                   sizeof(((struct frame_msg *)0)->scope) +
                   sizeof(((struct frame_msg *)0)->resources) +
                   sizeof(((struct frame_msg *)0)->consumer_org) +
                   sizeof(((struct frame_msg *)0)->su_org) +
                   sizeof(((struct frame_msg *)0)->su_ref) +
                   sizeof(((struct frame_msg *)0)->consent_id) +
                   sizeof(((struct frame_msg *)0)->consent_from) + 2 * AUDIT_PERSON_MARK_MAX +
                   2 * sizeof(((struct peer *)0)->exe) + MP_ERRMSG_MAX + 3 * SIGNER_CONF_STR_MAX) +
            1024 <
        AUDIT_MAX_LINE,
    "the longest sign record would not fit an audit line");

/* A JSON string of s escaped (mp_text_escape); NULL when out of memory. */
static json_t *
text(const char *s)
{
    size_t n = MP_TEXT_ESCAPED_MAX(strlen(s));
    char *buf = malloc(n);
    json_t *j;

    if (buf == NULL)
        return NULL;
    mp_text_escape(buf, n, s);
    j = json_string(buf);
    free(buf);
    return j;
}

/* json_object_set_new takes v even when it fails (and fails on v NULL): 1 on success. */
static int
put(json_t *o, const char *k, json_t *v)
{
    return json_object_set_new(o, k, v) == 0;
}

static int
put_text(json_t *o, const char *k, const char *s)
{
    return s == NULL || put(o, k, text(s));
}

static int
put_resources(json_t *c, const struct grant_request *g)
{
    json_t *res;
    size_t i;
    int ok;

    if (g->nresources == 0)
        return 1;
    if ((res = json_array()) == NULL || !put(c, "resource", res))
        return 0;
    for (i = 0, ok = 1; ok && i < g->nresources; i++)
        ok = json_array_append_new(res, text(g->resources[i])) == 0;
    return ok;
}

/* A pid as its keyed mark (audit_person.h), never the number. */
static int
put_person(json_t *c, const char *k, const char *pid, const struct mp_secret *key)
{
    char mark[AUDIT_PERSON_MARK_MAX];

    if (pid == NULL)
        return 1;
    audit_person_mark(key, pid, mark);
    return put(c, k, json_string(mark));
}

/* consent_from: an organisation in clear, a person's number as its mark after the URN. */
static int
put_consent_from(json_t *c, const char *from, const struct mp_secret *key)
{
    char mark[AUDIT_PERSON_MARK_MAX], v[sizeof(MP_URN_PERSON) + AUDIT_PERSON_MARK_MAX];

    if (from == NULL || strncmp(from, MP_URN_PERSON, strlen(MP_URN_PERSON)) != 0)
        return put_text(c, "consent_from", from);
    audit_person_mark(key, from + strlen(MP_URN_PERSON), mark);
    snprintf(v, sizeof(v), "%s%s", MP_URN_PERSON, mark);
    return put(c, "consent_from", json_string(v));
}

static json_t *
claims(const struct sign_record *r)
{
    const struct grant_request *g = r->g;
    json_t *c = json_object();
    int ok = c != NULL && put_text(c, "aud", g->aud) && put_text(c, "scope", g->scope) &&
        put_resources(c, g) && put_text(c, "consumer_org", g->consumer_org) &&
        put_text(c, "systemuser_org", g->systemuser_org) &&
        put_text(c, "systemuser_ref", g->systemuser_ref) &&
        put_person(c, "pid", g->person, r->person_key) &&
        put_text(c, "consent_id", g->consent_id) &&
        put_consent_from(c, g->consent_from, r->person_key);

    if (ok && r->info->jti[0] != '\0')
        ok = put(c, "iat", json_integer(r->info->iat)) &&
            put(c, "exp", json_integer(r->info->exp)) && put_text(c, "jti", r->info->jti);
    if (!ok) {
        json_decref(c);
        return NULL;
    }
    return c;
}

static json_t *
caller(const struct peer *who, int with_exe)
{
    json_t *c = json_pack("{s:I, s:I, s:I}", "uid", (json_int_t)who->uid, "gid",
        (json_int_t)who->gid, "pid", (json_int_t)who->pid);

    if (c != NULL && with_exe && !put_text(c, "exe", who->exe)) {
        json_decref(c);
        return NULL;
    }
    return c;
}

static json_t *
text_or_null(const char *s)
{
    return s != NULL ? text(s) : json_null();
}

json_t *
sign_record_build(const struct sign_record *r)
{
    int granted = strcmp(r->outcome, "granted") == 0;
    json_t *rec = json_pack("{s:s, s:s}", "event", "sign", "outcome", r->outcome);
    int ok = rec != NULL && (granted || put_text(rec, "reason", r->reason)) &&
        put(rec, "caller", caller(r->who, 1)) &&
        (r->forwarder == NULL || put(rec, "forwarder", caller(r->forwarder, 1))) &&
        put_text(rec, "profile", r->profile) && put(rec, "client_id", text_or_null(r->client_id)) &&
        put(rec, "key", text_or_null(r->key)) &&
        put(rec, "cert_sha256", text_or_null(r->cert_sha256)) && put(rec, "claims", claims(r)) &&
        (!granted || put_text(rec, "jws_sha256", r->info->jws_sha256));

    if (!ok) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

json_t *
sign_record_unbuilt(const struct peer *who)
{
    json_t *rec = json_pack("{s:s, s:s, s:s}", "event", "sign", "outcome", "error", "reason",
        "audit record could not be built");

    if (rec != NULL && !put(rec, "caller", caller(who, 0))) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}
