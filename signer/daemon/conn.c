/* One connection of mp-signer serve: decode → policy → claims → sign → audit (durable) →
 * reply. Every decision, granted or refused, is audited before the caller hears of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/frame.h"
#include "common/log.h"
#include "common/num.h"
#include "signer/daemon/server_int.h"

/* The outcome of one request, filled as it goes. */
struct decision {
    const char *outcome; /* granted, refused, error */
    enum frame_code code;
    struct mp_errmsg why;
    struct grant_info info;
    struct mp_buf *jws;
    int announced; /* audit_expect() was called for its record */
};

static int
profile_index(const struct signer_conf *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nprofiles; i++)
        if (strcmp(c->profiles[i]->name, name) == 0)
            return (int)i;
    return -1;
}

static enum mp_err
request_from_frame(const struct frame_msg *m, const struct signer_conf_profile *p,
    struct grant_request *g, struct mp_errmsg *why)
{
    uint64_t v;
    size_t i;

    memset(g, 0, sizeof(*g));
    g->aud = p->aud;
    g->client_id = p->client_id;
    g->scope = m->scope[0] ? m->scope : NULL;
    for (i = 0; i < m->nresources && i < GRANT_MAX_RESOURCES; i++)
        g->resources[i] = m->resources[i];
    g->nresources = i;
    g->consumer_org = m->consumer_org[0] ? m->consumer_org : NULL;
    g->systemuser_org = m->su_org[0] ? m->su_org : NULL;
    g->systemuser_ref = m->su_ref[0] ? m->su_ref : NULL;
    g->lifetime = p->lifetime;
    if (m->lifetime[0] != '\0') {
        if (mp_parse_u64(m->lifetime, 1, GRANT_MAX_LIFETIME, &v) != MP_OK)
            return mp_errf(why, MP_ERR_INVALID, "lifetime must be 1..%d seconds",
                GRANT_MAX_LIFETIME);
        g->lifetime = (unsigned int)v;
    }
    return MP_OK;
}

static json_t *
claims_record(const struct grant_request *g, const struct decision *d)
{
    json_t *c = json_object(), *res = json_array();
    size_t i;

    if (c == NULL || res == NULL)
        goto fail;
    if (g->aud != NULL)
        json_object_set_new(c, "aud", json_string(g->aud));
    if (g->scope != NULL)
        json_object_set_new(c, "scope", json_string(g->scope));
    for (i = 0; i < g->nresources; i++)
        json_array_append_new(res, json_string(g->resources[i]));
    if (g->nresources > 0)
        json_object_set(c, "resource", res);
    if (g->consumer_org != NULL)
        json_object_set_new(c, "consumer_org", json_string(g->consumer_org));
    if (g->systemuser_org != NULL)
        json_object_set_new(c, "systemuser_org", json_string(g->systemuser_org));
    if (g->systemuser_ref != NULL)
        json_object_set_new(c, "systemuser_ref", json_string(g->systemuser_ref));
    if (d->info.jti[0] != '\0') {
        json_object_set_new(c, "iat", json_integer(d->info.iat));
        json_object_set_new(c, "exp", json_integer(d->info.exp));
        json_object_set_new(c, "jti", json_string(d->info.jti));
    }
    json_decref(res);
    return c;
fail:
    json_decref(c);
    json_decref(res);
    return NULL;
}

/* The audit record of one decision; strings from the wire are stored as JSON strings only. */
static json_t *
decision_record(const struct peer *who, const char *profile, const struct signer_conf_profile *p,
    const struct grant_signer *gs, const struct grant_request *g, const struct decision *d)
{
    const char *cert = gs != NULL ? grant_signer_cert_sha256(gs) : NULL;
    json_t *rec;

    rec = json_pack("{s:s, s:s}", "event", "sign", "outcome", d->outcome);
    if (rec == NULL)
        return NULL;
    if (strcmp(d->outcome, "granted") != 0)
        json_object_set_new(rec, "reason", json_string(d->why.text));
    json_object_set_new(rec, "caller",
        json_pack("{s:I, s:I, s:I, s:s}", "uid", (json_int_t)who->uid, "gid", (json_int_t)who->gid,
            "pid", (json_int_t)who->pid, "exe", who->exe));
    json_object_set_new(rec, "profile", json_string(profile));
    json_object_set_new(rec, "client_id",
        p != NULL && p->client_id ? json_string(p->client_id) : json_null());
    json_object_set_new(rec, "key", p != NULL && p->key ? json_string(p->key) : json_null());
    json_object_set_new(rec, "cert_sha256", cert != NULL ? json_string(cert) : json_null());
    json_object_set_new(rec, "claims", claims_record(g, d));
    if (strcmp(d->outcome, "granted") == 0)
        json_object_set_new(rec, "jws_sha256", json_string(d->info.jws_sha256));
    return rec;
}

static void
decide_refused(struct decision *d, enum frame_code code)
{
    d->outcome = "refused";
    d->code = code;
}

/* Signs on a worker's session. */
static void
decide_sign(struct server *s, struct srv_profiles *p, size_t i, const struct grant_request *g,
    struct decision *d)
{
    enum mp_err r;

    audit_expect(s->audit);
    d->announced = 1;
    r = hsmpool_sign(s, p, i, g, d->jws, &d->info, &d->why);
    if (r == MP_OK) {
        d->outcome = "granted";
        return;
    }
    if (r == MP_ERR_INVALID || r == MP_ERR_POLICY) {
        decide_refused(d, FCODE_REFUSED);
        return;
    }
    d->outcome = "error";
    d->code = r == MP_ERR_HSM_PIN ? FCODE_PIN
        : r == MP_ERR_HSM || r == MP_ERR_HSM_GONE || r == MP_ERR_HSM_SESSION || r == MP_ERR_TIMEOUT
        ? FCODE_HSM_UNAVAILABLE
        : FCODE_INTERNAL;
    mp_error("signing failed: %s", d->why.text);
}

/* Decides with a reference on the profiles in force and returns the decision's audit record. */
static json_t *
decide(struct server *s, const struct peer *who, const struct frame_msg *m, struct decision *d)
{
    const char *name = m->profile[0] ? m->profile : "default";
    struct srv_profiles *set = hsmpool_profiles_get(s);
    struct signer_conf_profile *p = NULL;
    struct grant_signer *gs = NULL;
    struct grant_request g;
    json_t *rec;
    int i = -1;

    memset(&g, 0, sizeof(g));
    if (set == NULL) { /* the token is being recovered */
        d->outcome = "error";
        d->code =
            hsmpool_unavailable(s, &d->why) == MP_ERR_HSM_PIN ? FCODE_PIN : FCODE_HSM_UNAVAILABLE;
    } else if ((i = profile_index(set->conf, name)) < 0) {
        mp_errf(&d->why, MP_ERR_POLICY, "no profile named %.64s", name);
        decide_refused(d, FCODE_REFUSED);
    } else {
        p = set->conf->profiles[i];
        gs = set->signer[i];
        if (request_from_frame(m, p, &g, &d->why) != MP_OK)
            decide_refused(d, FCODE_BAD_REQUEST);
        else if (policy_check(p, who, &g, &d->why) != MP_OK)
            decide_refused(d, FCODE_REFUSED);
        else
            decide_sign(s, set, (size_t)i, &g, d);
    }
    rec = decision_record(who, name, p, gs, &g, d);
    hsmpool_profiles_put(set);
    return rec;
}

static void
reply_error(struct frame_msg *out, enum frame_code code, const char *text)
{
    frame_init(out, FRAME_ERROR);
    snprintf(out->code, sizeof(out->code), "%d", (int)code);
    snprintf(out->message, sizeof(out->message), "%s", text);
}

static void
handle_sign(struct server *s, const struct peer *who, const struct frame_msg *m,
    struct frame_msg *out)
{
    struct decision d;
    struct mp_errmsg e = {{0}};
    json_t *rec;

    memset(&d, 0, sizeof(d));
    if ((d.jws = mp_buf_new(sizeof(out->jws) - 1)) == NULL) {
        reply_error(out, FCODE_INTERNAL, "out of memory");
        return;
    }
    rec = decide(s, who, m, &d);
    /* Fail closed: without a durable audit line the caller gets no JWS. */
    if (rec == NULL) {
        if (d.announced)
            audit_expect_cancel(s->audit);
        reply_error(out, FCODE_AUDIT_UNAVAILABLE, "audit record could not be built");
    } else if ((d.announced ? audit_submit_expected(s->audit, rec, &e)
                            : audit_submit(s->audit, rec, &e)) != MP_OK)
        reply_error(out, FCODE_AUDIT_UNAVAILABLE, e.text);
    else if (strcmp(d.outcome, "granted") == 0) {
        frame_init(out, FRAME_JWS);
        memcpy(out->jws, mp_buf_str(d.jws), mp_buf_len(d.jws) + 1);
    } else {
        reply_error(out, d.code, d.why.text);
        mp_info("refused uid %u pid %d (%s): %s", (unsigned int)who->uid, (int)who->pid, who->exe,
            d.why.text);
    }
    json_decref(rec);
    mp_buf_free(d.jws);
}

void
conn_serve(struct server *s, int fd, const struct peer *who)
{
    struct frame_msg *in = malloc(sizeof(*in)), *out = malloc(sizeof(*out));
    struct mp_errmsg e = {{0}};
    enum mp_err r;

    while (in != NULL && out != NULL) {
        if ((r = frame_read(fd, in, &e)) != MP_OK) {
            /* A malformed frame is answered once, then the peer is dropped. */
            if (r == MP_ERR_PARSE || r == MP_ERR_TOOBIG) {
                mp_warn("bad frame from uid %u pid %d: %s", (unsigned int)who->uid, (int)who->pid,
                    e.text);
                reply_error(out, FCODE_BAD_REQUEST, e.text);
                frame_write(fd, out, &e);
            }
            break;
        }
        if (in->type == FRAME_PING) {
            frame_init(out, FRAME_PONG);
            hsmpool_state(s, out->message, sizeof(out->message));
        } else if (in->type == FRAME_SIGN)
            handle_sign(s, who, in, out);
        else {
            reply_error(out, FCODE_BAD_REQUEST, "only SIGN and PING requests are accepted");
            frame_write(fd, out, &e);
            break;
        }
        r = frame_write(fd, out, &e);
        explicit_bzero(out->jws, sizeof(out->jws));
        if (r != MP_OK)
            break;
    }
    free(in);
    free(out);
}
