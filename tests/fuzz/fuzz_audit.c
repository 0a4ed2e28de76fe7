/* The audit-log verifier: whatever an attacker with write access to the log puts there. */
#include <stdint.h>

#include "signer/audit_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct audit_report rep;
    struct mp_errmsg e;

    audit_verify_buffer((const char *)data, size, NULL, &rep, &e);
    return 0;
}
