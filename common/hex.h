/* Hex digits to bytes, one implementation for the CLI (key ids typed by people) and the audit
 * verifier (hashes in the canonical lowercase form the writer emits). */
#ifndef MP_HEX_H
#define MP_HEX_H

#include <stddef.h>

#include "common/err.h"

enum mp_hex_case {
    MP_HEX_ANY = 0, /* 0-9, a-f, A-F */
    MP_HEX_LOWER = 1, /* 0-9, a-f only: a canonical form, where "AB" would be a different text */
};

/* The value 0..15 of one hex digit, or MP_ERR_INVALID. */
int mp_hexval(char c, enum mp_hex_case which);
/* The n digits at s (n even, n / 2 <= max) into out; *len gets n / 2. MP_ERR_INVALID for an
 * odd or zero length, a non-hex digit or too many digits; out is then unspecified. */
enum mp_err mp_hex_decode(const char *s, size_t n, enum mp_hex_case which, unsigned char *out,
    size_t max, size_t *len);

#endif
