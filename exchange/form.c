/* The form parser (form.h). */
#include "exchange/form.h"

#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

enum mp_err
form_decode(const char *in, size_t len, int plus, char *out, size_t size)
{
    size_t i, n = 0;
    int c;

    for (i = 0; i < len; i++) {
        c = (unsigned char)in[i];
        if (c == '%') {
            if (len - i < 3 || mp_hexval(in[i + 1], MP_HEX_ANY) < 0 ||
                mp_hexval(in[i + 2], MP_HEX_ANY) < 0)
                return MP_ERR_PARSE;
            c = mp_hexval(in[i + 1], MP_HEX_ANY) * 16 + mp_hexval(in[i + 2], MP_HEX_ANY);
            i += 2;
        } else if (c == '+' && plus)
            c = ' ';
        if (c == '\0')
            return MP_ERR_PARSE;
        if (n + 1 >= size)
            return MP_ERR_TOOBIG;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return MP_OK;
}

/* One "name=value" of len bytes. */
static enum mp_err
form_pair(const char *p, size_t len, form_cb cb, void *ctx, struct mp_errmsg *e)
{
    const char *eq = memchr(p, '=', len);
    size_t nlen = eq != NULL ? (size_t)(eq - p) : len;
    char name[FORM_NAME_MAX + 1];
    char *value = malloc(FORM_VALUE_MAX + 1);
    enum mp_err r;

    if (value == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if (form_decode(p, nlen, 1, name, sizeof(name)) != MP_OK) {
        r = mp_errf(e, MP_ERR_INVALID, "a parameter name is malformed or over %d bytes",
            FORM_NAME_MAX);
        goto out;
    }
    r = eq == NULL ? MP_OK : form_decode(eq + 1, len - nlen - 1, 1, value, FORM_VALUE_MAX + 1);
    if (eq == NULL)
        value[0] = '\0';
    if (r != MP_OK) {
        r = mp_errf(e, MP_ERR_INVALID, "parameter %s: %s", name,
            r == MP_ERR_TOOBIG ? "value over 16384 bytes" : "malformed %-escape or a NUL");
        goto out;
    }
    r = cb(ctx, name, value, e);
out:
    explicit_bzero(value, FORM_VALUE_MAX + 1); /* a client_secret passes through here */
    free(value);
    return r;
}

enum mp_err
form_parse(const char *body, size_t len, form_cb cb, void *ctx, struct mp_errmsg *e)
{
    size_t i = 0, start;
    enum mp_err r;

    while (i < len) {
        for (start = i; i < len && body[i] != '&'; i++)
            ;
        if (i > start && (r = form_pair(body + start, i - start, cb, ctx, e)) != MP_OK)
            return r;
        i++;
    }
    return MP_OK;
}
