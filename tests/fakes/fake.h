/* mp-fake: a strict fake of Maskinporten (/token, /jwk, well-known), of Altinn's token
 * exchange and of the Digdir self-service API (/clients), for the project's tests, its demo and
 * users' own CI. It validates grants the way PROTOCOL.md §1-3 says Maskinporten does and answers
 * with Maskinporten-shaped errors. */
#ifndef MP_FAKE_H
#define MP_FAKE_H

#include <pthread.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/err.h"

#define FAKE_MAX_CLIENTS 64
#define FAKE_MAX_JTI 65536

struct fake_client {
    char id[128];
    char org[10];
    char *scopes, *consumer_orgs, *systemuser_orgs;
    json_t *jwks; /* registered keys, or NULL: then x5c grants only */
    json_t *meta; /* the self-service client model; NULL for a client from the config file */
};

/* A fault to apply to the next matching calls (POST /fake/fault). */
struct fake_fault {
    char target[16]; /* token, exchange, any */
    unsigned int delay_ms;
    int status;
    char error[16]; /* a forced MP code */
    int drop, garbage;
    long count; /* calls left; <= 0: until reset */
    long date_offset_s; /* answer normally, with a Date header this far off the real clock */
    int active;
};

struct fake {
    char *listen;
    char *tls_cert, *tls_key, *ca_file, *issuer;
    unsigned int token_lifetime, altinn_lifetime; /* seconds */
    /* The self-service API adds clients and replaces their key sets while /token reads them:
     * after start-up, clients[], nclients and every client's fields are read and written only
     * under reg. Lock order: reg before mu. */
    pthread_mutex_t reg;
    struct fake_client clients[FAKE_MAX_CLIENTS];
    size_t nclients;
    X509_STORE *trust;
    EVP_PKEY *mp_key, *altinn_key; /* the fake's own signing keys, made at start */
    char base[128]; /* http(s)://127.0.0.1:PORT */
    pthread_mutex_t mu; /* stats, faults, jti store */
    unsigned long stats[16]; /* by enum fake_stat */
    struct fake_fault fault;
    char (*jti)[40];
    time_t *jti_exp;
    size_t njti;
};

enum fake_stat {
    ST_TOKEN,
    ST_TOKEN_OK,
    ST_EXCHANGE,
    ST_EXCHANGE_OK,
    ST_JWK,
    ST_WELL_KNOWN,
    ST_SS_READ, /* self-service GETs */
    ST_SS_WRITE, /* self-service POST/PUT/DELETE */
};

/* An HTTP answer built by a handler. */
struct fake_reply {
    unsigned int status;
    const char *type;
    struct mp_buf *body;
    int drop;
    long date_offset_s; /* non-zero: send a Date header skewed by this much */
};

/* fake_conf.c */
enum mp_err fake_load(struct fake *f, const char *path, struct mp_errmsg *e);
struct fake_client *fake_client_find(struct fake *f, const char *id);

/* fake_jwt.c: compact JWTs (no verification of untrusted input happens in these helpers). */
enum mp_err fake_jwt_sign(EVP_PKEY *key, const char *kid, json_t *claims, struct mp_buf *out);
/* Splits and decodes; header and payload must be JSON objects. */
enum mp_err fake_jwt_parse(const char *jwt, size_t len, json_t **header, json_t **payload);
/* Verifies the RSASSA-PKCS1-v1_5 signature with the SHA-2 of alg (RS256/384/512). */
int fake_jwt_verify(const char *jwt, size_t len, const char *alg, EVP_PKEY *pub);
/* The JWKS entry of a public RSA key: {kty,n,e,kid,alg,use}. */
json_t *fake_jwk(EVP_PKEY *pub, const char *kid);
/* An RSA public key from a JWK's n and e. */
EVP_PKEY *fake_jwk_key(json_t *jwk);

/* fake_mp.c: POST /token and the metadata endpoints. */
void fake_token(struct fake *f, const char *ctype, const char *body, size_t len,
    struct fake_reply *r);
void fake_well_known(struct fake *f, struct fake_reply *r);
void fake_jwks(struct fake *f, struct fake_reply *r);

/* fake_altinn.c: GET /authentication/api/v1/exchange/{provider}. */
void fake_exchange(struct fake *f, const char *provider, const char *authz, int enterprise_user,
    struct fake_reply *r);

/* fake_selfservice.c: the self-service API under /clients; path is what follows "/clients". */
void fake_selfservice(struct fake *f, const char *method, const char *path, const char *authz,
    const char *body, size_t len, struct fake_reply *r);

/* Answer helpers. */
void fake_json(struct fake_reply *r, unsigned int status, json_t *j);
void fake_mp_error(struct fake_reply *r, unsigned int status, const char *error, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
