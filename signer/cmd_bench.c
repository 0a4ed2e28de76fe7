/* mp-signer bench: requests through the daemon, or (--raw) C_Sign straight on the token with
 * the same key and concurrency, so the two can be compared in one run. One JSON line out. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/num.h"
#include "common/sclient.h"
#include "pkcs11/hsm.h"
#include "signer/cli.h"
#include "signer/cmds.h"
#include "signer/reqflags.h"
#include "signer/session.h"

static const char bench_usage[] =
    "usage: mp-signer bench --socket PATH [--profile NAME] [--scope S] --requests N\n"
    "         --concurrency C\n"
    "       mp-signer bench --raw --config FILE [--profile NAME] --requests N --concurrency C\n"
    "Prints {\"requests\":N,\"seconds\":S,\"rps\":R,\"p50_us\":…,\"p99_us\":…}.\n";

#define BENCH_MAX_THREADS 256

struct bench {
    const struct reqflags *f;
    size_t n;
    atomic_size_t next;
    atomic_size_t errors;
    double *lat_us;
    const struct hsm_key *key; /* raw mode */
    struct hsm_token *tok;
};

static double
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *
daemon_worker(void *arg)
{
    struct bench *b = arg;
    struct frame_msg *req = malloc(sizeof(*req)), *resp = malloc(sizeof(*resp));
    struct mp_errmsg e;
    size_t i;
    double t0;
    int fd = -1;

    if (req == NULL || resp == NULL || reqflags_frame(b->f, req) != CLI_OK ||
        sclient_connect(b->f->socket, &fd, &e) != MP_OK)
        goto out;
    while ((i = atomic_fetch_add(&b->next, 1)) < b->n) {
        t0 = now_us();
        if (sclient_call(fd, req, resp, &e) != MP_OK || resp->type != FRAME_JWS)
            atomic_fetch_add(&b->errors, 1);
        b->lat_us[i] = now_us() - t0;
    }
out:
    if (fd >= 0)
        close(fd);
    free(req);
    free(resp);
    return NULL;
}

static void *
raw_worker(void *arg)
{
    struct bench *b = arg;
    struct hsm_session *sess = NULL;
    unsigned char data[512], sig[1024];
    size_t i, siglen;
    double t0;

    memset(data, 'x', sizeof(data));
    if (hsm_session_open(b->tok, &sess, NULL) != HSM_OK)
        return NULL;
    while ((i = atomic_fetch_add(&b->next, 1)) < b->n) {
        t0 = now_us();
        siglen = sizeof(sig);
        if (hsm_sign_in(sess, b->key, HSM_SHA256, data, sizeof(data), sig, &siglen, NULL) != HSM_OK)
            atomic_fetch_add(&b->errors, 1);
        b->lat_us[i] = now_us() - t0;
    }
    hsm_session_free(sess);
    return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void
bench_run(struct bench *b, size_t c, void *(*fn)(void *))
{
    pthread_t t[BENCH_MAX_THREADS];
    double t0 = now_us(), secs;
    size_t i, n = b->n;

    for (i = 0; i < c; i++)
        pthread_create(&t[i], NULL, fn, b);
    for (i = 0; i < c; i++)
        pthread_join(t[i], NULL);
    secs = (now_us() - t0) / 1e6;
    qsort(b->lat_us, n, sizeof(double), cmp_double);
    printf("{\"mode\":\"%s\",\"requests\":%zu,\"concurrency\":%zu,\"seconds\":%.3f,\"rps\":%.1f,"
           "\"p50_us\":%.0f,\"p99_us\":%.0f,\"errors\":%zu}\n",
        b->f->raw ? "raw" : "daemon", n, c, secs, (double)n / secs, b->lat_us[n / 2],
        b->lat_us[n * 99 / 100], atomic_load(&b->errors));
}

static enum mp_err
raw_open(struct bench *b, struct sconf **c, struct hsm_module **m, struct hsm_key **k,
    struct mp_errmsg *e)
{
    struct sconf_profile *p;
    enum mp_err r;
    enum hsm_err h;

    if ((r = cli_config(b->f->config, b->f->profile, c, &p, e)) != MP_OK ||
        (r = signer_token_open(*c, p->key, false, m, &b->tok, e)) != MP_OK)
        return r;
    if ((h = hsm_key_find(b->tok, p->key, k, e)) != HSM_OK || (h = hsm_key_check(*k, e)) != HSM_OK)
        return hsm_to_mp(h);
    b->key = *k;
    return MP_OK;
}

int
cmd_bench(int argc, char **argv)
{
    struct reqflags f;
    struct bench b;
    struct sconf *c = NULL;
    struct hsm_module *m = NULL;
    struct hsm_key *k = NULL;
    struct mp_errmsg e = {{0}};
    uint64_t n = 0, conc = 0;
    int rc;

    if ((rc = reqflags_parse("bench", bench_usage, argc, argv, &f)) != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (f.requests == NULL || mp_parse_u64(f.requests, 1, 10000000, &n) != MP_OK ||
        f.concurrency == NULL ||
        mp_parse_u64(f.concurrency, 1, BENCH_MAX_THREADS, &conc) != MP_OK) {
        fprintf(stderr, "mp-signer bench: --requests 1..10000000 and --concurrency 1..%d\n",
            BENCH_MAX_THREADS);
        return CLI_USAGE;
    }
    if (f.scope == NULL)
        f.scope = "altinn:serviceowner/instances.read";
    memset(&b, 0, sizeof(b));
    b.f = &f;
    b.n = (size_t)n;
    if ((b.lat_us = calloc(b.n, sizeof(double))) == NULL) {
        mp_errf(&e, MP_ERR_NOMEM, "out of memory");
        return cli_fail(&e);
    }
    if (f.raw && raw_open(&b, &c, &m, &k, &e) != MP_OK)
        rc = cli_fail(&e);
    else
        bench_run(&b, (size_t)conc, f.raw ? raw_worker : daemon_worker);
    hsm_key_free(k);
    hsm_token_free(b.tok);
    hsm_module_free(m);
    sconf_free(c);
    free(b.lat_us);
    return rc != CLI_OK ? rc : (atomic_load(&b.errors) > 0 ? CLI_FAIL : CLI_OK);
}
