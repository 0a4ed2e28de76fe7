/* Strict decimal parsing (never atoi): the whole string, no sign, no spaces, within range. */
#ifndef MP_NUM_H
#define MP_NUM_H

#include <stdint.h>

#include "common/err.h"

enum mp_err mp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Octal file mode such as "0660" (at most 0777). */
enum mp_err mp_parse_mode(const char *s, unsigned int *out);

#endif
