/* Opening the configured token and logging in with the PIN file (signer_token.h). */
#include "signer/grant/signer_token.h"

#include "common/secret.h"

enum mp_err
signer_token_open(const struct signer_conf *c, const char *uri, bool rw, struct hsm_module **mod,
    struct hsm_token **tok, struct mp_errmsg *e)
{
    struct mp_secret *pin = NULL;
    struct hsm_module *m = NULL;
    struct hsm_token *t = NULL;
    enum hsm_err h;
    enum mp_err r;

    if (c->module == NULL || c->pin_file == NULL || uri == NULL)
        return mp_errf(e, MP_ERR_INVALID, "%s missing (set it in the config or with --%s)",
            c->module == NULL         ? "module"
                : c->pin_file == NULL ? "pin_file"
                                      : "key URI",
            c->module == NULL         ? "module"
                : c->pin_file == NULL ? "pin-file"
                                      : "key");
    if ((r = mp_secret_read_file(c->pin_file, &pin, e)) != MP_OK)
        goto out;
    if ((r = signer_conf_apply_module_env(c, e)) != MP_OK)
        goto out;
    if ((h = hsm_module_load(c->module, c->module_init_args, &m, e)) != HSM_OK ||
        (h = hsm_token_open(m, uri, rw, &t, e)) != HSM_OK ||
        (h = hsm_token_login(t, pin, e)) != HSM_OK) {
        r = hsm_to_mp(h);
        goto out;
    }
    *mod = m;
    *tok = t;
    m = NULL;
    t = NULL;
out:
    mp_secret_free(pin);
    hsm_token_free(t);
    hsm_module_free(m);
    return r;
}

enum mp_err
signer_token_login(const struct signer_conf *c, struct hsm_module *m, const char *uri,
    struct hsm_token **tok, struct mp_errmsg *e)
{
    struct mp_secret *pin = NULL;
    struct hsm_token *t = NULL;
    enum hsm_err h;
    enum mp_err r;

    /* Read again for every login, so no PIN stays in memory between logins. */
    if ((r = mp_secret_read_file(c->pin_file, &pin, e)) != MP_OK)
        return r;
    if ((h = hsm_token_open(m, uri, false, &t, e)) != HSM_OK ||
        (h = hsm_token_login(t, pin, e)) != HSM_OK) {
        r = hsm_to_mp(h);
        hsm_token_free(t);
        t = NULL;
    }
    mp_secret_free(pin);
    *tok = t;
    return r;
}
