/* mp-exchange's Prometheus counters and gauges and their text rendering (metrics.h). */
#include "exchange/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/version.h"

#define MAX_SERIES 64
#define NBUCKETS 9

static const double buckets[NBUCKETS] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

struct counter {
    char a[48], b[48]; /* label values */
    unsigned long long n;
};

struct hist {
    char target[16];
    unsigned long long b[NBUCKETS + 1];
    double sum;
    unsigned long long count;
};

/* The signing certificate behind one profile's grants. */
struct certexp {
    char profile[64];
    time_t not_after;
    time_t warned;
};
#define MAX_CERTS 16
#define CERT_WARN_S (30 * 86400)

/* A key registered at Digdir behind one profile's kid grants. */
struct keyexp {
    struct metrics_key k;
    time_t not_after; /* 0: not read yet, or the API gave no expiry */
    time_t checked, warned;
};
#define MAX_KEYS 16

struct metrics {
    pthread_mutex_t mu;
    struct counter req[MAX_SERIES], cache[8], uerr[MAX_SERIES];
    size_t nreq, ncache, nuerr;
    struct hist up[4];
    size_t nup;
    unsigned long long signer_calls, evicted;
    double skew;
    int have_skew;
    time_t skew_warned;
    int upstream_state;
    struct certexp cert[MAX_CERTS];
    size_t ncert;
    struct keyexp key[MAX_KEYS];
    size_t nkey;
};

struct metrics *
metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));

    if (m != NULL) {
        pthread_mutex_init(&m->mu, NULL);
        m->upstream_state = -1;
    }
    return m;
}

void
metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* Finds or adds the series (a, b); the last slot absorbs overflow so counts are never lost. */
static void
bump(struct counter *c, size_t *n, size_t max, const char *a, const char *b)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (strcmp(c[i].a, a) == 0 && strcmp(c[i].b, b) == 0)
            break;
    if (i == *n) {
        if (*n == max) {
            i = max - 1;
            snprintf(c[i].b, sizeof(c[i].b), "other");
        } else {
            snprintf(c[i].a, sizeof(c[i].a), "%s", a);
            snprintf(c[i].b, sizeof(c[i].b), "%s", b);
            (*n)++;
        }
    }
    c[i].n++;
}

void
metrics_request(struct metrics *m, const char *route, int status)
{
    char s[16];

    snprintf(s, sizeof(s), "%d", status);
    pthread_mutex_lock(&m->mu);
    bump(m->req, &m->nreq, MAX_SERIES, route, s);
    pthread_mutex_unlock(&m->mu);
}

void
metrics_cache_evicted(struct metrics *m)
{
    pthread_mutex_lock(&m->mu);
    m->evicted++;
    pthread_mutex_unlock(&m->mu);
}

void
metrics_cache(struct metrics *m, const char *kind, int hit)
{
    pthread_mutex_lock(&m->mu);
    bump(m->cache, &m->ncache, 8, kind, hit ? "hit" : "miss");
    pthread_mutex_unlock(&m->mu);
}

void
metrics_signer_call(struct metrics *m)
{
    pthread_mutex_lock(&m->mu);
    m->signer_calls++;
    pthread_mutex_unlock(&m->mu);
}

static void
skew_update(struct metrics *m, time_t date)
{
    time_t now = time(NULL);

    m->skew = difftime(now, date);
    m->have_skew = 1;
    /* Maskinporten accepts iat only within 10 s: warn well before that, at most once a minute. */
    if (fabs(m->skew) > 5 && now - m->skew_warned >= 60) {
        m->skew_warned = now;
        mp_warn("this host's clock is %.0f s %s the upstream's Date header: grants may be "
                "rejected (MP-130); check NTP",
            fabs(m->skew), m->skew > 0 ? "ahead of" : "behind");
    }
}

void
metrics_upstream_call(struct metrics *m, const char *target, double seconds, time_t date)
{
    struct hist *h = NULL;
    size_t i;

    pthread_mutex_lock(&m->mu);
    for (i = 0; i < m->nup; i++)
        if (strcmp(m->up[i].target, target) == 0)
            h = &m->up[i];
    if (h == NULL && m->nup < 4) {
        h = &m->up[m->nup++];
        snprintf(h->target, sizeof(h->target), "%s", target);
    }
    if (h != NULL) {
        for (i = 0; i < NBUCKETS && seconds > buckets[i]; i++)
            ;
        h->b[i]++;
        h->sum += seconds;
        h->count++;
    }
    if (date != 0)
        skew_update(m, date);
    pthread_mutex_unlock(&m->mu);
}

void
metrics_upstream_error(struct metrics *m, const char *target, const char *code)
{
    pthread_mutex_lock(&m->mu);
    bump(m->uerr, &m->nuerr, MAX_SERIES, target, code);
    pthread_mutex_unlock(&m->mu);
}

void
metrics_upstream_ok(struct metrics *m, int ok)
{
    pthread_mutex_lock(&m->mu);
    m->upstream_state = ok;
    pthread_mutex_unlock(&m->mu);
}

/* Profile names become label values: only the characters that need no escaping. */
static int
label_safe(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

    return n > 0 && s[n] == '\0';
}

/* Under 30 days to expiry, once a day at most: an SRE reads it, an alert fires on the gauge. */
static int
expiry_warn_due(time_t not_after, time_t now, time_t *warned)
{
    if (not_after - now >= CERT_WARN_S || now - *warned < 86400)
        return 0;
    *warned = now;
    return 1;
}

void
metrics_cert(struct metrics *m, const char *profile, time_t not_after, const char *subject)
{
    struct certexp *c = NULL;
    time_t now = time(NULL);
    size_t i;

    if (!label_safe(profile))
        return;
    pthread_mutex_lock(&m->mu);
    for (i = 0; i < m->ncert; i++)
        if (strcmp(m->cert[i].profile, profile) == 0)
            c = &m->cert[i];
    if (c == NULL && m->ncert < MAX_CERTS) {
        c = &m->cert[m->ncert++];
        snprintf(c->profile, sizeof(c->profile), "%s", profile);
    }
    if (c != NULL) {
        c->not_after = not_after;
        if (expiry_warn_due(not_after, now, &c->warned))
            mp_warn("profile %s: the signer's certificate %s expires in %lld days: a new one "
                    "must be ordered and stored in the token",
                profile, subject, (long long)(not_after - now) / 86400);
    }
    pthread_mutex_unlock(&m->mu);
}

void
metrics_key_seen(struct metrics *m, const char *profile, const char *client_id, const char *kid)
{
    struct keyexp *k;
    size_t i;

    if (!label_safe(profile))
        return;
    pthread_mutex_lock(&m->mu);
    for (i = 0; i < m->nkey; i++) {
        k = &m->key[i];
        if (strcmp(k->k.profile, profile) == 0 && strcmp(k->k.kid, kid) == 0 &&
            strcmp(k->k.client_id, client_id) == 0)
            break;
    }
    if (i == m->nkey && m->nkey < MAX_KEYS) {
        k = &m->key[m->nkey++];
        memset(k, 0, sizeof(*k));
        snprintf(k->k.profile, sizeof(k->k.profile), "%s", profile);
        snprintf(k->k.client_id, sizeof(k->k.client_id), "%s", client_id);
        snprintf(k->k.kid, sizeof(k->k.kid), "%s", kid);
    }
    pthread_mutex_unlock(&m->mu);
}

size_t
metrics_keys_due(struct metrics *m, time_t now, unsigned int interval, struct metrics_key *out,
    size_t max)
{
    size_t i, n = 0;

    pthread_mutex_lock(&m->mu);
    for (i = 0; i < m->nkey && n < max; i++)
        if (m->key[i].checked == 0 || now - m->key[i].checked >= (time_t)interval) {
            m->key[i].checked = now;
            out[n++] = m->key[i].k;
        }
    pthread_mutex_unlock(&m->mu);
    return n;
}

void
metrics_key_expiry(struct metrics *m, const struct metrics_key *key, time_t not_after)
{
    time_t now = time(NULL);
    struct keyexp *k;
    size_t i;

    pthread_mutex_lock(&m->mu);
    for (i = 0; i < m->nkey; i++) {
        k = &m->key[i];
        if (strcmp(k->k.profile, key->profile) != 0 || strcmp(k->k.kid, key->kid) != 0)
            continue;
        k->not_after = not_after;
        if (not_after != 0 && expiry_warn_due(not_after, now, &k->warned))
            mp_warn("profile %s: key %s registered on client %s expires in %lld days: any "
                    "write of the client's key set renews it (mp-exchange client keys add or "
                    "remove), or register a new key",
                k->k.profile, k->k.kid, k->k.client_id, (long long)(not_after - now) / 86400);
    }
    pthread_mutex_unlock(&m->mu);
}

static enum mp_err
render_keys(const struct metrics *m, struct mp_buf *o)
{
    time_t now = time(NULL);
    enum mp_err r = MP_OK;
    int head = 0;
    size_t i;

    for (i = 0; i < m->nkey && r == MP_OK; i++) {
        if (m->key[i].not_after == 0)
            continue;
        if (!head++)
            r = mp_buf_puts(o,
                "# HELP mp_exchange_registered_key_expiry_seconds seconds until the key behind a "
                "profile's kid grants expires at Digdir (one year after upload)\n"
                "# TYPE mp_exchange_registered_key_expiry_seconds gauge\n");
        if (r == MP_OK)
            r = mp_buf_putf(o,
                "mp_exchange_registered_key_expiry_seconds{profile=\"%s\",kid=\"%s\"} %lld\n",
                m->key[i].k.profile, m->key[i].k.kid, (long long)(m->key[i].not_after - now));
    }
    return r;
}

static enum mp_err
render_certs(const struct metrics *m, struct mp_buf *o)
{
    time_t now = time(NULL);
    enum mp_err r = MP_OK;
    size_t i;

    if (m->ncert > 0)
        r = mp_buf_puts(o,
            "# HELP mp_exchange_certificate_expiry_seconds seconds until the signing "
            "certificate (x5c of the last grant) expires, by profile\n"
            "# TYPE mp_exchange_certificate_expiry_seconds gauge\n");
    for (i = 0; i < m->ncert && r == MP_OK; i++)
        r = mp_buf_putf(o, "mp_exchange_certificate_expiry_seconds{profile=\"%s\"} %lld\n",
            m->cert[i].profile, (long long)(m->cert[i].not_after - now));
    return r;
}

int
metrics_upstream_state(struct metrics *m)
{
    int s;

    pthread_mutex_lock(&m->mu);
    s = m->upstream_state;
    pthread_mutex_unlock(&m->mu);
    return s;
}

static enum mp_err
render_hist(const struct hist *h, struct mp_buf *o)
{
    unsigned long long cum = 0;
    size_t i;
    enum mp_err r = MP_OK;

    for (i = 0; i < NBUCKETS && r == MP_OK; i++) {
        cum += h->b[i];
        r = mp_buf_putf(o, "mp_exchange_upstream_seconds_bucket{target=\"%s\",le=\"%g\"} %llu\n",
            h->target, buckets[i], cum);
    }
    cum += h->b[NBUCKETS];
    if (r == MP_OK)
        r = mp_buf_putf(o,
            "mp_exchange_upstream_seconds_bucket{target=\"%s\",le=\"+Inf\"} %llu\n"
            "mp_exchange_upstream_seconds_sum{target=\"%s\"} %.6f\n"
            "mp_exchange_upstream_seconds_count{target=\"%s\"} %llu\n",
            h->target, cum, h->target, h->sum, h->target, h->count);
    return r;
}

static enum mp_err
render_counters(struct mp_buf *o, const char *name, const char *help, const char *la,
    const char *lb, const struct counter *c, size_t n)
{
    size_t i;
    enum mp_err r = mp_buf_putf(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);

    for (i = 0; i < n && r == MP_OK; i++)
        r = mp_buf_putf(o, "%s{%s=\"%s\",%s=\"%s\"} %llu\n", name, la, c[i].a, lb, c[i].b, c[i].n);
    return r;
}

enum mp_err
metrics_render(struct metrics *m, struct mp_buf *o)
{
    size_t i;
    enum mp_err r;

    pthread_mutex_lock(&m->mu);
    /* The Prometheus convention: a constant 1 whose label says which build answers. */
    r = mp_buf_putf(o,
        "# HELP mp_exchange_build_info the running build (version from mp-exchange --version)\n"
        "# TYPE mp_exchange_build_info gauge\n"
        "mp_exchange_build_info{version=\"%s\"} 1\n",
        mp_version());
    if (r == MP_OK)
        r = render_counters(o, "mp_exchange_requests_total", "HTTP requests by route and status",
            "route", "status", m->req, m->nreq);
    if (r == MP_OK)
        r = render_counters(o, "mp_exchange_cache_total", "token cache lookups", "kind", "result",
            m->cache, m->ncache);
    if (r == MP_OK)
        r = mp_buf_putf(o,
            "# HELP mp_exchange_cache_evictions_total entries with valid tokens dropped, least "
            "recently used first, to make room for a new key\n"
            "# TYPE mp_exchange_cache_evictions_total counter\n"
            "mp_exchange_cache_evictions_total %llu\n",
            m->evicted);
    if (r == MP_OK)
        r = render_counters(o, "mp_exchange_upstream_errors_total",
            "upstream errors by target and code (MP code, HTTP class or transport)", "target",
            "code", m->uerr, m->nuerr);
    if (r == MP_OK)
        r = mp_buf_putf(o,
            "# HELP mp_exchange_signer_grants_total grants asked of mp-signer\n"
            "# TYPE mp_exchange_signer_grants_total counter\n"
            "mp_exchange_signer_grants_total %llu\n"
            "# HELP mp_exchange_upstream_seconds upstream call latency\n"
            "# TYPE mp_exchange_upstream_seconds histogram\n",
            m->signer_calls);
    for (i = 0; i < m->nup && r == MP_OK; i++)
        r = render_hist(&m->up[i], o);
    if (r == MP_OK && m->have_skew)
        r = mp_buf_putf(o,
            "# HELP mp_exchange_clock_skew_seconds local clock minus upstream Date header\n"
            "# TYPE mp_exchange_clock_skew_seconds gauge\n"
            "mp_exchange_clock_skew_seconds %.0f\n",
            m->skew);
    if (r == MP_OK)
        r = render_certs(m, o);
    if (r == MP_OK)
        r = render_keys(m, o);
    pthread_mutex_unlock(&m->mu);
    return r;
}
