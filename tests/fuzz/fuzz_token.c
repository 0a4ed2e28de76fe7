/* Maskinporten's token and error answers: whatever an upstream (or a man in the middle with
 * a trusted certificate) sends back. */
#include <stdint.h>

#include "exchange/answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mp_token t;
    struct mp_error me;
    struct mp_errmsg e;

    answer_token((const char *)data, size, &t, &e);
    answer_error((const char *)data, size, &me);
    return 0;
}
