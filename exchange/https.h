/* HTTPS to Maskinporten, Altinn and the self-service API with libcurl: one reusable handle per
 * thread (keep-alive), TLS verification always on, connect and total timeouts, bodies capped, no
 * redirects. */
#ifndef MP_HTTPS_H
#define MP_HTTPS_H

#include <time.h>

#include "common/buf.h"
#include "exchange/exchange_conf.h"

#define HTTPS_MAX_BODY (1024 * 1024)

/* Why no HTTP answer arrived; negative like every failure code of the house (common/err.h). */
enum https_fail {
    HTTPS_OK = 0,
    HTTPS_CONNECT = -1, /* could not connect or TLS failed */
    HTTPS_TIMEOUT = -2,
    HTTPS_TOOBIG = -3,
    HTTPS_OTHER = -4,
    HTTPS_TLS = -5, /* the peer's certificate did not verify: retrying cannot help */
};

struct https_resp {
    long status;
    struct mp_buf *body; /* owned; freed by https_resp_clear */
    char content_type[128];
    time_t date; /* the Date header, 0 if absent */
    enum https_fail fail;
    double seconds;
};

/* Process-wide libcurl set-up; call once before threads start. */
enum mp_err https_global_init(void);

/* POST application/x-www-form-urlencoded. MP_OK means an HTTP answer arrived (any status);
 * MP_ERR_IO with resp->fail set and a message otherwise. */
enum mp_err https_post_form(const struct exchange_conf *c, const char *url, const char *form,
    struct https_resp *resp, struct mp_errmsg *e);
/* GET with Authorization: Bearer <token>. */
enum mp_err https_get_bearer(const struct exchange_conf *c, const char *url, const char *token,
    struct https_resp *resp, struct mp_errmsg *e);
/* METHOD (GET, POST, PUT, DELETE) with Authorization: Bearer <token>, Accept: application/json
 * and, when json is not NULL, that body as application/json (the self-service API). */
enum mp_err https_call_json(const struct exchange_conf *c, const char *method, const char *url,
    const char *token, const char *json, struct https_resp *resp, struct mp_errmsg *e);
void https_resp_clear(struct https_resp *r);
/* Percent-encodes s for a form body into out. */
enum mp_err https_form_escape(const char *s, struct mp_buf *out);

#endif
