#!/usr/bin/python3
"""Writes a valid format-2 audit log in segments, from signer/audit/audit_format.h alone (not
from the C code): a header with an origin, sign lines, checkpoints with RFC 9162 tree heads and
C2SP signed-note checkpoints signed by a throwaway RSA-3072 key, rotation every K records
(ending each segment with a checkpoint, starting the next with a segment line carrying the
frontier), the live segment last.

Usage: gen_segments.py DIR PUBKEY.pem [--lines N] [--rotate K] [--every E] [--gz]
                       [--base NAME] [--origin O] [--key-out KEY.pem] [--no-final]

DIR/NAME (default audit.log) is the live segment, DIR/NAME.<20-digit first seq> the rotated
ones (.gz with --gz). N sign records, a checkpoint after every E of them and at each rotation,
and one at the end unless --no-final. --key-out also writes the private key (PKCS#8 PEM) so a
test can sign notes of its own. Prints one line per segment: its file name, first and last
seq."""
import argparse
import base64
import gzip
import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGTYPE = b"mp-signer/rsa-pkcs1v15-sha256"


def leaf_hash(line):
    return hashlib.sha256(b"\x00" + line).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves, lo, hi):
    """RFC 9162 2.1.1: the tree head of leaves[lo:hi]."""
    n = hi - lo
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[lo]
    k = 1
    while k << 1 < n:
        k <<= 1
    return node_hash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi))


def frontier(leaves):
    """The perfect subtrees of the tree over all leaves, left to right, one per 1-bit."""
    out, lo, size = [], 0, len(leaves)
    for bit in range(63, -1, -1):
        if size & (1 << bit):
            out.append(mth(leaves, lo, lo + (1 << bit)))
            lo += 1 << bit
    return out


def b64(data):
    return base64.b64encode(data).decode()


class Log:
    def __init__(self, args):
        self.args = args
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        pub = self.key.public_key()
        self.der = pub.public_bytes(serialization.Encoding.DER,
                                    serialization.PublicFormat.SubjectPublicKeyInfo)
        with open(args.pubkey, "wb") as f:
            f.write(pub.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo))
        if args.key_out:
            with open(args.key_out, "wb") as f:
                f.write(self.key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self.key_sha = hashlib.sha256(self.der).hexdigest()
        self.origin = args.origin
        self.key_id = hashlib.sha256(self.origin.encode() + b"\n\xff" + SIGTYPE +
                                     self.der).digest()[:4]
        self.leaves, self.seq, self.prev, self.since = [], -1, None, 0
        self.seg_lines, self.seg_first, self.segments = [], 0, []
        self.cp = None  # (tree_size, root) of the last line when it is a checkpoint

    def ts(self):
        s = max(self.seq, 0)
        return "2026-01-01T%02d:%02d:%02d.000000Z" % (s // 3600 % 24, s // 60 % 60, s % 60)

    def put(self, body):
        line = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        self.seg_lines.append(line)
        self.leaves.append(leaf_hash(line))
        self.prev = hashlib.sha256(line).hexdigest()
        self.cp = None

    def start(self, event):
        self.seq += 1
        body = {"seq": self.seq}
        if self.seq:
            body["prev"] = self.prev
        body.update({"ts": self.ts(), "event": event})
        return body

    def note(self, size, root):
        text = ("%s\n%d\n%s\n" % (self.origin, size, b64(root))).encode()
        sig = self.key.sign(text, padding.PKCS1v15(), hashes.SHA256())
        return text + b"\n" + "\u2014 ".encode() + self.origin.encode() + b" " + \
            base64.b64encode(self.key_id + sig) + b"\n"

    def header(self):
        body = self.start("header")
        body.update({"v": 2, "nonce": os.urandom(32).hex(), "origin": self.origin,
                     "checkpoint_every": self.args.every, "checkpoint_seconds": 60})
        self.put(body)

    def checkpoint(self):
        size = len(self.leaves)
        root = mth(self.leaves, 0, size)
        body = self.start("checkpoint")
        body.update({"covers": self.seq - 1, "head": self.prev, "key_sha256": self.key_sha,
                     "tree_size": size, "root": b64(root),
                     "note": self.note(size, root).decode()})
        self.put(body)
        self.cp = (size, b64(root))
        self.since = 0

    def sign(self, n):
        body = self.start("sign")
        body.update({"outcome": "refused" if n % 7 == 0 else "granted",
                     "caller": {"uid": 1000, "gid": 1000, "pid": 4000 + n, "exe": "/usr/bin/app"},
                     "profile": "default", "client_id": "client-%d" % (n % 3),
                     "key": "pkcs11:token=mp-dev;object=k;type=private", "cert_sha256": None,
                     "claims": {"aud": "https://test.maskinporten.no/", "scope": "a:b"}})
        if n % 7 == 0:
            body["reason"] = "scope a:b is not allowed"
        self.put(body)
        self.since += 1

    def seg_name(self, first):
        return "%s.%020d" % (self.args.base, first)

    def write(self, name, gz):
        data = b"".join(l + b"\n" for l in self.seg_lines)
        path = os.path.join(self.args.dir, name + (".gz" if gz else ""))
        with (gzip.open(path, "wb") if gz else open(path, "wb")) as f:
            f.write(data)
        self.segments.append((name + (".gz" if gz else ""), self.seg_first, self.seq))

    def rotate(self):
        if self.cp is None:
            self.checkpoint()
        name = self.seg_name(self.seg_first)
        self.write(name, self.args.gz)
        tree_size, root = self.cp
        last_seq, last_sha, first = self.seq, self.prev, self.seg_first
        fr = frontier(self.leaves)
        self.seg_lines, self.seg_first = [], self.seq + 1
        body = self.start("segment")
        body.update({"v": 2, "origin": self.origin,
                     "previous": {"file": name, "first_seq": first, "last_seq": last_seq,
                                  "last_sha256": last_sha, "tree_size": tree_size,
                                  "root": root},
                     "frontier": [b64(h) for h in fr],
                     "checkpoint_every": self.args.every, "checkpoint_seconds": 60})
        self.put(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("pubkey")
    ap.add_argument("--lines", type=int, default=100)
    ap.add_argument("--rotate", type=int, default=30)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--gz", action="store_true")
    ap.add_argument("--base", default="audit.log")
    ap.add_argument("--origin", default="example.test/mp-signer/audit")
    ap.add_argument("--key-out")
    ap.add_argument("--no-final", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    log = Log(args)
    log.header()
    in_seg = 0
    for n in range(1, args.lines + 1):
        if in_seg == args.rotate:
            log.rotate()
            in_seg = 0
        if log.since == args.every:
            log.checkpoint()
        log.sign(n)
        in_seg += 1
    if not args.no_final and log.since:
        log.checkpoint()
    log.write(args.base, False)
    for name, first, last in log.segments:
        print(name, first, last)


if __name__ == "__main__":
    main()
