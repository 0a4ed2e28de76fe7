/* Maskinporten token and Altinn exchange, with retries, over the signer stage in
 * pipeline_signer.c (pipeline.h). */
#include "exchange/pipeline_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/frame.h"
#include "common/log.h"
#include "common/uuid.h"
#include "exchange/https.h"

void
xerr_set(struct xerr *err, int status, const char *error, const char *fmt, ...)
{
    va_list ap;

    memset(err, 0, sizeof(*err));
    err->status = status;
    snprintf(err->error, sizeof(err->error), "%s", error);
    va_start(ap, fmt);
    vsnprintf(err->description, sizeof(err->description), fmt, ap);
    va_end(ap);
}

void
xtok_clear(struct xtok *t)
{
    if (t->value != NULL) {
        explicit_bzero(t->value, strlen(t->value));
        free(t->value);
    }
    memset(t, 0, sizeof(*t));
}

enum mp_err
pipeline_init(struct pipeline *f, const struct exchange_conf *c, struct metrics *m,
    struct mp_errmsg *e)
{
    const char *mp = c->maskinporten_url, *alt = c->altinn_url;
    size_t n = strlen(mp), a = strlen(alt);

    memset(f, 0, sizeof(*f));
    f->conf = c;
    f->m = m;
    if (n + 8 > sizeof(f->token_url) || a + 64 > sizeof(f->altinn_url))
        return mp_errf(e, MP_ERR_INVALID, "upstream URL too long");
    snprintf(f->token_url, sizeof(f->token_url), "%s%stoken", mp, mp[n - 1] == '/' ? "" : "/");
    snprintf(f->altinn_url, sizeof(f->altinn_url),
        "%.*s/authentication/api/v1/exchange/maskinporten", (int)(alt[a - 1] == '/' ? a - 1 : a),
        alt);
    return MP_OK;
}

/* Transient failures wait 200 ms, 400 ms, ... with up to 50% jitter. */
static void
backoff(unsigned int attempt)
{
    unsigned int base = 200000u << (attempt < 5 ? attempt : 5), j = 0;

    mp_random_bytes(&j, sizeof(j));
    usleep(base + j % (base / 2 + 1));
}

/* Maskinporten said no: pass its error through with its status and MP code. */
static void
mp_refusal(struct pipeline *f, const struct https_resp *r, struct xerr *err)
{
    struct mp_error me;

    if (answer_error(mp_buf_str(r->body), mp_buf_len(r->body), &me) != MP_OK) {
        xerr_set(err, 502, "server_error", "Maskinporten answered HTTP %ld without an error body",
            r->status);
        metrics_upstream_error(f->m, "token", "unparsable");
        return;
    }
    xerr_set(err, (int)r->status, me.error, "%s", me.description);
    snprintf(err->uri, sizeof(err->uri), "%s", me.uri);
    snprintf(err->code, sizeof(err->code), "%s", me.code);
    metrics_upstream_error(f->m, "token", me.code[0] ? me.code : me.error);
    mp_warn("Maskinporten refused a grant: %s %s%s(trace_id %s)", me.error,
        me.code[0] ? me.code : "", me.code[0] ? " " : "", me.trace_id[0] ? me.trace_id : "-");
}

static int
clock_complaint(const struct xerr *err)
{
    return strcmp(err->code, "MP-130") == 0 || strstr(err->description, "ssue time") != NULL;
}

static int
transient(const struct https_resp *r, enum mp_err rc)
{
    return (rc != MP_OK && r->fail != HTTPS_TLS) || r->status >= 500 || r->status == 429;
}

/* The call failed below HTTP: MP_ERR_IO if a retry may help, MP_ERR_CRYPTO if TLS refused it. */
static int
transport_failed(const struct https_resp *r, enum mp_err rc)
{
    return rc != MP_OK || r->status >= 500 || r->status == 429;
}

/* who names the upstream for people, target for the metrics (token, exchange). */
static void
transport_error(struct pipeline *f, const char *who, const char *target, const struct https_resp *r,
    const struct mp_errmsg *e, struct xerr *err)
{
    metrics_upstream_ok(f->m, 0);
    if (r->status >= 500 || r->status == 429) {
        xerr_set(err, r->status == 429 || r->status == 503 ? 503 : 502, "temporarily_unavailable",
            "%s answered HTTP %ld", who, r->status);
        metrics_upstream_error(f->m, target, r->status == 429 ? "http_429" : "http_5xx");
        return;
    }
    if (r->fail == HTTPS_TLS) {
        xerr_set(err, 502, "server_error", "%s (check ca_file and the upstream URL)", e->text);
        metrics_upstream_error(f->m, target, "tls");
        return;
    }
    xerr_set(err, r->fail == HTTPS_TIMEOUT ? 504 : 502, "temporarily_unavailable", "%s", e->text);
    metrics_upstream_error(f->m, target, r->fail == HTTPS_TIMEOUT ? "timeout" : "transport");
}

/* One POST of one grant. MP_OK: a token. MP_ERR_IO: transient, err says why. Else final. */
static enum mp_err
token_once(struct pipeline *f, const char *jws, struct xtok *out, struct xerr *err)
{
    struct mp_buf *form = mp_buf_new(64 * 1024);
    struct https_resp r;
    struct mp_token *tok = calloc(1, sizeof(*tok));
    struct mp_errmsg e = {{0}};
    enum mp_err rc = MP_ERR_NOMEM;

    memset(&r, 0, sizeof(r));
    if (form == NULL || tok == NULL ||
        mp_buf_puts(form,
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
            "&assertion=") != MP_OK ||
        https_form_escape(jws, form) != MP_OK) {
        xerr_set(err, 503, "temporarily_unavailable", "out of memory");
        goto out;
    }
    rc = https_post_form(f->conf, f->token_url, mp_buf_str(form), &r, &e);
    metrics_upstream_call(f->m, "token", r.seconds, r.date);
    if (transport_failed(&r, rc)) {
        transport_error(f, "Maskinporten", "token", &r, &e, err);
        rc = transient(&r, rc) ? MP_ERR_IO : MP_ERR_CRYPTO;
        goto out;
    }
    /* Readiness is about reaching the upstream: an answer, even a refusal, is reaching it. */
    metrics_upstream_ok(f->m, 1);
    if (r.status != 200) {
        mp_refusal(f, &r, err);
        rc = MP_ERR_POLICY;
        goto out;
    }
    if ((rc = answer_token(mp_buf_str(r.body), mp_buf_len(r.body), tok, &e)) != MP_OK) {
        xerr_set(err, 502, "server_error", "%s", e.text);
        metrics_upstream_error(f->m, "token", "bad_body");
        metrics_upstream_ok(f->m, 0);
        goto out;
    }
    if ((out->value = strdup(tok->access_token)) == NULL) {
        rc = MP_ERR_NOMEM;
        xerr_set(err, 503, "temporarily_unavailable", "out of memory");
        goto out;
    }
    out->issued = time(NULL);
    out->exp = out->issued + (time_t)tok->expires_in;
    snprintf(out->scope, sizeof(out->scope), "%s", tok->scope);
out:
    if (tok != NULL)
        explicit_bzero(tok, sizeof(*tok));
    free(tok);
    https_resp_clear(&r);
    mp_buf_free(form); /* wipes the grant */
    return rc;
}

enum mp_err
pipeline_maskinporten(struct pipeline *f, const struct token_req *q, struct xtok *out,
    struct xerr *err)
{
    char *jws = malloc(FRAME_MAX);
    unsigned int attempt = 0;
    int clock_retry = 0;
    enum mp_err rc = MP_ERR_NOMEM;

    memset(out, 0, sizeof(*out));
    if (jws == NULL) {
        xerr_set(err, 503, "temporarily_unavailable", "out of memory");
        return rc;
    }
    for (;;) {
        /* A fresh grant every try: a jti is single use (MP-012). */
        if ((rc = pipeline_signer_grant(f, q, jws, FRAME_MAX, err)) != MP_OK)
            break;
        rc = token_once(f, jws, out, err);
        explicit_bzero(jws, FRAME_MAX);
        if (rc == MP_ERR_POLICY && clock_complaint(err) && !clock_retry++) {
            mp_warn("Maskinporten rejected the grant's time (%s): check this host's clock "
                    "(NTP); retrying once with a fresh grant",
                err->code[0] ? err->code : "iat");
            continue;
        }
        if (rc != MP_ERR_IO || attempt >= f->conf->retries)
            break;
        backoff(attempt++);
    }
    free(jws);
    return rc;
}

/* The token in Altinn's 200 answer, and its exp, into out (tok: TOKEN_MAX scratch). */
static enum mp_err
altinn_token(struct pipeline *f, const struct https_resp *r, char *tok, struct xtok *out,
    struct xerr *err)
{
    struct mp_errmsg e = {{0}};
    long long exp = 0;

    if (answer_altinn(mp_buf_str(r->body), mp_buf_len(r->body), tok, TOKEN_MAX, &e) != MP_OK ||
        answer_jwt_exp(tok, &exp) != MP_OK) {
        xerr_set(err, 502, "server_error", "%s", e.text[0] ? e.text : "Altinn token has no exp");
        metrics_upstream_error(f->m, "exchange", "bad_body");
        metrics_upstream_ok(f->m, 0);
        return MP_ERR_PARSE;
    }
    if ((out->value = strdup(tok)) == NULL) {
        xerr_set(err, 503, "temporarily_unavailable", "out of memory");
        return MP_ERR_NOMEM;
    }
    out->issued = time(NULL);
    out->exp = (time_t)exp;
    return MP_OK;
}

enum mp_err
pipeline_altinn(struct pipeline *f, const char *mp_token, struct xtok *out, struct xerr *err,
    int *unauthorised)
{
    struct https_resp r;
    struct mp_errmsg e = {{0}};
    char *tok = malloc(TOKEN_MAX);
    unsigned int attempt = 0;
    enum mp_err rc = MP_ERR_NOMEM;

    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    *unauthorised = 0;
    if (tok == NULL) {
        xerr_set(err, 503, "temporarily_unavailable", "out of memory");
        return rc;
    }
    for (;;) {
        https_resp_clear(&r);
        rc = https_get_bearer(f->conf, f->altinn_url, mp_token, &r, &e);
        metrics_upstream_call(f->m, "exchange", r.seconds, r.date);
        if (!transient(&r, rc) || attempt >= f->conf->retries)
            break;
        backoff(attempt++);
    }
    if (transport_failed(&r, rc)) {
        transport_error(f, "Altinn", "exchange", &r, &e, err);
        rc = transient(&r, rc) ? MP_ERR_IO : MP_ERR_CRYPTO;
        goto out;
    }
    metrics_upstream_ok(f->m, 1);
    if (r.status != 200) {
        *unauthorised = r.status == 401;
        xerr_set(err, r.status == 401 ? 502 : (int)r.status, "altinn_error",
            "Altinn token exchange answered HTTP %ld", r.status);
        metrics_upstream_error(f->m, "exchange", r.status == 401 ? "http_401" : "http_4xx");
        rc = MP_ERR_POLICY;
        goto out;
    }
    rc = altinn_token(f, &r, tok, out, err);
out:
    explicit_bzero(tok, TOKEN_MAX);
    free(tok);
    https_resp_clear(&r);
    return rc;
}
