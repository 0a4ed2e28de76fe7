/* Loading a PKCS#11 module: dlopen, C_GetFunctionList, C_Initialize with OS locking. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkcs11/internal.h"

static enum hsm_err
module_init(struct hsm_module *m, const char *init_args, struct mp_errmsg *e)
{
    CK_C_INITIALIZE_ARGS args;
    CK_RV rv;

    memset(&args, 0, sizeof(args));
    /* The service is threaded: the module must lock with the OS primitives. */
    args.flags = CKF_OS_LOCKING_OK;
    args.pReserved = (CK_VOID_PTR)(uintptr_t)init_args;
    rv = p11_C_Initialize(m, &args);
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)
        return HSM_OK; /* someone else in this process did it; they finalize */
    if (rv != CKR_OK) {
        p11_fail(e, "C_Initialize", rv, m->path);
        return HSM_ERR_MODULE;
    }
    m->initialized = 1;
    return HSM_OK;
}

/* NSS softokn (3.87 tested) answers C_WrapKey for an RSA private key with CKA_EXTRACTABLE false
 * and CKA_SENSITIVE true, and pk12util exports such a key: its CKA_EXTRACTABLE is no promise. */
static void
module_identify(struct hsm_module *m)
{
    CK_INFO info;

    if (p11_C_GetInfo(m, &info) == CKR_OK &&
        memcmp(info.manufacturerID, "Mozilla Foundation", 18) == 0 &&
        memcmp(info.libraryDescription, "NSS Internal Crypto Services", 28) == 0)
        m->nss_softokn = 1;
}

enum hsm_err
hsm_module_load(const char *path, const char *init_args, struct hsm_module **out,
    struct mp_errmsg *e)
{
    struct hsm_module *m = NULL;
    CK_C_GetFunctionList get;
    CK_RV rv;
    enum hsm_err r = HSM_ERR_NOMEM;

    if ((m = calloc(1, sizeof(*m))) == NULL) {
        mp_errf(e, MP_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(m->path, sizeof(m->path), "%s", path);
    if (init_args != NULL && (m->init_args = strdup(init_args)) == NULL) {
        mp_errf(e, MP_ERR_NOMEM, "out of memory");
        goto out;
    }
    r = HSM_ERR_MODULE;
    /* RTLD_LOCAL keeps the module's symbols (often its own OpenSSL) away from ours. */
    if ((m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
        mp_errf(e, MP_ERR_HSM, "cannot load PKCS#11 module %s: %s", path, dlerror());
        goto out;
    }
    *(void **)(&get) = dlsym(m->dl, "C_GetFunctionList");
    if (get == NULL) {
        mp_errf(e, MP_ERR_HSM, "%s is not a PKCS#11 module (no C_GetFunctionList)", path);
        goto out;
    }
    if ((rv = get(&m->fl)) != CKR_OK || m->fl == NULL) {
        p11_fail(e, "C_GetFunctionList", rv, path);
        goto out;
    }
    if ((r = module_init(m, init_args, e)) != HSM_OK)
        goto out;
    module_identify(m);
    *out = m;
    m = NULL;
    r = HSM_OK;
out:
    hsm_module_free(m);
    return r;
}

void
hsm_module_free(struct hsm_module *m)
{
    if (m == NULL)
        return;
    if (m->initialized)
        p11_C_Finalize(m);
    /* Under ASan the module stays mapped so leak reports keep its symbols. */
    if (m->dl != NULL && getenv("MP_NO_DLCLOSE") == NULL)
        dlclose(m->dl);
    free(m->init_args);
    free(m);
}

enum hsm_err
hsm_module_reinit(struct hsm_module *m, struct mp_errmsg *e)
{
    if (m->initialized) {
        p11_C_Finalize(m);
        m->initialized = 0;
    }
    return module_init(m, m->init_args, e);
}
