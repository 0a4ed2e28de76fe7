/* Strict decimal and octal parsing (num.h). */
#include "common/num.h"

#include <errno.h>
#include <stdlib.h>

enum mp_err
mp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end = NULL;

    if (s == NULL || *s < '0' || *s > '9')
        return MP_ERR_INVALID;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return MP_ERR_INVALID;
    if (v < min || v > max)
        return MP_ERR_INVALID;
    *out = (uint64_t)v;
    return MP_OK;
}

enum mp_err
mp_parse_mode(const char *s, unsigned int *out)
{
    unsigned long v;
    char *end = NULL;

    if (s == NULL || *s != '0')
        return MP_ERR_INVALID;
    errno = 0;
    v = strtoul(s, &end, 8);
    if (errno != 0 || *end != '\0' || v > 0777)
        return MP_ERR_INVALID;
    *out = (unsigned int)v;
    return MP_OK;
}
