/* The project-wide error codes of the common and signer layers (the PKCS#11 layer has its own,
 * see pkcs11/hsm.h), and a fixed-size message that names the problem for the operator. */
#ifndef MP_ERR_H
#define MP_ERR_H

#include <stddef.h>

/* Numbers are never reused. */
enum mp_err {
    MP_OK = 0,
    MP_ERR_NOMEM = -1,
    MP_ERR_INVALID = -2, /* bad argument or malformed input */
    MP_ERR_TOOBIG = -3, /* input or output over its ceiling */
    MP_ERR_IO = -4,
    MP_ERR_PARSE = -5,
    MP_ERR_PERM = -6, /* unsafe permissions or ownership */
    MP_ERR_NOTFOUND = -7,
    MP_ERR_CRYPTO = -8, /* OpenSSL failure or signature check failed */
    MP_ERR_HSM = -9, /* the PKCS#11 layer failed; detail in the message */
    MP_ERR_POLICY = -10, /* a request the configuration does not allow */
    MP_ERR_HSM_SESSION = -11, /* the PKCS#11 session is lost: open another */
    MP_ERR_HSM_GONE = -12, /* the token or its link is gone: re-initialise and log in */
    MP_ERR_HSM_PIN = -13, /* the PIN was refused or is locked: an operator must act */
    MP_ERR_TIMEOUT = -14,
    MP_ERR_USAGE = -15, /* a bad command line; the parser has printed what is wrong */
    MP_ERR_HELP = -16, /* not a failure: --help printed the usage, the command exits 0 */
};

const char *mp_strerror(enum mp_err err);

/* One line, no newline, that a person can act on. Never holds a PIN, grant or token. */
#define MP_ERRMSG_MAX 384
struct mp_errmsg {
    char text[MP_ERRMSG_MAX];
};

/* Sets the message (NULL e is a no-op). Returns err so callers can write
 * `return mp_errf(e, MP_ERR_INVALID, "...")`. */
enum mp_err mp_errf(struct mp_errmsg *e, enum mp_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message: "<prefix>: <old text>". */
void mp_err_prefix(struct mp_errmsg *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
