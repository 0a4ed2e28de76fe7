#include "common/version.h"

#include "mp_version.h"

const char *
mp_version(void)
{
    return MP_VERSION_STRING;
}
