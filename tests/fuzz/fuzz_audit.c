/* The audit-log verifier: whatever an attacker with write access to the log puts there. */
#include <stdint.h>

#include "signer/audit/audit_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An anchor on the second line: its check runs on every input that gets that far. */
    static const struct audit_anchor anchor = {1, {0}};
    const struct audit_trust t = {.pub = NULL, .anchors = &anchor, .nanchors = 1};
    struct audit_report rep;
    struct mp_errmsg e;

    audit_verify_buffer((const char *)data, size, NULL, &rep, &e);
    audit_verify_buffer((const char *)data, size, &t, &rep, &e);
    return 0;
}
