/* The token cache. Key = (profile, sorted scopes, resources, consumer_org, system user); each
 * entry holds a Maskinporten token and the Altinn token exchanged from it, each with its own
 * expiry. A token is served until it is within max(60 s, lifetime/4) of exp and refreshed in
 * the background a little before that, so callers never wait on a warm key. Single flight:
 * concurrent misses on one key wait for one fetch. Errors are never cached as tokens: they
 * reach the callers that waited for that fetch, and the next caller tries again. */
#ifndef MP_CACHE_H
#define MP_CACHE_H

#include "common/buf.h"
#include "exchange/pipeline.h"

struct cache;

/* Keys held at once. When all hold tokens, a new key evicts the least recently used entry that
 * nobody is fetching or waiting on; a 503 "token cache full" only when every entry is. */
#define CACHE_MAX_KEYS 256

struct cache *cache_new(struct pipeline *f, struct metrics *m);
/* Waits for background refreshes, then wipes and frees every token. */
void cache_free(struct cache *c);
/* A copy of the Maskinporten token for q (xtok_clear it). */
enum mp_err cache_maskinporten(struct cache *c, const struct token_req *q, struct xtok *out,
    struct xerr *err);
/* A copy of the Altinn token for q. */
enum mp_err cache_altinn(struct cache *c, const struct token_req *q, struct xtok *out,
    struct xerr *err);
/* 1 when this cache fetched token (one of the last ISSUED_MAX), for introspection. */
int cache_issued(struct cache *c, const char *token);
/* Appends seconds-to-expiry gauges of the cached tokens. */
enum mp_err cache_render(struct cache *c, struct mp_buf *out);

#endif
