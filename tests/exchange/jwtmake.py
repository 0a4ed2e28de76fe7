#!/usr/bin/python3
"""Test helper: signs a hand-made JWT grant with a software RSA key, so the fake Maskinporten's
claim and header rules can be exercised one by one.
  jwtmake.py keygen KEY.pem JWKS.json KID      a key and the JWKS to register for it
  jwtmake.py sign KEY.pem HEADER-JSON CLAIMS-JSON [ALG]
CLAIMS-JSON may use "$now" for iat/exp offsets: {"iat":"$now","exp":"$now+60"}."""
import base64, json, sys, time, uuid
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def num(i):
    return b64(i.to_bytes((i.bit_length() + 7) // 8, "big"))

if sys.argv[1] == "keygen":
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    open(sys.argv[2], "wb").write(key.private_bytes(serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pub = key.public_key().public_numbers()
    json.dump({"keys": [{"kty": "RSA", "n": num(pub.n), "e": num(pub.e), "kid": sys.argv[4],
                         "alg": "RS256", "use": "sig"}]}, open(sys.argv[3], "w"))
    sys.exit(0)

key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
header = json.loads(sys.argv[3])
now = int(time.time())
claims = json.loads(sys.argv[4])
for k, v in list(claims.items()):
    if isinstance(v, str) and v.startswith("$now"):
        claims[k] = now + int(v[4:] or 0)
    if v == "$uuid":
        claims[k] = str(uuid.uuid4())
alg = sys.argv[5] if len(sys.argv) > 5 else header.get("alg", "RS256")
hashalg = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}
signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashalg.get(alg, hashes.SHA256()))
print(signing_input + "." + b64(sig))
