/* Getting tokens from upstream: a grant from the signer, the Maskinporten token endpoint, the
 * Altinn exchange; transient failures retried with backoff and jitter, one fresh-grant retry
 * on a clock complaint, one fresh-token retry on Altinn 401. */
#ifndef MP_PIPELINE_H
#define MP_PIPELINE_H

#include <time.h>

#include "exchange/metrics.h"
#include "exchange/answer.h"
#include "exchange/exchange_conf.h"
#include "exchange/token_req.h"

/* An error a caller can act on: the HTTP status mp-exchange answers with and the body fields
 * (Maskinporten's own when it answered with one). */
struct xerr {
    int status;
    char error[64];
    char description[512];
    char uri[256];
    char code[16];
    int refusal; /* the signer's enum frame_code when it refused the grant, else 0 */
};

/* A token with its expiry. value is malloc'd; free with xtok_clear (wipes). */
struct xtok {
    char *value;
    time_t exp;
    time_t issued;
    char scope[1024];
};

struct pipeline {
    const struct exchange_conf *conf;
    struct metrics *m;
    char token_url[1100];
    char altinn_url[1200];
};

enum mp_err pipeline_init(struct pipeline *f, const struct exchange_conf *c, struct metrics *m,
    struct mp_errmsg *e);
/* A Maskinporten token for the request. */
enum mp_err pipeline_maskinporten(struct pipeline *f, const struct token_req *q, struct xtok *out,
    struct xerr *err);
/* Exchanges a Maskinporten token at Altinn. *unauthorised is set on a 401. */
enum mp_err pipeline_altinn(struct pipeline *f, const char *mp_token, struct xtok *out,
    struct xerr *err, int *unauthorised);
/* Pings the signer: 0 unreachable, 1 serving with the HSM up, 2 reachable but the HSM is
 * unavailable (why gets the signer's reason, e.g. "down: token not present"). */
int pipeline_signer_alive(struct pipeline *f, char *why, size_t whylen);
void xtok_clear(struct xtok *t);
void xerr_set(struct xerr *err, int status, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
