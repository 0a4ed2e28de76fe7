/* Norwegian organisation numbers (Enhetsregisteret): nine digits, the last a modulus-11 check
 * digit over the first eight with weights 3 2 7 6 5 4 3 2. */
#ifndef MP_ORGNO_H
#define MP_ORGNO_H

#include <stdbool.h>

bool mp_orgno_valid(const char *s);

#endif
