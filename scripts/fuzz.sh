#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each (default 60) on its corpus in
# tests/fuzz/corpus/<target>, with ASan+UBSan. New inputs that found new coverage are kept in
# build-fuzz/corpus/<target>; a crash leaves its input in build-fuzz/ and stops the run.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
MP_SCRIPT=fuzz
. "$(dirname "$0")/lib.sh"
secs=${1:-60}
[[ $secs =~ ^[0-9]+$ ]] || mp_die "SECONDS must be a number"
# shellcheck disable=SC2086
mp_ensure_packages $MP_PKGS_BUILD clang libclang-rt-14-dev
dir=$MP_ROOT/build-fuzz
CC=clang mp_build "$dir" -DMP_FUZZ=ON -DMP_SANITIZE=ON -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=Debug
for t in frame conf token altinn query audit; do
    mkdir -p "$dir/corpus/$t"
    mp_say "fuzzing $t for ${secs}s"
    (cd "$dir" && ./tests/fuzz/fuzz_$t -max_total_time="$secs" -print_final_stats=1 \
        "$dir/corpus/$t" "$MP_ROOT/tests/fuzz/corpus/$t" 2>&1 |
        grep -E 'stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY' || true)
    ls "$dir"/crash-* >/dev/null 2>&1 && mp_die "fuzz_$t crashed: see $dir/crash-*"
done
mp_say "no crashes"
