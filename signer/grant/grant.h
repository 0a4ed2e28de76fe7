/* The grant signer: one key on one token, logged in, with its certificate and the JWS header
 * prepared once, signing Maskinporten grants. `mp-signer grant` uses it once; the daemon keeps
 * one per profile. */
#ifndef MP_GRANT_H
#define MP_GRANT_H

#include <time.h>

#include "common/buf.h"
#include "pkcs11/hsm.h"
#include "signer/grant/grant_claims.h"
#include "signer/signer_conf.h"

struct grant_signer;

/* Reads the PIN file (permissions first), loads the module, finds the token and logs in once
 * (the PIN is wiped right after), finds the key and refuses it unless it passes hsm_key_check;
 * in x5c mode loads the certificate from the token, checks its validity and the --chain file.
 * Warns when the key was imported. */
enum mp_err grant_signer_open(const struct signer_conf *c, const struct signer_conf_profile *p,
    struct grant_signer **out, struct mp_errmsg *e);
/* The same on a token the caller has opened and logged in to (the daemon shares one token
 * among its profiles); the caller keeps ownership of the token. */
enum mp_err grant_signer_open_on(struct hsm_token *tok, const struct signer_conf_profile *p,
    struct grant_signer **out, struct mp_errmsg *e);
void grant_signer_free(struct grant_signer *s);

/* What the signer chose for one grant, for the audit record. */
struct grant_info {
    char jti[37];
    long long iat, exp;
    char jws_sha256[65];
};

/* Signs one grant: checks the request, picks a fresh jti, signs inside the token, verifies the
 * signature with the public key, and appends the compact JWS to out. */
enum mp_err grant_sign(struct grant_signer *s, struct hsm_session *sess,
    const struct grant_request *g, time_t now, struct mp_buf *out, struct grant_info *info,
    struct mp_errmsg *e);
/* Sign with a worker session (NULL: the token's anchor session). info may be NULL. */

/* The certificate's organisation number ("" when there is none, e.g. kid mode). */
const char *grant_signer_orgno(const struct grant_signer *s);
/* Hex SHA-256 of the leaf certificate's DER, or NULL in kid mode. */
const char *grant_signer_cert_sha256(const struct grant_signer *s);

#endif
