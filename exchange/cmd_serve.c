/* mp-exchange serve: daemon glue; SIGTERM/SIGINT stop it, SIGHUP is logged (sigwait). */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/sandbox.h"
#include "exchange/api.h"
#include "exchange/keywatch.h"
#include "exchange/https.h"
#include "exchange/exchange_cmd.h"

static const char serve_usage[] =
    "usage: mp-exchange serve [--config FILE] [--env test|prod] [--maskinporten-url URL]\n"
    "         [--altinn-url URL] [--ca-file PEM] [--signer-socket PATH] [--listen HOST:PORT]\n"
    "         [--listen-unix PATH] [--user NAME] [--verbose]\n"
    "Started as root it drops to --user (or the config's user); user root keeps root on purpose.\n";

static const struct option serve_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"env", required_argument, NULL, 'E'},
    {"maskinporten-url", required_argument, NULL, 'M'},
    {"altinn-url", required_argument, NULL, 'A'},
    {"ca-file", required_argument, NULL, 'C'},
    {"signer-socket", required_argument, NULL, 'S'},
    {"listen", required_argument, NULL, 'L'},
    {"listen-unix", required_argument, NULL, 'U'},
    {"user", required_argument, NULL, 'u'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *const flag_key[] = {"env", "maskinporten_url", "altinn_url", "ca_file",
    "signer_socket", "listen", "listen_unix", "user"};
static const char flag_chars[] = "EMACSLUu";

/* Config first, then the flags on top, so flags override. MP_ERR_HELP or MP_ERR_USAGE when
 * printed; any other error has its message in e. */
static enum mp_err
serve_config(int argc, char **argv, struct exchange_conf *c, struct mp_errmsg *e)
{
    const char *config = NULL, *p;
    enum mp_err r;
    int o;

    opterr = 0;
    while ((o = getopt_long(argc, argv, ":", serve_opts, NULL)) != -1) {
        if (o == 'c')
            config = optarg;
        else if (o == 'v')
            mp_log_set_level(MP_LOG_DEBUG);
        else if (o == 'h') {
            fputs(serve_usage, stdout);
            return MP_ERR_HELP;
        } else if (o == '?' || o == ':') {
            fprintf(stderr, "mp-exchange serve: %s %s\n",
                o == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
            return MP_ERR_USAGE;
        }
    }
    if (config != NULL && (r = exchange_conf_load(c, config, e)) != MP_OK)
        return r;
    optind = 0;
    while ((o = getopt_long(argc, argv, ":", serve_opts, NULL)) != -1)
        if ((p = strchr(flag_chars, o)) != NULL && o != 0 &&
            (r = exchange_conf_set(c, flag_key[p - flag_chars], optarg, e)) != MP_OK)
            return r;
    return exchange_conf_check(c, 1, e);
}

static int
serve_run(struct exchange *x, const sigset_t *set, struct mp_errmsg *e)
{
    struct api *a = NULL;
    struct keywatch *kw = NULL;
    int sig = 0;

    if (mp_sandbox_drop_root(x->conf->user, "mp-exchange", e) != MP_OK)
        return 1;
    if (https_global_init() != MP_OK || (x->metrics = metrics_new()) == NULL ||
        pipeline_init(&x->pipeline, x->conf, x->metrics, e) != MP_OK ||
        (x->cache = cache_new(&x->pipeline, x->metrics)) == NULL || api_start(x, &a, e) != MP_OK ||
        keywatch_start(x, &kw, e) != MP_OK ||
        mp_sandbox_enter((enum mp_sandbox_mode)x->conf->sandbox, e) != MP_OK) {
        if (e->text[0] == '\0')
            mp_errf(e, MP_ERR_NOMEM, "out of memory");
        return 1;
    }
    mp_info("tokens from %s and %s, grants from %s", x->pipeline.token_url, x->pipeline.altinn_url,
        x->conf->signer_socket);
    /* SIGHUP (systemctl reload, a log rotation's postrotate) must not stop a token service:
     * nothing here is re-read, so it says so and keeps serving, with its cache. */
    while (sigwait(set, &sig) != 0 || sig == SIGHUP)
        if (sig == SIGHUP) {
            mp_info("SIGHUP: mp-exchange re-reads nothing; restart it to apply a changed "
                    "config (cached tokens would be fetched again)");
            sig = 0;
        }
    mp_info("signal %d: stopping", sig);
    keywatch_stop(kw);
    api_stop(a);
    return 0;
}

int
exchange_cmd_serve(int argc, char **argv)
{
    struct exchange x;
    struct mp_errmsg e = {{0}};
    sigset_t set;
    enum mp_err r;
    int rc;

    memset(&x, 0, sizeof(x));
    if ((x.conf = exchange_conf_new()) == NULL)
        return 1;
    if ((r = serve_config(argc, argv, x.conf, &e)) != MP_OK) {
        if (r != MP_ERR_HELP && r != MP_ERR_USAGE)
            fprintf(stderr, "mp-exchange: error: %s\n", e.text);
        exchange_conf_free(x.conf);
        return r == MP_ERR_HELP ? 0 : r == MP_ERR_USAGE ? 2 : 1;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if ((rc = serve_run(&x, &set, &e)) != 0)
        fprintf(stderr, "mp-exchange: error: %s\n", e.text);
    cache_free(x.cache);
    metrics_free(x.metrics);
    exchange_conf_free(x.conf);
    return rc;
}
