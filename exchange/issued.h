/* The tokens this exchange has handed out, remembered by SHA-256 digest with their expiry, so
 * /api/v1/introspect can say whether a token came from here without keeping the token itself
 * (its expiry is read from the token).
 * A fixed ring: past ISSUED_MAX tokens the oldest is forgotten (and then introspects inactive). */
#ifndef MP_ISSUED_H
#define MP_ISSUED_H

#define ISSUED_MAX 4096

struct issued;

struct issued *issued_new(void); /* NULL on allocation failure */
void issued_free(struct issued *s);
/* Remembers a token fetched from upstream. */
void issued_add(struct issued *s, const char *token);
/* 1 when token was handed out here, 0 when not (or forgotten). */
int issued_known(struct issued *s, const char *token);

#endif
