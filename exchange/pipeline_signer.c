/* The signer stage of the pipeline: one grant per try over the signer's socket, what the
 * grant says about its key for /metrics, and the readiness ping (pipeline_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/num.h"
#include "common/signer_client.h"
#include "exchange/certexp.h"
#include "exchange/pipeline_int.h"

static enum frame_code
signer_code(const struct frame_msg *m)
{
    uint64_t v = FCODE_INTERNAL;

    mp_parse_u64(m->code, 1, 255, &v);
    return (enum frame_code)v;
}

/* A signer's ERROR frame as the HTTP answer: a refusal is the caller's 403 (the OAuth2 routes
 * refine it by err->refusal), anything else the signer's or the HSM's 503. */
static void
signer_refusal(const struct frame_msg *m, struct xerr *err)
{
    enum frame_code c = signer_code(m);
    int refused = c == FCODE_REFUSED || c == FCODE_BAD_REQUEST || c == FCODE_OUT_OF_PROFILE ||
        c == FCODE_NO_PROFILE;

    xerr_set(err, refused ? 403 : 503, refused ? "access_denied" : "temporarily_unavailable",
        "signer: %s", m->message);
    err->refusal = refused ? (int)c : 0;
}

/* What the grant says about its key, for /metrics: the certificate's expiry (x5c), or the
 * registered key to watch (kid). */
static void
note_key(struct pipeline *f, const struct token_req *q, const char *jws)
{
    const char *profile = q->profile[0] ? q->profile : "default";
    struct grant_key k;

    if (certexp_read(jws, &k) != MP_OK)
        return;
    if (k.x5c)
        metrics_cert(f->m, profile, k.not_after, k.subject);
    else
        metrics_key_seen(f->m, profile, k.client_id, k.kid);
}

enum mp_err
pipeline_signer_grant(struct pipeline *f, const struct token_req *q, char *jws, size_t jwslen,
    struct xerr *err)
{
    struct frame_msg *req = calloc(1, sizeof(*req)), *resp = calloc(1, sizeof(*resp));
    struct mp_errmsg e = {{0}};
    int fd = -1;
    size_t i;
    enum mp_err r = MP_ERR_NOMEM;

    if (req == NULL || resp == NULL) {
        xerr_set(err, 503, "temporarily_unavailable", "out of memory");
        goto out;
    }
    frame_init(req, FRAME_SIGN);
    memcpy(req->profile, q->profile, sizeof(q->profile));
    memcpy(req->scope, q->scope, sizeof(q->scope));
    for (i = 0; i < q->nresources; i++)
        memcpy(req->resources[i], q->resources[i], sizeof(q->resources[i]));
    req->nresources = q->nresources;
    memcpy(req->consumer_org, q->consumer_org, sizeof(q->consumer_org));
    memcpy(req->su_org, q->su_org, sizeof(q->su_org));
    memcpy(req->su_ref, q->su_ref, sizeof(q->su_ref));
    memcpy(req->person, q->person, sizeof(q->person));
    memcpy(req->consent_id, q->consent_id, sizeof(q->consent_id));
    memcpy(req->consent_from, q->consent_from, sizeof(q->consent_from));
    if (q->caller.set) {
        snprintf(req->obo_uid, sizeof(req->obo_uid), "%u", q->caller.uid);
        snprintf(req->obo_gid, sizeof(req->obo_gid), "%u", q->caller.gid);
        snprintf(req->obo_pid, sizeof(req->obo_pid), "%d", q->caller.pid);
        snprintf(req->obo_exe, sizeof(req->obo_exe), "%s", q->caller.exe);
    }
    metrics_signer_call(f->m);
    if ((r = signer_client_connect(f->conf->signer_socket, &fd, &e)) != MP_OK ||
        (r = signer_client_call(fd, req, resp, &e)) != MP_OK) {
        xerr_set(err, 503, "temporarily_unavailable", "signer: %s", e.text);
        goto out;
    }
    if (resp->type != FRAME_JWS) {
        r = MP_ERR_POLICY;
        signer_refusal(resp, err);
        goto out;
    }
    if (strlen(resp->jws) >= jwslen) {
        r = MP_ERR_TOOBIG;
        xerr_set(err, 502, "server_error", "signer answered an oversized grant");
        goto out;
    }
    memcpy(jws, resp->jws, strlen(resp->jws) + 1);
    note_key(f, q, jws);
    r = MP_OK;
out:
    if (fd >= 0)
        close(fd);
    if (resp != NULL)
        explicit_bzero(resp->jws, sizeof(resp->jws));
    free(req);
    free(resp);
    return r;
}

int
pipeline_signer_alive(struct pipeline *f, char *why, size_t whylen)
{
    struct frame_msg *req = calloc(1, sizeof(*req)), *resp = calloc(1, sizeof(*resp));
    struct mp_errmsg e = {{0}};
    int fd = -1, alive = 0;

    if (req != NULL && resp != NULL) {
        frame_init(req, FRAME_PING);
        alive = signer_client_connect(f->conf->signer_socket, &fd, &e) == MP_OK &&
                signer_client_call(fd, req, resp, &e) == MP_OK && resp->type == FRAME_PONG
            ? (strncmp(resp->message, "hsm=up", 6) == 0 ? 1 : 2)
            : 0;
        snprintf(why, whylen, "%s",
            alive == 2 && strncmp(resp->message, "hsm=", 4) == 0 ? resp->message + 4 : "");
    }
    if (fd >= 0)
        close(fd);
    free(req);
    free(resp);
    return alive;
}
