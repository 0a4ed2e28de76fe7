/* One connection of mp-signer serve: decode → policy → claims → sign → audit (durable) →
 * reply. Every decision, granted or refused, is audited before the caller hears of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/frame.h"
#include "common/log.h"
#include "common/num.h"
#include "common/profile_name.h"
#include "common/text.h"
#include "signer/daemon/server_int.h"
#include "signer/daemon/sign_record.h"

/* The outcome of one request, filled as it goes. */
struct decision {
    const char *outcome; /* granted, refused, error */
    enum frame_code code;
    struct mp_errmsg why;
    struct grant_info info;
    struct mp_buf *jws;
    int announced; /* audit_expect() was called for its record */
    struct peer end; /* whom the decision is for: the peer, or the end caller it forwards */
    bool forwarded;
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

/* The request's own fields, pointing into the frame. */
static void
request_fields(const struct frame_msg *m, struct grant_request *g)
{
    size_t i;

    memset(g, 0, sizeof(*g));
    g->scope = m->scope[0] ? m->scope : NULL;
    for (i = 0; i < m->nresources && i < GRANT_MAX_RESOURCES; i++)
        g->resources[i] = m->resources[i];
    g->nresources = i;
    g->consumer_org = m->consumer_org[0] ? m->consumer_org : NULL;
    g->systemuser_org = m->su_org[0] ? m->su_org : NULL;
    g->systemuser_ref = m->su_ref[0] ? m->su_ref : NULL;
    g->person = m->person[0] ? m->person : NULL;
    g->consent_id = m->consent_id[0] ? m->consent_id : NULL;
    g->consent_from = m->consent_from[0] ? m->consent_from : NULL;
}

static enum mp_err
request_from_frame(const struct frame_msg *m, const struct signer_conf_profile *p,
    struct grant_request *g, struct mp_errmsg *why)
{
    uint64_t v;

    request_fields(m, g);
    g->aud = p->aud;
    g->client_id = p->client_id;
    g->lifetime = p->lifetime;
    if (m->lifetime[0] != '\0') {
        if (mp_parse_u64(m->lifetime, 1, GRANT_MAX_LIFETIME, &v) != MP_OK)
            return mp_errf(why, MP_ERR_INVALID, "lifetime must be 1..%d seconds",
                GRANT_MAX_LIFETIME);
        g->lifetime = (unsigned int)v;
    }
    return MP_OK;
}

/* The audit record of one decision (sign_record.h: whole or NULL). */
static json_t *
decision_record(const struct peer *who, const char *profile, const struct signer_conf *c,
    const struct signer_conf_profile *p, const struct grant_signer *gs,
    const struct grant_request *g, const struct decision *d)
{
    struct sign_record r = {
        .outcome = d->outcome,
        .reason = strcmp(d->outcome, "granted") != 0 ? d->why.text : NULL,
        .who = d->forwarded ? &d->end : who,
        .forwarder = d->forwarded ? who : NULL,
        .profile = profile,
        .client_id = p != NULL ? p->client_id : NULL,
        .key = p != NULL ? p->key : NULL,
        .cert_sha256 = gs != NULL ? grant_signer_cert_sha256(gs) : NULL,
        .g = g,
        .info = &d->info,
        .person_key = c != NULL ? c->person_key : NULL,
    };

    return sign_record_build(&r);
}

/* Every string of the request must be UTF-8 text before policy sees it, and the profile a
 * name of the config's charset; the refusal names the field and the offending byte. */
static enum mp_err
text_check(const char *field, const char *s, struct mp_errmsg *why)
{
    size_t bad = 0;

    if (mp_text_clean(s, strlen(s), &bad))
        return MP_OK;
    return mp_errf(why, MP_ERR_INVALID,
        "%s is not UTF-8 text: byte 0x%02x at offset %zu is a control character or not UTF-8",
        field, (unsigned char)s[bad], bad);
}

static enum mp_err
request_text_check(const struct frame_msg *m, struct mp_errmsg *why)
{
    enum mp_err r;
    size_t i;

    if (m->profile[0] != '\0' && !mp_profile_name_valid(m->profile, strlen(m->profile)))
        return mp_errf(why, MP_ERR_INVALID,
            "profile name may hold only " MP_PROFILE_NAME_CHARS " (1..%d characters)",
            MP_PROFILE_NAME_MAX);
    if ((r = text_check("scope", m->scope, why)) != MP_OK ||
        (r = text_check("consumer_org", m->consumer_org, why)) != MP_OK ||
        (r = text_check("systemuser_org", m->su_org, why)) != MP_OK ||
        (r = text_check("systemuser_ref", m->su_ref, why)) != MP_OK ||
        (r = text_check("pid", m->person, why)) != MP_OK ||
        (r = text_check("consent id", m->consent_id, why)) != MP_OK ||
        (r = text_check("consent from", m->consent_from, why)) != MP_OK ||
        (r = text_check("lifetime", m->lifetime, why)) != MP_OK ||
        (r = text_check("on-behalf-of uid", m->obo_uid, why)) != MP_OK ||
        (r = text_check("on-behalf-of gid", m->obo_gid, why)) != MP_OK ||
        (r = text_check("on-behalf-of pid", m->obo_pid, why)) != MP_OK ||
        (r = text_check("on-behalf-of exe", m->obo_exe, why)) != MP_OK)
        return r;
    for (i = 0; i < m->nresources; i++)
        if ((r = text_check("resource", m->resources[i], why)) != MP_OK)
            return r;
    return MP_OK;
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

/* Whom the request is for (policy_end_caller); a refusal is recorded against the peer. */
static enum mp_err
decide_caller(const struct signer_conf *c, const struct peer *who, const struct frame_msg *m,
    struct decision *d)
{
    struct policy_obo obo = {m->obo_uid, m->obo_gid, m->obo_pid, m->obo_exe};
    enum mp_err r = policy_end_caller(c, who, &obo, &d->end, &d->forwarded, &d->why);

    if (r != MP_OK)
        decide_refused(d, r == MP_ERR_POLICY ? FCODE_REFUSED : FCODE_BAD_REQUEST);
    return r;
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
    enum mp_err r;
    int i = -1;

    memset(&g, 0, sizeof(g));
    if (set == NULL) { /* the token is being recovered */
        d->outcome = "error";
        d->code =
            hsmpool_unavailable(s, &d->why) == MP_ERR_HSM_PIN ? FCODE_PIN : FCODE_HSM_UNAVAILABLE;
    } else if (request_text_check(m, &d->why) != MP_OK) {
        decide_refused(d, FCODE_BAD_REQUEST);
        request_fields(m, &g); /* recorded escaped: the auditor sees what was sent */
    } else if (decide_caller(set->conf, who, m, d) != MP_OK) {
        request_fields(m, &g);
    } else if ((i = profile_index(set->conf, name)) < 0) {
        mp_errf(&d->why, MP_ERR_POLICY, "no profile named %.64s", name);
        decide_refused(d, FCODE_NO_PROFILE);
    } else {
        p = set->conf->profiles[i];
        gs = set->signer[i];
        if (request_from_frame(m, p, &g, &d->why) != MP_OK)
            decide_refused(d, FCODE_BAD_REQUEST);
        else if ((r = policy_check(p, &d->end, &g, &d->why)) != MP_OK)
            decide_refused(d, r == MP_ERR_PERM ? FCODE_REFUSED : FCODE_OUT_OF_PROFILE);
        else
            decide_sign(s, set, (size_t)i, &g, d);
    }
    rec = decision_record(who, name, set != NULL ? set->conf : NULL, p, gs, &g, d);
    hsmpool_profiles_put(set);
    return rec;
}

void
conn_reply_error(struct frame_msg *out, enum frame_code code, const char *text)
{
    frame_init(out, FRAME_ERROR);
    snprintf(out->code, sizeof(out->code), "%d", (int)code);
    snprintf(out->message, sizeof(out->message), "%s", text);
}

static void
refusal_log(const struct peer *who, const struct decision *d)
{
    if (d->forwarded)
        mp_info("refused uid %u pid %d (%s) through forwarder uid %u pid %d: %s",
            (unsigned int)d->end.uid, (int)d->end.pid, d->end.exe, (unsigned int)who->uid,
            (int)who->pid, d->why.text);
    else
        mp_info("refused uid %u pid %d (%s): %s", (unsigned int)who->uid, (int)who->pid, who->exe,
            d->why.text);
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
        conn_reply_error(out, FCODE_INTERNAL, "out of memory");
        return;
    }
    rec = decide(s, who, m, &d);
    /* Fail closed: without its whole audit line the caller gets no JWS. What can still be
     * recorded is an error naming the caller. */
    if (rec == NULL && (rec = sign_record_unbuilt(who)) != NULL) {
        d.outcome = "error";
        d.code = FCODE_INTERNAL;
        mp_errf(&d.why, MP_ERR_NOMEM, "audit record could not be built");
        mp_error("uid %u pid %d: the audit record could not be built: refused",
            (unsigned int)who->uid, (int)who->pid);
    }
    if (rec == NULL) {
        if (d.announced)
            audit_expect_cancel(s->audit);
        conn_reply_error(out, FCODE_AUDIT_UNAVAILABLE, "audit record could not be built");
    } else if ((d.announced ? audit_submit_expected(s->audit, rec, &e)
                            : audit_submit(s->audit, rec, &e)) != MP_OK)
        conn_reply_error(out, FCODE_AUDIT_UNAVAILABLE, e.text);
    else if (strcmp(d.outcome, "granted") == 0) {
        frame_init(out, FRAME_JWS);
        memcpy(out->jws, mp_buf_str(d.jws), mp_buf_len(d.jws) + 1);
    } else {
        conn_reply_error(out, d.code, d.why.text);
        refusal_log(who, &d);
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
        if ((r = frame_read_timed(fd, in, SRV_IDLE_MS, SRV_FRAME_MS, &e)) != MP_OK) {
            /* A malformed or trickled frame is answered once, then the peer is dropped. */
            if (r == MP_ERR_PARSE || r == MP_ERR_TOOBIG || r == MP_ERR_TIMEOUT) {
                mp_warn("bad frame from uid %u pid %d: %s", (unsigned int)who->uid, (int)who->pid,
                    e.text);
                conn_reply_error(out, FCODE_BAD_REQUEST, e.text);
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
            conn_reply_error(out, FCODE_BAD_REQUEST, "only SIGN and PING requests are accepted");
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
