/* The key watcher's thread: one round a second over the keys that are due. */
#include "exchange/keywatch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "exchange/selfservice.h"

#define WATCH_MAX 16

struct keywatch {
    struct exchange *x;
    char url[2048];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

/* The expiry the API gives a key: exp, seconds since the epoch; 0 when it gives none. */
static time_t
key_exp(const json_t *key)
{
    json_t *exp = json_object_get(key, "exp");

    return json_is_integer(exp) ? (time_t)json_integer_value(exp) : 0;
}

static void
check_key(struct keywatch *w, struct selfservice *ss, const struct metrics_key *k)
{
    struct mp_errmsg e = {{0}};
    json_t *keys = NULL;
    const json_t *key;

    if (selfservice_keys(ss, k->client_id, &keys, &e) != MP_OK) {
        mp_warn("key watch: client %s: %s", k->client_id, e.text);
        return;
    }
    /* The gauge first: whoever reads the warning finds the gauge already dropped. */
    key = selfservice_key_find(keys, k->kid);
    metrics_key_expiry(w->x->metrics, k, key != NULL ? key_exp(key) : 0);
    if (key == NULL)
        mp_warn("profile %s: key %s is no longer registered on client %s: its grants will be "
                "refused",
            k->profile, k->kid, k->client_id);
    json_decref(keys);
}

/* The admin token comes from the exchange's own cache, like any caller's. */
static void
round_once(struct keywatch *w)
{
    struct metrics_key due[WATCH_MAX];
    struct selfservice *ss = NULL;
    struct mp_errmsg e = {{0}};
    struct token_req q;
    struct xerr xe;
    struct xtok t;
    size_t n, i;

    n = metrics_keys_due(w->x->metrics, time(NULL), w->x->conf->key_watch_interval_s, due,
        WATCH_MAX);
    if (n == 0)
        return;
    memset(&q, 0, sizeof(q));
    memset(&xe, 0, sizeof(xe));
    memset(&t, 0, sizeof(t));
    if (token_req_set(&q, "profile", w->x->conf->key_watch_profile, &e) != MP_OK ||
        token_req_set(&q, "scope", "idporten:dcr.read", &e) != MP_OK ||
        token_req_finish(&q, &e) != MP_OK) {
        mp_warn("key watch: %s", e.text);
        return;
    }
    if (cache_maskinporten(w->x->cache, &q, &t, &xe) != MP_OK) {
        mp_warn("key watch: admin token for profile %s: %s: %s", w->x->conf->key_watch_profile,
            xe.error, xe.description);
        return;
    }
    if (selfservice_new(w->x->conf, w->url, t.value, &ss, &e) != MP_OK)
        mp_warn("key watch: %s", e.text);
    for (i = 0; ss != NULL && i < n; i++)
        check_key(w, ss, &due[i]);
    selfservice_free(ss);
    xtok_clear(&t);
}

static void *
watch_thread(void *arg)
{
    struct keywatch *w = arg;
    struct timespec deadline;

    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 1;
        pthread_cond_timedwait(&w->cv, &w->mu, &deadline);
        if (w->stop)
            break;
        pthread_mutex_unlock(&w->mu);
        round_once(w);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

enum mp_err
keywatch_start(struct exchange *x, struct keywatch **out, struct mp_errmsg *e)
{
    const struct exchange_conf *c = x->conf;
    struct keywatch *w;
    enum mp_err r;

    *out = NULL;
    if (c->key_watch_profile == NULL)
        return MP_OK;
    if (c->selfservice_url == NULL && c->env[0] == '\0')
        return mp_errf(e, MP_ERR_INVALID,
            "key_watch_profile needs selfservice_url or env (test|prod) to find the API");
    if ((w = calloc(1, sizeof(*w))) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    w->x = x;
    if ((r = selfservice_url(c->selfservice_url, c->env[0] ? c->env : "test", w->url,
             sizeof(w->url), e)) != MP_OK) {
        free(w);
        return r;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return mp_errf(e, MP_ERR_NOMEM, "cannot start the key watch thread");
    }
    mp_info("watching the registered keys of kid grants at %s every %u s (admin profile %s)",
        w->url, c->key_watch_interval_s, c->key_watch_profile);
    *out = w;
    return MP_OK;
}

void
keywatch_stop(struct keywatch *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
