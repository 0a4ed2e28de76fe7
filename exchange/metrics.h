/* Prometheus metrics of mp-exchange: requests by route and status, cache hits and misses,
 * upstream calls and latency by target, upstream errors by code, signer calls, clock skew
 * against upstream Date headers, and (at scrape time) seconds to expiry of cached tokens. */
#ifndef MP_METRICS_H
#define MP_METRICS_H

#include <time.h>

#include "common/buf.h"

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
void metrics_request(struct metrics *m, const char *route, int status);
void metrics_cache(struct metrics *m, const char *kind, int hit);
/* A cache entry holding valid tokens made room for a new key (LRU). */
void metrics_cache_evicted(struct metrics *m);
void metrics_signer_call(struct metrics *m);
/* date: the upstream's Date header (0 if none), for the clock-skew gauge. */
void metrics_upstream_call(struct metrics *m, const char *target, double seconds, time_t date);
void metrics_upstream_error(struct metrics *m, const char *target, const char *code);
/* Last upstream outcome for readiness: 1 ok, 0 failing, -1 none yet. */
int metrics_upstream_state(struct metrics *m);
void metrics_upstream_ok(struct metrics *m, int ok);
/* The certificate in the x5c of a grant for profile ("default" when the request named none):
 * its expiry becomes a gauge, and under 30 days a daily warning. */
void metrics_cert(struct metrics *m, const char *profile, time_t not_after, const char *subject);
/* A registered key behind kid grants (ids are [A-Za-z0-9._-]). */
struct metrics_key {
    char profile[64];
    char client_id[64];
    char kid[65];
};
/* A kid grant for profile went through: its key is watched from now on (16 at most). */
void metrics_key_seen(struct metrics *m, const char *profile, const char *client_id,
    const char *kid);
/* The watched keys not checked within interval seconds, marked checked now; up to max. */
size_t metrics_keys_due(struct metrics *m, time_t now, unsigned int interval,
    struct metrics_key *out, size_t max);
/* What the self-service API says of the key: its expiry (0: it said none); under 30 days a
 * daily warning. */
void metrics_key_expiry(struct metrics *m, const struct metrics_key *key, time_t not_after);
/* Appends the exposition text (without token gauges, which the cache adds). */
enum mp_err metrics_render(struct metrics *m, struct mp_buf *out);

#endif
