/* Random (version 4) UUIDs from the kernel CSPRNG, for JWT jti. */
#ifndef MP_UUID_H
#define MP_UUID_H

#include <stdbool.h>

#include "common/err.h"

#define MP_UUID_STRLEN 36

/* out receives 36 characters and a NUL. */
enum mp_err mp_uuid_v4(char out[MP_UUID_STRLEN + 1]);
/* True for 36 characters 8-4-4-4-12 of hex digits (any version, either case): a consent request
 * id as Altinn makes them (version 7 as well as 4). */
bool mp_uuid_valid(const char *s);
/* Random bytes from getrandom(2), retried on EINTR; MP_ERR_IO if the kernel refuses. */
enum mp_err mp_random_bytes(void *out, size_t len);

#endif
