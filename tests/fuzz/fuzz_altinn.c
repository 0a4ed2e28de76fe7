/* Altinn's exchange answer and the JWT exp reader. */
#include <stdint.h>
#include <string.h>

#include "exchange/answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[TOKEN_MAX];
    struct mp_errmsg e;
    long long exp;

    if (answer_altinn((const char *)data, size, out, sizeof(out), &e) == MP_OK)
        answer_jwt_exp(out, &exp);
    return 0;
}
