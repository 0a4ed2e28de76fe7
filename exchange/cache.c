/* The token cache: one entry per request key, single flight per token kind, LRU when full. */
#include "exchange/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "exchange/issued.h"

#define CACHE_MAX CACHE_MAX_KEYS
#define REFRESH_RETRY_S 5

enum kind { K_MP = 0, K_ALT = 1 };
static const char *const kind_name[2] = {"maskinporten", "altinn"};

struct slot {
    struct xtok tok;
    int fetching; /* a caller is fetching a token nobody may use yet */
    int refreshing; /* a background refresh of a still usable token */
    unsigned long gen;
    int last_failed;
    struct xerr last_err;
    time_t retry_after;
};

struct entry {
    char key[2560];
    struct token_req q;
    struct slot s[2];
    unsigned long long used; /* c->tick at its last lookup: the LRU order */
    int waiters; /* callers asleep in flight_wait: the entry may not be evicted under them */
    struct entry *next;
};

struct cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct entry *head;
    size_t n;
    unsigned long long tick;
    int bg_running;
    struct pipeline *f;
    struct metrics *m;
    struct issued *issued;
};

struct bg_arg {
    struct cache *c;
    struct entry *e;
    enum kind k;
};

static enum mp_err slot_get(struct cache *c, const struct token_req *q, enum kind k,
    struct xtok *out, struct xerr *err);

struct cache *
cache_new(struct pipeline *f, struct metrics *m)
{
    struct cache *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    if ((c->issued = issued_new()) == NULL) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->f = f;
    c->m = m;
    return c;
}

static void
entry_free(struct entry *e)
{
    xtok_clear(&e->s[K_MP].tok);
    xtok_clear(&e->s[K_ALT].tok);
    free(e);
}

void
cache_free(struct cache *c)
{
    struct entry *e, *next;

    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    while (c->bg_running > 0)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    for (e = c->head; e != NULL; e = next) {
        next = e->next;
        entry_free(e);
    }
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    issued_free(c->issued);
    free(c);
}

static time_t
margin(const struct xtok *t)
{
    time_t life = t->exp - t->issued;

    return life / 4 > 60 ? life / 4 : 60;
}

static int
usable(const struct xtok *t, time_t now)
{
    return t->value != NULL && now < t->exp - margin(t);
}

/* Refresh starts a tenth of the lifetime (at least 10 s) before the token stops being served. */
static int
refresh_due(const struct xtok *t, time_t now)
{
    time_t lead = (t->exp - t->issued) / 10 > 10 ? (t->exp - t->issued) / 10 : 10;

    return now >= t->exp - margin(t) - lead;
}

static int
busy(const struct entry *e)
{
    return e->waiters > 0 || e->s[0].fetching || e->s[0].refreshing || e->s[1].fetching ||
        e->s[1].refreshing;
}

/* Drops idle entries whose tokens are no longer usable (called with mu held). */
static void
evict_expired(struct cache *c, time_t now)
{
    struct entry **pp = &c->head, *e;

    while ((e = *pp) != NULL) {
        if (!busy(e) && !usable(&e->s[K_MP].tok, now) && !usable(&e->s[K_ALT].tok, now)) {
            *pp = e->next;
            entry_free(e);
            c->n--;
        } else
            pp = &e->next;
    }
}

/* Drops the least recently used idle entry, valid tokens and all (called with mu held): a
 * caller who asks for many keys must not lock everyone else out until tokens expire. An entry
 * in flight or with waiters stays. Returns 0 if every entry is busy. */
static int
evict_lru(struct cache *c)
{
    struct entry **pp, **victim = NULL, *e;

    for (pp = &c->head; *pp != NULL; pp = &(*pp)->next)
        if (!busy(*pp) && (victim == NULL || (*pp)->used < (*victim)->used))
            victim = pp;
    if (victim == NULL)
        return 0;
    e = *victim;
    *victim = e->next;
    entry_free(e);
    c->n--;
    metrics_cache_evicted(c->m);
    return 1;
}

static struct entry *
entry_get(struct cache *c, const struct token_req *q, const char *key, struct xerr *err)
{
    struct entry *e;

    for (e = c->head; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    if (c->n >= CACHE_MAX)
        evict_expired(c, time(NULL));
    if (c->n >= CACHE_MAX && !evict_lru(c)) {
        xerr_set(err, 503, "temporarily_unavailable", "token cache full (%d keys in flight)",
            CACHE_MAX);
        return NULL;
    }
    if ((e = calloc(1, sizeof(*e))) == NULL) {
        xerr_set(err, 503, "temporarily_unavailable", "out of memory");
        return NULL;
    }
    memcpy(e->key, key, strlen(key) + 1);
    e->q = *q;
    e->q.skip_cache = 0; /* the background refresh asks as usual */
    e->next = c->head;
    c->head = e;
    c->n++;
    return e;
}

static enum mp_err
copy_tok(const struct xtok *from, struct xtok *to, struct xerr *err)
{
    *to = *from;
    if ((to->value = strdup(from->value)) == NULL) {
        xerr_set(err, 503, "temporarily_unavailable", "out of memory");
        return MP_ERR_NOMEM;
    }
    return MP_OK;
}

/* An Altinn token needs a Maskinporten token; if Altinn says 401 to it, one fresh one. */
static enum mp_err
fetch_alt(struct cache *c, const struct token_req *q, struct xtok *out, struct xerr *err)
{
    struct xtok mp;
    int unauth = 0;
    enum mp_err r;

    if ((r = slot_get(c, q, K_MP, &mp, err)) != MP_OK)
        return r;
    r = pipeline_altinn(c->f, mp.value, out, err, &unauth);
    xtok_clear(&mp);
    if (r == MP_OK || !unauth)
        return r;
    mp_warn("Altinn refused the cached Maskinporten token (401): fetching a fresh one once");
    if ((r = pipeline_maskinporten(c->f, q, &mp, err)) != MP_OK)
        return r;
    r = pipeline_altinn(c->f, mp.value, out, err, &unauth);
    xtok_clear(&mp);
    return r;
}

static enum mp_err
fetch_kind(struct cache *c, const struct token_req *q, enum kind k, struct xtok *out,
    struct xerr *err)
{
    return k == K_MP ? pipeline_maskinporten(c->f, q, out, err) : fetch_alt(c, q, out, err);
}

/* Stores the outcome of a flight and wakes its waiters (called with mu held). */
static void
flight_done(struct cache *c, struct slot *s, enum mp_err r, struct xtok *tok,
    const struct xerr *err)
{
    s->gen++;
    s->last_failed = r != MP_OK;
    if (r == MP_OK) {
        issued_add(c->issued, tok->value);
        xtok_clear(&s->tok);
        s->tok = *tok;
        memset(tok, 0, sizeof(*tok));
    } else
        s->last_err = *err;
    pthread_cond_broadcast(&c->cv);
}

static void *
bg_refresh(void *arg)
{
    struct bg_arg *a = arg;
    struct cache *c = a->c;
    struct slot *s = &a->e->s[a->k];
    struct xtok tok;
    struct xerr err;
    enum mp_err r;

    memset(&err, 0, sizeof(err));
    r = fetch_kind(c, &a->e->q, a->k, &tok, &err);
    pthread_mutex_lock(&c->mu);
    if (r != MP_OK) {
        s->retry_after = time(NULL) + REFRESH_RETRY_S;
        mp_warn("background refresh of a %s token failed (%s), the current one stays in use: %s",
            kind_name[a->k], err.code[0] ? err.code : err.error, err.description);
    }
    flight_done(c, s, r, &tok, &err);
    s->refreshing = 0;
    c->bg_running--;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    free(a);
    return NULL;
}

/* Starts a background refresh (called with mu held). */
static void
bg_start(struct cache *c, struct entry *e, enum kind k)
{
    struct bg_arg *a = malloc(sizeof(*a));
    pthread_attr_t attr;
    pthread_t t;

    if (a == NULL)
        return;
    a->c = c;
    a->e = e;
    a->k = k;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, bg_refresh, a) == 0) {
        e->s[k].refreshing = 1;
        c->bg_running++;
    } else
        free(a);
    pthread_attr_destroy(&attr);
}

/* Waits for the flight in progress (called with mu held); MP_ERR_NOTFOUND: look again. */
static enum mp_err
flight_wait(struct cache *c, struct entry *e, struct slot *s, struct xtok *out, struct xerr *err)
{
    unsigned long g = s->gen;

    e->waiters++;
    while (s->gen == g)
        pthread_cond_wait(&c->cv, &c->mu);
    e->waiters--;
    if (s->last_failed) {
        *err = s->last_err;
        return MP_ERR_IO;
    }
    return s->tok.value != NULL ? copy_tok(&s->tok, out, err) : MP_ERR_NOTFOUND;
}

static enum mp_err
slot_get(struct cache *c, const struct token_req *q, enum kind k, struct xtok *out,
    struct xerr *err)
{
    char key[2560];
    struct entry *e;
    struct slot *s;
    struct xtok tok;
    time_t now;
    enum mp_err r;

    memset(out, 0, sizeof(*out));
    if (token_req_key(q, key, sizeof(key)) != MP_OK) {
        xerr_set(err, 400, "invalid_request", "request too large");
        return MP_ERR_TOOBIG;
    }
    pthread_mutex_lock(&c->mu);
    if ((e = entry_get(c, q, key, err)) == NULL) {
        pthread_mutex_unlock(&c->mu);
        return MP_ERR_NOMEM;
    }
    s = &e->s[k];
    for (;;) {
        now = time(NULL);
        e->used = ++c->tick;
        if (usable(&s->tok, now) && !q->skip_cache) {
            if (refresh_due(&s->tok, now) && !s->refreshing && !s->fetching &&
                now >= s->retry_after)
                bg_start(c, e, k);
            r = copy_tok(&s->tok, out, err);
            pthread_mutex_unlock(&c->mu);
            metrics_cache(c->m, kind_name[k], 1);
            return r;
        }
        if (!s->fetching && !s->refreshing)
            break;
        if ((r = flight_wait(c, e, s, out, err)) != MP_ERR_NOTFOUND) {
            pthread_mutex_unlock(&c->mu);
            metrics_cache(c->m, kind_name[k], 1);
            return r;
        }
    }
    s->fetching = 1;
    pthread_mutex_unlock(&c->mu);
    metrics_cache(c->m, kind_name[k], 0);
    memset(&tok, 0, sizeof(tok));
    r = fetch_kind(c, q, k, &tok, err);
    pthread_mutex_lock(&c->mu);
    s->fetching = 0;
    if (r == MP_OK && copy_tok(&tok, out, err) != MP_OK)
        r = MP_ERR_NOMEM;
    flight_done(c, s, r, &tok, err);
    pthread_mutex_unlock(&c->mu);
    xtok_clear(&tok);
    return r;
}

enum mp_err
cache_maskinporten(struct cache *c, const struct token_req *q, struct xtok *out, struct xerr *err)
{
    return slot_get(c, q, K_MP, out, err);
}

enum mp_err
cache_altinn(struct cache *c, const struct token_req *q, struct xtok *out, struct xerr *err)
{
    return slot_get(c, q, K_ALT, out, err);
}

int
cache_issued(struct cache *c, const char *token)
{
    return issued_known(c->issued, token);
}

enum mp_err
cache_render(struct cache *c, struct mp_buf *o)
{
    struct entry *e;
    time_t now = time(NULL);
    int k;
    enum mp_err r = mp_buf_puts(o,
        "# HELP mp_exchange_token_seconds_to_expiry seconds until a cached token expires\n"
        "# TYPE mp_exchange_token_seconds_to_expiry gauge\n");

    pthread_mutex_lock(&c->mu);
    for (e = c->head; e != NULL && r == MP_OK; e = e->next)
        for (k = 0; k < 2 && r == MP_OK; k++)
            if (e->s[k].tok.value != NULL)
                r = mp_buf_putf(o,
                    "mp_exchange_token_seconds_to_expiry{kind=\"%s\",profile=\"%s\","
                    "scope=\"%s\"} %lld\n",
                    kind_name[k], e->q.profile[0] ? e->q.profile : "default", e->q.scope,
                    (long long)(e->s[k].tok.exp - now));
    pthread_mutex_unlock(&c->mu);
    return r;
}
