/* Object search and attribute reads on the anchor session. */
#include <stdlib.h>
#include <string.h>

#include "pkcs11/internal.h"

enum hsm_err
p11_find(struct hsm_token *t, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE *objs,
    CK_ULONG max, CK_ULONG *count, struct mp_errmsg *e)
{
    CK_RV rv;
    enum hsm_err r = HSM_OK;

    if ((rv = p11_C_FindObjectsInit(t->m, t->anchor, tmpl, n)) != CKR_OK)
        return p11_fail(e, "C_FindObjectsInit", rv, t->label);
    if ((rv = p11_C_FindObjects(t->m, t->anchor, objs, max, count)) != CKR_OK)
        r = p11_fail(e, "C_FindObjects", rv, t->label);
    /* Always finalise, or the session stays in find mode for the next caller. */
    p11_C_FindObjectsFinal(t->m, t->anchor);
    return r;
}

enum hsm_err
p11_get_attr(struct hsm_token *t, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, void *buf,
    CK_ULONG *len)
{
    CK_ATTRIBUTE a = {type, buf, *len};
    CK_RV rv;

    rv = p11_C_GetAttributeValue(t->m, t->anchor, o, &a, 1);
    if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
        (rv == CKR_OK && a.ulValueLen == CK_UNAVAILABLE_INFORMATION))
        return HSM_ERR_NOTFOUND;
    if (rv != CKR_OK)
        return p11_classify(rv) == HSM_OK ? HSM_ERR_FAILED : p11_classify(rv);
    *len = a.ulValueLen;
    return HSM_OK;
}

enum hsm_err
p11_get_attr_alloc(struct hsm_token *t, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, size_t max,
    unsigned char **out, size_t *outlen)
{
    CK_ULONG len = 0;
    unsigned char *p;
    enum hsm_err r;

    if ((r = p11_get_attr(t, o, type, NULL, &len)) != HSM_OK)
        return r;
    if (len > max)
        return HSM_ERR_REQUEST;
    if ((p = calloc(1, len + 1)) == NULL)
        return HSM_ERR_NOMEM;
    if ((r = p11_get_attr(t, o, type, p, &len)) != HSM_OK) {
        free(p);
        return r;
    }
    *out = p;
    *outlen = len;
    return HSM_OK;
}

/* Reads one boolean by itself: NSS refuses combined reads when one attribute is unknown. */
enum hsm_tri
p11_get_bool(struct hsm_token *t, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
    CK_BBOOL v = CK_FALSE;
    CK_ULONG len = sizeof(v);

    if (p11_get_attr(t, o, type, &v, &len) != HSM_OK || len != sizeof(v))
        return HSM_ABSENT;
    return v ? HSM_TRUE : HSM_FALSE;
}
