/* mp-signer serve: daemon glue. Signals are taken synchronously by the main thread (sigwait),
 * so no handler runs inside a library call: SIGHUP reloads profiles, SIGUSR1 rotates the audit
 * log, SIGTERM/SIGINT drain and stop. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "signer/cli/cli.h"
#include "signer/cli/cmds.h"
#include "signer/daemon/server.h"

static const char serve_usage[] =
    "usage: mp-signer serve --config FILE [--verbose]\n"
    "Runs the signer on the config's Unix socket. SIGHUP reloads profiles, SIGUSR1 rotates the\n"
    "audit log, SIGTERM stops.\n";

enum { S_CONFIG = 256, S_VERBOSE, S_HELP };

static const struct option serve_opts[] = {
    {"config", required_argument, NULL, S_CONFIG},
    {"verbose", no_argument, NULL, S_VERBOSE},
    {"help", no_argument, NULL, S_HELP},
    {NULL, 0, NULL, 0},
};

static int
serve_loop(struct server *s, const sigset_t *set)
{
    struct mp_errmsg e = {{0}};
    int sig = 0;

    for (;;) {
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig == SIGUSR1) {
            mp_info("SIGUSR1: rotating the audit log");
            server_rotate(s);
            continue;
        }
        if (sig == SIGHUP) {
            if (server_reload(s, &e) != MP_OK)
                mp_error("reload failed, keeping the previous profiles: %s", e.text);
            continue;
        }
        mp_info("signal %d: draining requests and stopping", sig);
        return CLI_OK;
    }
}

int
cmd_serve(int argc, char **argv)
{
    const char *config = NULL;
    struct server *s = NULL;
    struct mp_errmsg e = {{0}};
    sigset_t set;
    int c, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", serve_opts, NULL)) != -1) {
        if (c == S_CONFIG)
            config = optarg;
        else if (c == S_VERBOSE)
            mp_log_set_level(MP_LOG_DEBUG);
        else if (c == S_HELP) {
            fputs(serve_usage, stdout);
            return CLI_OK;
        } else
            return cli_parse_exit(cli_bad_option("serve", c, optopt, argv, optind));
    }
    if (config == NULL || optind < argc) {
        fputs(serve_usage, stderr);
        return CLI_USAGE;
    }
    /* Blocked before any thread exists, so every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* Over a file-size limit write(2) must fail with EFBIG (and fail closed), not kill us. */
    signal(SIGXFSZ, SIG_IGN);
    if (server_open(config, &s, &e) != MP_OK || server_start(s, &e) != MP_OK) {
        rc = cli_fail(&e);
        server_shutdown(s);
        return rc;
    }
    rc = serve_loop(s, &set);
    server_shutdown(s);
    mp_info("stopped");
    return rc;
}
