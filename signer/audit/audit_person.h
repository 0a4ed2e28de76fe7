/* How the audit log names a person: never by the national identity number itself, but by
 * "hmac-sha256:KEYID:HEX", HMAC-SHA256 under audit_person_key_file's secret (KEYID: the first
 * 16 hex digits of SHA-256 of that secret). A salted hash whose salt sat in the log would fall
 * to a search of the ~10^9 valid numbers; a keyed one cannot be searched without the key. An
 * auditor given the key (mp-signer audit person-hmac) computes the mark of the number they
 * ask about and finds it in the log with grep. */
#ifndef MP_AUDIT_PERSON_H
#define MP_AUDIT_PERSON_H

#include <stddef.h>

#include "common/secret.h"

/* "hmac-sha256:" + 16 + ":" + 64 + NUL */
#define AUDIT_PERSON_MARK_MAX 96

/* The mark of pid under key, or "withheld (no audit_person_key_file)" when key is NULL. */
void audit_person_mark(const struct mp_secret *key, const char *pid,
    char out[AUDIT_PERSON_MARK_MAX]);

#endif
