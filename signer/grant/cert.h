/* X.509 facts the signer needs from a virksomhetssertifikat. */
#ifndef MP_CERT_H
#define MP_CERT_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/buf.h"

/* The organisation number: SEID 2.0 organizationIdentifier "NTRNO-<orgno>", else a SEID 1.0
 * subject serialNumber of nine digits. out gets 9 digits and a NUL; MP_ERR_NOTFOUND if none. */
enum mp_err cert_orgno(X509 *x, char out[10]);
/* MP_ERR_POLICY with a message when now is outside notBefore..notAfter. */
enum mp_err cert_check_time(X509 *x, time_t now, struct mp_errmsg *e);
/* Seconds from now to notAfter (negative once expired). */
enum mp_err cert_seconds_left(X509 *x, time_t now, long long *secs);
#define CERT_WARN_DAYS 30 /* certificates this close to notAfter are warned about */
/* Every certificate in a PEM file, in file order (intermediates for x5c). At least one. */
enum mp_err cert_load_pem_file(const char *path, STACK_OF(X509) * *out, struct mp_errmsg *e);
/* Checks that chain[0] issued leaf and each chain[i] issued chain[i-1] (names and signature). */
enum mp_err cert_check_chain(X509 *leaf, STACK_OF(X509) * chain, struct mp_errmsg *e);
/* Lowercase hex SHA-256 of the DER: 64 characters and a NUL. */
enum mp_err cert_sha256_hex(X509 *x, char out[65]);
/* Subject as a one-line RFC 2253 string. */
enum mp_err cert_subject(X509 *x, char *out, size_t outlen);
/* A PEM or DER certificate file. */
enum mp_err cert_load_file(const char *path, X509 **out, struct mp_errmsg *e);

#endif
