/* Maskinporten's token and error answers: whatever an upstream (or a man in the middle with
 * a trusted certificate) sends back. */
#include <stdint.h>

#include "exchange/mpresp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mp_token t;
    struct mp_error me;
    struct mp_errmsg e;

    mpresp_token((const char *)data, size, &t, &e);
    mpresp_error((const char *)data, size, &me);
    return 0;
}
