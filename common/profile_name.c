/* The one charset and length check for signer profile names (common/profile_name.h). */
#include "common/profile_name.h"

bool
mp_profile_name_valid(const char *s, size_t len)
{
    size_t i;

    if (s == NULL || len == 0 || len > MP_PROFILE_NAME_MAX)
        return false;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        /* Spelled out rather than isalnum(): the locale must not widen the set. */
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}
