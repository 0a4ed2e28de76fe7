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
#define FAKE_MAX_CONSENTS 64
#define FAKE_MAX_JTI 65536

/* The prefixes of an Altinn consent's from: a person (national identity number) or an
 * organisation (organisation number). */
#define FAKE_FROM_PERSON "urn:altinn:person:identifier-no:"
#define FAKE_FROM_ORG "urn:altinn:organization:identifier-no:"

struct fake_client {
    char id[128];
    char org[10];
    char *scopes, *consumer_orgs, *systemuser_orgs;
    int pid; /* pid = yes: may ask for pid-restricted tokens */
    json_t *jwks; /* registered keys, or NULL: then x5c grants only */
    json_t *meta; /* the self-service client model; NULL for a client from the config file */
};

/* An Altinn consent from a [consent UUID] section; read-only after start-up. */
struct fake_consent {
    char id[40]; /* a UUID */
    char *from; /* FAKE_FROM_PERSON or FAKE_FROM_ORG and the number */
    char to[10]; /* the organisation the consent is given to */
    char *resource, *valid_to; /* valid_to as written, RFC 3339 */
    time_t valid_until; /* valid_to parsed */
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
    struct fake_consent consents[FAKE_MAX_CONSENTS];
    size_t nconsents;
    time_t started; /* when the config was read: the "consented" time of every consent */
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
/* The consent with this id (UUIDs compare case-insensitively), or NULL. */
const struct fake_consent *fake_consent_find(const struct fake *f, const char *id);
/* A Norwegian national identity number (fødselsnummer, d-nummer or a synthetic test number):
 * 11 digits and both mod-11 control digits right; the date part is not checked. */
int fake_pid_valid(const char *s);
/* An Altinn party URN: FAKE_FROM_PERSON and a valid pid, or FAKE_FROM_ORG and a valid
 * organisation number. */
int fake_from_valid(const char *s);
/* 8-4-4-4-12 hexadecimal digits. */
int fake_uuid_valid(const char *s);

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
