/* Error names and the operator's one-line message (common/err.h). */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
mp_strerror(enum mp_err err)
{
    switch (err) {
    case MP_OK: return "success";
    case MP_ERR_NOMEM: return "out of memory";
    case MP_ERR_INVALID: return "invalid input";
    case MP_ERR_TOOBIG: return "input too large";
    case MP_ERR_IO: return "I/O error";
    case MP_ERR_PARSE: return "parse error";
    case MP_ERR_PERM: return "unsafe permissions";
    case MP_ERR_NOTFOUND: return "not found";
    case MP_ERR_CRYPTO: return "cryptographic failure";
    case MP_ERR_HSM: return "PKCS#11 token failure";
    case MP_ERR_POLICY: return "refused by policy";
    case MP_ERR_HSM_SESSION: return "PKCS#11 session lost";
    case MP_ERR_HSM_GONE: return "token unavailable";
    case MP_ERR_HSM_PIN: return "PIN refused or locked";
    case MP_ERR_TIMEOUT: return "timed out";
    case MP_ERR_USAGE: return "bad command line";
    case MP_ERR_HELP: return "usage printed";
    }
    return "unknown error";
}

enum mp_err
mp_errf(struct mp_errmsg *e, enum mp_err err, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return err;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof(e->text), fmt, ap);
    va_end(ap);
    return err;
}

void
mp_err_prefix(struct mp_errmsg *e, const char *fmt, ...)
{
    char prefix[MP_ERRMSG_MAX];
    char old[MP_ERRMSG_MAX];
    va_list ap;

    if (e == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, e->text, sizeof(old));
    old[sizeof(old) - 1] = '\0';
    /* Truncation keeps the start of the line, which names the problem. */
    if (snprintf(e->text, sizeof(e->text), "%s: %s", prefix, old) >= (int)sizeof(e->text))
        e->text[sizeof(e->text) - 2] = '~';
}
