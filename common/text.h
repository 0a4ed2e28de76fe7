/* Caller-supplied text: a check that it is well-formed UTF-8 without control characters, and
 * an escape that makes any byte string safe to store as a JSON string (the audit log). */
#ifndef MP_TEXT_H
#define MP_TEXT_H

#include <stddef.h>

/* The escape writes at most four bytes ("\xNN") for one input byte. */
#define MP_TEXT_ESCAPED_MAX(n) ((n)*4 + 1)

/* True if s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF) with no C0 control character and no DEL. Otherwise *bad (may be NULL) gets
 * the offset of the first byte at fault. */
int mp_text_clean(const char *s, size_t n, size_t *bad);

/* Copies the NUL-terminated s to out, writing every byte that is not part of a well-formed
 * UTF-8 character, every C0 control byte, DEL and backslash as "\xNN", so that out is valid
 * UTF-8 and an escape cannot be confused with text. Cuts at a character or escape boundary
 * when out is short; out is always NUL-terminated (outlen > 0). Returns the length written. */
size_t mp_text_escape(char *out, size_t outlen, const char *s);

#endif
