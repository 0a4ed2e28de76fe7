/* Random (version 4) UUIDs from the kernel CSPRNG, for JWT jti. */
#ifndef MP_UUID_H
#define MP_UUID_H

#include "common/err.h"

#define MP_UUID_STRLEN 36

/* out receives 36 characters and a NUL. */
enum mp_err mp_uuid_v4(char out[MP_UUID_STRLEN + 1]);
/* Random bytes from getrandom(2), retried on EINTR; MP_ERR_IO if the kernel refuses. */
enum mp_err mp_random_bytes(void *out, size_t len);

#endif
