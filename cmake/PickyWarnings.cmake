# Picky warnings on by default, as curl's PickyWarnings.cmake does; -Werror via MP_WERROR (CI).
set(MP_PICKY_FLAGS
    -Wall -Wextra -Wpedantic -Wformat=2 -Wformat-security -Wshadow -Wpointer-arith
    -Wcast-qual -Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes
    -Wmissing-declarations -Wredundant-decls -Wnested-externs -Wold-style-definition
    -Wvla -Wundef -Wconversion -Wno-sign-conversion -Wdouble-promotion
    -Wimplicit-fallthrough -Wnull-dereference)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    list(APPEND MP_PICKY_FLAGS -Wlogical-op -Wduplicated-cond -Wduplicated-branches
        -Wjump-misses-init)
endif()
add_compile_options(${MP_PICKY_FLAGS})
if(MP_WERROR)
    add_compile_options(-Werror)
endif()
