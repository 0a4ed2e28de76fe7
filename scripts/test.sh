#!/usr/bin/env bash
# Builds and runs every test: style checks, the whole suite with -Werror, the whole suite again
# under AddressSanitizer + UndefinedBehaviorSanitizer, and the integration tests under valgrind.
# Installs what is missing with apt-get first (Debian 12). Usage: scripts/test.sh [--quick]
set -euo pipefail
MP_SCRIPT=test
. "$(dirname "$0")/lib.sh"

quick=0
[ "${1:-}" = "--quick" ] && quick=1

# shellcheck disable=SC2086
mp_ensure_packages $MP_PKGS_BUILD $MP_PKGS_RUN $MP_PKGS_TEST
# Node.js and npm for the npm OAuth2 client of tests/exchange/test_oauth.sh. Debian's npm
# conflicts with NodeSource's nodejs, which carries its own npm: only without one is it added.
command -v npm >/dev/null || mp_ensure_packages nodejs npm
cd "$MP_ROOT"
mp_npm_ci tests/exchange/node build-node

mp_say "style checks"
bash scripts/check-style.sh

run_ctest() {
    local dir=$1; shift
    (cd "$dir" && ctest --output-on-failure --timeout 300 "$@")
}

mp_say "build with -Werror into build/ and run every test"
mp_build "$MP_ROOT/build" -DBUILD_TESTING=ON -DMP_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_ctest build

[ $quick -eq 1 ] && { mp_say "quick run: sanitizer and valgrind passes skipped"; exit 0; }

mp_say "build with ASan+UBSan into build-asan/ and run every test"
mp_build "$MP_ROOT/build-asan" -DBUILD_TESTING=ON -DMP_WERROR=ON -DMP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
# SoftHSM keeps global state past exit: MP_NO_DLCLOSE keeps its symbols for leak reports.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:fast_unwind_on_malloc=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS=suppressions=$MP_ROOT/tests/lsan.supp MP_NO_DLCLOSE=1 \
    run_ctest build-asan

mp_say "integration tests with every mp-signer run under valgrind memcheck"
MP_WRAP="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --suppressions=$MP_ROOT/tests/valgrind.supp" \
    run_ctest build -L integration

mp_say "all tests passed"
