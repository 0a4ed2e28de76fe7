/* What a local caller asks mp-exchange for, and the cache key it maps to. */
#ifndef MP_TOKEN_REQ_H
#define MP_TOKEN_REQ_H

#include <stddef.h>

#include <jansson.h>

#include "common/err.h"

#define TOKEN_REQ_MAX_RESOURCES 8

struct token_req {
    char profile[64]; /* [A-Za-z0-9._-]; "default" once finished if the caller named none */
    char scope[1024]; /* normalised: sorted, single spaces, no duplicates */
    char resources[TOKEN_REQ_MAX_RESOURCES][512];
    size_t nresources; /* sorted, without duplicates */
    char consumer_org[16];
    char su_org[16];
    char su_ref[129];
    char person[12]; /* pid: a national identity number (common/pid.h) */
    char consent_id[37]; /* an Altinn consent (authorization_details urn:altinn:consent) */
    char consent_from[64];
    /* The end caller, when the exchange forwards identities (forward_caller): part of the
     * cache key, so a token is served only to the uid and gid it was signed for. */
    struct token_caller {
        int set;
        unsigned int uid, gid;
        int pid;
        char exe[256];
    } caller;
    /* Not part of the key: fetch a new token even if one is cached (TEXAS's skip_cache); the
     * new token then replaces the cached one. */
    int skip_cache;
};

/* Sets one query parameter; MP_ERR_INVALID names the bad parameter. */
enum mp_err token_req_set(struct token_req *q, const char *key, const char *value,
    struct mp_errmsg *e);
/* RFC 9396 authorization_details (JSON text) onto q, one object (PROTOCOL.md): a system user
 * {type:"urn:altinn:systemuser", systemuser_org:{authority:"iso6523-actorid-upis",
 * ID:"0192:<orgno>"}, externalRef?}, as systemuser_org and systemuser_ref set it; or an Altinn
 * consent {type:"urn:altinn:consent", id:UUID, from:"urn:altinn:person:identifier-no:<pid>" or
 * "urn:altinn:organization:identifier-no:<orgno>"}. MP_ERR_PARSE when the text is not JSON,
 * MP_ERR_INVALID when the details are not one of those shapes. */
enum mp_err token_req_authz(struct token_req *q, const char *json, struct mp_errmsg *e);
/* The same for details already parsed (a JSON body's array, or a string holding one). */
enum mp_err token_req_authz_json(struct token_req *q, json_t *details, struct mp_errmsg *e);
/* Normalises and checks the whole request (scope present, orgs valid). */
enum mp_err token_req_finish(struct token_req *q, struct mp_errmsg *e);
/* The cache key: every field in a fixed order as "LEN:VALUE,", the resources last, then the
 * caller's "uid:gid" when set, so no two different requests or callers share one. MP_ERR_TOOBIG if it does not fit. */
enum mp_err token_req_key(const struct token_req *q, char *out, size_t outlen);

#endif
