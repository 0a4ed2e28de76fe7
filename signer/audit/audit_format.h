/* The audit log format: the contract between the writer (audit.c, inside mp-signer serve) and
 * the offline verifier (audit_verify.c, `mp-signer audit verify|show`). Auditors can check it
 * with stock tools too: sha256sum for the chain, openssl dgst for checkpoints.
 *
 * The file is JSON Lines, UTF-8 (in practice ASCII), one object per line, each line ending in
 * "\n". Lines are written once by jansson (JSON_COMPACT, fields in the order below) and never
 * re-serialised: every hash is over the exact bytes of a line WITHOUT its trailing "\n".
 *
 * Line 1, the header (seq 0, no prev):
 *   {"seq":0,"ts":T,"event":"header","v":1,"nonce":"<64 hex: 32 random bytes>"
 *    [,"checkpoint_every":N,"checkpoint_seconds":S]}
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
 *   "checkpoint" {"covers":C,"head":"<hex>","alg":"RS256","key_sha256":"<hex>","sig":"<b64url>"}
 *                covers = seq of the line before this one (C = N-1), head = SHA-256 of that
 *                line (equal to this line's prev), key_sha256 = SHA-256 of the DER
 *                SubjectPublicKeyInfo of the audit key, sig = RSASSA-PKCS1-v1_5 SHA-256
 *                signature, made inside the token with the audit key, over the statement
 *                AUDIT_STATEMENT_FMT below (ASCII, three lines each ending in "\n").
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
 * Nothing inside the file can show that lines were cut off its end, or that someone without
 * the audit key rebuilt the chain and dropped the checkpoints. So for every checkpoint line
 * the signer also logs, to stderr (the journal), "audit log PATH checkpoint: anchor SEQ:HEX",
 * the checkpoint line's own seq and SHA-256; `audit verify --anchor SEQ:HEX` then requires
 * that line, with that hash, to be in the file.
 */
#ifndef MP_AUDIT_FORMAT_H
#define MP_AUDIT_FORMAT_H

#define AUDIT_VERSION 1
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
