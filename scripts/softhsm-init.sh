#!/usr/bin/env bash
# Creates a self-contained developer token in DIR: SoftHSM config, token "mp-dev", a random user
# PIN in DIR/pin (0600), an RSA key generated inside the token (sensitive, never extractable),
# a throwaway test CA that certifies it (the CSR is signed by the token), the certificate in the
# token and in DIR/cert.pem, an audit key for signed checkpoints (public half in
# DIR/audit-pub.pem), and DIR/signer.conf with a profile "default" for the invoking user.
# Re-running on a complete DIR changes nothing and says so.
set -euo pipefail
MP_SCRIPT=softhsm-init
. "$(dirname "$0")/lib.sh"

usage() { echo "usage: scripts/softhsm-init.sh DIR [--bits 2048|3072] [--org ORGNO]" >&2; exit 2; }

dir= bits=3072 org=314159268
while [ $# -gt 0 ]; do
    case $1 in
        --bits) [ $# -ge 2 ] || usage; bits=$2; shift 2 ;;
        --org) [ $# -ge 2 ] || usage; org=$2; shift 2 ;;
        -h|--help) usage ;;
        -*) mp_say "unknown option $1"; usage ;;
        *) [ -z "$dir" ] || usage; dir=$1; shift ;;
    esac
done
[ -n "$dir" ] || usage
case $bits in 2048|3072) ;; *) mp_die "--bits must be 2048 or 3072" ;; esac
[[ $org =~ ^[0-9]{9}$ ]] || mp_die "--org must be a 9-digit organisation number"

command -v softhsm2-util >/dev/null && command -v openssl >/dev/null ||
    mp_die "needs softhsm2 and openssl (apt-get install softhsm2 openssl, or run scripts/demo.sh)"
signer=${MP_SIGNER:-$MP_ROOT/build/mp-signer}
if [ ! -x "$signer" ]; then
    mp_say "building mp-signer first"
    mp_build
fi
module=$(mp_softhsm_module) || mp_die "SoftHSM module not found (apt-get install softhsm2)"

umask 077
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
changed=0
step() { changed=1; mp_say "$*"; }

# Random secrets: 24 characters from the kernel CSPRNG, written once.
secret_file() {
    [ -s "$1" ] && return 0
    step "writing a random ${2} to $1 (mode 0600)"
    head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$1"
    chmod 600 "$1"
}

if [ ! -f "$dir/softhsm2.conf" ]; then
    step "writing $dir/softhsm2.conf (tokens in $dir/tokens)"
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
        "$dir" > "$dir/softhsm2.conf"
fi
secret_file "$dir/pin" "user PIN"
secret_file "$dir/so-pin" "SO PIN"

if [ ! -f "$dir/signer.conf" ]; then
    step "writing $dir/signer.conf (profile default, env test)"
    client_id=$(cat /proc/sys/kernel/random/uuid)
    cat > "$dir/signer.conf" <<CONF
# mp-signer configuration for the developer token made by scripts/softhsm-init.sh.
module = $module
module_env = SOFTHSM2_CONF=$dir/softhsm2.conf
pin_file = $dir/pin
socket = $dir/signer.sock
socket_mode = 0660
audit_log = $dir/audit.log
audit_key = pkcs11:token=mp-dev;object=audit;type=private
# The token's files belong to the user who made them; serve runs as that user. Started as root,
# serve refuses a config without \`user\`: this line says root on purpose when root made them.
user = $(id -un)
# mp-exchange (forward_caller = yes, its default) names the program that asked it for a token;
# the signer believes that only from these users. Here the exchange runs as you, like the rest.
trusted_forwarders = $(id -un)

[profile default]
key = pkcs11:token=mp-dev;object=virksomhetssertifikat;type=private
client_id = $client_id
env = test
scopes = altinn:serviceowner/instances.read altinn:serviceowner/instances.write
allow_uids = $(id -u)
lifetime = 60
max_lifetime = 120
CONF
fi
conf=$dir/signer.conf
export SOFTHSM2_CONF=$dir/softhsm2.conf

if ! softhsm2-util --show-slots 2>/dev/null | grep -q 'Label: *mp-dev *$'; then
    step "initialising SoftHSM token mp-dev"
    "$signer" token-init --config "$conf" --label mp-dev --so-pin-file "$dir/so-pin" >/dev/null
fi

keys=$("$signer" key list --config "$conf")
if ! grep -q '^virksomhetssertifikat ' <<<"$keys"; then
    step "generating RSA-$bits key 'virksomhetssertifikat' (id 01) inside the token"
    "$signer" key generate --config "$conf" --label virksomhetssertifikat --id 01 --bits "$bits"
fi
if ! grep -q '^audit ' <<<"$keys"; then
    step "generating RSA-3072 key 'audit' (id 02) inside the token, for signed audit checkpoints"
    "$signer" key generate --config "$conf" --label audit --id 02 --bits 3072
fi

if [ ! -f "$dir/ca.pem" ]; then
    step "creating the throwaway test CA $dir/ca.pem"
    openssl req -x509 -newkey rsa:3072 -nodes -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" \
        -days 3650 -subj "/C=NO/O=mp-dev test CA/CN=mp-dev test CA (not trusted anywhere)" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

if [ ! -f "$dir/cert.pem" ]; then
    step "certifying the token key for org $org (CSR signed inside the token)"
    "$signer" key csr --config "$conf" --org "$org" --cn "mp-dev virksomhetssertifikat" \
        --o "mp-dev test organisation" --out "$dir/leaf.csr"
    printf 'keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
        > "$dir/leaf.ext"
    openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
        -set_serial "0x$(openssl rand -hex 16)" -days 365 -extfile "$dir/leaf.ext" \
        -out "$dir/cert.pem.tmp" 2>/dev/null
    mv "$dir/cert.pem.tmp" "$dir/cert.pem"
    chmod 644 "$dir/cert.pem" "$dir/ca.pem"
fi
if ! "$signer" key list --config "$conf" | grep -A4 '^virksomhetssertifikat ' | grep -q 'org: '; then
    step "storing $dir/cert.pem in the token next to its key"
    "$signer" key import-cert --config "$conf" "$dir/cert.pem"
fi

if [ ! -f "$dir/audit-pub.pem" ]; then
    step "exporting the audit public key to $dir/audit-pub.pem (auditors verify checkpoints with it)"
    "$signer" key pubkey --config "$conf" --key 'pkcs11:token=mp-dev;object=audit;type=private' \
        --out "$dir/audit-pub.pem"
    chmod 644 "$dir/audit-pub.pem"
fi

if [ $changed -eq 0 ]; then
    mp_say "$dir already holds a complete mp-dev token; nothing changed"
else
    mp_say "token ready: mp-signer grant --config $dir/signer.conf"
fi
