#!/usr/bin/env bash
# The main job on the embedded default: a SoftHSM developer token whose key never leaves it,
# and a Maskinporten JWT grant signed inside it, decoded and verified with python3-jwt.
# Installs what is missing (Debian 12), builds into build/, keeps the token in build/demo/.
set -euo pipefail
MP_SCRIPT=demo
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2086
mp_ensure_packages $MP_PKGS_BUILD $MP_PKGS_RUN python3-jwt python3-cryptography
mp_say "building into build/"
mp_build "$MP_ROOT/build"
dir=${MP_DEMO_DIR:-$MP_ROOT/build/demo}
bash "$MP_ROOT/scripts/softhsm-init.sh" "$dir"

signer=$MP_ROOT/build/mp-signer
echo
echo "== the key, as the token reports it"
"$signer" key list --config "$dir/signer.conf"
echo
echo "== mp-signer grant --config $dir/signer.conf --scope altinn:serviceowner/instances.read"
jws=$("$signer" grant --config "$dir/signer.conf" --scope altinn:serviceowner/instances.read)
echo "${jws:0:72}...(${#jws} bytes)"
echo
"$MP_PY" - "$jws" "$dir/cert.pem" <<'PY'
import json, sys
import jwt
from cryptography import x509
token, cert_path = sys.argv[1], sys.argv[2]
header = jwt.get_unverified_header(token)
shown = dict(header, x5c=[c[:40] + "..." for c in header.get("x5c", [])])
print("== header\n" + json.dumps(shown, indent=2))
cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
claims = jwt.decode(token, cert.public_key(), algorithms=[header["alg"]],
                    audience="https://test.maskinporten.no/")
print("== claims (signature verified with cert.pem by python3-jwt)\n" + json.dumps(claims, indent=2))
PY
echo
echo "== certificate chain"
openssl verify -CAfile "$dir/ca.pem" "$dir/cert.pem"
