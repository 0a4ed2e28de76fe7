/* The Digdir self-service API (PROTOCOL.md §6): Maskinporten clients and their key sets, called
 * with an admin Maskinporten token that holds idporten:dcr.* scopes. TLS verification is always
 * on (exchange_conf ca_file for a private CA); answers are capped at 1 MiB and parsed with mp_json_loadb.
 * A refusal becomes one line naming the HTTP status and the API's error and error_description;
 * the token never appears in a message. */
#ifndef MP_SELFSERVICE_H
#define MP_SELFSERVICE_H

#include <jansson.h>

#include "common/err.h"
#include "exchange/exchange_conf.h"

/* The API allows this many keys per client. */
#define SS_MAX_KEYS 5

struct selfservice;

/* base_url is the clients collection, e.g. https://api.test.samarbeid.digdir.no/clients. The
 * token is copied (and wiped by selfservice_free). */
enum mp_err selfservice_new(const struct exchange_conf *c, const char *base_url, const char *token,
    struct selfservice **out, struct mp_errmsg *e);
void selfservice_free(struct selfservice *s);

/* POST /clients with a Maskinporten client's metadata (client_name, description, scopes and the
 * fixed maskinporten/web/private_key_jwt/jwt-bearer fields). *out: the client model. */
enum mp_err selfservice_create(struct selfservice *s, const char *name, const char *description,
    const char *const *scopes, size_t nscopes, json_t **out, struct mp_errmsg *e);
/* GET /clients (*out: an array) or GET /clients/{id} (*out: an object). */
enum mp_err selfservice_list(struct selfservice *s, json_t **out, struct mp_errmsg *e);
enum mp_err selfservice_show(struct selfservice *s, const char *id, json_t **out,
    struct mp_errmsg *e);
/* GET /clients/{id}/jwks: *out is the "keys" array (an empty array when there are none). */
enum mp_err selfservice_keys(struct selfservice *s, const char *id, json_t **out,
    struct mp_errmsg *e);
/* PUT /clients/{id}/jwks {"keys": keys}: replaces the whole set; *out as selfservice_keys. */
enum mp_err selfservice_keys_put(struct selfservice *s, const char *id, json_t *keys, json_t **out,
    struct mp_errmsg *e);
/* DELETE /clients/{id}/jwks: removes every key (the only way to remove the last one). */
enum mp_err selfservice_keys_delete(struct selfservice *s, const char *id, struct mp_errmsg *e);

/* The clients collection URL: flag (a base URL such as https://api.test.samarbeid.digdir.no,
 * or one already ending in /clients) or, without it, the API of env (test|prod); "/clients"
 * appended. https://, or http:// to a loopback host only. */
enum mp_err selfservice_url(const char *flag, const char *env, char *out, size_t outlen,
    struct mp_errmsg *e);

/* A JWK or a JWKS file's text: *out is an array of its keys. Refuses private key members (d, p,
 * q...), a key without a usable kid, and a kid given twice. The API checks the rest. */
enum mp_err selfservice_jwk_parse(const char *text, size_t len, const char *label, json_t **out,
    struct mp_errmsg *e);
/* The kid of a key, NULL if none. */
const char *selfservice_key_kid(const json_t *key);
/* The key with this kid in keys, NULL if none. */
const json_t *selfservice_key_find(const json_t *keys, const char *kid);
/* The whole set to PUT: cur (as GET answered it) then add. Refuses a kid already in cur and
 * more than SS_MAX_KEYS keys; members the API adds itself (exp) are left out of cur's keys, every
 * other member of every key is kept. */
enum mp_err selfservice_keys_merge(const json_t *cur, const json_t *add, const char *id,
    json_t **out, struct mp_errmsg *e);
/* cur without the key kid (exp left out likewise); MP_ERR_NOTFOUND when cur has no such kid. */
enum mp_err selfservice_keys_without(const json_t *cur, const char *kid, const char *id,
    json_t **out, struct mp_errmsg *e);

/* 1 for a client id or kid made of [A-Za-z0-9._-], 1..128 characters: safe in a URL path and
 * in a config file line. */
int selfservice_id_ok(const char *s);

#endif
