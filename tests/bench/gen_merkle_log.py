#!/usr/bin/python3
"""Writes a format-2 audit log (signer/audit/audit_format.h) of N lines and a final checkpoint
over them (seq N), fast, for timing and testing `mp-signer audit prove` / `check-proof`:
minimal sign lines (claims.jti only), a checkpoint with a C2SP signed note every --every
lines (default: only the final one),
signed by a throwaway RSA-3072 key (or --key), the tree kept as a frontier (O(log n) memory).

Usage: gen_merkle_log.py N LOG PUBKEY.pem [--key PRIV.pem] [--every K] [--segment-every S]
                         [--variant V] [--origin O]
  N            lines before the final checkpoint, any others included (seq 0..N-1, all
               covered by it); 10,000,000 take about a minute
  PUBKEY.pem   written: the public half of the key (with --key: of that key)
  --key        sign with this PEM private key (written there first if it does not exist)
  --every K    a checkpoint after every K - 1 records (seq K, 2K, ...) and one at the end
  --segment-every S  rotate after the first checkpoint at or past each S lines: LOG.<first
               seq, 20 digits> for each ended segment, LOG the live one (a segment line first)
  --variant V  a different log of the same shape (another fork, for "rewritten" tests)
  --origin O   the log's origin (default: mp-signer.invalid/audit/ + 16 hex of the nonce)
  --same-jti A,B,...  the sign lines of these seqs all have the jti of the first
  --refused A,B,...   these sign lines are refusals, not grants
Seq S's sign line has jti "0000000V-0000-4000-8000-<S, 12 hex digits>"; lines that are
checkpoints or segment lines have none."""
import argparse
import base64
import hashlib
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGTYPE = b"mp-signer/rsa-pkcs1v15-sha256"
sha256 = hashlib.sha256


def b64(b):
    return base64.b64encode(b).decode()


class Frontier:
    def __init__(self):
        self.size, self.h = 0, []

    def push(self, leaf):
        s, h = self.size, self.h
        while s & 1:
            leaf = sha256(b"\x01" + h.pop() + leaf).digest()
            s >>= 1
        h.append(leaf)
        self.size += 1

    def root(self):
        if not self.h:
            return sha256(b"").digest()
        r = self.h[-1]
        for x in reversed(self.h[:-1]):
            r = sha256(b"\x01" + x + r).digest()
        return r


def load_key(path):
    if path and os.path.exists(path):
        with open(path, "rb") as f:
            return serialization.load_pem_private_key(f.read(), None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if path:
        with open(path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return key


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("log")
    ap.add_argument("pub")
    ap.add_argument("--key")
    ap.add_argument("--every", type=int, default=0)
    ap.add_argument("--segment-every", type=int, default=0)
    ap.add_argument("--variant", type=int, default=0)
    ap.add_argument("--origin")
    ap.add_argument("--same-jti", default="")
    ap.add_argument("--refused", default="")
    a = ap.parse_args()
    key = load_key(a.key)
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    with open(a.pub, "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    nonce = sha256(b"gen_merkle_log %d %d" % (a.variant, a.n)).hexdigest()
    origin = a.origin or "mp-signer.invalid/audit/" + nonce[:16]
    key_id = sha256(origin.encode() + b"\x0a\xff" + SIGTYPE + spki).digest()[:4]
    key_sha = sha256(spki).hexdigest()
    tree = Frontier()
    out = open(a.log + ".tmp0", "wb")
    seg_first, seg_files, buf = 0, [], []
    prev = None

    def ts(seq):  # a millisecond a line
        s, ms = divmod(seq, 1000)
        return "2026-11-25T%02d:%02d:%02d.%03d000Z" % (s // 3600 % 24, s // 60 % 60, s % 60, ms)

    def emit(line):
        nonlocal prev
        buf.append(line + b"\n")
        if len(buf) >= 65536:
            out.writelines(buf)
            buf.clear()
        prev = sha256(line).hexdigest()
        tree.push(sha256(b"\x00" + line).digest())

    def checkpoint(seq):
        root = b64(tree.root())
        body = "%s\n%d\n%s\n" % (origin, seq, root)
        sig = key.sign(body.encode(), padding.PKCS1v15(), hashes.SHA256())
        note = body + "\n\u2014 %s %s\n" % (origin, b64(key_id + sig))
        rec = ('{"seq":%d,"prev":"%s","ts":"%s","event":"checkpoint","covers":%d,"head":"%s",'
               '"key_sha256":"%s","tree_size":%d,"root":"%s","note":%s}'
               % (seq, prev, ts(seq), seq - 1, prev, key_sha, seq, root,
                  json_str(note)))
        emit(rec.encode())
        return root

    every = ',"checkpoint_every":%d,"checkpoint_seconds":3600' % min(a.every, 10000) \
        if a.every else ""
    emit(('{"seq":0,"ts":"%s","event":"header","v":2,"nonce":"%s","origin":"%s"%s}'
          % (ts(0), nonce, origin, every)).encode())
    pre = b'","event":"sign","outcome":"granted","claims":{"jti":"%08x-0000-4000-8000-' \
        % a.variant
    seqs = lambda v: [int(x) for x in v.split(",") if x]
    same, refused = seqs(a.same_jti), set(seqs(a.refused))
    last_cp = None
    for seq in range(1, a.n + 1):
        if seq == a.n or (a.every and seq % a.every == 0):
            last_cp = checkpoint(seq)
            if a.segment_every and seq - seg_first >= a.segment_every and seq < a.n - 1:
                out.writelines(buf)
                buf.clear()
                out.close()
                name = "%s.%020d" % (a.log, seg_first)
                os.replace(a.log + ".tmp0", name)
                seg_files.append(name)
                out = open(a.log + ".tmp0", "wb")
                last_seq, last_sha, first = seq, prev, seg_first
                seg_first = seq + 1
                fr = ",".join('"%s"' % b64(h) for h in tree.h)
                rec = ('{"seq":%d,"prev":"%s","ts":"%s","event":"segment","v":2,"origin":"%s",'
                       '"previous":{"file":"%s","first_seq":%d,"last_seq":%d,'
                       '"last_sha256":"%s","tree_size":%d,"root":"%s"},"frontier":[%s]%s}'
                       % (seq + 1, prev, ts(seq + 1), origin, os.path.basename(name), first,
                          last_seq, last_sha, last_seq, last_cp, fr, every))
                emit(rec.encode())
            continue
        if seq == seg_first:
            continue  # the segment line written above
        p, j = pre, seq
        if seq in refused:
            p = p.replace(b'"granted"', b'"refused","reason":"not allowed"')
        if seq in same:
            j = same[0]
        emit(b'{"seq":%d,"prev":"%s","ts":"%s%s%012x"}}' % (seq, prev.encode(), ts(seq).encode(),
                                                            p, j))
    out.writelines(buf)
    out.close()
    os.replace(a.log + ".tmp0", a.log)
    assert tree.size == a.n + 1, (tree.size, a.n)


def json_str(s):
    """A JSON string as jansson writes it (the note is ASCII but for the em dash)."""
    import json
    return json.dumps(s, ensure_ascii=False)


if __name__ == "__main__":
    main()
