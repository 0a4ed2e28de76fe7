/* The audit log format: the contract between the writer (audit.c, inside mp-signer serve) and
 * the offline verifier (audit_verify.c, `mp-signer audit verify|show`). Auditors can check it
 * with stock tools too: sha256sum for the chain, openssl dgst for checkpoints.
 *
 * The file is JSON Lines, UTF-8 (in practice ASCII), one object per line, each line ending in
 * "\n". Lines are written once by jansson (JSON_COMPACT, fields in the order below) and never
 * re-serialised: every hash is over the exact bytes of a line WITHOUT its trailing "\n".
 *
 * Line 1, the header (seq 0, no prev):
 *   {"seq":0,"ts":T,"event":"header","v":2,"nonce":"<64 hex: 32 random bytes>","origin":O
 *    [,"checkpoint_every":N,"checkpoint_seconds":S]}      (format 1: "v":1, no origin)
 * The two interval fields are there when the log was created with an audit key: a checkpoint
 * follows at most N records or S seconds after the first unprotected one (and at the first
 * tick after a restart).
 * Every later line starts with seq and prev:
 *   {"seq":N,"prev":"<64 hex: SHA-256 of line N-1, i.e. of the line before>","ts":T,
 *    "event":E, ...}
 * seq increases by exactly one per line. T is UTC "YYYY-MM-DDTHH:MM:SS.uuuuuuZ".
 *
 * Events:
 *   "start"      {"pid":P,"version":"x.y.z","profiles":["default",...]}
 *   "stop"       {"pid":P}
 *   "reload"     {"profiles":[...]}
 *   "recovery"   {"cut_bytes":B,"cut_sha256":"<hex of the removed bytes>",
 *                 "kept_in":"PATH.torn","kept_at":O}  a torn tail cut at start-up: the bytes
 *                after the last complete line, appended first (and synced) to PATH.torn, where
 *                they are the B bytes from offset O. A start-up whose last complete line does
 *                not chain to the line before it (or, alone, is not the header) writes nothing.
 *   "sign"       {"outcome":"granted"|"refused"|"error","reason":"text" (not when granted),
 *                 "caller":{"uid":U,"gid":G,"pid":P,"exe":"/path or ?"},
 *                 "forwarder":{"uid":U,"gid":G,"pid":P,"exe":"…"}  only when a trusted
 *                           forwarder (trusted_forwarders, e.g. mp-exchange) asked on behalf
 *                           of caller: caller is then the end caller it named, whom the
 *                           profile's policy was applied to, and forwarder the socket's peer,
 *                 "profile":"name","client_id":"…","key":"pkcs11:… (no PIN)",
 *                 "cert_sha256":"<hex of the leaf DER>" or null (kid profiles without cert),
 *                 "claims":{"aud","scope","resource":[...],"consumer_org","systemuser_org",
 *                           "systemuser_ref","pid","consent_id","consent_from","iat","exp",
 *                           "jti"}  (absent members omitted; a refused request records what
 *                           was asked). pid, and the number in a consent_from
 *                           "urn:altinn:person:identifier-no:…", are never written: each is
 *                           "hmac-sha256:KEYID:HEX" instead (audit_person.h),
 *                 "jws_sha256":"<hex of the compact JWS bytes>" (granted only; never the JWS)}
 *   "checkpoint" {"covers":C,"head":"<hex>","key_sha256":"<hex>","tree_size":N,
 *                 "root":"<base64>","note":"<C2SP checkpoint, below>"}       (format 2)
 *                covers = seq of the line before this one (C = N-1), head = SHA-256 of that
 *                line (equal to this line's prev), key_sha256 = SHA-256 of the DER
 *                SubjectPublicKeyInfo of the audit key, tree_size = N = C + 1 and root = the
 *                Merkle tree head over lines 0..C (below), note = the signed checkpoint.
 *                Format 1 (logs written before segments): {"covers","head","alg":"RS256",
 *                "key_sha256","sig":"<b64url>"}, sig = RSASSA-PKCS1-v1_5 SHA-256 over
 *                AUDIT_STATEMENT_FMT below (ASCII, three lines each ending in "\n"). Both kinds
 *                verify; a format-1 checkpoint has no tree head.
 *   "segment"    {"v":2,"origin":O,"previous":{"file":F,"first_seq":S,"last_seq":L,
 *                 "last_sha256":"<hex>"[,"tree_size":L,"root":"<base64>"]},
 *                 "frontier":["<base64>",...][,"checkpoint_every":N,"checkpoint_seconds":S]}
 *                the first line of every segment after the first (see Segments). Its prev
 *                is the SHA-256 of the previous segment's last line (seq L, its final
 *                checkpoint, whose tree_size and root are repeated here; a log without an
 *                audit key has no checkpoints and leaves them out); F is that segment's
 *                file name as rotated (no directory, no compression suffix) and S its first
 *                seq. frontier is the Merkle tree over lines 0..L (L + 1 leaves) as its
 *                perfect subtrees, left to right, one per 1-bit of L + 1 from the highest: it
 *                lets a segment's tree heads be recomputed without the segments before it.
 *
 * Strings that come from the caller or its process (caller.exe, forwarder.exe, profile, claims of a refused
 * request, reason) have every byte that is not part of a well-formed UTF-8 character, every
 * control byte, DEL and backslash written as the four characters \xNN (common/text.h), so a
 * line is always whole and valid UTF-8. The signer refuses a request whose fields are not
 * UTF-8 text before policy, and a decision whose record cannot be built whole is refused and
 * recorded as an error line naming only the caller's uid, gid and pid.
 *
 * A checkpoint commits to every line before it through the chain. Lines after the last
 * checkpoint are protected by the chain only: the verifier reports how many, and with the
 * audit key (--cert) refuses a log whose unprotected tail is longer than the writer would
 * ever leave it: more than N + AUDIT_CP_SLACK_LINES lines, or lines of one run spanning more
 * than S + AUDIT_CP_SLACK_SECONDS. N and S come from the header, at most the maxima below,
 * which also stand in for a header without them (a log rebuilt without the key may claim
 * anything). Otherwise deleting every checkpoint and rebuilding seq/prev, or rewriting all
 * lines after the last checkpoint, would verify.
 *
 * Merkle tree (RFC 9162 section 2.1, SHA-256): the leaves are the log's lines in seq order,
 * across all segments, leaf i being line seq i; a leaf's hash is SHA-256(0x00 || the line's
 * bytes without "\n"), an inner node's SHA-256(0x01 || left || right), the split at the
 * largest power of two below the size. The tree of size N holds lines 0..N-1.
 *
 * Checkpoint notes (c2sp.org/tlog-checkpoint, a c2sp.org/signed-note; built, parsed and
 * checked by audit_note.h, the one implementation of what follows):
 *   "<origin>\n<tree size, decimal>\n<base64 root>\n" "\n" "\xe2\x80\x94 <origin> <base64 sig>\n"
 * The origin (the header's or segment line's "origin"; format-1 headers have none and use
 * "mp-signer.invalid/audit/" + the first 16 hex digits of their nonce) is also the key name.
 * The signature's 4 + n bytes are the key ID, then the RSASSA-PKCS1-v1_5 SHA-256 signature
 * made in the token with the audit key over the note text (the three lines, with their
 * newlines). The key ID is SHA-256(origin || 0x0A || 0xFF || AUDIT_NOTE_SIGTYPE || DER
 * SubjectPublicKeyInfo)[:4], big-endian: 0xFF is signed-note's byte for signature types it
 * assigns none, followed, as it recommends, by a longer identifier.
 *
 * Segments: the live segment is the configured path, PATH. Rotation ends it with a checkpoint
 * and renames it PATH.SSSSSSSSSSSSSSSSSSSS (its first seq, 20 digits, so names sort in seq
 * order); it may then be compressed to PATH.SSSS….gz. The next segment, started as
 * PATH.next and renamed to PATH once its segment line is durable, begins with that line.
 * seq never restarts. The header line (seq 0) starts the first segment only. A PATH.next
 * present at start-up holds no record anyone was given (records go to a segment only once it
 * is PATH) and is removed.
 *
 * Nothing inside the file can show that lines were cut off its end, or that someone without
 * the audit key rebuilt the chain and dropped the checkpoints. So for every checkpoint line
 * the signer also logs, to stderr (the journal), "audit log PATH checkpoint: anchor SEQ:HEX",
 * the checkpoint line's own seq and SHA-256; `audit verify --anchor SEQ:HEX` then requires
 * that line, with that hash, to be in the file.
 */
#ifndef MP_AUDIT_FORMAT_H
#define MP_AUDIT_FORMAT_H

#define AUDIT_VERSION 2 /* headers of format 1 verify too */
#define AUDIT_NOTE_SIGTYPE "mp-signer/rsa-pkcs1v15-sha256"
#define AUDIT_ORIGIN_DEFAULT "mp-signer.invalid/audit/"
#define AUDIT_ORIGIN_MAX 128
#define AUDIT_SEGMENT_DIGITS 20
#define AUDIT_MAX_LINE (64 * 1024)
#define AUDIT_STATEMENT_FMT "mp-audit-checkpoint/v1\n%llu\n%s\n"
#define AUDIT_CP_EVERY_MAX 10000
#define AUDIT_CP_SECONDS_MAX 3600
/* One group-commit batch (256 records) can land before the count is looked at, and a restart
 * adds its recovery and start lines before its first checkpoint. */
#define AUDIT_CP_SLACK_LINES 300
/* The checkpoint timer looks once a second; the HSM signature and the write take time too. */
#define AUDIT_CP_SLACK_SECONDS 10

#endif
