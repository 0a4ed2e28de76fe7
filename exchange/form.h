/* application/x-www-form-urlencoded bodies (the WHATWG URL standard's parser, as RFC 6749
 * §4.4.2 requests are written): "k=v&k2=v2", '+' for space, %XX escapes. Strict where a lax
 * parser would hide a mistake: a malformed escape, a NUL, or a name or value over its bound is
 * an error naming the parameter, never a silently shortened value. */
#ifndef MP_FORM_H
#define MP_FORM_H

#include <stddef.h>

#include "common/err.h"

#define FORM_NAME_MAX 64
#define FORM_VALUE_MAX 16384 /* an introspected token */

/* Called once per pair in body order, with both decoded and NUL-terminated; returning other
 * than MP_OK stops the parse and becomes its result (the callback fills e). */
typedef enum mp_err (*form_cb)(void *ctx, const char *name, const char *value, struct mp_errmsg *e);

/* Empty pairs ("a=1&&b=2") are skipped; a pair without '=' has the empty value. */
enum mp_err form_parse(const char *body, size_t len, form_cb cb, void *ctx, struct mp_errmsg *e);

/* Percent-decodes in[0..len) ('+' is a space when plus is set) into out (size bytes, NUL
 * added). MP_ERR_PARSE for a bad escape or a NUL, MP_ERR_TOOBIG when it does not fit. */
enum mp_err form_decode(const char *in, size_t len, int plus, char *out, size_t size);

#endif
