/* Kernel randomness and version 4 UUIDs for grant jti values (uuid.h). */
#include "common/uuid.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

enum mp_err
mp_random_bytes(void *out, size_t len)
{
    unsigned char *p = out;
    ssize_t n;

    while (len > 0) {
        n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return MP_ERR_IO;
        p += n;
        len -= (size_t)n;
    }
    return MP_OK;
}

enum mp_err
mp_uuid_v4(char out[MP_UUID_STRLEN + 1])
{
    unsigned char b[16];
    enum mp_err r;

    if ((r = mp_random_bytes(b, sizeof(b))) != MP_OK)
        return r;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, MP_UUID_STRLEN + 1,
        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
        b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return MP_OK;
}

bool
mp_uuid_valid(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != MP_UUID_STRLEN)
        return false;
    for (i = 0; i < MP_UUID_STRLEN; i++)
        if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    return true;
}
