/* Signer profile names: 1..63 bytes of A-Z a-z 0-9 . _ -. One check for every place a name
 * comes in (signer config sections, the exchange config, HTTP ?profile=, the signer's wire
 * decoder), so a name can never carry a byte that forges a log line or a metrics label. */
#ifndef MP_PROFILE_NAME_H
#define MP_PROFILE_NAME_H

#include <stdbool.h>
#include <stddef.h>

#define MP_PROFILE_NAME_MAX 63
/* The allowed set as error messages name it. */
#define MP_PROFILE_NAME_CHARS "A-Z a-z 0-9 . _ -"

/* True if the len bytes at s (no NUL needed) are a valid profile name. */
bool mp_profile_name_valid(const char *s, size_t len);

#endif
