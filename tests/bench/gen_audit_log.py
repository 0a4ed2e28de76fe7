#!/usr/bin/python3
"""Writes a valid N-line audit log (signer/audit/audit_format.h) with a checkpoint every 1000 lines,
signed by a throwaway RSA-3072 key, and that key's public half, for timing
`mp-signer audit verify`. Usage: gen_audit_log.py N LOG PUBKEY.pem"""
import hashlib, json, os, sys, base64
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

n, log_path, pub_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
pub_der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
with open(pub_path, "wb") as f:
    f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo))
key_sha = hashlib.sha256(pub_der).hexdigest()
dump = lambda o: json.dumps(o, separators=(",", ":"))
with open(log_path, "w") as out:
    line = dump({"seq": 0, "ts": "2026-11-25T00:00:00.000000Z", "event": "header", "v": 1,
                 "nonce": os.urandom(32).hex()})
    out.write(line + "\n")
    prev = hashlib.sha256(line.encode()).hexdigest()
    for seq in range(1, n):
        ts = "2026-11-25T%02d:%02d:%02d.000000Z" % (seq // 3600 % 24, seq // 60 % 60, seq % 60)
        if seq % 1000 == 0:
            stmt = "mp-audit-checkpoint/v1\n%d\n%s\n" % (seq - 1, prev)
            sig = key.sign(stmt.encode(), padding.PKCS1v15(), hashes.SHA256())
            rec = {"seq": seq, "prev": prev, "ts": ts, "event": "checkpoint", "covers": seq - 1,
                   "head": prev, "alg": "RS256", "key_sha256": key_sha,
                   "sig": base64.urlsafe_b64encode(sig).rstrip(b"=").decode()}
        else:
            rec = {"seq": seq, "prev": prev, "ts": ts, "event": "sign", "outcome": "granted",
                   "caller": {"uid": 1000, "gid": 1000, "pid": 4242, "exe": "/usr/bin/app"},
                   "profile": "default", "client_id": "0c1f6f3e-1b9a-4a55-9d4e-1f2a3b4c5d6e",
                   "key": "pkcs11:token=mp-dev;object=virksomhetssertifikat;type=private",
                   "cert_sha256": "ab" * 32,
                   "claims": {"aud": "https://test.maskinporten.no/",
                              "scope": "altinn:serviceowner/instances.read",
                              "iat": 1795570000 + seq, "exp": 1795570060 + seq,
                              "jti": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"},
                   "jws_sha256": "cd" * 32}
        line = dump(rec)
        out.write(line + "\n")
        prev = hashlib.sha256(line.encode()).hexdigest()
