#!/usr/bin/env bash
# The module suite on a TPM 2.0: tpm2-pkcs11 (libtpm2-pkcs11-1) on a software TPM (swtpm)
# that this test starts with its own state directory on a loopback port, reached through the
# swtpm TCTI; its store in a temp dir. No system daemon, no /dev/tpm*. The token is made by
# mp-signer token-init (tpm2-pkcs11 always offers an empty slot that takes C_InitToken) and the
# keys by mp-signer key generate, inside the TPM.
. "$(dirname "$0")/lib.sh"
NAME=tpm
# tpm2-pkcs11 1.9 refuses CKA_EXTRACTABLE with CKA_SENSITIVE on a new key.
MOD_NO_EXTRACTABLE="Cannot mark object both extractable AND sensitive"
MOD=
for m in /usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so /usr/lib/aarch64-linux-gnu/pkcs11/libtpm2_pkcs11.so; do
    [ -f "$m" ] && MOD=$m
done
[ -n "$MOD" ] || fail "libtpm2_pkcs11.so not found (apt-get install libtpm2-pkcs11-1)"
SWTPM_PID=

module_setup() {
    local port= p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 20000))
        ss -ltnH "( sport = :$p or sport = :$((p + 1)) )" | grep -q . || { port=$p; break; }
    done
    [ -n "$port" ] || fail "no free loopback port pair for swtpm"
    mkdir -p "$T/tpmstate" "$T/store" "$T/bin"
    # The module_env lines say the same to mp-signer; these are for tpm2-tools and mkkey.
    export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port" TPM2_PKCS11_STORE=$T/store
    export TPM2_PKCS11_TCTI=$TPM2TOOLS_TCTI
    swtpm socket --tpm2 --tpmstate dir="$T/tpmstate" --server type=tcp,port="$port",bindaddr=127.0.0.1 \
        --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
        --log file="$T/swtpm.log" &
    SWTPM_PID=$!
    MOD_PIDS+=("$SWTPM_PID")
    for _ in $(seq 1 100); do tpm2_getcap properties-fixed >/dev/null 2>&1 && break; sleep 0.05; done
    tpm2_getcap properties-fixed >/dev/null || fail "swtpm did not answer on port $port"
    # tpm2_ptool runs tpm2-tools that leave transient objects loaded, and swtpm without a
    # resource manager holds 3: each tool is followed by a flush.
    for t in createprimary evictcontrol readpublic load create getcap; do
        printf '#!/bin/sh\n/usr/bin/tpm2_%s "$@"; rc=$?\n/usr/bin/tpm2_flushcontext -t >/dev/null 2>&1\nexit $rc\n' \
            "$t" >"$T/bin/tpm2_$t"
        chmod 755 "$T/bin/tpm2_$t"
    done
    PATH=$T/bin:$PATH tpm2_ptool init --path "$T/store" >/dev/null
    MOD_ENV=("TPM2_PKCS11_TCTI=$TPM2TOOLS_TCTI" "TPM2_PKCS11_STORE=$T/store" "TPM2_PKCS11_LOG_LEVEL=0")
    TOKEN=mp-tpm TOKEN_LABEL=mp-tpm
    write_conf
    "$MP_SIGNER" token-init --config "$CONF" --label mp-tpm --so-pin-file "$T/so-pin" >/dev/null
}
# An orderly TPM2_Shutdown first: a TPM stopped without one counts it toward its lockout.
module_stop() {
    [ -n "$SWTPM_PID" ] && tpm2_shutdown 2>/dev/null
}
module_suite
