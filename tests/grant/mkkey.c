/* Test fixture: makes the keys mp-signer must refuse or warn about, on a throwaway token, with
 * the PIN read from a file (no PIN on argv).
 *   mkkey MODULE TOKEN-LABEL PIN-FILE KIND LABEL ID-HEX
 * MKKEY_INIT_ARGS in the environment goes to C_Initialize as pReserved (NSS softokn).
 * KIND: extractable | nonsensitive | ec | rsa1024 | imported */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR p;
static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static int
die(const char *what, CK_RV rv)
{
    fprintf(stderr, "mkkey: %s failed: 0x%lx\n", what, (unsigned long)rv);
    return 1;
}

static CK_SESSION_HANDLE
login(const char *module, const char *label, const char *pinfile)
{
    CK_C_GetFunctionList get;
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16, i;
    CK_TOKEN_INFO ti;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_C_INITIALIZE_ARGS init = {0};
    CK_RV rv = CKR_OK;
    char pin[256];
    FILE *f = fopen(pinfile, "r");
    void *dl = dlopen(module, RTLD_NOW);

    if (f == NULL || dl == NULL || fgets(pin, sizeof(pin), f) == NULL)
        return CK_INVALID_HANDLE;
    fclose(f);
    pin[strcspn(pin, "\r\n")] = '\0';
    *(void **)(&get) = dlsym(dl, "C_GetFunctionList");
    /* p11-kit-client.so answers CKR_CANT_LOCK without CKF_OS_LOCKING_OK; NSS softokn takes its
     * database in pReserved (mp-signer's module_init_args). */
    init.flags = CKF_OS_LOCKING_OK;
    if (getenv("MKKEY_INIT_ARGS") != NULL && getenv("MKKEY_INIT_ARGS")[0] != '\0')
        init.pReserved = getenv("MKKEY_INIT_ARGS");
    if (get(&p) != CKR_OK || (rv = p->C_Initialize(&init)) != CKR_OK ||
        (rv = p->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK) {
        fprintf(stderr, "mkkey: C_Initialize/C_GetSlotList: 0x%lx\n", (unsigned long)rv);
        return CK_INVALID_HANDLE;
    }
    for (i = 0; i < n; i++) {
        if (p->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
            strncmp((char *)ti.label, label, strlen(label)) != 0)
            continue;
        if ((rv = p->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                 &s)) != CKR_OK ||
            (rv = p->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin))) != CKR_OK) {
            fprintf(stderr, "mkkey: C_OpenSession/C_Login: 0x%lx\n", (unsigned long)rv);
            s = CK_INVALID_HANDLE;
        }
        break;
    }
    memset(pin, 0, sizeof(pin));
    return s;
}

static int
genpair(CK_SESSION_HANDLE s, const char *kind, CK_ATTRIBUTE *lbl, CK_ATTRIBUTE *id)
{
    static CK_BYTE f4[] = {1, 0, 1};
    /* P-256 OID */
    static CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    int ec = strcmp(kind, "ec") == 0;
    CK_ULONG bits = strcmp(kind, "rsa1024") == 0 ? 1024 : 2048;
    CK_BBOOL *sens = strcmp(kind, "nonsensitive") == 0 ? &no : &yes;
    CK_BBOOL *extr = strcmp(kind, "extractable") == 0 ? &yes : &no;
    CK_MECHANISM mech = {ec ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub_rsa[] = {{CKA_TOKEN, &yes, 1}, {CKA_VERIFY, &yes, 1},
        {CKA_MODULUS_BITS, &bits, sizeof(bits)}, {CKA_PUBLIC_EXPONENT, f4, 3}, *lbl, *id};
    CK_ATTRIBUTE pub_ec[] = {{CKA_TOKEN, &yes, 1}, {CKA_VERIFY, &yes, 1},
        {CKA_EC_PARAMS, p256, sizeof(p256)}, *lbl, *id};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &yes, 1}, {CKA_PRIVATE, &yes, 1}, {CKA_SIGN, &yes, 1},
        {CKA_SENSITIVE, sens, 1}, {CKA_EXTRACTABLE, extr, 1}, *lbl, *id};
    CK_OBJECT_HANDLE a, b;
    CK_RV rv = p->C_GenerateKeyPair(s, &mech, ec ? pub_ec : pub_rsa, ec ? 5 : 6, priv, 7, &a, &b);

    return rv == CKR_OK ? 0 : die("C_GenerateKeyPair", rv);
}

static CK_ATTRIBUTE
bn_attr(EVP_PKEY *k, CK_ATTRIBUTE_TYPE t, const char *name)
{
    BIGNUM *bn = NULL;
    CK_ATTRIBUTE a = {t, NULL, 0};

    EVP_PKEY_get_bn_param(k, name, &bn);
    a.ulValueLen = (CK_ULONG)BN_num_bytes(bn);
    a.pValue = malloc(a.ulValueLen);
    BN_bn2bin(bn, a.pValue);
    BN_free(bn);
    return a;
}

/* A key made in software and written into the token: CKA_NEVER_EXTRACTABLE is false. */
static int
import(CK_SESSION_HANDLE s, CK_ATTRIBUTE *lbl, CK_ATTRIBUTE *id)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE type = CKK_RSA;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_TOKEN, &yes, 1}, {CKA_PRIVATE, &yes, 1}, {CKA_SIGN, &yes, 1}, {CKA_SENSITIVE, &yes, 1},
        {CKA_EXTRACTABLE, &no, 1}, *lbl, *id, bn_attr(k, CKA_MODULUS, OSSL_PKEY_PARAM_RSA_N),
        bn_attr(k, CKA_PUBLIC_EXPONENT, OSSL_PKEY_PARAM_RSA_E),
        bn_attr(k, CKA_PRIVATE_EXPONENT, OSSL_PKEY_PARAM_RSA_D),
        bn_attr(k, CKA_PRIME_1, OSSL_PKEY_PARAM_RSA_FACTOR1),
        bn_attr(k, CKA_PRIME_2, OSSL_PKEY_PARAM_RSA_FACTOR2),
        bn_attr(k, CKA_EXPONENT_1, OSSL_PKEY_PARAM_RSA_EXPONENT1),
        bn_attr(k, CKA_EXPONENT_2, OSSL_PKEY_PARAM_RSA_EXPONENT2),
        bn_attr(k, CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1)};
    CK_OBJECT_HANDLE o;
    CK_RV rv = p->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &o);

    for (size_t i = 9; i < sizeof(t) / sizeof(t[0]); i++) {
        OPENSSL_cleanse(t[i].pValue, t[i].ulValueLen);
        free(t[i].pValue);
    }
    EVP_PKEY_free(k);
    return rv == CKR_OK ? 0 : die("C_CreateObject", rv);
}

int
main(int argc, char **argv)
{
    CK_SESSION_HANDLE s;
    CK_BYTE id[32];
    CK_ULONG idlen = 0;
    unsigned int v;
    CK_ATTRIBUTE lbl, ida;
    int rc;

    if (argc != 7) {
        fputs("usage: mkkey MODULE TOKEN PIN-FILE KIND LABEL ID-HEX\n", stderr);
        return 2;
    }
    while (idlen < sizeof(id) && sscanf(argv[6] + 2 * idlen, "%2x", &v) == 1)
        id[idlen++] = (CK_BYTE)v;
    lbl = (CK_ATTRIBUTE){CKA_LABEL, argv[5], strlen(argv[5])};
    ida = (CK_ATTRIBUTE){CKA_ID, id, idlen};
    if ((s = login(argv[1], argv[2], argv[3])) == CK_INVALID_HANDLE)
        return die("login", 0);
    rc = strcmp(argv[4], "imported") == 0 ? import(s, &lbl, &ida) : genpair(s, argv[4], &lbl, &ida);
    p->C_Logout(s);
    p->C_CloseSession(s);
    p->C_Finalize(NULL);
    return rc;
}
