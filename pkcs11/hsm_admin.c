/* Token initialisation for developer and CI tokens: PINs come from files, never argv. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pkcs11/internal.h"

#define MAX_SLOTS 64

/* Finds the slot whose token has this label (initialised == true) or the first one without an
 * initialised token (initialised == false). */
static enum hsm_err
admin_slot(struct hsm_module *m, const char *label, bool initialised, CK_SLOT_ID *out)
{
    CK_SLOT_ID slots[MAX_SLOTS];
    CK_ULONG n = MAX_SLOTS, i;
    CK_TOKEN_INFO info;
    char padded[32];

    memset(padded, ' ', sizeof(padded));
    memcpy(padded, label, strlen(label));
    if (p11_C_GetSlotList(m, CK_TRUE, slots, &n) != CKR_OK)
        return HSM_ERR_FAILED;
    for (i = 0; i < n; i++) {
        if (p11_C_GetTokenInfo(m, slots[i], &info) != CKR_OK)
            continue;
        if (initialised && (info.flags & CKF_TOKEN_INITIALIZED) &&
            memcmp(info.label, padded, sizeof(padded)) == 0) {
            *out = slots[i];
            return HSM_OK;
        }
        if (!initialised && !(info.flags & CKF_TOKEN_INITIALIZED)) {
            *out = slots[i];
            return HSM_OK;
        }
    }
    return HSM_ERR_NOTFOUND;
}

static enum hsm_err
admin_user_pin(struct hsm_module *m, CK_SLOT_ID slot, const struct mp_secret *so_pin,
    const struct mp_secret *user_pin, struct mp_errmsg *e)
{
    CK_SESSION_HANDLE s;
    CK_RV rv;
    enum hsm_err r = HSM_OK;

    if ((rv = p11_C_OpenSession(m, slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, &s)) != CKR_OK)
        return p11_fail(e, "C_OpenSession", rv, NULL);
    rv = p11_C_Login(m, s, CKU_SO, (CK_UTF8CHAR_PTR)(uintptr_t)mp_secret_data(so_pin),
        (CK_ULONG)mp_secret_len(so_pin));
    if (rv != CKR_OK) {
        r = p11_fail(e, "C_Login(SO)", rv, NULL);
        goto out;
    }
    rv = p11_C_InitPIN(m, s, (CK_UTF8CHAR_PTR)(uintptr_t)mp_secret_data(user_pin),
        (CK_ULONG)mp_secret_len(user_pin));
    if (rv != CKR_OK)
        r = p11_fail(e, "C_InitPIN", rv, NULL);
    p11_C_Logout(m, s);
out:
    p11_C_CloseSession(m, s);
    return r;
}

enum hsm_err
hsm_token_init(struct hsm_module *m, const char *label, const struct mp_secret *so_pin,
    const struct mp_secret *user_pin, struct mp_errmsg *e)
{
    CK_SLOT_ID slot;
    CK_UTF8CHAR padded[32];
    CK_RV rv;

    if (*label == '\0' || strlen(label) > sizeof(padded))
        return p11_errf(e, HSM_ERR_REQUEST, "token label must be 1..32 bytes");
    if (admin_slot(m, label, true, &slot) == HSM_OK)
        return p11_errf(e, HSM_ERR_REQUEST, "a token labelled \"%s\" already exists", label);
    if (admin_slot(m, label, false, &slot) != HSM_OK)
        return p11_errf(e, HSM_ERR_NOTFOUND, "no free (uninitialised) token in %s", m->path);
    memset(padded, ' ', sizeof(padded));
    memcpy(padded, label, strlen(label));
    rv = p11_C_InitToken(m, slot, (CK_UTF8CHAR_PTR)(uintptr_t)mp_secret_data(so_pin),
        (CK_ULONG)mp_secret_len(so_pin), padded);
    if (rv != CKR_OK)
        return p11_fail(e, "C_InitToken", rv, label);
    /* SoftHSM renumbers its slots after C_InitToken: find the token again by label. */
    if (admin_slot(m, label, true, &slot) != HSM_OK)
        return p11_errf(e, HSM_ERR_FAILED, "token \"%s\" vanished after C_InitToken", label);
    return admin_user_pin(m, slot, so_pin, user_pin, e);
}
