/* The signer wire protocol decoder: any bytes a caller can send. */
#include <stdint.h>

#include "common/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct frame_msg m;
    struct mp_errmsg e;

    frame_decode(data, size, &m, &e);
    return 0;
}
