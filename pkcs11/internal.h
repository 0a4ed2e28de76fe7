/* Layout of the pkcs11/ objects and the one-wrapper-per-call layer. Only the files of pkcs11/
 * include it; it is the only place CK_* types are visible. */
#ifndef MP_HSM_INTERNAL_H
#define MP_HSM_INTERNAL_H

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "pkcs11/hsm.h"

struct hsm_module {
    void *dl;
    CK_FUNCTION_LIST_PTR fl;
    int initialized; /* we called C_Initialize and must call C_Finalize */
    char path[512];
    char *init_args;
    int nss_softokn; /* NSS softokn: wraps (exports) private keys whatever CKA_EXTRACTABLE says */
};

struct hsm_token {
    struct hsm_module *m;
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE anchor;
    CK_TOKEN_INFO info;
    int logged_in;
    char label[33];
    char serial[17];
    CK_MECHANISM_TYPE *mechs;
    CK_ULONG nmechs;
};

struct hsm_session {
    struct hsm_token *t;
    CK_SESSION_HANDLE h;
};

/* Tri-state attribute: the token may not report it at all. */
enum hsm_tri {
    HSM_ABSENT = -1,
    HSM_FALSE = 0,
    HSM_TRUE = 1,
};

struct hsm_key {
    struct hsm_token *t;
    CK_OBJECT_HANDLE h;
    CK_KEY_TYPE type;
    unsigned char id[128];
    size_t idlen;
    char id_hex[257];
    char label[256];
    enum hsm_tri sensitive, extractable, never_extractable, always_sensitive;
    enum hsm_tri sign, always_auth, local;
    EVP_PKEY *pub;
    unsigned int bits;
};

/* One wrapper per PKCS#11 function: checks the entry exists, calls, logs the function and CK_RV
 * at debug level. */
CK_RV p11_C_Initialize(struct hsm_module *m, CK_VOID_PTR args);
CK_RV p11_C_Finalize(struct hsm_module *m);
CK_RV p11_C_GetSlotList(struct hsm_module *m, CK_BBOOL present, CK_SLOT_ID_PTR list,
    CK_ULONG_PTR count);
CK_RV p11_C_GetTokenInfo(struct hsm_module *m, CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info);
CK_RV p11_C_GetMechanismList(struct hsm_module *m, CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
    CK_ULONG_PTR count);
CK_RV p11_C_OpenSession(struct hsm_module *m, CK_SLOT_ID slot, CK_FLAGS flags,
    CK_SESSION_HANDLE_PTR s);
CK_RV p11_C_CloseSession(struct hsm_module *m, CK_SESSION_HANDLE s);
CK_RV p11_C_Login(struct hsm_module *m, CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
    CK_ULONG len);
CK_RV p11_C_FindObjectsInit(struct hsm_module *m, CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR tmpl,
    CK_ULONG n);
CK_RV p11_C_FindObjects(struct hsm_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR objs,
    CK_ULONG max, CK_ULONG_PTR count);
CK_RV p11_C_FindObjectsFinal(struct hsm_module *m, CK_SESSION_HANDLE s);
CK_RV p11_C_GetAttributeValue(struct hsm_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n);
CK_RV p11_C_SignInit(struct hsm_module *m, CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech,
    CK_OBJECT_HANDLE key);
CK_RV p11_C_Sign(struct hsm_module *m, CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len,
    CK_BYTE_PTR sig, CK_ULONG_PTR siglen);
CK_RV p11_C_GenerateKeyPair(struct hsm_module *m, CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech,
    CK_ATTRIBUTE_PTR pub, CK_ULONG npub, CK_ATTRIBUTE_PTR priv, CK_ULONG npriv,
    CK_OBJECT_HANDLE_PTR hpub, CK_OBJECT_HANDLE_PTR hpriv);
CK_RV p11_C_InitToken(struct hsm_module *m, CK_SLOT_ID slot, CK_UTF8CHAR_PTR so_pin, CK_ULONG len,
    CK_UTF8CHAR_PTR label);
CK_RV p11_C_InitPIN(struct hsm_module *m, CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR pin, CK_ULONG len);
CK_RV p11_C_Logout(struct hsm_module *m, CK_SESSION_HANDLE s);
CK_RV p11_C_GetInfo(struct hsm_module *m, CK_INFO_PTR info);
CK_RV p11_C_CreateObject(struct hsm_module *m, CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR tmpl,
    CK_ULONG n, CK_OBJECT_HANDLE_PTR o);

/* Sets the message and returns r. */
enum hsm_err p11_errf(struct mp_errmsg *e, enum hsm_err r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parses an RFC 7512 URI, refusing pin-value and unknown attributes. */
enum hsm_err p11_uri_parse(const char *uri, P11KitUri **out, struct mp_errmsg *e);

/* The class of a return value; CKR_OK is HSM_OK. */
enum hsm_err p11_classify(CK_RV rv);
const char *p11_rv_name(CK_RV rv);
/* Fills e with "<fn> failed: CKR_NAME (0x..)" (plus context) and returns the class. */
enum hsm_err p11_fail(struct mp_errmsg *e, const char *fn, CK_RV rv, const char *context);

/* Finds up to max objects matching tmpl on the anchor session. */
enum hsm_err p11_find(struct hsm_token *t, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
    CK_OBJECT_HANDLE *objs, CK_ULONG max, CK_ULONG *count, struct mp_errmsg *e);
/* Reads one attribute into a caller buffer; *len in/out. CKR_ATTRIBUTE_TYPE_INVALID and
 * _SENSITIVE come back as HSM_ERR_NOTFOUND. */
enum hsm_err p11_get_attr(struct hsm_token *t, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
    void *buf, CK_ULONG *len);
/* Reads a variable-length attribute into a fresh malloc'd buffer (capped at max bytes). */
enum hsm_err p11_get_attr_alloc(struct hsm_token *t, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
    size_t max, unsigned char **out, size_t *outlen);
enum hsm_tri p11_get_bool(struct hsm_token *t, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type);
bool p11_has_mechanism(const struct hsm_token *t, CK_MECHANISM_TYPE mech);

/* Fills a freshly allocated key from a private-key handle. */
enum hsm_err p11_key_load(struct hsm_token *t, CK_OBJECT_HANDLE h, struct hsm_key **out,
    struct mp_errmsg *e);

#endif
