#!/usr/bin/env bash
# grants/s on each PKCS#11 module the tests start themselves (SoftHSM, SoftHSM behind
# p11-kit server, a TPM 2.0 on swtpm), in one run so that the SoftHSM row is the same-run
# baseline: the module suite of tests/modules, then mp-signer bench --raw (C_Sign on the key,
# concurrency 1 and 2) and through mp-signer serve (concurrency 1 and 8), RSA-2048.
# usage: scripts/bench-modules.sh [--requests N]   (default 1000; builds build/ if needed)
set -euo pipefail
MP_SCRIPT=bench-modules
. "$(dirname "$0")/lib.sh"
n=1000
[ "${1:-}" = --requests ] && n=${2:?--requests takes a number}
# shellcheck disable=SC2086 # word lists
mp_ensure_packages $MP_PKGS_BUILD $MP_PKGS_RUN $MP_PKGS_TEST
B=$MP_ROOT/build
mp_build "$B" -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
out=$(mktemp /tmp/mp-bench-modules.XXXXXX)
trap 'rm -f "$out"' EXIT
for m in softhsm p11kit tpm; do
    mp_say "module $m: the suite, then the benches ($n requests each)"
    MP_SIGNER=$B/mp-signer MP_EXCHANGE=$B/mp-exchange MP_FAKE=$B/mp-fake MP_MKKEY=$B/tests/grant/mkkey \
        MP_P11FAULT=$B/libmp-p11fault.so MP_ROOT=$MP_ROOT MP_MODULE_BENCH=$n \
        bash "$MP_ROOT/tests/modules/test_$m.sh" 3>>"$out" >/dev/null ||
        mp_die "the module suite failed on $m (run tests/modules/test_$m.sh for its output)"
done
printf '%-8s %-7s %3s %9s %9s %9s\n' module mode c grants/s p50_us p99_us
/usr/bin/python3 - "$out" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    _, mod, mode, c, j = l.split(" ", 4)
    j = json.loads(j)
    print("%-8s %-7s %3s %9.0f %9d %9d" % (mod, mode, c, j["rps"], j["p50_us"], j["p99_us"]))
PY
