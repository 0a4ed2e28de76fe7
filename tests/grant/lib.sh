# Helpers for the grant tests: the daemon tests' library plus the independent verifiers.
# shellcheck shell=bash
. "$MP_ROOT/tests/daemon/lib.sh"

grant() { "$MP_SIGNER" grant --config "$CONF" "$@"; }

# jws JWK-or-cert-PEM ALG: verifies with python3-jwt (Debian's) and prints header+claims JSON.
pyjwt() {
    "$PY" - "$1" "$2" "${3:-RS256}" <<'PY'
import json, sys
import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key
pem = open(sys.argv[2], "rb").read()
key = (x509.load_pem_x509_certificate(pem).public_key() if b"CERTIFICATE" in pem
       else load_pem_public_key(pem))
claims = jwt.decode(sys.argv[1], key, algorithms=[sys.argv[3]], options={"verify_aud": False})
print(json.dumps({"header": jwt.get_unverified_header(sys.argv[1]), "claims": claims}))
PY
}

# jws CERT-PEM: verifies with the jose CLI (José) using a JWK made from the certificate.
josever() {
    "$PY" - "$2" >"$T/jwk.json" <<'PY'
import base64, json, sys
from cryptography import x509
n = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read()).public_key().public_numbers()
b = lambda i: base64.urlsafe_b64encode(i.to_bytes((i.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
print(json.dumps({"kty": "RSA", "n": b(n.n), "e": b(n.e)}))
PY
    printf '%s' "$1" >"$T/jws"
    jose jws ver -i "$T/jws" -k "$T/jwk.json"
}

# JSON QUERY: evaluates a Python expression over the parsed JSON "j" and prints it.
jq_py() { "$PY" -c "import json,sys; j=json.loads(sys.argv[1]); print($2)" "$1"; }
