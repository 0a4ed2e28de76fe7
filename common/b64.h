/* Base64 (RFC 4648 §4, padded: x5c) and base64url (§5, unpadded: JWS). Decoding is strict:
 * no whitespace, no padding in base64url, non-zero trailing bits rejected. */
#ifndef MP_B64_H
#define MP_B64_H

#include <stddef.h>

#include "common/buf.h"

enum mp_err mp_b64url_encode(struct mp_buf *out, const void *in, size_t len);
enum mp_err mp_b64_encode(struct mp_buf *out, const void *in, size_t len);
/* Appends the decoded bytes; MP_ERR_PARSE on any non-canonical input, and then (as on any
 * failure) out is left as it was. */
enum mp_err mp_b64url_decode(struct mp_buf *out, const char *in, size_t len);
enum mp_err mp_b64_decode(struct mp_buf *out, const char *in, size_t len);

#endif
