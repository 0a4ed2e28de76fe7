/* jansson, made safe under memory pressure. jansson 2.14 ignores some of its own allocation
 * failures and still returns a result: its lexer drops a byte it could not save (a token parses
 * as a different token) and its dumper drops an object key it could not escape (a JWS header
 * loses "x5c"). Found by tests/alloc. These wrappers count jansson's failed allocations on the
 * calling thread and discard any result made while one failed. */
#ifndef MP_JSON_H
#define MP_JSON_H

#include <stddef.h>

#include <jansson.h>

/* Routes jansson's allocations through the counter. Call once at start, before threads; the
 * wrappers below also call it (safe on one thread). */
void mp_json_init(void);

/* json_loadb; NULL with err->text "out of memory" if any allocation failed while parsing. */
json_t *mp_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err);

/* json_dumps; NULL if any allocation failed while dumping. */
char *mp_json_dumps(const json_t *j, size_t flags);

#endif
