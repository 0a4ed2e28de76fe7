/* Opening the configured token and logging in: the one path by which mp-signer reads a PIN. */
#ifndef MP_SIGNER_TOKEN_H
#define MP_SIGNER_TOKEN_H

#include <stdbool.h>

#include "pkcs11/hsm.h"
#include "signer/signer_conf.h"

/* Checks and reads the PIN file before touching the token, applies module_env, loads the
 * module, opens the token the URI names (rw for key management) and logs in once. The PIN is
 * wiped before this returns. On failure nothing is left open. */
enum mp_err signer_token_open(const struct signer_conf *c, const char *uri, bool rw,
    struct hsm_module **mod, struct hsm_token **tok, struct mp_errmsg *e);

/* The same on a module that is already loaded (start-up of the daemon and its recovery). */
enum mp_err signer_token_login(const struct signer_conf *c, struct hsm_module *m, const char *uri,
    struct hsm_token **tok, struct mp_errmsg *e);

#endif
