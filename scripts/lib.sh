# Shared shell helpers for scripts/*.sh. Source it; it defines functions and MP_ROOT only.
# shellcheck shell=bash

MP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Packages each job needs on Debian 12.
MP_PKGS_BUILD="build-essential cmake pkg-config libssl-dev libp11-kit-dev libjansson-dev libcurl4-openssl-dev libmicrohttpd-dev libseccomp-dev scdoc zlib1g-dev"
MP_PKGS_RUN="softhsm2 openssl python3 ca-certificates"
MP_PKGS_TEST="libcmocka-dev passwd util-linux opensc python3-jwt python3-cryptography jose valgrind clang-format chromium mandoc man-db python3-requests-unixsocket python3-requests-oauthlib python3-authlib p11-kit p11-kit-modules libtpm2-pkcs11-1 libtpm2-pkcs11-tools swtpm swtpm-tools tpm2-tools libtss2-tcti-swtpm0 libnss3-tools iproute2 procps"

mp_say() { printf '%s: %s\n' "${MP_SCRIPT:-mp}" "$*" >&2; }
mp_die() { mp_say "error: $*"; exit 1; }

# Installs the named Debian packages that are missing, saying which; does nothing when all are
# present (idempotent). Runs apt-get update once per call that has something to install.
mp_ensure_packages() {
    local missing=() p sudo=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || mp_die "missing packages ${missing[*]}; run as root or install sudo"
        sudo=(sudo)
    fi
    mp_say "installing missing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq || mp_die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null || mp_die "apt-get install ${missing[*]} failed"
}

# The npm packages SRC/package-lock.json pins, installed with `npm ci` into DIR/node_modules;
# nothing to do when DIR already holds that lockfile's install (idempotent).
mp_npm_ci() { # SRC DIR
    local src=$1 dir=$2
    cmp -s "$src/package-lock.json" "$dir/package-lock.json" && [ -d "$dir/node_modules" ] && return 0
    mkdir -p "$dir"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    mp_say "installing the npm packages $src/package-lock.json pins into $dir (npm ci)"
    # The system's CA store, as apt and curl use it: one place to trust a TLS-inspecting proxy.
    local ca=()
    [ -f /etc/ssl/certs/ca-certificates.crt ] && ca=(--cafile /etc/ssl/certs/ca-certificates.crt)
    (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts "${ca[@]}" >/dev/null) ||
        mp_die "npm ci in $dir failed"
}

# Configures and builds into DIR (default build/) with the given extra CMake arguments.
mp_build() {
    local dir=${1:-$MP_ROOT/build}
    shift || true
    cmake -S "$MP_ROOT" -B "$dir" "$@" >/dev/null || mp_die "cmake configure failed"
    cmake --build "$dir" -j"$(nproc)" >/dev/null || mp_die "build failed (run cmake --build $dir to see why)"
}

# The SoftHSM module of this machine.
mp_softhsm_module() {
    local m
    for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
        /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
        [ -f "$m" ] && { echo "$m"; return 0; }
    done
    return 1
}

# Debian's python3, which has python3-jwt (a python3 earlier on PATH may not).
MP_PY=/usr/bin/python3
