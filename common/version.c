/* The version string, generated at build time into the build tree (cmake/Version.cmake). */
#include "common/version.h"

#include "common/mp_version.h"

const char *
mp_version(void)
{
    return MP_VERSION_STRING;
}
