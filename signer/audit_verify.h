/* Offline verification of the audit log (format in audit_format.h). */
#ifndef MP_AUDIT_VERIFY_H
#define MP_AUDIT_VERIFY_H

#include <openssl/evp.h>

#include "common/err.h"

/* What the verifier saw: plain data for the one-line verdict. */
struct audit_report {
    unsigned long long lines;
    unsigned long long granted, refused, errors;
    unsigned long long checkpoints, checkpoints_verified;
    unsigned long long last_covers; /* seq covered by the last checkpoint */
    unsigned long long after_checkpoint; /* lines after the last checkpoint */
    unsigned long long bad_line; /* 1-based; 0 when the log is good */
    char reason[256];
};

/* Checks line 1 is the header; every later line's seq is the previous + 1 and its prev is
 * the SHA-256 of the previous line; every line ends in "\n"; each checkpoint covers the line
 * before it and, when pub is given, is signed by that key (key_sha256 must match too).
 * MP_OK: good. MP_ERR_CRYPTO: bad, with bad_line and reason set. Others: could not read. */
enum mp_err audit_verify_file(const char *path, EVP_PKEY *pub, struct audit_report *out,
    struct mp_errmsg *e);

/* The same over bytes in memory (the fuzz target's entry). */
enum mp_err audit_verify_buffer(const char *buf, size_t len, EVP_PKEY *pub,
    struct audit_report *out, struct mp_errmsg *e);

#endif
