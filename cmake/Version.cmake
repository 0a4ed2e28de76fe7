# Run at build time (cmake -P): writes OUT with MP_VERSION_STRING, the project version plus
# `git describe` when the source is a git checkout, and rewrites it only when that changed, so a
# new commit rebuilds one file and an unchanged tree rebuilds nothing.
set(ver "${VER}")
if(EXISTS "${SRC}/.git")
    execute_process(COMMAND git -C "${SRC}" describe --tags --always --dirty --abbrev=10
        OUTPUT_VARIABLE desc RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(rc EQUAL 0 AND NOT desc STREQUAL "")
        # A release tag v1.2.3 says it all; without tags describe gives the commit alone.
        if(desc MATCHES "^v[0-9]")
            string(SUBSTRING "${desc}" 1 -1 ver)
        else()
            set(ver "${VER}+git.${desc}")
        endif()
    endif()
endif()
set(text "#define MP_VERSION_STRING \"${ver}\"\n")
if(EXISTS "${OUT}")
    file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
    file(WRITE "${OUT}" "${text}")
endif()
