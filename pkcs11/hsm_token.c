/* Selecting a token by RFC 7512 URI (parsed by p11-kit), its anchor session and the login. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pkcs11/internal.h"

#define MAX_SLOTS 64

/* Copies a blank-padded PKCS#11 string field into a trimmed C string. */
static void
p11_str(char *out, size_t outlen, const unsigned char *in, size_t inlen)
{
    size_t n = inlen < outlen - 1 ? inlen : outlen - 1;

    memcpy(out, in, n);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
        n--;
    out[n] = '\0';
}

enum hsm_err
p11_uri_parse(const char *uri, P11KitUri **out, struct mp_errmsg *e)
{
    P11KitUri *u;
    int rc;

    if ((u = p11_kit_uri_new()) == NULL)
        return HSM_ERR_NOMEM;
    if ((rc = p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, u)) != P11_KIT_URI_OK) {
        p11_kit_uri_free(u);
        return p11_errf(e, HSM_ERR_URI, "bad PKCS#11 URI: %s", p11_kit_uri_message(rc));
    }
    if (p11_kit_uri_get_pin_value(u) != NULL) {
        p11_kit_uri_free(u);
        return p11_errf(e, HSM_ERR_URI,
            "PKCS#11 URI carries pin-value: PINs are read from a pin file only");
    }
    if (p11_kit_uri_any_unrecognized(u)) {
        p11_kit_uri_free(u);
        return p11_errf(e, HSM_ERR_URI, "PKCS#11 URI has attributes this tool does not know");
    }
    *out = u;
    return HSM_OK;
}

static bool
slot_matches(P11KitUri *u, CK_SLOT_ID slot, CK_TOKEN_INFO *info)
{
    CK_SLOT_ID want = p11_kit_uri_get_slot_id(u);

    if (want != (CK_SLOT_ID)-1 && want != slot)
        return false;
    return p11_kit_uri_match_token_info(u, info) == 1;
}

static enum hsm_err
token_select(struct hsm_token *t, P11KitUri *u, const char *uri, struct mp_errmsg *e)
{
    CK_SLOT_ID slots[MAX_SLOTS];
    CK_ULONG n = MAX_SLOTS, i, found = 0;
    CK_TOKEN_INFO info;
    CK_RV rv;

    if ((rv = p11_C_GetSlotList(t->m, CK_TRUE, slots, &n)) != CKR_OK)
        return p11_fail(e, "C_GetSlotList", rv, NULL);
    /* A network HSM's client (p11-kit-client.so among them) answers C_Initialize with CKR_OK
     * and shows no slot at all while its server is unreachable: say so, not "no match". */
    if (n == 0)
        return p11_errf(e, HSM_ERR_NOTFOUND,
            "%s shows no token at all (HSM or its server unreachable?), looking for %s", t->m->path,
            uri);
    for (i = 0; i < n; i++) {
        if (p11_C_GetTokenInfo(t->m, slots[i], &info) != CKR_OK)
            continue;
        if (!slot_matches(u, slots[i], &info))
            continue;
        if (found++ == 0) {
            t->slot = slots[i];
            t->info = info;
        }
    }
    if (found == 0)
        return p11_errf(e, HSM_ERR_NOTFOUND, "no token in %s matches %s", t->m->path, uri);
    if (found > 1)
        return p11_errf(e, HSM_ERR_AMBIGUOUS,
            "%lu tokens match %s: add token= or serial= to the URI", (unsigned long)found, uri);
    p11_str(t->label, sizeof(t->label), t->info.label, sizeof(t->info.label));
    p11_str(t->serial, sizeof(t->serial), t->info.serialNumber, sizeof(t->info.serialNumber));
    return HSM_OK;
}

static enum hsm_err
token_mechanisms(struct hsm_token *t, struct mp_errmsg *e)
{
    CK_ULONG n = 0;
    CK_RV rv;

    if ((rv = p11_C_GetMechanismList(t->m, t->slot, NULL, &n)) != CKR_OK)
        return p11_fail(e, "C_GetMechanismList", rv, NULL);
    if (n > 4096)
        n = 4096;
    if ((t->mechs = calloc(n + 1, sizeof(*t->mechs))) == NULL)
        return HSM_ERR_NOMEM;
    if ((rv = p11_C_GetMechanismList(t->m, t->slot, t->mechs, &n)) != CKR_OK)
        return p11_fail(e, "C_GetMechanismList", rv, NULL);
    t->nmechs = n;
    return HSM_OK;
}

enum hsm_err
hsm_token_open(struct hsm_module *m, const char *uri, bool rw, struct hsm_token **out,
    struct mp_errmsg *e)
{
    struct hsm_token *t = NULL;
    P11KitUri *u = NULL;
    CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
    CK_RV rv;
    enum hsm_err r = HSM_ERR_NOMEM;

    if ((t = calloc(1, sizeof(*t))) == NULL)
        goto out;
    t->m = m;
    t->anchor = CK_INVALID_HANDLE;
    if ((r = p11_uri_parse(uri, &u, e)) != HSM_OK)
        goto out;
    if ((r = token_select(t, u, uri, e)) != HSM_OK)
        goto out;
    if ((r = token_mechanisms(t, e)) != HSM_OK)
        goto out;
    if ((rv = p11_C_OpenSession(m, t->slot, flags, &t->anchor)) != CKR_OK) {
        r = p11_fail(e, "C_OpenSession", rv, t->label);
        goto out;
    }
    *out = t;
    t = NULL;
    r = HSM_OK;
out:
    if (r == HSM_ERR_NOMEM)
        mp_errf(e, MP_ERR_NOMEM, "out of memory");
    p11_kit_uri_free(u);
    hsm_token_free(t);
    return r;
}

void
hsm_token_free(struct hsm_token *t)
{
    if (t == NULL)
        return;
    /* Closing the last session also logs the user out (PKCS#11 login is per application). */
    if (t->anchor != CK_INVALID_HANDLE)
        p11_C_CloseSession(t->m, t->anchor);
    free(t->mechs);
    free(t);
}

const char *
hsm_token_label(const struct hsm_token *t)
{
    return t->label;
}

const char *
hsm_token_serial(const struct hsm_token *t)
{
    return t->serial;
}

bool
p11_has_mechanism(const struct hsm_token *t, CK_MECHANISM_TYPE mech)
{
    CK_ULONG i;

    for (i = 0; i < t->nmechs; i++)
        if (t->mechs[i] == mech)
            return true;
    return false;
}

/* Refuses before C_Login whatever would cost a PIN try for nothing or risk a lock. */
static enum hsm_err
login_precheck(struct hsm_token *t, size_t pinlen, struct mp_errmsg *e)
{
    CK_TOKEN_INFO *i = &t->info;
    CK_RV rv;

    if ((rv = p11_C_GetTokenInfo(t->m, t->slot, i)) != CKR_OK)
        return p11_fail(e, "C_GetTokenInfo", rv, t->label);
    if (i->flags & CKF_USER_PIN_LOCKED)
        return p11_errf(e, HSM_ERR_PIN, "token %s: user PIN is locked; unlock it with the SO PIN",
            t->label);
    if (i->flags & CKF_USER_PIN_FINAL_TRY)
        return p11_errf(e, HSM_ERR_PIN,
            "token %s: one PIN try left; not logging in automatically, check the PIN with the "
            "token's own tool first",
            t->label);
    if (!(i->flags & CKF_USER_PIN_INITIALIZED))
        return p11_errf(e, HSM_ERR_PIN, "token %s: user PIN is not initialised", t->label);
    if (i->flags & CKF_USER_PIN_TO_BE_CHANGED)
        return p11_errf(e, HSM_ERR_PIN, "token %s: user PIN must be changed before use", t->label);
    if ((i->ulMaxPinLen != 0 && pinlen > i->ulMaxPinLen) || pinlen < i->ulMinPinLen)
        return p11_errf(e, HSM_ERR_PIN,
            "token %s: PIN in the pin file has %zu characters, token wants %lu..%lu (not tried)",
            t->label, pinlen, (unsigned long)i->ulMinPinLen, (unsigned long)i->ulMaxPinLen);
    return HSM_OK;
}

enum hsm_err
hsm_token_login(struct hsm_token *t, const struct mp_secret *pin, struct mp_errmsg *e)
{
    CK_RV rv;
    enum hsm_err r;

    if (t->logged_in)
        return HSM_OK;
    if (!(t->info.flags & CKF_LOGIN_REQUIRED)) {
        t->logged_in = 1;
        return HSM_OK;
    }
    if ((r = login_precheck(t, mp_secret_len(pin), e)) != HSM_OK)
        return r;
    rv = p11_C_Login(t->m, t->anchor, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)mp_secret_data(pin),
        (CK_ULONG)mp_secret_len(pin));
    if (rv == CKR_PIN_INCORRECT) {
        return p11_errf(e, HSM_ERR_PIN,
            "token %s: wrong PIN (CKR_PIN_INCORRECT); not retried, PIN tries are limited",
            t->label);
    }
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        return p11_fail(e, "C_Login", rv, t->label);
    t->logged_in = 1;
    return HSM_OK;
}

enum hsm_err
hsm_session_open(struct hsm_token *t, struct hsm_session **out, struct mp_errmsg *e)
{
    struct hsm_session *s;
    CK_RV rv;

    if ((s = calloc(1, sizeof(*s))) == NULL)
        return p11_errf(e, HSM_ERR_NOMEM, "out of memory");
    s->t = t;
    if ((rv = p11_C_OpenSession(t->m, t->slot, CKF_SERIAL_SESSION, &s->h)) != CKR_OK) {
        free(s);
        return p11_fail(e, "C_OpenSession", rv, t->label);
    }
    *out = s;
    return HSM_OK;
}

void
hsm_session_free(struct hsm_session *s)
{
    if (s == NULL)
        return;
    p11_C_CloseSession(s->t->m, s->h);
    free(s);
}
