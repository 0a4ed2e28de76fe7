#!/usr/bin/env bash
# The module suite (tests/modules/lib.sh) on SoftHSM 2, the module every other test uses: the
# baseline the other modules are compared with. The token is made by mp-signer token-init.
. "$(dirname "$0")/lib.sh"
NAME=softhsm
module_setup() {
    softhsm_store
    MOD=$SOFTHSM
    export SOFTHSM2_CONF=$T/softhsm2.conf
    MOD_ENV=("SOFTHSM2_CONF=$T/softhsm2.conf")
    TOKEN=modules TOKEN_LABEL=modules
    write_conf
    "$MP_SIGNER" token-init --config "$CONF" --label modules --so-pin-file "$T/so-pin" >/dev/null
}
module_suite
