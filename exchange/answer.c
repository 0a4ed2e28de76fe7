/* Parsers of Maskinporten's and Altinn's answers, every field type- and size-checked (answer.h). */
#include "exchange/answer.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/json.h"

/* Copies a string member of at most outlen-1 bytes; absent is an error only if required. */
static enum mp_err
get_str(json_t *o, const char *key, char *out, size_t outlen, int required)
{
    json_t *v = json_object_get(o, key);
    size_t n;

    out[0] = '\0';
    if (v == NULL)
        return required ? MP_ERR_PARSE : MP_OK;
    if (!json_is_string(v) || (n = json_string_length(v)) >= outlen ||
        memchr(json_string_value(v), '\0', n) != NULL)
        return MP_ERR_PARSE;
    memcpy(out, json_string_value(v), n + 1);
    return MP_OK;
}

static json_t *
load_object(const char *body, size_t len)
{
    json_t *j = mp_json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);

    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* JWTs are three base64url parts: nothing else may reach an Authorization header. */
static int
jwt_shaped(const char *s)
{
    int dots = 0;

    for (; *s != '\0'; s++) {
        if (*s == '.')
            dots++;
        else if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                     (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return 0;
    }
    return dots == 2;
}

enum mp_err
answer_token(const char *body, size_t len, struct mp_token *out, struct mp_errmsg *e)
{
    json_t *j = load_object(body, len), *exp;
    enum mp_err r = MP_ERR_PARSE;

    memset(out, 0, sizeof(*out));
    if (j == NULL) {
        mp_errf(e, r, "Maskinporten answered with something that is not a JSON object");
        goto out;
    }
    if (get_str(j, "access_token", out->access_token, sizeof(out->access_token), 1) != MP_OK ||
        !jwt_shaped(out->access_token)) {
        mp_errf(e, r, "Maskinporten's answer has no usable access_token");
        goto out;
    }
    if (get_str(j, "token_type", out->token_type, sizeof(out->token_type), 1) != MP_OK ||
        strcasecmp(out->token_type, "Bearer") != 0) {
        mp_errf(e, r, "Maskinporten's answer has token_type other than Bearer");
        goto out;
    }
    exp = json_object_get(j, "expires_in");
    if (!json_is_integer(exp) || json_integer_value(exp) < 1 ||
        json_integer_value(exp) > 7 * 24 * 3600) {
        mp_errf(e, r, "Maskinporten's answer has no sane expires_in");
        goto out;
    }
    out->expires_in = json_integer_value(exp);
    if (get_str(j, "scope", out->scope, sizeof(out->scope), 0) != MP_OK) {
        mp_errf(e, r, "Maskinporten's answer has a malformed scope");
        goto out;
    }
    r = MP_OK;
out:
    json_decref(j);
    if (r != MP_OK)
        explicit_bzero(out->access_token, sizeof(out->access_token));
    return r;
}

static void
take_code(struct mp_error *out)
{
    const char *p = strstr(out->uri, "MP-");
    size_t n = 0;

    if (p == NULL)
        return;
    while (n < 8 && ((p[3 + n] >= '0' && p[3 + n] <= '9')))
        n++;
    if (n > 0)
        snprintf(out->code, sizeof(out->code), "MP-%.*s", (int)n, p + 3);
}

static void
take_trace(struct mp_error *out)
{
    const char *p = strstr(out->description, "trace_id:");
    size_t n = 0;

    if (p == NULL)
        return;
    p += 9;
    while (*p == ' ')
        p++;
    while (n < sizeof(out->trace_id) - 1 && p[n] != '\0' && p[n] != ')' && p[n] != ' ')
        n++;
    memcpy(out->trace_id, p, n);
    out->trace_id[n] = '\0';
}

enum mp_err
answer_error(const char *body, size_t len, struct mp_error *out)
{
    json_t *j = load_object(body, len);
    enum mp_err r = MP_ERR_PARSE;

    memset(out, 0, sizeof(*out));
    if (j == NULL)
        return r;
    if (get_str(j, "error", out->error, sizeof(out->error), 1) == MP_OK &&
        get_str(j, "error_description", out->description, sizeof(out->description), 0) == MP_OK &&
        get_str(j, "error_uri", out->uri, sizeof(out->uri), 0) == MP_OK) {
        take_code(out);
        take_trace(out);
        r = MP_OK;
    }
    json_decref(j);
    return r;
}

enum mp_err
answer_altinn(const char *body, size_t len, char *out, size_t outlen, struct mp_errmsg *e)
{
    json_t *j;
    size_t start = 0, end = len;

    while (end > 0 && (body[end - 1] == '\n' || body[end - 1] == '\r' || body[end - 1] == ' '))
        end--;
    if (end > 0 && body[0] == '"') {
        /* With Accept: application/json ASP.NET answers a JSON string. */
        j = mp_json_loadb(body, end, JSON_DECODE_ANY, NULL);
        if (!json_is_string(j) || json_string_length(j) >= outlen) {
            json_decref(j);
            return mp_errf(e, MP_ERR_PARSE, "Altinn answered a malformed JSON string");
        }
        memcpy(out, json_string_value(j), json_string_length(j) + 1);
        json_decref(j);
    } else {
        if (end - start >= outlen || end == start)
            return mp_errf(e, MP_ERR_PARSE, "Altinn's answer is empty or too large");
        memcpy(out, body + start, end - start);
        out[end - start] = '\0';
    }
    if (!jwt_shaped(out)) {
        explicit_bzero(out, outlen);
        return mp_errf(e, MP_ERR_PARSE, "Altinn's answer is not a JWT");
    }
    return MP_OK;
}

json_t *
answer_jwt_part(const char *jwt, int part)
{
    const char *start = jwt, *dot = strchr(jwt, '.');
    struct mp_buf *b;
    json_t *j = NULL;

    if (part == 1 && dot != NULL) {
        start = dot + 1;
        dot = strchr(start, '.');
    }
    if (dot == NULL || (b = mp_buf_new((size_t)(dot - start))) == NULL)
        return NULL;
    if (mp_b64url_decode(b, start, (size_t)(dot - start)) == MP_OK)
        j = load_object(mp_buf_str(b), mp_buf_len(b));
    mp_buf_free(b);
    return j;
}

enum mp_err
answer_jwt_exp(const char *jwt, long long *exp)
{
    json_t *j = answer_jwt_part(jwt, 1), *v;
    enum mp_err r = MP_ERR_PARSE;

    if (j != NULL && json_is_integer(v = json_object_get(j, "exp")) && json_integer_value(v) > 0) {
        *exp = json_integer_value(v);
        r = MP_OK;
    }
    json_decref(j);
    return r;
}
