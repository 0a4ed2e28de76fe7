/* Parsers for what Maskinporten and Altinn answer (PROTOCOL.md §3-4). Pure functions over
 * bounded bytes: every field is type- and size-checked, nothing is trusted. */
#ifndef MP_ANSWER_H
#define MP_ANSWER_H

#include <stddef.h>

#include <jansson.h>

#include "common/err.h"

#define TOKEN_MAX (16 * 1024)

struct mp_token {
    char access_token[TOKEN_MAX];
    char token_type[32];
    long long expires_in;
    char scope[1024];
};

/* Maskinporten's error: {error, error_description, error_uri}; code is "MP-xxx" when the uri
 * names one, trace_id is taken from "(trace_id: …)" in the description. */
struct mp_error {
    char error[64];
    char description[512];
    char uri[256];
    char code[16];
    char trace_id[64];
};

/* A 2xx token response. MP_ERR_PARSE names the missing or malformed field. */
enum mp_err answer_token(const char *body, size_t len, struct mp_token *out, struct mp_errmsg *e);
/* A 4xx error response; MP_ERR_PARSE when it is not Maskinporten-shaped. */
enum mp_err answer_error(const char *body, size_t len, struct mp_error *out);
/* Altinn's exchange answer: the JWT as text/plain, or as a JSON string. out gets the token. */
enum mp_err answer_altinn(const char *body, size_t len, char *out, size_t outlen,
    struct mp_errmsg *e);
/* Part 0 (header) or 1 (claims) of a compact JWT, decoded and parsed (unverified); NULL unless
 * it is a JSON object. */
json_t *answer_jwt_part(const char *jwt, int part);
/* The exp claim of a compact JWT (unverified: only to know when to refresh). */
enum mp_err answer_jwt_exp(const char *jwt, long long *exp);

#endif
