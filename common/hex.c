/* Hex decoding shared by every layer (common/hex.h). */
#include "common/hex.h"

int
mp_hexval(char c, enum mp_hex_case which)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (which == MP_HEX_ANY && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return MP_ERR_INVALID;
}

enum mp_err
mp_hex_decode(const char *s, size_t n, enum mp_hex_case which, unsigned char *out, size_t max,
    size_t *len)
{
    size_t i;
    int hi, lo;

    if (n == 0 || n % 2 != 0 || n / 2 > max)
        return MP_ERR_INVALID;
    for (i = 0; i < n / 2; i++) {
        if ((hi = mp_hexval(s[2 * i], which)) < 0 || (lo = mp_hexval(s[2 * i + 1], which)) < 0)
            return MP_ERR_INVALID;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return MP_OK;
}
