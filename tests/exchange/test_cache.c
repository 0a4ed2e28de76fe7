/* exchange/cache.c against a stub pipeline: a full cache of valid tokens makes room for a new
 * key by evicting the least recently used idle entry, and answers 503 only when every entry is
 * in flight. The stub counts fetches per scope "sN" and can hold fetches until released. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exchange/cache.h"

#define NKEYS (CACHE_MAX_KEYS + 44) /* 300 */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int fetches[NKEYS + 1];
static int hold, held;

/* The stub pipeline: one token an hour long per request, counted by its scope's number. */
enum mp_err
pipeline_maskinporten(struct pipeline *f, const struct token_req *q, struct xtok *out,
    struct xerr *err)
{
    unsigned long n = strtoul(q->scope + 1, NULL, 10);
    char v[32];

    (void)f;
    (void)err;
    pthread_mutex_lock(&mu);
    fetches[n <= NKEYS ? n : NKEYS]++;
    held++;
    pthread_cond_broadcast(&cv);
    while (hold)
        pthread_cond_wait(&cv, &mu);
    held--;
    pthread_mutex_unlock(&mu);
    snprintf(v, sizeof(v), "tok-%lu", n);
    memset(out, 0, sizeof(*out));
    out->value = strdup(v);
    out->issued = time(NULL);
    out->exp = out->issued + 3600;
    return out->value != NULL ? MP_OK : MP_ERR_NOMEM;
}

enum mp_err
pipeline_altinn(struct pipeline *f, const char *mp_token, struct xtok *out, struct xerr *err,
    int *unauthorised)
{
    (void)f;
    (void)mp_token;
    (void)out;
    *unauthorised = 0;
    xerr_set(err, 502, "server_error", "no Altinn in this test");
    return MP_ERR_IO;
}

void
xtok_clear(struct xtok *t)
{
    free(t->value);
    memset(t, 0, sizeof(*t));
}

void
xerr_set(struct xerr *err, int status, const char *error, const char *fmt, ...)
{
    va_list ap;

    memset(err, 0, sizeof(*err));
    err->status = status;
    snprintf(err->error, sizeof(err->error), "%s", error);
    va_start(ap, fmt);
    vsnprintf(err->description, sizeof(err->description), fmt, ap);
    va_end(ap);
}

struct fixture {
    struct metrics *m;
    struct cache *c;
};

static int
setup(void **state)
{
    static struct fixture fx;

    memset(fetches, 0, sizeof(fetches));
    fx.m = metrics_new();
    fx.c = cache_new(NULL, fx.m);
    *state = &fx;
    return fx.m != NULL && fx.c != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    cache_free(fx->c);
    metrics_free(fx->m);
    return 0;
}

/* The token for scope "sN", or the error status (0 on success). */
static int
get(struct cache *c, int n)
{
    struct token_req q;
    struct xtok t;
    struct xerr err;
    struct mp_errmsg e;
    enum mp_err r;

    memset(&q, 0, sizeof(q));
    memset(&err, 0, sizeof(err));
    snprintf(q.scope, sizeof(q.scope), "s%d", n);
    assert_int_equal(token_req_finish(&q, &e), MP_OK);
    r = cache_maskinporten(c, &q, &t, &err);
    if (r != MP_OK)
        return err.status;
    xtok_clear(&t);
    return 0;
}

static void
full_cache_evicts_the_least_recently_used(void **state)
{
    struct fixture *fx = *state;
    int i;

    for (i = 0; i < CACHE_MAX_KEYS; i++)
        assert_int_equal(get(fx->c, i), 0);
    assert_int_equal(get(fx->c, 0), 0); /* a hit: key 0 is now the most recent */
    assert_int_equal(fetches[0], 1);
    assert_int_equal(get(fx->c, CACHE_MAX_KEYS), 0); /* used to be 503 "token cache full" */
    assert_int_equal(get(fx->c, 0), 0);
    assert_int_equal(fetches[0], 1); /* kept */
    assert_int_equal(get(fx->c, 1), 0);
    assert_int_equal(fetches[1], 2); /* the LRU one went, and comes back with a fetch */
    for (i = CACHE_MAX_KEYS + 1; i < NKEYS; i++)
        assert_int_equal(get(fx->c, i), 0);
    assert_int_equal(get(fx->c, NKEYS - 1), 0);
    assert_int_equal(fetches[NKEYS - 1], 1);
}

static void *
getter(void *arg)
{
    struct fixture *fx = ((void **)arg)[0];
    intptr_t n = (intptr_t)((void **)arg)[1];

    return (void *)(intptr_t)get(fx->c, (int)n);
}

/* Every entry in flight: a new key cannot take one, 503; once they land, it can. */
static void
all_in_flight_is_503(void **state)
{
    static void *args[CACHE_MAX_KEYS][2];
    pthread_t t[CACHE_MAX_KEYS];
    void *rv;
    int i;

    pthread_mutex_lock(&mu);
    hold = 1;
    pthread_mutex_unlock(&mu);
    for (i = 0; i < CACHE_MAX_KEYS; i++) {
        args[i][0] = *state;
        args[i][1] = (void *)(intptr_t)i;
        assert_int_equal(pthread_create(&t[i], NULL, getter, args[i]), 0);
    }
    pthread_mutex_lock(&mu);
    while (held < CACHE_MAX_KEYS)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    assert_int_equal(get(((struct fixture *)*state)->c, NKEYS), 503);
    pthread_mutex_lock(&mu);
    hold = 0;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (i = 0; i < CACHE_MAX_KEYS; i++) {
        assert_int_equal(pthread_join(t[i], &rv), 0);
        assert_int_equal((intptr_t)rv, 0);
    }
    assert_int_equal(get(((struct fixture *)*state)->c, NKEYS), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(full_cache_evicts_the_least_recently_used, setup, teardown),
        cmocka_unit_test_setup_teardown(all_in_flight_is_503, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
