/* The grant signer: one key on one token, logged in, with its certificate and the JWS header
 * prepared once, signing Maskinporten grants. `mp-signer grant` uses it once; the daemon keeps
 * one per profile. */
#ifndef MP_GRANT_H
#define MP_GRANT_H

#include <time.h>

#include "common/buf.h"
#include "signer/claims.h"
#include "signer/sconf.h"

struct grant_signer;

/* Reads the PIN file (permissions first), loads the module, finds the token and logs in once
 * (the PIN is wiped right after), finds the key and refuses it unless it passes hsm_key_check;
 * in x5c mode loads the certificate from the token, checks its validity and the --chain file.
 * Warns when the key was imported. */
enum mp_err grant_signer_open(const struct sconf *c, const struct sconf_profile *p,
    struct grant_signer **out, struct mp_errmsg *e);
void grant_signer_free(struct grant_signer *s);

/* Signs one grant: checks the request, picks a fresh jti, signs inside the token, verifies the
 * signature with the public key, and appends the compact JWS to out. */
enum mp_err grant_sign(struct grant_signer *s, const struct grant_request *g, time_t now,
    struct mp_buf *out, struct mp_errmsg *e);

/* The certificate's organisation number ("" when there is none, e.g. kid mode). */
const char *grant_signer_orgno(const struct grant_signer *s);

#endif
