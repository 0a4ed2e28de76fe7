/* One wrapper per PKCS#11 function, as pkcs11-provider's interface layer: every call is checked
 * for a missing entry, logged with its CK_RV at debug level, and classified by the caller. */
#include <stdarg.h>
#include <stdio.h>

#include "common/log.h"
#include "pkcs11/internal.h"

static CK_RV
p11_trace(const char *fn, CK_RV rv)
{
    if (mp_log_enabled(MP_LOG_DEBUG))
        mp_debug("pkcs11: %s -> %s (0x%lx)", fn, p11_rv_name(rv), (unsigned long)rv);
    return rv;
}

/* Expands to a wrapper body; PARAMS/ARGS keep the prototype and the call in one place. */
#define P11_WRAP(NAME, PARAMS, ARGS)                             \
    CK_RV p11_##NAME PARAMS                                      \
    {                                                            \
        if (m->fl == NULL || m->fl->NAME == NULL)                \
            return p11_trace(#NAME, CKR_FUNCTION_NOT_SUPPORTED); \
        return p11_trace(#NAME, m->fl->NAME ARGS);               \
    }

P11_WRAP(C_Initialize, (struct hsm_module * m, CK_VOID_PTR args), (args))
P11_WRAP(C_Finalize, (struct hsm_module * m), (NULL))
P11_WRAP(C_GetSlotList,
    (struct hsm_module * m, CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count),
    (present, list, count))
P11_WRAP(C_GetTokenInfo, (struct hsm_module * m, CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info),
    (slot, info))
P11_WRAP(C_GetMechanismList,
    (struct hsm_module * m, CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count),
    (slot, list, count))
P11_WRAP(C_OpenSession,
    (struct hsm_module * m, CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE_PTR s),
    (slot, flags, NULL, NULL, s))
P11_WRAP(C_CloseSession, (struct hsm_module * m, CK_SESSION_HANDLE s), (s))
P11_WRAP(C_Login,
    (struct hsm_module * m, CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
        CK_ULONG len),
    (s, user, pin, len))
P11_WRAP(C_FindObjectsInit,
    (struct hsm_module * m, CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n), (s, tmpl, n))
P11_WRAP(C_FindObjects,
    (struct hsm_module * m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR objs, CK_ULONG max,
        CK_ULONG_PTR count),
    (s, objs, max, count))
P11_WRAP(C_FindObjectsFinal, (struct hsm_module * m, CK_SESSION_HANDLE s), (s))
P11_WRAP(C_GetAttributeValue,
    (struct hsm_module * m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR tmpl,
        CK_ULONG n),
    (s, o, tmpl, n))
P11_WRAP(C_SignInit,
    (struct hsm_module * m, CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key),
    (s, mech, key))
P11_WRAP(C_Sign,
    (struct hsm_module * m, CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
        CK_ULONG_PTR siglen),
    (s, data, len, sig, siglen))
P11_WRAP(C_GenerateKeyPair,
    (struct hsm_module * m, CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR pub,
        CK_ULONG npub, CK_ATTRIBUTE_PTR priv, CK_ULONG npriv, CK_OBJECT_HANDLE_PTR hpub,
        CK_OBJECT_HANDLE_PTR hpriv),
    (s, mech, pub, npub, priv, npriv, hpub, hpriv))
P11_WRAP(C_InitToken,
    (struct hsm_module * m, CK_SLOT_ID slot, CK_UTF8CHAR_PTR so_pin, CK_ULONG len,
        CK_UTF8CHAR_PTR label),
    (slot, so_pin, len, label))
P11_WRAP(C_InitPIN, (struct hsm_module * m, CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR pin, CK_ULONG len),
    (s, pin, len))
P11_WRAP(C_Logout, (struct hsm_module * m, CK_SESSION_HANDLE s), (s))
P11_WRAP(C_GetInfo, (struct hsm_module * m, CK_INFO_PTR info), (info))
P11_WRAP(C_CreateObject,
    (struct hsm_module * m, CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
        CK_OBJECT_HANDLE_PTR o),
    (s, tmpl, n, o))

enum hsm_err
p11_classify(CK_RV rv)
{
    switch (rv) {
    case CKR_OK: return HSM_OK;
    case CKR_HOST_MEMORY: return HSM_ERR_NOMEM;
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED: return HSM_ERR_SESSION_LOST;
    /* The login is per application: losing it means the token was reset under us. */
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_GENERAL_ERROR:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
    case CKR_SLOT_ID_INVALID: return HSM_ERR_TOKEN_GONE;
    case CKR_PIN_INCORRECT:
    case CKR_PIN_LOCKED:
    case CKR_PIN_EXPIRED:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
    case CKR_USER_PIN_NOT_INITIALIZED: return HSM_ERR_PIN;
    case CKR_SESSION_COUNT:
    case CKR_OPERATION_ACTIVE:
    case CKR_DEVICE_MEMORY: return HSM_ERR_BUSY;
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
    case CKR_KEY_HANDLE_INVALID:
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_TEMPLATE_INCOMPLETE:
    case CKR_TEMPLATE_INCONSISTENT:
    case CKR_ATTRIBUTE_VALUE_INVALID:
    case CKR_ATTRIBUTE_TYPE_INVALID:
    case CKR_ATTRIBUTE_READ_ONLY:
    case CKR_DATA_LEN_RANGE:
    case CKR_FUNCTION_NOT_SUPPORTED:
    case CKR_TOKEN_WRITE_PROTECTED:
    case CKR_SESSION_READ_ONLY: return HSM_ERR_REQUEST;
    default: return HSM_ERR_FAILED;
    }
}

static const struct {
    CK_RV rv;
    const char *name;
} rv_names[] = {
    {CKR_OK, "CKR_OK"},
    {CKR_CANCEL, "CKR_CANCEL"},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
    {CKR_CANT_LOCK, "CKR_CANT_LOCK"},
    {CKR_ATTRIBUTE_READ_ONLY, "CKR_ATTRIBUTE_READ_ONLY"},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
    {CKR_DATA_INVALID, "CKR_DATA_INVALID"},
    {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
    {CKR_FUNCTION_CANCELED, "CKR_FUNCTION_CANCELED"},
    {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED"},
    {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
    {CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE"},
    {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
    {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
    {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
    {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
    {CKR_PIN_INVALID, "CKR_PIN_INVALID"},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
    {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
    {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
    {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
    {CKR_SESSION_EXISTS, "CKR_SESSION_EXISTS"},
    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
    {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
    {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
    {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID"},
    {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
};

const char *
p11_rv_name(CK_RV rv)
{
    size_t i;

    for (i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
        if (rv_names[i].rv == rv)
            return rv_names[i].name;
    return rv >= CKR_VENDOR_DEFINED ? "CKR_VENDOR_DEFINED" : "CKR_(unnamed)";
}

enum hsm_err
p11_fail(struct mp_errmsg *e, const char *fn, CK_RV rv, const char *context)
{
    mp_errf(e, MP_ERR_HSM, "%s%s%s failed: %s (0x%lx)", context ? context : "", context ? ": " : "",
        fn, p11_rv_name(rv), (unsigned long)rv);
    return p11_classify(rv) == HSM_OK ? HSM_ERR_FAILED : p11_classify(rv);
}

const char *
hsm_strerror(enum hsm_err err)
{
    switch (err) {
    case HSM_OK: return "success";
    case HSM_ERR_NOMEM: return "out of memory";
    case HSM_ERR_MODULE: return "PKCS#11 module cannot be loaded";
    case HSM_ERR_REQUEST: return "request refused by the token";
    case HSM_ERR_SESSION_LOST: return "PKCS#11 session lost";
    case HSM_ERR_TOKEN_GONE: return "token unavailable";
    case HSM_ERR_PIN: return "PIN problem";
    case HSM_ERR_BUSY: return "token busy";
    case HSM_ERR_NOTFOUND: return "not found on the token";
    case HSM_ERR_AMBIGUOUS: return "URI matches more than one object";
    case HSM_ERR_KEY_REFUSED: return "key refused";
    case HSM_ERR_URI: return "bad PKCS#11 URI";
    case HSM_ERR_FAILED: return "PKCS#11 failure";
    }
    return "unknown PKCS#11 error";
}

enum mp_err
hsm_to_mp(enum hsm_err err)
{
    switch (err) {
    case HSM_OK: return MP_OK;
    case HSM_ERR_NOMEM: return MP_ERR_NOMEM;
    case HSM_ERR_NOTFOUND: return MP_ERR_NOTFOUND;
    case HSM_ERR_URI: return MP_ERR_INVALID;
    case HSM_ERR_KEY_REFUSED: return MP_ERR_POLICY;
    case HSM_ERR_SESSION_LOST: return MP_ERR_HSM_SESSION;
    case HSM_ERR_TOKEN_GONE: return MP_ERR_HSM_GONE;
    case HSM_ERR_PIN: return MP_ERR_HSM_PIN;
    default: return MP_ERR_HSM;
    }
}

enum hsm_err
p11_errf(struct mp_errmsg *e, enum hsm_err r, const char *fmt, ...)
{
    va_list ap;

    if (e != NULL) {
        va_start(ap, fmt);
        vsnprintf(e->text, sizeof(e->text), fmt, ap);
        va_end(ap);
    }
    return r;
}
