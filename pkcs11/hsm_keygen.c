/* Key pairs born inside the token: the private half is sensitive, never extractable, private
 * and may only sign, so Maskinporten grants are its only use. */
#include <stdint.h>
#include <string.h>

#include "pkcs11/internal.h"

/* Any object (key or certificate) that already carries this label or this id. */
static enum hsm_err
keygen_collision(struct hsm_token *t, const char *label, const unsigned char *id, size_t idlen,
    struct mp_errmsg *e)
{
    CK_ATTRIBUTE by_label = {CKA_LABEL, (CK_VOID_PTR)(uintptr_t)label, (CK_ULONG)strlen(label)};
    CK_ATTRIBUTE by_id = {CKA_ID, (CK_VOID_PTR)(uintptr_t)id, (CK_ULONG)idlen};
    CK_OBJECT_HANDLE o;
    CK_ULONG n = 0;
    enum hsm_err r;

    if ((r = p11_find(t, &by_label, 1, &o, 1, &n, e)) != HSM_OK)
        return r;
    if (n > 0)
        return p11_errf(e, HSM_ERR_REQUEST, "token %s already has an object labelled \"%s\"",
            t->label, label);
    if ((r = p11_find(t, &by_id, 1, &o, 1, &n, e)) != HSM_OK)
        return r;
    if (n > 0)
        return p11_errf(e, HSM_ERR_REQUEST, "token %s already has an object with this id",
            t->label);
    return HSM_OK;
}

enum hsm_err
hsm_keygen_rsa(struct hsm_token *t, const char *label, const unsigned char *id, size_t idlen,
    unsigned int bits, struct mp_errmsg *e)
{
    static CK_BYTE f4[] = {0x01, 0x00, 0x01};
    CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY, privc = CKO_PRIVATE_KEY;
    CK_KEY_TYPE rsa = CKK_RSA;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG mbits = bits;
    CK_VOID_PTR lbl = (CK_VOID_PTR)(uintptr_t)label, idp = (CK_VOID_PTR)(uintptr_t)id;
    CK_ULONG llen = (CK_ULONG)strlen(label), ilen = (CK_ULONG)idlen;
    CK_ATTRIBUTE pub[] = {
        {CKA_CLASS, &pubc, sizeof(pubc)},
        {CKA_KEY_TYPE, &rsa, sizeof(rsa)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &no, sizeof(no)},
        /* No CKA_VERIFY / CKA_ENCRYPT here: tpm2-pkcs11 derives both from the one TPM key
         * (VERIFY = TPMA decrypt, ENCRYPT = TPMA sign) and fails C_GenerateKeyPair when the
         * public template disagrees (VERIFY true with DECRYPT false). The private half's
         * SIGN true / DECRYPT false is what restricts the key; the token's defaults for the
         * public half do not matter, its signatures are verified with OpenSSL. */
        {CKA_WRAP, &no, sizeof(no)},
        {CKA_MODULUS_BITS, &mbits, sizeof(mbits)},
        {CKA_PUBLIC_EXPONENT, f4, sizeof(f4)},
        {CKA_LABEL, lbl, llen},
        {CKA_ID, idp, ilen},
    };
    CK_ATTRIBUTE priv[] = {
        {CKA_CLASS, &privc, sizeof(privc)},
        {CKA_KEY_TYPE, &rsa, sizeof(rsa)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_SIGN, &yes, sizeof(yes)},
        {CKA_DECRYPT, &no, sizeof(no)},
        {CKA_UNWRAP, &no, sizeof(no)},
        {CKA_LABEL, lbl, llen},
        {CKA_ID, idp, ilen},
    };
    CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE hpub, hpriv;
    CK_RV rv;
    enum hsm_err r;

    if (bits != 2048 && bits != 3072 && bits != 4096)
        return p11_errf(e, HSM_ERR_REQUEST, "RSA key size must be 2048, 3072 or 4096 bits");
    if (idlen == 0 || *label == '\0')
        return p11_errf(e, HSM_ERR_REQUEST, "a new key needs a label and an id");
    if ((r = keygen_collision(t, label, id, idlen, e)) != HSM_OK)
        return r;
    rv = p11_C_GenerateKeyPair(t->m, t->anchor, &mech, pub, sizeof(pub) / sizeof(pub[0]), priv,
        sizeof(priv) / sizeof(priv[0]), &hpub, &hpriv);
    if (rv != CKR_OK)
        return p11_fail(e, "C_GenerateKeyPair", rv, t->label);
    return HSM_OK;
}
