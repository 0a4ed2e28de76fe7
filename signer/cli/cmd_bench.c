/* mp-signer bench: requests through the daemon, or (--raw) C_Sign straight on the token with
 * the same key and concurrency, so the two can be compared in one run. One JSON line out.
 * --raw --sync-file adds what a durable audit log costs on that disk without the daemon: one
 * audit-sized line appended and fdatasync'd per signature, no group commit. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/num.h"
#include "common/signer_client.h"
#include "pkcs11/hsm.h"
#include "signer/cli/cli.h"
#include "signer/cli/cmds.h"
#include "signer/cli/request_opts.h"
#include "signer/grant/signer_token.h"

static const char bench_usage[] =
    "usage: mp-signer bench --socket PATH [--profile NAME] [--scope S] --requests N\n"
    "         --concurrency C [--on-behalf-of UID:GID[:PID[:EXE]]]\n"
    "       mp-signer bench --raw --config FILE [--profile NAME] [--sync-file PATH]\n"
    "         --requests N --concurrency C\n"
    "Prints {\"requests\":N,\"seconds\":S,\"rps\":R,\"p50_us\":…,\"p99_us\":…}.\n";

#define BENCH_MAX_THREADS 256

struct bench {
    const struct request_opts *f;
    const struct frame_msg *req; /* daemon mode: the one request every thread sends */
    size_t n;
    atomic_size_t next;
    atomic_size_t errors;
    double *lat_us;
    const struct hsm_key *key; /* raw mode */
    struct hsm_token *tok;
    int sync_fd; /* raw mode with --sync-file, else -1 */
    pthread_mutex_t mu;
    int setup_failed; /* a thread could not connect or open a session: no figures */
    struct mp_errmsg first; /* the first failure, for the one stderr line */
};

/* Keeps the first failure's text; a thread that cannot start stops the whole run. */
static void
bench_failed(struct bench *b, int setup, const char *why)
{
    pthread_mutex_lock(&b->mu);
    if (b->first.text[0] == '\0')
        snprintf(b->first.text, sizeof(b->first.text), "%.*s", (int)sizeof(b->first.text) - 1, why);
    if (setup) {
        b->setup_failed = 1;
        atomic_store(&b->next, b->n);
    }
    pthread_mutex_unlock(&b->mu);
}

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
    struct frame_msg *resp = malloc(sizeof(*resp));
    struct mp_errmsg e = {{0}};
    size_t i;
    double t0;
    int fd = -1;

    if (resp == NULL) {
        bench_failed(b, 1, "out of memory");
        goto out;
    }
    if (signer_client_connect(b->f->socket, &fd, &e) != MP_OK) {
        bench_failed(b, 1, e.text);
        goto out;
    }
    while ((i = atomic_fetch_add(&b->next, 1)) < b->n) {
        t0 = now_us();
        if (signer_client_call(fd, b->req, resp, &e) != MP_OK) {
            atomic_fetch_add(&b->errors, 1);
            bench_failed(b, 0, e.text);
        } else if (resp->type != FRAME_JWS) {
            atomic_fetch_add(&b->errors, 1);
            bench_failed(b, 0, resp->message);
        }
        b->lat_us[i] = now_us() - t0;
    }
out:
    if (fd >= 0)
        close(fd);
    free(resp);
    return NULL;
}

/* One line the size of a typical audit record (about 700 bytes), made durable. */
static int
raw_sync(int fd)
{
    static const char line[] =
        "{\"event\":\"bench\",\"pad\":\""
        "................................................................................"
        "................................................................................"
        "................................................................................"
        "................................................................................"
        "................................................................................"
        "................................................................................"
        "................................................................................"
        "................................................................................"
        ".............................\"}\n";

    return write(fd, line, sizeof(line) - 1) == (ssize_t)(sizeof(line) - 1) && fdatasync(fd) == 0;
}

static void *
raw_worker(void *arg)
{
    struct bench *b = arg;
    struct hsm_session *sess = NULL;
    struct mp_errmsg e = {{0}};
    unsigned char data[512], sig[1024];
    size_t i, siglen;
    double t0;

    memset(data, 'x', sizeof(data));
    if (hsm_session_open(b->tok, &sess, &e) != HSM_OK) {
        bench_failed(b, 1, e.text);
        return NULL;
    }
    while ((i = atomic_fetch_add(&b->next, 1)) < b->n) {
        t0 = now_us();
        siglen = sizeof(sig);
        if (hsm_sign_in(sess, b->key, HSM_SHA256, data, sizeof(data), sig, &siglen, &e) != HSM_OK) {
            atomic_fetch_add(&b->errors, 1);
            bench_failed(b, 0, e.text);
        } else if (b->sync_fd >= 0 && !raw_sync(b->sync_fd)) {
            atomic_fetch_add(&b->errors, 1);
            bench_failed(b, 0, "--sync-file: write or fdatasync failed");
        }
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

/* Runs the threads and prints the figures; CLI_FAIL with one stderr line when a thread could
 * not start (no figures then) or any request failed (figures, and the first reason). */
static int
bench_run(struct bench *b, size_t c, void *(*fn)(void *))
{
    pthread_t t[BENCH_MAX_THREADS];
    double t0 = now_us(), secs;
    size_t i, started, n = b->n, errors;
    struct mp_errmsg e = {{0}};

    for (started = 0; started < c; started++)
        if (pthread_create(&t[started], NULL, fn, b) != 0) {
            bench_failed(b, 1, "cannot start a bench thread");
            break;
        }
    for (i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    secs = (now_us() - t0) / 1e6;
    if (b->setup_failed) {
        mp_errf(&e, MP_ERR_IO, "%s", b->first.text);
        return cli_fail(&e);
    }
    qsort(b->lat_us, n, sizeof(double), cmp_double);
    printf("{\"mode\":\"%s\",\"requests\":%zu,\"concurrency\":%zu,\"seconds\":%.3f,\"rps\":%.1f,"
           "\"p50_us\":%.0f,\"p99_us\":%.0f,\"errors\":%zu}\n",
        b->sync_fd >= 0 ? "raw+fdatasync"
            : b->f->raw ? "raw"
                        : "daemon",
        n, c, secs, (double)n / secs, b->lat_us[n / 2], b->lat_us[n * 99 / 100],
        (errors = atomic_load(&b->errors)));
    if (errors == 0)
        return CLI_OK;
    mp_errf(&e, MP_ERR_IO, "%zu of %zu requests failed; the first: %s", errors, n, b->first.text);
    return cli_fail(&e);
}

static enum mp_err
raw_open(struct bench *b, struct signer_conf **c, struct hsm_module **m, struct hsm_key **k,
    struct mp_errmsg *e)
{
    struct signer_conf_profile *p;
    enum mp_err r;
    enum hsm_err h;

    if ((r = cli_config(b->f->config, b->f->profile, c, &p, e)) != MP_OK ||
        (r = signer_token_open(*c, p->key, false, m, &b->tok, e)) != MP_OK)
        return r;
    if ((h = hsm_key_find(b->tok, p->key, k, e)) != HSM_OK || (h = hsm_key_check(*k, e)) != HSM_OK)
        return hsm_to_mp(h);
    b->key = *k;
    if (b->f->sync_file != NULL &&
        (b->sync_fd = open(b->f->sync_file, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC,
             0600)) < 0)
        /* A new file only: appending to an audit log given by mistake would break its chain. */
        return mp_errf(e, MP_ERR_IO, "--sync-file %s: %s%s", b->f->sync_file, strerror(errno),
            errno == EEXIST ? " (give a path that does not exist yet)" : "");
    return MP_OK;
}

int
cmd_bench(int argc, char **argv)
{
    enum mp_err pr;
    struct request_opts f;
    struct bench b;
    struct signer_conf *c = NULL;
    struct hsm_module *m = NULL;
    struct hsm_key *k = NULL;
    struct frame_msg *req = NULL;
    struct mp_errmsg e = {{0}};
    uint64_t n = 0, conc = 0;
    int rc;

    if ((pr = request_opts_parse("bench", bench_usage, argc, argv, &f)) != MP_OK)
        return cli_parse_exit(pr);
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
    b.sync_fd = -1;
    pthread_mutex_init(&b.mu, NULL);
    if ((b.lat_us = calloc(b.n, sizeof(double))) == NULL ||
        (!f.raw && (req = malloc(sizeof(*req))) == NULL)) {
        mp_errf(&e, MP_ERR_NOMEM, "out of memory");
        rc = cli_fail(&e);
        goto out;
    }
    /* Checked once, before any thread starts: a bad value is one usage error. */
    if (!f.raw && (rc = request_opts_frame(&f, req)) != CLI_OK)
        goto out;
    b.req = req;
    if (f.raw && raw_open(&b, &c, &m, &k, &e) != MP_OK)
        rc = cli_fail(&e);
    else
        rc = bench_run(&b, (size_t)conc, f.raw ? raw_worker : daemon_worker);
out:
    free(req);
    if (b.sync_fd >= 0)
        close(b.sync_fd);
    hsm_key_free(k);
    hsm_token_free(b.tok);
    hsm_module_free(m);
    signer_conf_free(c);
    free(b.lat_us);
    pthread_mutex_destroy(&b.mu);
    return rc;
}
