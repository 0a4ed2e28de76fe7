/* PKCS#10 certificate requests signed inside the token, for ordering a virksomhetssertifikat
 * from Buypass or Commfides (or the test CA of scripts/softhsm-init.sh). */
#ifndef MP_CSR_H
#define MP_CSR_H

#include "common/buf.h"
#include "pkcs11/hsm.h"

/* Subject: C=NO, O=org_name (default: cn), organizationIdentifier=NTRNO-<orgno>, CN=cn;
 * requests keyUsage digitalSignature (critical). The signature is made by the token over the
 * request info and checked with the key's public half before the PEM is appended to out. */
enum mp_err csr_build(const struct hsm_key *k, const char *orgno, const char *cn,
    const char *org_name, struct mp_buf *pem_out, struct mp_errmsg *e);

#endif
