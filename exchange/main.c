/* mp-exchange: turns grants from mp-signer into Maskinporten and Altinn tokens, caches them and
 * serves them to local programs. It never loads a PKCS#11 module or sees a PIN. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/json.h"
#include "common/log.h"
#include "common/version.h"
#include "exchange/exchange_cmd.h"

static const char usage[] =
    "usage: mp-exchange COMMAND [OPTIONS]\n"
    "  serve     the token service (HTTP on loopback and/or a Unix socket)\n"
    "  token     print a token from a running service (for scripts and CI)\n"
    "  client    Maskinporten clients and keys via the Digdir self-service API\n"
    "  config    check --config FILE: validate a config, print the effective settings\n"
    "  version   print the version (also --version)\n";

int
main(int argc, char **argv)
{
    struct rlimit rl = {0, 0};

    /* Tokens live in this process's memory: no core files. */
    setrlimit(RLIMIT_CORE, &rl);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    mp_json_init();
    mp_log_init("mp-exchange", MP_LOG_INFO);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return exchange_cmd_serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "token") == 0)
        return exchange_cmd_token(argc - 1, argv + 1);
    if (strcmp(argv[1], "client") == 0)
        return exchange_cmd_client(argc - 1, argv + 1);
    if (strcmp(argv[1], "config") == 0)
        return exchange_cmd_config(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("mp-exchange %s\n", mp_version());
        return 0;
    }
    fprintf(stderr, "mp-exchange: unknown command \"%s\"\n%s", argv[1], usage);
    return 2;
}
