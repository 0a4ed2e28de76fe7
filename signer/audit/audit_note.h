/* C2SP signed-note checkpoints of the audit log (audit_format.h): the text, the key ID of the
 * audit key under an origin, and the strict parse and check the verifier and proofs share. */
#ifndef MP_AUDIT_NOTE_H
#define MP_AUDIT_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "signer/audit/audit_format.h"
#include "signer/audit/audit_merkle.h"

#define AUDIT_NOTE_MAX 8192
#define AUDIT_NOTE_BODY_MAX (AUDIT_ORIGIN_MAX + 80)

/* What a checkpoint note says. */
struct audit_note {
    char origin[AUDIT_ORIGIN_MAX + 1];
    uint64_t size;
    unsigned char root[MERKLE_HASH_LEN];
};

/* An origin (and key name) the note format allows: 1..AUDIT_ORIGIN_MAX printable ASCII
 * characters, no space, no '+'. */
int audit_origin_valid(const char *s);
/* The origin of a format-1 log, from its header's nonce (64 hex digits). */
void audit_origin_default(const char *nonce_hex, char out[AUDIT_ORIGIN_MAX + 1]);
/* SHA-256(origin || 0x0A || 0xFF || AUDIT_NOTE_SIGTYPE || DER SPKI)[:4]. */
enum mp_err audit_note_key_id(const char *origin, EVP_PKEY *pub, unsigned char id[4]);
/* "origin\nsize\nbase64 root\n": what the audit key signs. */
enum mp_err audit_note_body(const char *origin, uint64_t size, const unsigned char *root,
    char out[AUDIT_NOTE_BODY_MAX]);
/* body, a blank line, and "\xe2\x80\x94 origin base64(id || sig)\n", appended to out. */
enum mp_err audit_note_assemble(const char *body, const char *origin, const unsigned char id[4],
    const unsigned char *sig, size_t siglen, struct mp_buf *out);
/* Parses a note strictly (body of exactly the three lines; every signature line well formed)
 * into out and, when pub is given, requires the signature of the key named origin with pub's
 * key ID to verify. MP_ERR_PARSE (malformed) or MP_ERR_CRYPTO (no good signature), with why
 * set; MP_OK. */
enum mp_err audit_note_open(const char *text, size_t len, EVP_PKEY *pub, struct audit_note *out,
    char *why, size_t whylen);

#endif
