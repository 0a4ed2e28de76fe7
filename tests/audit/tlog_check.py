#!/usr/bin/python3
"""tlog_check.py - an independent verifier for mp-signer's audit-log tree heads, checkpoints
and proofs, written from the public specifications and not from the C code in signer/.

  tlog_check.py note  --pubkey PEM [--origin O] NOTEFILE
        verify a checkpoint note; print "ORIGIN SIZE ROOTB64"
  tlog_check.py proof --pubkey PEM [--origin O] PROOF.json
        verify the note(s) of an `mp-signer audit prove` file and its inclusion or
        consistency proof
  tlog_check.py root  FILE... [--size N]
        print the base64 Merkle tree head over the first N lines (default: all) of the
        files, in the order given (.gz files are read with gzip)
  tlog_check.py log   --pubkey PEM [--origin O] [--allow-none] FILE...
        check every checkpoint line that carries a note; print "N checkpoints OK"
  tlog_check.py selftest
        check this file's own code against published test vectors and crafted logs

PEM is a certificate or a public key (RSA). Exit status: 0 valid, 1 invalid (one line
"BAD: reason" on stderr), 2 usage or unreadable input ("ERROR: ..." or argparse's message).

Specifications followed (read, not the C code):
  * RFC 9162 section 2.1 (Merkle Tree Hash 2.1.1, PATH 2.1.3.1, inclusion verification
    2.1.3.2, PROOF/SUBPROOF 2.1.4.1, consistency verification 2.1.4.2), SHA-256, leaf hash
    SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right). The two verification
    algorithms below are transcribed step by step, with the RFC's step numbers.
  * c2sp.org/signed-note (C2SP/C2SP signed-note.md, commit 055287621bf3) and
    c2sp.org/tlog-checkpoint (C2SP/C2SP tlog-checkpoint.md, commit 2793893976c8).
  * signer/audit/audit_format.h (the project's log format: leaves are the log's lines
    without "\\n", line seq i is leaf i; key name = origin; signature type byte 0xFF followed
    by "mp-signer/rsa-pkcs1v15-sha256"; RSASSA-PKCS1-v1_5 SHA-256 over the note text).
Test vectors (selftest): transparency-dev/merkle, proof/verify_test.go (commit 02194e9afb6c)
and rfc6962/rfc6962_test.go (commit 78493b07ef9b); the same vectors are in
google/certificate-transparency-go merkletree tests and transparency-dev/merkle testdata/.

Where the specifications leave room, this verifier takes the strict reading:
  * a checkpoint must be exactly the three lines origin / size / root: the project never
    writes extension lines (tlog-checkpoint allows them; we reject them);
  * base64 must be canonical standard base64 with padding (RFC 4648 section 4);
  * a signature line from the known key (name and key ID both matching) that does not verify
    rejects the whole note (signed-note says SHOULD), and at least one must verify (MUST);
    lines from other keys are ignored, but every signature line must be well formed;
  * consistency, m == n: the path must be empty and the two roots equal; m == 0: the path
    must be empty and the old root must be the empty tree's SHA-256(""); m > n fails;
  * proof files: no unknown or duplicate JSON members, integers must be JSON integers.
"""
import argparse
import base64
import binascii
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGTYPE = b"mp-signer/rsa-pkcs1v15-sha256"  # audit_format.h AUDIT_NOTE_SIGTYPE
ORIGIN_DEFAULT = "mp-signer.invalid/audit/"  # audit_format.h AUDIT_ORIGIN_DEFAULT
EM_DASH = "\u2014"
MAX_SIGS = 100  # signed-note: verifiers SHOULD limit, MUST accept at least 16
UINT64_MAX = (1 << 64) - 1

_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()  # RFC 9162 2.1.1: MTH({}) = HASH()


class Bad(Exception):
    """The input is invalid: exit 1 with "BAD: <reason>"."""


class InputError(Exception):
    """The input cannot be read (missing file, unusable key file): exit 2."""


# ---------------------------------------------------------------------------------------------
# Merkle tree, RFC 9162 section 2.1
# ---------------------------------------------------------------------------------------------

def leaf_hash(data):
    return _sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return _sha256(b"\x01" + left + right).digest()


def _k(n):
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def mth(entries):
    """RFC 9162 2.1.1, literally and recursively: the reference for small trees."""
    n = len(entries)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(entries[0])
    k = _k(n)
    return node_hash(mth(entries[:k]), mth(entries[k:]))


def path(m, entries):
    """RFC 9162 2.1.3.1 PATH(m, D_n) (used only to generate proofs in the selftest)."""
    n = len(entries)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return path(m, entries[:k]) + [mth(entries[k:])]
    return path(m - k, entries[k:]) + [mth(entries[:k])]


def subproof(m, entries, b):
    """RFC 9162 2.1.4.1 SUBPROOF(m, D_n, b)."""
    n = len(entries)
    if m == n:
        return [] if b else [mth(entries)]
    k = _k(n)
    if m <= k:
        return subproof(m, entries[:k], b) + [mth(entries[k:])]
    return subproof(m - k, entries[k:], False) + [mth(entries[:k])]


def proof(m, entries):
    """RFC 9162 2.1.4.1 PROOF(m, D_n) = SUBPROOF(m, D_n, true), 0 < m < n."""
    return subproof(m, entries, True)


class Frontier:
    """The tree's perfect subtrees, left (largest) to right: O(log n) memory, one leaf hash
    and on average one node hash per appended leaf. Appending leaf number n merges one
    subtree per trailing 1-bit of n."""

    __slots__ = ("size", "nodes")

    def __init__(self, size=0, nodes=()):
        self.size = size
        self.nodes = list(nodes)

    def append_hash(self, h):
        c = self.size
        nodes = self.nodes
        while c & 1:
            h = node_hash(nodes.pop(), h)
            c >>= 1
        nodes.append(h)
        self.size += 1

    def root(self):
        """MTH over the leaves so far: the split at the largest power of two makes the root
        the right fold of the perfect subtrees."""
        nodes = self.nodes
        if not nodes:
            return EMPTY_ROOT
        r = nodes[-1]
        for i in range(len(nodes) - 2, -1, -1):
            r = node_hash(nodes[i], r)
        return r


def verify_inclusion(leaf_index, tree_size, hash_, inclusion_path, root_hash):
    """RFC 9162 2.1.3.2 "Verifying an Inclusion Proof", step by step. Raises Bad."""
    for p in inclusion_path:
        if len(p) != 32:
            raise Bad("inclusion path element is not 32 bytes")
    # 1. If leaf_index is greater than or equal to tree_size, fail.
    if leaf_index >= tree_size:
        raise Bad("inclusion: index %d is not below tree size %d" % (leaf_index, tree_size))
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = leaf_index, tree_size - 1
    # 3. Set r to hash.
    r = hash_
    # 4. For each value p in the inclusion_path array:
    for p in inclusion_path:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            raise Bad("inclusion: path has more hashes than the tree size needs")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, r)
            # ii. If LSB(fn) is not set, then right-shift both fn and sn equally until
            #     either LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        # Otherwise: Set r to HASH(0x01 || r || p).
        else:
            r = node_hash(r, p)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and the
    #    root_hash are equal, then the log has proven the inclusion of hash. Otherwise, fail.
    if sn != 0:
        raise Bad("inclusion: path has fewer hashes than the tree size needs")
    if r != root_hash:
        raise Bad("inclusion: path does not lead to the checkpoint's root")


def verify_consistency(first, second, first_hash, second_hash, consistency_path):
    """RFC 9162 2.1.4.2 "Verifying Consistency between Two Tree Heads", step by step, for
    0 < first < second; the equal-size and empty cases around it. Raises Bad."""
    for c in consistency_path:
        if len(c) != 32:
            raise Bad("consistency path element is not 32 bytes")
    if first > second:
        raise Bad("consistency: old size %d is above new size %d" % (first, second))
    if first == second:
        # PROOF is defined for 0 < m < n; for m == n there is nothing to prove (SUBPROOF(m,
        # D_m, true) = {}): the path must be empty and the tree heads identical.
        if consistency_path:
            raise Bad("consistency: sizes are equal but the path is not empty")
        if first_hash != second_hash:
            raise Bad("consistency: sizes are equal but the roots differ")
        return
    if first == 0:
        # The empty tree is a prefix of every tree; its head must be MTH({}) = SHA-256("").
        if consistency_path:
            raise Bad("consistency: old size is 0 but the path is not empty")
        if first_hash != EMPTY_ROOT:
            raise Bad("consistency: old size is 0 but its root is not SHA-256(\"\")")
        return
    # 1. If consistency_path is an empty array, stop and fail the proof verification.
    if not consistency_path:
        raise Bad("consistency: path is empty")
    consistency_path = list(consistency_path)
    # 2. If first is an exact power of 2, then prepend first_hash to the consistency_path.
    if first & (first - 1) == 0:
        consistency_path.insert(0, first_hash)
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = consistency_path[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in consistency_path[1:]:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            raise Bad("consistency: path has more hashes than the sizes need")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set fr to HASH(0x01 || c || fr).
            fr = node_hash(c, fr)
            # ii. Set sr to HASH(0x01 || c || sr).
            sr = node_hash(c, sr)
            # iii. If LSB(fn) is not set, then right-shift both fn and sn equally until
            #      either LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        # Otherwise: Set sr to HASH(0x01 || sr || c).
        else:
            sr = node_hash(sr, c)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. Verify that fr equals first_hash, sr equals second_hash, and sn is 0.
    if sn != 0:
        raise Bad("consistency: path has fewer hashes than the sizes need")
    if fr != first_hash:
        raise Bad("consistency: path does not lead to the old checkpoint's root")
    if sr != second_hash:
        raise Bad("consistency: path does not lead to the new checkpoint's root")


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------

def b64decode_strict(s, what):
    """RFC 4648 section 4 standard base64, padded, canonical (what it decodes to re-encodes
    to the same text)."""
    if not isinstance(s, str):
        raise Bad("%s is not a string" % what)
    if not s.isascii():
        raise Bad("%s is not base64" % what)
    try:
        b = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise Bad("%s is not valid base64" % what) from None
    if base64.b64encode(b).decode("ascii") != s:
        raise Bad("%s is not canonical base64" % what)
    return b


def b64(b):
    return base64.b64encode(b).decode("ascii")


def _reject_constant(name):
    raise ValueError("JSON constant %s" % name)


def _no_dup_object(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError("duplicate member %r" % k)
        obj[k] = v
    return obj


def json_strict(text, what):
    """json.loads with duplicate members and NaN/Infinity rejected; must be an object."""
    try:
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8")
        obj = json.loads(text, object_pairs_hook=_no_dup_object,
                         parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise Bad("%s is not valid JSON: %s" % (what, e)) from None
    if not isinstance(obj, dict):
        raise Bad("%s is not a JSON object" % what)
    return obj


def json_int(obj, key, what, lo=0, hi=UINT64_MAX):
    if key not in obj:
        raise Bad("%s has no %r" % (what, key))
    v = obj[key]
    if type(v) is not int:  # bool is a subclass of int, and floats are not integers here
        raise Bad("%s %r is not an integer" % (what, key))
    if not lo <= v <= hi:
        raise Bad("%s %r is out of range: %d" % (what, key, v))
    return v


def json_str(obj, key, what):
    if key not in obj:
        raise Bad("%s has no %r" % (what, key))
    v = obj[key]
    if not isinstance(v, str):
        raise Bad("%s %r is not a string" % (what, key))
    return v


# ---------------------------------------------------------------------------------------------
# Keys and signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint)
# ---------------------------------------------------------------------------------------------

class Key:
    """The one known verifier key: RSA public key; its name is the log's origin."""

    def __init__(self, pub):
        if not isinstance(pub, rsa.RSAPublicKey):
            raise InputError("the key is not an RSA key")
        self.pub = pub
        self.spki = pub.public_bytes(serialization.Encoding.DER,
                                     serialization.PublicFormat.SubjectPublicKeyInfo)
        self.spki_sha256 = _sha256(self.spki).hexdigest()

    def key_id(self, name):
        """SHA-256(key name || 0x0A || 0xFF || "mp-signer/rsa-pkcs1v15-sha256" || DER SPKI)
        [:4], the big-endian uint32 that starts each signature."""
        return _sha256(name.encode("utf-8") + b"\x0a\xff" + SIGTYPE + self.spki).digest()[:4]

    def verify(self, sig, msg):
        try:
            self.pub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
            return True
        except InvalidSignature:
            return False


def load_key(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError("cannot read %s: %s" % (path, e.strerror)) from None
    begins = re.findall(rb"-----BEGIN ([A-Z0-9 ]+)-----", data)
    if len(begins) != 1:
        raise InputError("%s must hold exactly one PEM block (a certificate or a public key),"
                         " found %d" % (path, len(begins)))
    label = begins[0]
    try:
        if label == b"CERTIFICATE":
            pub = x509.load_pem_x509_certificate(data).public_key()
        elif label in (b"PUBLIC KEY", b"RSA PUBLIC KEY"):
            pub = serialization.load_pem_public_key(data)
        else:
            raise InputError("%s holds a PEM %s, not a certificate or a public key"
                             % (path, label.decode("ascii", "replace")))
    except ValueError as e:
        raise InputError("%s: cannot parse the PEM %s: %s"
                         % (path, label.decode("ascii", "replace"), e)) from None
    return Key(pub)


def _valid_key_name(name):
    # signed-note: key names MUST be non-empty and MUST NOT contain Unicode spaces or "+".
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


_SIZE_RE = re.compile(r"0|[1-9][0-9]*", re.ASCII)


class Checkpoint:
    def __init__(self, origin, size, root, text):
        self.origin, self.size, self.root, self.text = origin, size, root, text


def verify_note(note, key, origin=None, what="checkpoint"):
    """Open a signed note (str or bytes) with the known key named `origin` (default: the
    note's own first line, the log's key name being its origin) and parse its text as a
    checkpoint. Raises Bad; returns a Checkpoint."""
    if isinstance(note, (bytes, bytearray)):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise Bad("%s: note is not valid UTF-8" % what) from None
    if not isinstance(note, str):
        raise Bad("%s: note is not a string" % what)
    try:
        note.encode("utf-8")  # lone surrogates from JSON \ud800 escapes are not UTF-8
    except UnicodeEncodeError:
        raise Bad("%s: note is not valid UTF-8" % what) from None
    # Signed notes MUST NOT contain ASCII control characters other than newline.
    for ch in note:
        if ch < " " and ch != "\n":
            raise Bad("%s: note contains control character U+%04X" % (what, ord(ch)))
    if not note.endswith("\n"):
        raise Bad("%s: note does not end with a newline" % what)
    # The text is separated from the signatures by the last empty line in the note.
    i = note.rfind("\n\n")
    if i < 0:
        raise Bad("%s: note has no blank line before its signatures" % what)
    text, sigblock = note[:i + 1], note[i + 2:]
    if not sigblock:
        raise Bad("%s: note has no signature lines" % what)
    siglines = sigblock.split("\n")[:-1]
    if len(siglines) > MAX_SIGS:
        raise Bad("%s: note has more than %d signatures" % (what, MAX_SIGS))
    sigs = []
    for line in siglines:
        # em dash (U+2014), space, key name, space, base64-encoded signature, newline.
        if not line.startswith(EM_DASH + " "):
            raise Bad("%s: malformed signature line %r" % (what, line[:60]))
        name, sep, sig64 = line[2:].partition(" ")
        if not sep or not _valid_key_name(name):
            raise Bad("%s: malformed signature line %r" % (what, line[:60]))
        sig = b64decode_strict(sig64, "%s: signature" % what)
        if len(sig) < 4:
            raise Bad("%s: signature shorter than its 4-byte key ID" % what)
        sigs.append((name, sig[:4], sig[4:]))

    first_line = text.split("\n", 1)[0]
    kname = origin if origin is not None else first_line
    if not _valid_key_name(kname):
        raise Bad("%s: origin %r cannot be a key name (empty, space or '+')" % (what, kname))
    kid = key.key_id(kname)
    text_bytes = text.encode("utf-8")
    verified = 0
    for name, sid, sig in sigs:
        if name != kname or sid != kid:
            continue  # MUST ignore signatures from unknown keys, even sharing name or ID
        if not key.verify(sig, text_bytes):
            raise Bad("%s: the signature by key %s (ID %s) does not verify"
                      % (what, kname, sid.hex()))
        verified += 1
    if not verified:
        raise Bad("%s: no signature by the known key (name %s, ID %s)"
                  % (what, kname, kid.hex()))

    # tlog-checkpoint note text: origin, tree size, root hash (project: exactly those three).
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise Bad("%s: checkpoint text has %d lines, not 3" % (what, len(lines)))
    if any(not ln for ln in lines):
        raise Bad("%s: checkpoint text has an empty line" % what)
    if len(lines) > 3:
        raise Bad("%s: checkpoint has extension lines (the project writes none)" % what)
    c_origin, c_size, c_root = lines
    if c_origin != kname:
        raise Bad("%s: checkpoint origin %r is not the key name %r" % (what, c_origin, kname))
    if not _SIZE_RE.fullmatch(c_size):
        raise Bad("%s: tree size %r is not a decimal without leading zeros" % (what, c_size))
    size = int(c_size)
    if size > UINT64_MAX:
        raise Bad("%s: tree size %s does not fit 64 bits" % (what, c_size))
    root = b64decode_strict(c_root, "%s: root hash" % what)
    if len(root) != 32:
        raise Bad("%s: root hash is %d bytes, not 32" % (what, len(root)))
    return Checkpoint(c_origin, size, root, text)


# ---------------------------------------------------------------------------------------------
# Log files
# ---------------------------------------------------------------------------------------------

def iter_lines(files):
    """Yield (file, line number in it, line bytes WITH "\\n") over the files in order."""
    for fname in files:
        try:
            f = gzip.open(fname, "rb") if fname.endswith(".gz") else open(fname, "rb")
        except OSError as e:
            raise InputError("cannot open %s: %s" % (fname, e.strerror)) from None
        lineno = 0
        try:
            with f:
                for line in f:
                    lineno += 1
                    if line[-1:] != b"\n":
                        raise Bad("%s:%d: last line has no newline (torn)" % (fname, lineno))
                    yield fname, lineno, line
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise Bad("%s: corrupt gzip data: %s" % (fname, e)) from None
        except OSError as e:
            raise InputError("cannot read %s: %s" % (fname, e)) from None


def cmd_root(files, size=None):
    fr = Frontier()
    zero = _sha256(b"\x00")
    for _fname, _lineno, line in iter_lines(files):
        if size is not None and fr.size == size:
            break
        h = zero.copy()
        h.update(memoryview(line)[:-1])
        fr.append_hash(h.digest())
    if size is not None and fr.size < size:
        raise Bad("the files hold %d lines, fewer than --size %d" % (fr.size, size))
    return b64(fr.root())


def _frontier_sizes(n):
    return [1 << b for b in range(n.bit_length() - 1, -1, -1) if n >> b & 1]


def cmd_log(files, key, origin_pin=None, allow_none=False):
    """Stream the lines once: a frontier of O(log n) hashes, JSON parsing only for the first
    line and for lines that can be checkpoint or segment lines."""
    fr = None  # set by the first line
    zero = _sha256(b"\x00")
    count = 0
    origin = origin_pin
    prev_body = None
    last_cp = None  # (size, root) of the last verified checkpoint
    n = 0
    for fname, lineno, line in iter_lines(files):
        body = line[:-1]
        obj = None
        if fr is None:
            where = "%s:%d" % (fname, lineno)
            # The first line: the header (seq 0) or a segment line whose frontier stands in
            # for the segments before it.
            obj = json_strict(body, where)
            ev = obj.get("event")
            if ev == "header":
                if json_int(obj, "seq", where) != 0:
                    raise Bad("%s: header seq is not 0" % where)
                if "origin" in obj:
                    o = json_str(obj, "origin", where)
                elif obj.get("v") == 1:
                    nonce = json_str(obj, "nonce", where)
                    if not re.fullmatch(r"[0-9a-f]{64}", nonce):
                        raise Bad("%s: header nonce is not 64 hex digits" % where)
                    o = ORIGIN_DEFAULT + nonce[:16]
                else:
                    o = None
                fr = Frontier()
            elif ev == "segment":
                seq = json_int(obj, "seq", where, lo=1)
                o = json_str(obj, "origin", where)
                prev = obj.get("previous")
                if not isinstance(prev, dict):
                    raise Bad("%s: segment line has no \"previous\" object" % where)
                if json_int(prev, "last_seq", where + " previous") != seq - 1:
                    raise Bad("%s: segment previous.last_seq is not seq - 1" % where)
                nodes = obj.get("frontier")
                if not isinstance(nodes, list):
                    raise Bad("%s: segment line has no \"frontier\" array" % where)
                if len(nodes) != len(_frontier_sizes(seq)):
                    raise Bad("%s: segment frontier has %d hashes; %d leaves need %d"
                              % (where, len(nodes), seq, len(_frontier_sizes(seq))))
                hs = [b64decode_strict(x, where + " frontier hash") for x in nodes]
                if any(len(h) != 32 for h in hs):
                    raise Bad("%s: segment frontier hash is not 32 bytes" % where)
                fr = Frontier(seq, hs)
                n = seq
            else:
                raise Bad("%s: the first line is neither the header nor a segment line"
                          % where)
            if origin_pin is not None and o is not None and o != origin_pin:
                raise Bad("%s: origin %r is not --origin %r" % (where, o, origin_pin))
            origin = o if origin_pin is None else origin_pin
        # seq check: line seq i is leaf i (jansson writes seq first, compact).
        if not body.startswith(b'{"seq":%d,' % n):
            where = "%s:%d" % (fname, lineno)
            if obj is None:
                obj = json_strict(body, where)
            if "seq" not in obj or type(obj["seq"]) is not int or obj["seq"] != n:
                raise Bad("%s: seq is %r, but this is line %d of the log"
                          % (where, obj.get("seq"), n))
        if obj is None and (b"checkpoint" in body or b"segment" in body or b"\\" in body):
            # Only these lines can be checkpoint or segment lines, however their JSON is
            # spelled (a \u escape could spell either word).
            obj = json_strict(body, "%s:%d" % (fname, lineno))
        if obj is not None and n > 0:
            where = "%s:%d" % (fname, lineno)
            ev = obj.get("event")
            if ev == "checkpoint" and "note" in obj:
                w = "%s (seq %d)" % (where, n)
                cp = verify_note(json_str(obj, "note", w), key, origin, w)
                ts = json_int(obj, "tree_size", w)
                if cp.size != ts:
                    raise Bad("%s: note size %d is not the line's tree_size %d"
                              % (w, cp.size, ts))
                if cp.size != n:
                    raise Bad("%s: note size %d is not the line's seq %d" % (w, cp.size, n))
                root = fr.root()
                if cp.root != root:
                    raise Bad("%s: note root %s is not the root of the %d lines before it, %s"
                              % (w, b64(cp.root), n, b64(root)))
                if "root" in obj and obj["root"] != b64(root):
                    raise Bad("%s: the line's root %r is not the note's" % (w, obj["root"]))
                if "covers" in obj and json_int(obj, "covers", w) != n - 1:
                    raise Bad("%s: covers is not seq - 1" % w)
                if prev_body is not None:
                    ph = _sha256(prev_body).hexdigest()
                    for k in ("head", "prev"):
                        if k in obj and obj[k] != ph:
                            raise Bad("%s: %s is not the SHA-256 of the line before" % (w, k))
                if "key_sha256" in obj and obj["key_sha256"] != key.spki_sha256:
                    raise Bad("%s: key_sha256 is not the SHA-256 of the key's DER SPKI" % w)
                last_cp = (cp.size, cp.root)
                count += 1
            elif ev == "segment" and prev_body is not None:
                w = "%s (seq %d)" % (where, n)
                o = json_str(obj, "origin", w)
                if origin_pin is not None and o != origin_pin:
                    raise Bad("%s: origin %r is not --origin %r" % (w, o, origin_pin))
                origin = o if origin_pin is None else origin_pin
                prev = obj.get("previous")
                if not isinstance(prev, dict):
                    raise Bad("%s: segment line has no \"previous\" object" % w)
                if json_int(prev, "last_seq", w + " previous") != n - 1:
                    raise Bad("%s: segment previous.last_seq is not seq - 1" % w)
                pts = json_int(prev, "tree_size", w + " previous")
                if last_cp is None or last_cp[0] != n - 1 or pts != n - 1:
                    raise Bad("%s: the previous segment does not end with a checkpoint of "
                              "tree_size %d (previous.tree_size %d)" % (w, n - 1, pts))
                if json_str(prev, "root", w + " previous") != b64(last_cp[1]):
                    raise Bad("%s: previous.root is not the last checkpoint's root" % w)
                if obj.get("frontier") != [b64(h) for h in fr.nodes]:
                    raise Bad("%s: frontier is not the perfect subtrees of the %d lines "
                              "before it" % (w, n))
        h = zero.copy()
        h.update(memoryview(body))
        fr.append_hash(h.digest())
        prev_body = body
        n += 1
    if fr is None:
        raise Bad("the log is empty")
    if count == 0 and not allow_none:
        raise Bad("no checkpoint line with a note in %d lines" % n)
    return "%d checkpoints OK" % count


# ---------------------------------------------------------------------------------------------
# Proof files (`mp-signer audit prove`)
# ---------------------------------------------------------------------------------------------

INCLUSION_KEYS = {"proof", "origin", "tree_size", "index", "line", "path", "checkpoint"}
CONSISTENCY_KEYS = {"proof", "origin", "old_size", "new_size", "path", "old_checkpoint",
                    "new_checkpoint"}


def _path_hashes(obj):
    p = obj.get("path")
    if not isinstance(p, list):
        raise Bad("proof \"path\" is not an array")
    out = []
    for i, x in enumerate(p):
        h = b64decode_strict(x, "path[%d]" % i)
        if len(h) != 32:
            raise Bad("path[%d] is %d bytes, not 32" % (i, len(h)))
        out.append(h)
    return out


def check_proof_obj(obj, key, origin_pin=None):
    kind = obj.get("proof")
    keys = {"inclusion": INCLUSION_KEYS, "consistency": CONSISTENCY_KEYS}.get(kind)
    if keys is None:
        raise Bad("\"proof\" is %r, not \"inclusion\" or \"consistency\"" % (kind,))
    if set(obj) != keys:
        extra, missing = sorted(set(obj) - keys), sorted(keys - set(obj))
        raise Bad("%s proof members: unknown %s, missing %s" % (kind, extra, missing))
    origin = json_str(obj, "origin", "proof")
    if origin_pin is not None and origin != origin_pin:
        raise Bad("proof origin %r is not --origin %r" % (origin, origin_pin))
    hs = _path_hashes(obj)
    if kind == "inclusion":
        size = json_int(obj, "tree_size", "proof")
        index = json_int(obj, "index", "proof")
        line = json_str(obj, "line", "proof")
        cp = verify_note(json_str(obj, "checkpoint", "proof"), key, origin, "checkpoint")
        if cp.size != size:
            raise Bad("checkpoint size %d is not tree_size %d" % (cp.size, size))
        if "\n" in line:
            raise Bad("line contains a newline")
        try:
            lb = line.encode("utf-8")
        except UnicodeEncodeError:
            raise Bad("line is not valid UTF-8") from None
        lobj = json_strict(lb, "line")
        if "seq" not in lobj or type(lobj["seq"]) is not int or lobj["seq"] != index:
            raise Bad("line seq %r is not index %d" % (lobj.get("seq"), index))
        verify_inclusion(index, size, leaf_hash(lb), hs, cp.root)
        return "inclusion proof OK: %s line %d in tree size %d" % (origin, index, size)
    old_size = json_int(obj, "old_size", "proof")
    new_size = json_int(obj, "new_size", "proof")
    old = verify_note(json_str(obj, "old_checkpoint", "proof"), key, origin, "old_checkpoint")
    new = verify_note(json_str(obj, "new_checkpoint", "proof"), key, origin, "new_checkpoint")
    if old.size != old_size:
        raise Bad("old_checkpoint size %d is not old_size %d" % (old.size, old_size))
    if new.size != new_size:
        raise Bad("new_checkpoint size %d is not new_size %d" % (new.size, new_size))
    verify_consistency(old_size, new_size, old.root, new.root, hs)
    return "consistency proof OK: %s tree size %d -> %d" % (origin, old_size, new_size)


def cmd_proof(fname, key, origin_pin=None):
    try:
        with open(fname, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError("cannot read %s: %s" % (fname, e.strerror)) from None
    return check_proof_obj(json_strict(data, fname), key, origin_pin)


def cmd_note(fname, key, origin_pin=None):
    try:
        with open(fname, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError("cannot read %s: %s" % (fname, e.strerror)) from None
    cp = verify_note(data, key, origin_pin, fname)
    return "%s %d %s" % (cp.origin, cp.size, b64(cp.root))


# ---------------------------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------------------------

def _dh(s):
    return bytes.fromhex(s)


# transparency-dev/merkle rfc6962/rfc6962_test.go, TestRFC6962Hasher.
HASHER_VECTORS = [
    ("empty root", lambda: EMPTY_ROOT,
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("empty leaf", lambda: leaf_hash(b""),
     "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    ("leaf L123456", lambda: leaf_hash(b"L123456"),
     "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"),
    ("node N123 N456", lambda: node_hash(b"N123", b"N456"),
     "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"),
]

# transparency-dev/merkle proof/verify_test.go: leaves, roots[i] = MTH(leaves[:i+1]),
# inclusionProofs {leaf (1-based), size, proof}, consistencyProofs {size1, size2, proof}.
TV_LEAVES = [_dh(x) for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                             "606162636465666768696a6b6c6d6e6f")]
TV_ROOTS = [_dh(x) for x in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
TV_INCLUSION = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
TV_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
SOME_HASH = _dh("abacaba000000000000000000000000000000000000000000060061e00123456")


class _Self:
    def __init__(self):
        self.checks = 0

    def ok(self, cond, what):
        self.checks += 1
        if not cond:
            raise Bad("selftest: " + what)

    def eq(self, got, want, what):
        self.ok(got == want, "%s: got %r, want %r" % (what, got, want))

    def passes(self, fn, what):
        self.checks += 1
        try:
            return fn()
        except Bad as e:
            raise Bad("selftest: %s: unexpectedly rejected: %s" % (what, e)) from None

    def fails(self, fn, what, contains=None):
        self.checks += 1
        try:
            fn()
        except Bad as e:
            if contains is not None and contains not in str(e):
                raise Bad("selftest: %s: rejected for the wrong reason: %s" % (what, e)) from None
            return str(e)
        raise Bad("selftest: %s: unexpectedly accepted" % what)


def _flip(h, bit):
    return bytes([h[0] ^ bit]) + h[1:]


def _inclusion_probes(i, n, lh, p, root):
    """transparency-dev/merkle corruptInclusionProof, plus wrong hash lengths."""
    out = [(i - 1, n, lh, p, root, "index - 1"), (i + 1, n, lh, p, root, "index + 1"),
           (i ^ 2, n, lh, p, root, "index ^ 2"), (i, n * 2, lh, p, root, "size * 2"),
           (i, n // 2, lh, p, root, "size / 2"), (i, n, leaf_hash(b"WrongLeaf"), p, root,
                                                 "wrong leaf"),
           (i, n, lh, p, EMPTY_ROOT, "empty root"), (i, n, lh, p, SOME_HASH, "random root"),
           (i, n, lh, p + [b""], root, "trailing garbage"),
           (i, n, lh, p + [root], root, "trailing root"),
           (i, n, lh, [b""] + p, root, "preceding garbage"),
           (i, n, lh, [root] + p, root, "preceding root")]
    for j in range(len(p)):
        q = list(p)
        q[j] = _flip(q[j], 8)
        out.append((i, n, lh, q, root, "modified proof[%d] bit 3" % j))
    if p:
        out.append((i, n, lh, p[:-1], root, "removed component"))
    if len(p) > 1:
        out.append((i, n, lh, [p[0], SOME_HASH] + p[1:], root, "inserted component"))
    return [x for x in out if x[0] >= 0]


def _consistency_probes(m, n, r1, r2, p):
    """transparency-dev/merkle corruptConsistencyProof."""
    out = [(m - 1, n, r1, r2, p, "size1 - 1"), (m + 1, n, r1, r2, p, "size1 + 1"),
           (m ^ 2, n, r1, r2, p, "size1 ^ 2"), (m, n * 2, r1, r2, p, "size2 * 2"),
           (m, n // 2, r1, r2, p, "size2 / 2"), (m, n, SOME_HASH, r2, p, "wrong root1"),
           (m, n, r1, SOME_HASH, p, "wrong root2"), (m, n, r2, r1, p, "swapped roots"),
           (m, n, r1, r2, [], "empty proof"), (m, n, r1, r2, p + [b""], "trailing garbage"),
           (m, n, r1, r2, p + [r1], "trailing root1"), (m, n, r1, r2, p + [r2], "trailing root2"),
           (m, n, r1, r2, [b""] + p, "preceding garbage"),
           (m, n, r1, r2, [r1] + p, "preceding root1"),
           (m, n, r1, r2, [r2] + p, "preceding root2"),
           (m, n, r1, r2, [p[0]] + p, "preceding proof[0]"),
           (m, n, r1, r2, p[:-1], "truncated proof")]
    for j in range(len(p)):
        q = list(p)
        q[j] = _flip(q[j], 16)
        out.append((m, n, r1, r2, q, "modified proof[%d] bit 4" % j))
    return [x for x in out if x[0] >= 0]


def _selftest_merkle(t):
    for desc, fn, want in HASHER_VECTORS:
        t.eq(fn().hex(), want, "RFC 6962 hasher vector " + desc)
    fr = Frontier()
    t.eq(fr.root(), EMPTY_ROOT, "root of the empty tree")
    for i, leaf in enumerate(TV_LEAVES):
        fr.append_hash(leaf_hash(leaf))
        t.eq(fr.root().hex(), TV_ROOTS[i].hex(), "streamed root of %d vector leaves" % (i + 1))
        t.eq(mth(TV_LEAVES[:i + 1]).hex(), TV_ROOTS[i].hex(), "MTH of %d vector leaves" % (i + 1))
    for leaf1, n, hx in TV_INCLUSION:
        i, p = leaf1 - 1, [_dh(x) for x in hx]
        what = "inclusion vector leaf %d size %d" % (i, n)
        t.eq(path(i, TV_LEAVES[:n]), p, what + ": PATH generator")
        lh = leaf_hash(TV_LEAVES[i])
        t.passes(lambda: verify_inclusion(i, n, lh, p, TV_ROOTS[n - 1]), what)
        for pi, pn, plh, pp, proot, pdesc in _inclusion_probes(i, n, lh, p, TV_ROOTS[n - 1]):
            t.fails(lambda: verify_inclusion(pi, pn, plh, pp, proot), what + ": " + pdesc)
    for m, n, hx in TV_CONSISTENCY:
        p = [_dh(x) for x in hx]
        what = "consistency vector %d -> %d" % (m, n)
        if m < n:
            t.eq(proof(m, TV_LEAVES[:n]), p, what + ": PROOF generator")
        r1, r2 = TV_ROOTS[m - 1], TV_ROOTS[n - 1]
        t.passes(lambda: verify_consistency(m, n, r1, r2, p), what)
        if p:
            for a, b, q1, q2, pp, pdesc in _consistency_probes(m, n, r1, r2, p):
                t.fails(lambda: verify_consistency(a, b, q1, q2, pp), what + ": " + pdesc)
    # Edge cases (verify_test.go TestVerifyConsistency / TestVerifyInclusion, our strict side).
    r1 = TV_ROOTS[0]
    t.passes(lambda: verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, []), "0 -> 0")
    t.passes(lambda: verify_consistency(0, 5, EMPTY_ROOT, TV_ROOTS[4], []), "0 -> 5")
    t.passes(lambda: verify_consistency(3, 3, TV_ROOTS[2], TV_ROOTS[2], []), "3 -> 3")
    t.fails(lambda: verify_consistency(0, 5, r1, TV_ROOTS[4], []), "0 -> 5, root not empty")
    t.fails(lambda: verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]), "0 -> 0 +1")
    t.fails(lambda: verify_consistency(0, 1, EMPTY_ROOT, r1, [EMPTY_ROOT]), "0 -> 1 +1")
    t.fails(lambda: verify_consistency(1, 1, r1, r1, [r1]), "1 -> 1 with a path")
    t.fails(lambda: verify_consistency(1, 1, r1, SOME_HASH, []), "1 -> 1 roots differ")
    t.fails(lambda: verify_consistency(1, 0, r1, EMPTY_ROOT, []), "1 -> 0")
    t.fails(lambda: verify_consistency(2, 1, TV_ROOTS[1], r1, []), "2 -> 1")
    t.fails(lambda: verify_consistency(1, 2, r1, TV_ROOTS[1], []), "1 -> 2 empty path")
    for i, n in ((0, 0), (0, 1), (1, 0), (2, 1)):
        t.fails(lambda: verify_inclusion(i, n, SOME_HASH, [], EMPTY_ROOT),
                "inclusion probe %d:%d" % (i, n))
    t.fails(lambda: verify_inclusion(0, 1, leaf_hash(b"data"), [], leaf_hash(b"x")), "1-entry")
    t.passes(lambda: verify_inclusion(0, 1, leaf_hash(b"data"), [], leaf_hash(b"data")),
             "1-entry tree")

    # Exhaustive small trees: the streamed root equals the recursive MTH, every generated
    # proof verifies and its mutations fail.
    leaves = [b"leaf %d" % i for i in range(70)]
    fr = Frontier()
    for n in range(1, len(leaves) + 1):
        fr.append_hash(leaf_hash(leaves[n - 1]))
        t.eq(fr.root(), mth(leaves[:n]), "streamed root, %d leaves" % n)
        t.eq([fr.size], [n], "frontier size")
        sizes, start = _frontier_sizes(n), 0
        for s, h in zip(sizes, fr.nodes):
            t.eq(h, mth(leaves[start:start + s]), "frontier subtree at %d" % start)
            start += s
        t.eq(len(fr.nodes), len(sizes), "frontier length %d" % n)
    for n in range(1, 22):
        root = mth(leaves[:n])
        for i in range(n):
            p = path(i, leaves[:n])
            lh = leaf_hash(leaves[i])
            what = "generated inclusion %d/%d" % (i, n)
            t.passes(lambda: verify_inclusion(i, n, lh, p, root), what)
            for pi, pn, plh, pp, proot, pdesc in _inclusion_probes(i, n, lh, p, root):
                t.fails(lambda: verify_inclusion(pi, pn, plh, pp, proot), what + ": " + pdesc)
        for m in range(1, n + 1):
            r1 = mth(leaves[:m])
            p = proof(m, leaves[:n]) if m < n else []
            what = "generated consistency %d -> %d" % (m, n)
            t.passes(lambda: verify_consistency(m, n, r1, root, p), what)
            if p:
                for a, b, q1, q2, pp, pdesc in _consistency_probes(m, n, r1, root, p):
                    t.fails(lambda: verify_consistency(a, b, q1, q2, pp), what + ": " + pdesc)


def _make_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _sign_note(priv, text, name=None, key_id=None):
    """Sign a note the way the spec describes, independently of verify_note."""
    k = Key(priv.public_key())
    name = name if name is not None else text.split("\n", 1)[0]
    kid = key_id if key_id is not None else k.key_id(name)
    sig = priv.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return "%s\n%s %s %s\n" % (text, EM_DASH, name, b64(kid + sig))


def _checkpoint_text(origin, size, root):
    return "%s\n%d\n%s\n" % (origin, size, b64(root))


def _selftest_notes(t, priv, other):
    key, okey = Key(priv.public_key()), Key(other.public_key())
    o = "example.com/audit/0123456789abcdef"
    root = TV_ROOTS[7]
    text = _checkpoint_text(o, 8, root)
    note = _sign_note(priv, text)
    cp = t.passes(lambda: verify_note(note, key), "signed note")
    t.eq((cp.origin, cp.size, cp.root, cp.text), (o, 8, root, text), "parsed checkpoint")
    t.passes(lambda: verify_note(note.encode("utf-8"), key, o), "signed note as bytes, pinned")
    # Key ID recomputed by hand from the definition.
    kid = _sha256(o.encode() + b"\n\xff" + b"mp-signer/rsa-pkcs1v15-sha256" + key.spki).digest()[:4]
    t.eq(b64decode_strict(note.rsplit(" ", 1)[1][:-1], "sig")[:4], kid, "key ID definition")
    sigline = note[len(text) + 1:]
    foreign = _sign_note(other, text).split("\n\n")[1]  # same name, other key: other ID
    t.passes(lambda: verify_note(text + "\n" + foreign + sigline, key), "unknown key ignored")
    t.passes(lambda: verify_note(text + "\n" + sigline + foreign, key), "unknown key after")
    odd = _sign_note(other, text, name="witness.example/w1").split("\n\n")[1]
    t.passes(lambda: verify_note(text + "\n" + odd + sigline, key), "other name ignored")
    t.passes(lambda: verify_note(text + "\n" + sigline * 2, key), "two good signatures")
    t.passes(lambda: verify_note(text + "\n" + sigline + odd * 15, key), "16 signatures")
    t.fails(lambda: verify_note(note, okey), "wrong key", "no signature by the known key")
    t.fails(lambda: verify_note(text + "\n" + foreign, key), "only a foreign signature")
    t.fails(lambda: verify_note(note, key, "example.com/other"), "pinned origin differs")
    # A known-key signature (name and ID match) that does not verify rejects the note.
    kid_other_sig = _sign_note(other, text, name=o, key_id=key.key_id(o)).split("\n\n")[1]
    t.fails(lambda: verify_note(text + "\n" + kid_other_sig + sigline, key),
            "known name and ID, bad signature", "does not verify")
    # Same name, same ID, but the signature made over other text.
    t2 = _checkpoint_text(o, 9, root)
    t.fails(lambda: verify_note(t2 + "\n" + sigline, key), "size changed", "does not verify")
    t3 = _checkpoint_text(o, 8, SOME_HASH)
    t.fails(lambda: verify_note(t3 + "\n" + sigline, key), "root changed", "does not verify")
    t.fails(lambda: verify_note(note.replace(o, "example.com/audit/x"), key), "origin changed")
    sig_b = bytearray(b64decode_strict(sigline.rsplit(" ", 1)[1][:-1], "sig"))
    sig_b[-1] ^= 1
    t.fails(lambda: verify_note(text + "\n%s %s %s\n" % (EM_DASH, o, b64(bytes(sig_b))), key),
            "signature bit flipped", "does not verify")
    # Framing.
    t.fails(lambda: verify_note(note + "\n", key), "extra newline at the end")
    t.fails(lambda: verify_note(note[:-1], key), "no final newline")
    t.fails(lambda: verify_note(text + sigline, key), "no blank line")
    t.fails(lambda: verify_note(text + "\n", key), "no signatures")
    t.fails(lambda: verify_note(note.replace(EM_DASH, "-"), key), "hyphen, not em dash")
    t.fails(lambda: verify_note(note.replace(EM_DASH + " ", EM_DASH + "  "), key), "2 spaces")
    t.fails(lambda: verify_note(note.replace(" ", "\t", 1), key), "tab in signature line")
    t.fails(lambda: verify_note(note[:-2] + "!\n", key), "bad base64")
    t.fails(lambda: verify_note(note[:-3] + "=\n" if note[-3] != "=" else note, key),
            "non-canonical / bad base64")
    # A 32-byte value leaves 2 unused bits in the last base64 digit: set one.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    nc = b64(root)
    nc = nc[:-2] + alphabet[alphabet.index(nc[-2]) | 1] + "="
    t.eq(base64.b64decode(nc), root, "non-canonical base64 decodes to the root")
    t.fails(lambda: verify_note(_sign_note(priv, "%s\n8\n%s\n" % (o, nc)), key),
            "non-canonical root base64", "not canonical")
    t.fails(lambda: verify_note(text + "\n" + EM_DASH + " " + o + " AAA=\n", key), "short sig")
    t.fails(lambda: verify_note(text + "\n" + sigline + "\n" + sigline, key), "blank in sigs")
    t.fails(lambda: verify_note(text + "\n" + sigline + odd * MAX_SIGS, key), "too many sigs")
    # Checkpoint body (signed correctly, so that only the body is at fault).
    def signed(body, name=None):
        return _sign_note(priv, body, name=name)
    t.fails(lambda: verify_note(signed("%s\n08\n%s\n" % (o, b64(root))), key), "leading zero")
    t.fails(lambda: verify_note(signed("%s\n+8\n%s\n" % (o, b64(root))), key), "size +8")
    t.fails(lambda: verify_note(signed("%s\n\u0668\n%s\n" % (o, b64(root))), key), "arabic 8")
    t.fails(lambda: verify_note(signed("%s\n%d\n%s\n" % (o, 1 << 64, b64(root))), key), "2^64")
    t.passes(lambda: verify_note(signed("%s\n0\n%s\n" % (o, b64(EMPTY_ROOT))), key), "size 0")
    t.fails(lambda: verify_note(signed("%s\n8\n%s\n" % (o, b64(root[:31]))), key), "31 bytes")
    t.fails(lambda: verify_note(signed("%s\n8\n%s\n" % (o, b64(root).rstrip("="))), key),
            "unpadded root")
    t.fails(lambda: verify_note(signed("%s\n8\n%s\next\n" % (o, b64(root))), key), "extension")
    t.fails(lambda: verify_note(signed("%s\n8\n" % o), key), "two lines")
    t.fails(lambda: verify_note(signed("%s\n8\n%s\x7f\n" % (o, b64(root))), key), "DEL in root")
    t.fails(lambda: verify_note(signed("%s\n8\r\n%s\n" % (o, b64(root))), key), "CR",
            "control character")
    t.fails(lambda: verify_note(signed("a b\n8\n%s\n" % b64(root), name="a"), key), "space")
    t.fails(lambda: verify_note(signed("a+b\n8\n%s\n" % b64(root)), key), "plus in name")
    t.fails(lambda: verify_note(signed("x\n8\n%s\n" % b64(root), name="y"), key, "y"),
            "origin is not the key name", "not the key name")
    t.fails(lambda: verify_note(b"\xff" + note.encode(), key), "not UTF-8")
    t.fails(lambda: verify_note("\ud800" + note, key), "lone surrogate")


def _log_line(fields):
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


class _Gen:
    """A tiny writer of the log format of audit_format.h, built on this file's own MTH (the
    recursive reference, not the streaming Frontier that `log` uses)."""

    def __init__(self, priv, origin, cp_at, rotate_at, total):
        self.priv, self.key, self.origin = priv, Key(priv.public_key()), origin
        self.lines = []
        self.files = [[]]
        self.checkpoints = {}  # size -> note
        nonce = "ab" * 32
        self.add({"seq": 0, "ts": self.ts(0), "event": "header", "v": 2, "nonce": nonce,
                  "origin": origin, "checkpoint_every": 8, "checkpoint_seconds": 60})
        while len(self.lines) < total:
            n = len(self.lines)
            if n in cp_at or n in rotate_at:
                self.checkpoint()
                if n in rotate_at:
                    self.segment()
            else:
                self.add({"seq": n, "prev": self.prev(), "ts": self.ts(n), "event": "stop",
                          "pid": 1000 + n})

    @staticmethod
    def ts(n):
        return "2025-01-01T00:%02d:%02d.%06dZ" % (n // 60 % 60, n % 60, n)

    def prev(self):
        return _sha256(self.lines[-1].encode()).hexdigest()

    def add(self, obj):
        s = _log_line(obj)
        self.lines.append(s)
        self.files[-1].append(s)

    def checkpoint(self):
        n = len(self.lines)
        root = mth([s.encode() for s in self.lines])
        note = _sign_note(self.priv, _checkpoint_text(self.origin, n, root))
        self.checkpoints[n] = note
        self.add({"seq": n, "prev": self.prev(), "ts": self.ts(n), "event": "checkpoint",
                  "covers": n - 1, "head": self.prev(), "key_sha256": self.key.spki_sha256,
                  "tree_size": n, "root": b64(root), "note": note})

    def segment(self):
        n = len(self.lines)  # the final checkpoint is line n - 1, of tree_size n - 1
        leaves = [s.encode() for s in self.lines]
        nodes, start = [], 0
        for s in _frontier_sizes(n):
            nodes.append(b64(mth(leaves[start:start + s])))
            start += s
        first_seq = n - len(self.files[-1])
        self.files.append([])
        self.add({"seq": n, "prev": self.prev(), "ts": self.ts(n), "event": "segment", "v": 2,
                  "origin": self.origin,
                  "previous": {"file": "audit.log.%020d" % first_seq, "first_seq": first_seq,
                               "last_seq": n - 1, "last_sha256": self.prev(),
                               "tree_size": n - 1, "root": b64(mth(leaves[:-1]))},
                  "frontier": nodes, "checkpoint_every": 8, "checkpoint_seconds": 60})

    def write(self, d, files=None, tag=""):
        """Write the segments (first ones gzip-compressed, the live one plain)."""
        files = self.files if files is None else files
        paths, first = [], 0
        for i, lines in enumerate(files):
            data = "".join(s + "\n" for s in lines).encode()
            if i < len(files) - 1:
                p = os.path.join(d, "audit%s.log.%020d.gz" % (tag, first))
                with gzip.open(p, "wb") as f:
                    f.write(data)
            else:
                p = os.path.join(d, "audit%s.log" % tag)
                with open(p, "wb") as f:
                    f.write(data)
            paths.append(p)
            first += len(lines)
        return paths

    def inclusion(self, size, index):
        leaves = [s.encode() for s in self.lines[:size]]
        return {"proof": "inclusion", "origin": self.origin, "tree_size": size, "index": index,
                "line": self.lines[index], "path": [b64(h) for h in path(index, leaves)],
                "checkpoint": self.checkpoints[size]}

    def consistency(self, m, n):
        leaves = [s.encode() for s in self.lines[:n]]
        p = proof(m, leaves) if 0 < m < n else []
        return {"proof": "consistency", "origin": self.origin, "old_size": m, "new_size": n,
                "path": [b64(h) for h in p], "old_checkpoint": self.checkpoints[m],
                "new_checkpoint": self.checkpoints[n]}


def _selftest_log(t, priv, other, d):
    key, okey = Key(priv.public_key()), Key(other.public_key())
    o = "mp-signer.example/audit/selftest"
    # Checkpoints of sizes 1, 2 (powers of two), 5, 8, 13, 16, 21, 32 (final of segment 1),
    # then a segment line at 33; 40, 47 (final of segment 2), segment at 48; 55, 64, 71.
    g = _Gen(priv, o, cp_at={1, 2, 5, 8, 13, 16, 21, 40, 55, 64, 71}, rotate_at={32, 47},
             total=75)
    t.eq(len(g.files), 3, "generator wrote three segments")
    sizes = sorted(g.checkpoints)
    files = g.write(d)
    want = "%d checkpoints OK" % len(sizes)
    t.eq(t.passes(lambda: cmd_log(files, key), "log"), want, "log over all segments")
    t.eq(t.passes(lambda: cmd_log(files, key, o), "log --origin"), want, "log, origin pinned")
    t.fails(lambda: cmd_log(files, key, "other.example/x"), "log, other origin pinned")
    t.fails(lambda: cmd_log(files, okey), "log, wrong key", "no signature by the known key")
    n2 = sum(1 for s in sizes if s >= 48)
    t.eq(t.passes(lambda: cmd_log(files[2:], key), "log from the frontier of segment 3"),
         "%d checkpoints OK" % n2, "log from the last segment alone")
    n1 = sum(1 for s in sizes if 33 <= s)
    t.eq(t.passes(lambda: cmd_log(files[1:], key), "log from segment 2"),
         "%d checkpoints OK" % n1, "log from segment 2")
    t.fails(lambda: cmd_log([files[0], files[2]], key), "segment 2 missing")
    t.fails(lambda: cmd_log([files[1], files[0]], key), "segments out of order")
    # root
    t.eq(t.passes(lambda: cmd_root(files), "root"),
         b64(mth([s.encode() for s in g.lines])), "root over all lines")
    for s in sizes + [0, 3, 33, 75]:
        t.eq(t.passes(lambda: cmd_root(files, s), "root --size %d" % s),
             b64(mth([x.encode() for x in g.lines[:s]])), "root --size %d" % s)
    t.fails(lambda: cmd_root(files, 76), "root --size beyond the end")
    # Tampering with any line before the last checkpoint is detected.
    last_cp = max(sizes)
    for i in (0, 1, 3, 5, 20, 32, 33, 40, 48, 60, last_cp - 1):
        for how in ("byte", "drop", "dup", "swap"):
            lines = list(g.lines)
            if how == "byte":
                s = lines[i]
                j = s.index('"ts":"') + 8
                lines[i] = s[:j] + ("9" if s[j] != "9" else "8") + s[j + 1:]
            elif how == "drop":
                del lines[i]
            elif how == "dup":
                lines.insert(i, lines[i])
            else:
                lines[i], lines[i + 1] = lines[i + 1], lines[i]
            p = os.path.join(d, "tampered.log")
            with open(p, "w", encoding="utf-8") as f:
                f.write("".join(s + "\n" for s in lines))
            t.fails(lambda: cmd_log([p], key), "log with line %d tampered (%s)" % (i, how))
    # A line after the last checkpoint is protected by the chain only, not by a tree head.
    lines = list(g.lines)
    lines[-1] = lines[-1].replace('"pid":', '"pid":9')
    p = os.path.join(d, "tail.log")
    with open(p, "w", encoding="utf-8") as f:
        f.write("".join(s + "\n" for s in lines))
    t.passes(lambda: cmd_log([p], key), "tail after the last checkpoint (chain only)")
    with open(p, "a", encoding="utf-8") as f:
        f.write('{"seq":75,"torn')
    t.fails(lambda: cmd_log([p], key), "torn last line", "no newline")
    t.fails(lambda: cmd_root([p]), "root, torn last line", "no newline")
    # Checkpoint line fields.
    def with_line(i, fn, name):
        lines = list(g.lines)
        obj = json.loads(lines[i])
        fn(obj)
        lines[i] = _log_line(obj)
        q = os.path.join(d, name)
        with open(q, "w", encoding="utf-8") as f:
            f.write("".join(s + "\n" for s in lines))
        return [q]
    i = 13
    t.fails(lambda: cmd_log(with_line(i, lambda x: x.update(tree_size=12), "a.log"), key),
            "checkpoint tree_size differs", "tree_size")
    t.fails(lambda: cmd_log(with_line(i, lambda x: x.update(root=b64(SOME_HASH)), "b.log"),
                            key), "checkpoint root field differs")
    t.fails(lambda: cmd_log(with_line(i, lambda x: x.update(key_sha256="00" * 32), "c.log"),
                            key), "checkpoint key_sha256 differs", "key_sha256")
    t.fails(lambda: cmd_log(with_line(i, lambda x: x.update(note=g.checkpoints[8]), "d.log"),
                            key), "checkpoint note of another size")
    t.fails(lambda: cmd_log(with_line(i, lambda x: x.update(
        note=_sign_note(priv, _checkpoint_text(o, 13, SOME_HASH))), "e.log"), key),
        "checkpoint note signed over a wrong root", "not the root")
    t.fails(lambda: cmd_log(with_line(i, lambda x: x.update(
        note=_sign_note(priv, _checkpoint_text("x.example/y", 13, mth(
            [s.encode() for s in g.lines[:13]])))), "f.log"), key),
        "checkpoint note with another origin")
    t.fails(lambda: cmd_log(with_line(33, lambda x: x["frontier"].reverse(), "g.log"), key),
            "segment frontier reordered", "frontier")
    t.fails(lambda: cmd_log(with_line(33, lambda x: x["previous"].update(root=b64(SOME_HASH)),
                                      "h.log"), key), "segment previous.root", "previous.root")
    seg3 = g.write(d, [g.files[2]], tag="seg3")
    lines = list(g.files[2])
    obj = json.loads(lines[0])
    obj["frontier"][0] = b64(SOME_HASH)
    lines[0] = _log_line(obj)
    p = os.path.join(d, "seg3bad.log")
    with open(p, "w", encoding="utf-8") as f:
        f.write("".join(s + "\n" for s in lines))
    t.passes(lambda: cmd_log(seg3, key), "segment 3 alone")
    t.fails(lambda: cmd_log([p], key), "segment 3 alone, forged frontier", "not the root")
    # Format-1 style or key-less log: no notes.
    p = os.path.join(d, "nocp.log")
    with open(p, "w", encoding="utf-8") as f:
        f.write("".join(s + "\n" for s in g.lines[:1]))
    t.fails(lambda: cmd_log([p], key), "no checkpoints", "no checkpoint")
    t.eq(t.passes(lambda: cmd_log([p], key, allow_none=True), "--allow-none"),
         "0 checkpoints OK", "no checkpoints, allowed")

    # Proof files: every inclusion in every checkpoint, every pair of checkpoints.
    for n in sizes:
        for i in range(n):
            t.passes(lambda: check_proof_obj(g.inclusion(n, i), key),
                     "inclusion %d in %d" % (i, n))
    for a in sizes:
        for b in sizes:
            if a <= b:
                t.passes(lambda: check_proof_obj(g.consistency(a, b), key),
                         "consistency %d -> %d" % (a, b))
            else:
                t.fails(lambda: check_proof_obj(g.consistency(a, b), key),
                        "consistency %d -> %d" % (a, b))
    # Inclusion tampering.
    base = g.inclusion(21, 6)
    def inc(**kw):
        x = dict(base)
        x.update(kw)
        return x
    bp = base["path"]
    for desc, x in [
            ("index + 1", inc(index=7)), ("index - 1", inc(index=5)),
            ("tree_size not the checkpoint's", inc(tree_size=20)),
            ("checkpoint of another size", inc(checkpoint=g.checkpoints[16])),
            ("line changed", inc(line=base["line"].replace('"pid":', '"pid":1'))),
            ("line with newline", inc(line=base["line"] + "\n")),
            ("line of another index", inc(line=g.lines[7])),
            ("path extra hash", inc(path=bp + [bp[0]])), ("path missing hash", inc(path=bp[:-1])),
            ("path reversed", inc(path=bp[::-1])), ("path empty", inc(path=[])),
            ("path prepended", inc(path=[bp[0]] + bp)),
            ("path element flipped", inc(path=[b64(_flip(b64decode_strict(bp[0], "x"), 1))]
                                          + bp[1:])),
            ("path element 31 bytes", inc(path=[b64(b"\0" * 31)] + bp[1:])),
            ("path element unpadded", inc(path=[bp[0].rstrip("=")] + bp[1:])),
            ("path element not a string", inc(path=[1] + bp[1:])),
            ("path not an array", inc(path=bp[0])),
            ("index as string", inc(index="6")), ("index as float", inc(index=6.0)),
            ("index true", inc(index=True)), ("negative index", inc(index=-1)),
            ("origin differs", inc(origin="other.example/log")),
            ("proof kind", inc(proof="consistency")), ("unknown member", inc(extra=1)),
            ("checkpoint by another key", inc(checkpoint=_sign_note(
                other, g.checkpoints[21].split("\n\n")[0] + "\n")))]:
        t.fails(lambda: check_proof_obj(x, key), "inclusion proof: " + desc)
    missing = dict(base)
    del missing["path"]
    t.fails(lambda: check_proof_obj(missing, key), "inclusion proof: missing member")
    t.fails(lambda: check_proof_obj(base, okey), "inclusion proof: wrong key")
    # The seq check: a correctly signed tree whose line 1 claims seq 2.
    lines = [_log_line({"seq": 0, "event": "header"}), _log_line({"seq": 2, "event": "x"}),
             _log_line({"seq": 2, "event": "y"})]
    lb = [s.encode() for s in lines]
    cpn = _sign_note(priv, _checkpoint_text(o, 3, mth(lb)))
    x = {"proof": "inclusion", "origin": o, "tree_size": 3, "index": 1, "line": lines[1],
         "path": [b64(h) for h in path(1, lb)], "checkpoint": cpn}
    t.fails(lambda: check_proof_obj(x, key), "inclusion proof: line seq is not index", "seq")
    x.update(index=2, line=lines[2], path=[b64(h) for h in path(2, lb)])
    t.passes(lambda: check_proof_obj(x, key), "inclusion proof: line seq equal to index")
    x.update(line="not json")
    t.fails(lambda: check_proof_obj(x, key), "inclusion proof: line is not JSON")
    # Consistency tampering.
    cbase = g.consistency(13, 40)
    def con(**kw):
        y = dict(cbase)
        y.update(kw)
        return y
    cp_ = cbase["path"]
    for desc, y in [
            ("sizes swapped", con(old_size=40, new_size=13, old_checkpoint=g.checkpoints[40],
                                  new_checkpoint=g.checkpoints[13])),
            ("old_size not the checkpoint's", con(old_size=12)),
            ("new_size not the checkpoint's", con(new_size=41)),
            ("old checkpoint of another size", con(old_size=16, old_checkpoint=g.checkpoints[16])),
            ("path extra hash", con(path=cp_ + [cp_[0]])), ("path missing", con(path=cp_[:-1])),
            ("path empty", con(path=[])), ("path reversed", con(path=cp_[::-1])),
            ("path element flipped", con(path=cp_[:-1] + [b64(_flip(b64decode_strict(
                cp_[-1], "x"), 1))])),
            ("new checkpoint forged root", con(new_checkpoint=_sign_note(
                priv, _checkpoint_text(o, 40, SOME_HASH)))),
            ("unknown member", con(path2=[]))]:
        t.fails(lambda: check_proof_obj(y, key), "consistency proof: " + desc)
    # m == n: equal roots with an empty path only; a power-of-two old size.
    t.passes(lambda: check_proof_obj(g.consistency(16, 16), key), "consistency 16 -> 16")
    t.fails(lambda: check_proof_obj(dict(g.consistency(16, 16), path=cp_[:1]), key),
            "consistency 16 -> 16 with a hash")
    t.fails(lambda: check_proof_obj(dict(g.consistency(16, 16), new_checkpoint=_sign_note(
        priv, _checkpoint_text(o, 16, SOME_HASH))), key), "16 -> 16, other root (fork)")
    p16 = g.consistency(16, 40)
    t.passes(lambda: check_proof_obj(p16, key), "consistency 16 -> 40")
    t.fails(lambda: check_proof_obj(dict(p16, path=[b64(mth(
        [s.encode() for s in g.lines[:16]]))] + p16["path"]), key),
        "16 -> 40 with first_hash prepended by the prover")
    t.fails(lambda: check_proof_obj(dict(g.consistency(1, 2), path=[]), key), "1 -> 2, no path")
    return files, g


def _selftest_cli(t, priv, d, files, g):
    """The command line: exit codes, output, PEM certificates and public keys."""
    import datetime
    from cryptography.x509.oid import NameOID
    pub_pem = os.path.join(d, "pub.pem")
    with open(pub_pem, "wb") as f:
        f.write(priv.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tlog_check selftest")])
    now = datetime.datetime(2025, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(priv.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(priv, hashes.SHA256()))
    cert_pem = os.path.join(d, "cert.pem")
    with open(cert_pem, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    priv_pem = os.path.join(d, "priv.pem")
    with open(priv_pem, "wb") as f:
        f.write(priv.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    note_f = os.path.join(d, "cp.note")
    with open(note_f, "w", encoding="utf-8") as f:
        f.write(g.checkpoints[21])
    bad_note = os.path.join(d, "bad.note")
    with open(bad_note, "w", encoding="utf-8") as f:
        f.write(g.checkpoints[21].replace("\n21\n", "\n22\n"))
    inc_f = os.path.join(d, "inc.json")
    with open(inc_f, "w", encoding="utf-8") as f:
        json.dump(g.inclusion(21, 20), f)
    con_f = os.path.join(d, "con.json")
    with open(con_f, "w", encoding="utf-8") as f:
        json.dump(g.consistency(5, 64), f)
    dup_f = os.path.join(d, "dup.json")
    with open(dup_f, "w", encoding="utf-8") as f:
        f.write(json.dumps(g.inclusion(21, 20))[:-1] + ', "index": 20}')
    root21 = b64(mth([s.encode() for s in g.lines[:21]]))
    me = os.path.abspath(__file__)

    def run(*args):
        r = subprocess.run([sys.executable, me] + list(args), capture_output=True, text=True)
        return r.returncode, r.stdout, r.stderr

    def expect(rc, out, *args):
        got = run(*args)
        t.eq(got[0], rc, "exit status of %s (stderr %r)" % (" ".join(args[:2]), got[2]))
        if out is not None:
            t.eq(got[1], out, "output of %s" % " ".join(args[:2]))
        if rc == 1:
            t.ok(got[2].startswith("BAD: ") and got[2].count("\n") == 1,
                 "one BAD line on stderr: %r" % got[2])
        return got

    o = g.origin
    expect(0, "%s 21 %s\n" % (o, root21), "note", "--pubkey", pub_pem, note_f)
    expect(0, "%s 21 %s\n" % (o, root21), "note", "--pubkey", cert_pem, note_f)
    expect(1, "", "note", "--pubkey", pub_pem, bad_note)
    expect(0, None, "proof", "--pubkey", cert_pem, inc_f)
    expect(0, None, "proof", "--pubkey", pub_pem, con_f)
    expect(1, "", "proof", "--pubkey", pub_pem, dup_f)
    expect(0, "%d checkpoints OK\n" % len(g.checkpoints), "log", "--pubkey", cert_pem, *files)
    expect(1, "", "log", "--pubkey", cert_pem, files[0], files[2])
    expect(0, root21 + "\n", "root", *files, "--size", "21")
    expect(0, root21 + "\n", "root", "--size", "21", *files)
    expect(2, "", "note", "--pubkey", priv_pem, note_f)
    expect(2, "", "note", "--pubkey", os.path.join(d, "missing.pem"), note_f)
    expect(2, "", "note", note_f)
    expect(2, "", "root", *files, "--size", "-1")
    expect(2, "", "frobnicate")
    expect(2, "", "log", "--pubkey", pub_pem, os.path.join(d, "missing.log"))


def cmd_selftest():
    t = _Self()
    _selftest_merkle(t)
    priv, other = _make_key(), _make_key()
    _selftest_notes(t, priv, other)
    with tempfile.TemporaryDirectory(prefix="tlog_check.") as d:
        files, g = _selftest_log(t, priv, other, d)
        _selftest_cli(t, priv, d, files, g)
    return "selftest OK: %d checks" % t.checks


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def _size_arg(s):
    if not re.fullmatch(r"[0-9]+", s, re.ASCII):
        raise argparse.ArgumentTypeError("not a non-negative integer: %r" % s)
    return int(s)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tlog_check.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("note", help="verify a checkpoint note")
    p.add_argument("--pubkey", required=True)
    p.add_argument("--origin")
    p.add_argument("notefile")
    p = sub.add_parser("proof", help="verify an inclusion or consistency proof file")
    p.add_argument("--pubkey", required=True)
    p.add_argument("--origin")
    p.add_argument("prooffile")
    p = sub.add_parser("root", help="Merkle tree head over log lines")
    p.add_argument("--size", type=_size_arg)
    p.add_argument("files", nargs="+")
    p = sub.add_parser("log", help="verify every checkpoint line of a log")
    p.add_argument("--pubkey", required=True)
    p.add_argument("--origin")
    p.add_argument("--allow-none", action="store_true",
                   help="accept a log without any checkpoint note")
    p.add_argument("files", nargs="+")
    sub.add_parser("selftest", help="test this verifier")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "selftest":
            out = cmd_selftest()
        elif a.cmd == "root":
            out = cmd_root(a.files, a.size)
        else:
            key = load_key(a.pubkey)
            if a.cmd == "note":
                out = cmd_note(a.notefile, key, a.origin)
            elif a.cmd == "proof":
                out = cmd_proof(a.prooffile, key, a.origin)
            else:
                out = cmd_log(a.files, key, a.origin, a.allow_none)
    except Bad as e:
        msg = " ".join(str(e).split("\n"))
        sys.stderr.write("BAD: %s\n" % msg)
        return 1
    except InputError as e:
        sys.stderr.write("ERROR: %s\n" % e)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
