# Hardening flags as Debian builds its security-sensitive daemons; sanitizers as an option
# (scripts/test.sh builds a second tree with MP_SANITIZE=ON).
add_compile_options(-fstack-protector-strong -fstack-clash-protection -fno-strict-overflow
    -fno-delete-null-pointer-checks)
# -fPIE for executables and -fPIC for the fault module, chosen per target by CMake.
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
if(NOT MP_SANITIZE AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
    add_compile_definitions(_FORTIFY_SOURCE=2)
endif()
add_link_options(-pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack)
if(MP_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
endif()
