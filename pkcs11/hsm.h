/* The only interface to PKCS#11 outside this directory. CK_RV and CK_* types never leave
 * pkcs11/: callers get enum hsm_err (the class of failure, which is what they act on) and a
 * message that names the call and the original code for the log.
 *
 * Lifetime: module → token (anchor session, login) → keys. Object handles stay valid across
 * sessions of one application, so a key found on the anchor session signs on any session. */
#ifndef MP_HSM_H
#define MP_HSM_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/secret.h"

enum hsm_err {
    HSM_OK = 0,
    HSM_ERR_NOMEM = -1,
    HSM_ERR_MODULE = -2, /* module cannot be loaded or initialised */
    HSM_ERR_REQUEST = -3, /* the token refused this request (mechanism, template, key) */
    HSM_ERR_SESSION_LOST = -4, /* reopen the session */
    HSM_ERR_TOKEN_GONE = -5, /* finalize, initialize, log in again */
    HSM_ERR_PIN = -6, /* wrong, locked or expired PIN: never log in again by yourself */
    HSM_ERR_BUSY = -7, /* too many sessions, operation active */
    HSM_ERR_NOTFOUND = -8, /* no such token, key or certificate */
    HSM_ERR_AMBIGUOUS = -9, /* the URI matches more than one token or object */
    HSM_ERR_KEY_REFUSED = -10, /* exportable, not RSA, too small, not a signing key */
    HSM_ERR_URI = -11, /* malformed or unacceptable PKCS#11 URI */
    HSM_ERR_FAILED = -12, /* anything else */
};

const char *hsm_strerror(enum hsm_err err);
/* Maps the class onto the caller's layer. */
enum mp_err hsm_to_mp(enum hsm_err err);

enum hsm_hash {
    HSM_SHA256 = 256,
    HSM_SHA384 = 384,
    HSM_SHA512 = 512,
};

struct hsm_module;
struct hsm_token;
struct hsm_key;
struct hsm_session;

/* dlopen + C_GetFunctionList + C_Initialize(CKF_OS_LOCKING_OK). init_args (may be NULL) is
 * passed as pReserved for modules that need it (NSS softokn). */
enum hsm_err hsm_module_load(const char *path, const char *init_args, struct hsm_module **out,
    struct mp_errmsg *e);
/* C_Finalize and dlclose. Every token and key of the module must be freed first. */
void hsm_module_free(struct hsm_module *m);
/* Recovery after the token or its link is gone: C_Finalize then C_Initialize on the same
 * loaded module (no thread may be inside the module, and every token must be freed). */
enum hsm_err hsm_module_reinit(struct hsm_module *m, struct mp_errmsg *e);

/* Finds the one token the RFC 7512 URI names (token/manufacturer/serial/model/slot-id) and
 * opens an anchor session (read/write when rw). A URI carrying pin-value is refused: PINs come
 * from files. */
enum hsm_err hsm_token_open(struct hsm_module *m, const char *uri, bool rw, struct hsm_token **out,
    struct mp_errmsg *e);
void hsm_token_free(struct hsm_token *t);
const char *hsm_token_label(const struct hsm_token *t);
const char *hsm_token_serial(const struct hsm_token *t);

/* Logs the user in once. Before calling C_Login it checks the token's flags and the PIN
 * length range, so a locked, final-try or malformed PIN never costs a try. A wrong PIN is
 * HSM_ERR_PIN and is not retried. */
enum hsm_err hsm_token_login(struct hsm_token *t, const struct mp_secret *pin, struct mp_errmsg *e);

/* The one private key the URI names (object/id attributes; type must be private if given). */
enum hsm_err hsm_key_find(struct hsm_token *t, const char *uri, struct hsm_key **out,
    struct mp_errmsg *e);
void hsm_key_free(struct hsm_key *k);

/* The exportability verdict and the Maskinporten key rules: refuses (HSM_ERR_KEY_REFUSED,
 * naming the attribute) a key with CKA_EXTRACTABLE true or CKA_SENSITIVE false, a non-RSA or
 * sub-2048-bit key, a key without CKA_SIGN, and a key that needs a PIN per signature. */
enum hsm_err hsm_key_check(const struct hsm_key *k, struct mp_errmsg *e);
/* True when CKA_NEVER_EXTRACTABLE or CKA_ALWAYS_SENSITIVE is false: the key existed outside
 * the token at some time. Allowed, but callers warn and audit. */
bool hsm_key_imported(const struct hsm_key *k);
unsigned int hsm_key_bits(const struct hsm_key *k);
/* "RSA", "EC", "DSA" or "non-RSA". */
const char *hsm_key_type(const struct hsm_key *k);
const char *hsm_key_label(const struct hsm_key *k);
/* CKA_ID as lowercase hex ("" when the key has none). */
const char *hsm_key_id_hex(const struct hsm_key *k);
/* The public half as an OpenSSL key, owned by the hsm_key. */
EVP_PKEY *hsm_key_public(const struct hsm_key *k);

/* The certificate object with the key's CKA_ID whose public key equals the key's, preferring
 * one valid at `now` with the latest notAfter. The caller frees *out with X509_free. */
enum hsm_err hsm_key_cert(const struct hsm_key *k, time_t now, X509 **out, struct mp_errmsg *e);

/* RSASSA-PKCS1-v1_5 over SHA-2 of data, inside the token: CKM_SHA*_RSA_PKCS where offered,
 * else CKM_RSA_PKCS over a DigestInfo built here. sig must hold hsm_key_bits()/8 bytes. */
enum hsm_err hsm_sign(const struct hsm_key *k, enum hsm_hash hash, const void *data, size_t len,
    unsigned char *sig, size_t *siglen, struct mp_errmsg *e);
/* A session of its own for one worker thread: PKCS#11 allows one operation per session at a
 * time. The login of the token's anchor session covers it. */
enum hsm_err hsm_session_open(struct hsm_token *t, struct hsm_session **out, struct mp_errmsg *e);
void hsm_session_free(struct hsm_session *s);
/* hsm_sign on a worker session. After HSM_ERR_SESSION_LOST, free the session and open another. */
enum hsm_err hsm_sign_in(struct hsm_session *s, const struct hsm_key *k, enum hsm_hash hash,
    const void *data, size_t len, unsigned char *sig, size_t *siglen, struct mp_errmsg *e);

/* Same, over an already computed digest (for signing structures OpenSSL hashes, such as CSRs). */
enum hsm_err hsm_sign_digest(const struct hsm_key *k, enum hsm_hash hash,
    const unsigned char *digest, size_t dlen, unsigned char *sig, size_t *siglen,
    struct mp_errmsg *e);

/* Generates an RSA key pair inside the token: private key sensitive, never extractable,
 * private, sign-only. Refuses if an object with this label or id exists. Needs an rw token. */
enum hsm_err hsm_keygen_rsa(struct hsm_token *t, const char *label, const unsigned char *id,
    size_t idlen, unsigned int bits, struct mp_errmsg *e);
/* Stores a certificate object (public, token) next to the key with this id. A certificate
 * whose exact bytes are already stored is refused, or, when already is not NULL, left as it is
 * and *already set. Needs an rw token. */
enum hsm_err hsm_cert_store(struct hsm_token *t, X509 *cert, const unsigned char *id, size_t idlen,
    const char *label, bool *already, struct mp_errmsg *e);

/* Stores a CA certificate (public, token, no CKA_ID) for building x5c chains; a certificate
 * whose bytes are on the token already is left as it is and *already set. */
enum hsm_err hsm_ca_store(struct hsm_token *t, X509 *ca, const char *label, bool *already,
    struct mp_errmsg *e);
/* The intermediates above leaf found among the token's certificates, in x5c order (the issuer
 * of leaf first), each checked by name and signature, stopping below a self-issued root. An
 * empty stack when the token holds none. The caller frees *out with sk_X509_pop_free. */
enum hsm_err hsm_key_chain(const struct hsm_key *k, X509 *leaf, STACK_OF(X509) * *out,
    struct mp_errmsg *e);

/* Initialises the first uninitialised token of the module with this label and SO PIN, then
 * sets its user PIN. Refuses if a token with the label exists. For developer and CI tokens
 * (SoftHSM); production HSMs are initialised with their vendor's tools. */
enum hsm_err hsm_token_init(struct hsm_module *m, const char *label, const struct mp_secret *so_pin,
    const struct mp_secret *user_pin, struct mp_errmsg *e);

/* Calls fn for every private key on the token (after login). Stops at the first non-OK. */
typedef enum hsm_err (*hsm_key_fn)(struct hsm_key *k, void *arg);
enum hsm_err hsm_key_each(struct hsm_token *t, hsm_key_fn fn, void *arg, struct mp_errmsg *e);
/* Attribute summary for listings: "sensitive=1 extractable=0 never_extractable=1 ...". */
void hsm_key_attr_summary(const struct hsm_key *k, char *out, size_t outlen);

#endif
