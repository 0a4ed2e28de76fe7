/* The version every binary reports: the CMake project version, plus `git describe` when built
 * from a git checkout (cmake/Version.cmake writes it at build time). */
#ifndef MP_COMMON_VERSION_H
#define MP_COMMON_VERSION_H

const char *mp_version(void);

#endif
