#!/usr/bin/python3
"""Writes a valid audit log (signer/audit/audit_format.h: hash chain, checkpoints signed by a
throwaway RSA-3072 key after 1000 records or 60 s, as the writer makes them) with varied sign
events, for `mp-signer audit report`.

Usage: gen_report_log.py LOG PUBKEY.pem [--days D] [--per-day N] [--clients C]
                         [--refuse-every K] [--hostile] [--seed S]

D days from 2025-01-01, N sign events a day, client_ids from C distinct values, every K-th
event refused and every 7K-th an error. --hostile adds lines whose chain is intact but whose
content is not what mp-signer writes: markup and quotes in every string, control and
bidirectional characters, members of the wrong type, an impossible date, an unknown event.
The chain stays valid, so `audit verify` passes and the report must still be sane."""
import argparse
import base64
import datetime
import hashlib
import json
import os
import random

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

EVIL = "<script>alert(\"&'\")</script>"


def sign_event(rng, ts, n, args):
    refused = args.refuse_every > 0 and n % args.refuse_every == 0
    error = args.refuse_every > 0 and n % (7 * args.refuse_every) == 0
    outcome = "error" if error else "refused" if refused else "granted"
    client = "client-%04d" % rng.randrange(args.clients)
    scopes = rng.choice(["altinn:serviceowner/instances.read",
                         "altinn:serviceowner/instances.read altinn:serviceowner/instances.write",
                         "skatteetaten:formueinntekt/skattemelding"])
    claims = {"aud": "https://test.maskinporten.no/", "scope": scopes}
    if rng.random() < 0.3:
        claims["consumer_org"] = rng.choice(["991825827", "974760673", "310000000"])
    if outcome == "granted":
        claims.update({"iat": 1735689600 + n, "exp": 1735689660 + n,
                       "jti": "%032x" % rng.getrandbits(128)})
    rec = {"event": "sign", "outcome": outcome}
    if outcome != "granted":
        rec["reason"] = rng.choice(["scope %s is not allowed for profile default" % scopes,
                                    "lifetime 300 s exceeds max_lifetime 120 s",
                                    "the token is gone: C_Sign failed"] if error else
                                   ["scope %s is not allowed for profile default" % scopes,
                                    "consumer_org 991825827 is not allowed for profile default"])
    rec.update({"caller": {"uid": 1000 + rng.randrange(3), "gid": 1000, "pid": 4000 + n % 5000,
                           "exe": rng.choice(["/usr/bin/app", "/opt/batch/run"])},
                "profile": "default", "client_id": client,
                "key": "pkcs11:token=mp-dev;object=virksomhetssertifikat;type=private",
                "cert_sha256": "ab" * 32, "claims": claims})
    if outcome == "granted":
        rec["jws_sha256"] = "cd" * 32
    return rec


def hostile_events():
    """Chain-valid lines with hostile content (the verifier checks only the fixed fields)."""
    yield {"event": "sign", "outcome": "refused", "reason": EVIL + " \u202eevil\u202c \x01\x7f",
           "caller": {"uid": 0, "gid": 0, "pid": 1, "exe": "/tmp/" + EVIL},
           "profile": EVIL, "client_id": EVIL, "key": None, "cert_sha256": None,
           "claims": {"scope": EVIL + " " + "x" * 300, "resource": [EVIL, 7, ["nested"]],
                      "consumer_org": "\"&'<>", "systemuser_ref": "a\nb"}}
    yield {"event": "sign", "outcome": "refused", "reason": 42, "caller": "not an object",
           "profile": ["array"], "client_id": {"o": 1}, "claims": ["not", "an", "object"]}
    yield {"event": "sign", "outcome": "weird", "ts_note": "outcome is neither granted nor refused",
           "caller": {"uid": "zero", "exe": 5}, "claims": {"scope": 17}}
    yield {"event": "<b>unknown</b>", "data": EVIL}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("pubkey")
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--per-day", type=int, default=10)
    ap.add_argument("--clients", type=int, default=5)
    ap.add_argument("--refuse-every", type=int, default=5)
    ap.add_argument("--hostile", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    pub = key.public_key()
    with open(args.pubkey, "wb") as f:
        f.write(pub.public_bytes(serialization.Encoding.PEM,
                                 serialization.PublicFormat.SubjectPublicKeyInfo))
    key_sha = hashlib.sha256(pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    dump = lambda o: json.dumps(o, separators=(",", ":"), ensure_ascii=False)
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)

    def events():
        n = 0
        for d in range(args.days):
            for i in range(args.per_day):
                ts = start + datetime.timedelta(days=d, seconds=i * 86000 // args.per_day)
                n += 1
                yield ts, sign_event(rng, ts, n, args)
        if args.hostile:
            for rec in hostile_events():
                yield start, rec
            yield None, {"event": "sign", "outcome": "granted", "claims": {}}

    every, seconds = 1000, 60
    with open(args.log, "w", encoding="utf-8") as out:
        line = dump({"seq": 0, "ts": "2025-01-01T00:00:00.000000Z", "event": "header", "v": 1,
                     "nonce": os.urandom(32).hex(), "checkpoint_every": every,
                     "checkpoint_seconds": seconds})
        out.write(line + "\n")
        st = {"prev": hashlib.sha256(line.encode()).hexdigest(), "seq": 0, "since": 0,
              "first": None}

        def put(body):
            line = dump(body)
            out.write(line + "\n")
            st["prev"] = hashlib.sha256(line.encode()).hexdigest()

        # As the writer does: a checkpoint after `every` records, or `seconds` after the first
        # unprotected one, and one at the end (a clean stop).
        def checkpoint(ts):
            st["seq"] += 1
            seq, prev = st["seq"], st["prev"]
            stmt = "mp-audit-checkpoint/v1\n%d\n%s\n" % (seq - 1, prev)
            sig = key.sign(stmt.encode(), padding.PKCS1v15(), hashes.SHA256())
            put({"seq": seq, "prev": prev, "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                 "event": "checkpoint", "covers": seq - 1, "head": prev, "alg": "RS256",
                 "key_sha256": key_sha, "sig": base64.urlsafe_b64encode(sig).rstrip(b"=").decode()})
            st["since"], st["first"] = 0, None

        last = start
        for ts, rec in events():
            late = ts and st["first"] and (ts - st["first"]).total_seconds() >= seconds
            if st["since"] >= every or (st["since"] and late):
                checkpoint(ts if st["since"] >= every else
                           st["first"] + datetime.timedelta(seconds=seconds))
            st["seq"] += 1
            tss = ts.strftime("%Y-%m-%dT%H:%M:%S.000000Z") if ts else "2025-02-30T00:00:00Z"
            body = {"seq": st["seq"], "prev": st["prev"], "ts": tss}
            body.update(rec)
            put(body)
            st["since"] += 1
            st["first"] = st["first"] or ts
            last = ts or last
        if st["since"]:
            checkpoint(last)

if __name__ == "__main__":
    main()
