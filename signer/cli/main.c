/* mp-signer: the only program that holds the PIN and talks to the PKCS#11 token. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/json.h"
#include "common/log.h"
#include "common/version.h"
#include "signer/cli/cli.h"
#include "signer/cli/cmds.h"

static const char usage[] =
    "usage: mp-signer COMMAND [OPTIONS]\n"
    "  grant        sign one Maskinporten JWT grant inside the token, print the JWS\n"
    "  serve        the signer daemon: Unix socket, per-caller policy, audit log\n"
    "  request      ask a running signer for one grant, print the JWS\n"
    "  bench        measure the signer (or raw C_Sign with --raw)\n"
    "  key          generate | csr | import-cert | list  (keys that never leave the token)\n"
    "  audit        verify | show  (offline checks of the signing log)\n"
    "  token-init   initialise a developer/CI token (SoftHSM), PINs from files\n"
    "  config       check --config FILE: validate a config, print the effective settings\n"
    "  version      print the version (also --version)\n"
    "Run mp-signer COMMAND --help for the options of a command.\n";

/* No core file may ever hold the PIN or a session secret. */
static void
no_core_dumps(void)
{
    struct rlimit rl = {0, 0};

    setrlimit(RLIMIT_CORE, &rl);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
main(int argc, char **argv)
{
    no_core_dumps();
    mp_json_init();
    /* A network HSM client that loses its peer must not kill the signer with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    mp_log_init("mp-signer", MP_LOG_INFO);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "grant") == 0)
        return cmd_grant(argc - 1, argv + 1);
    if (strcmp(argv[1], "key") == 0)
        return cmd_key(argc - 1, argv + 1);
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "request") == 0)
        return cmd_request(argc - 1, argv + 1);
    if (strcmp(argv[1], "bench") == 0)
        return cmd_bench(argc - 1, argv + 1);
    if (strcmp(argv[1], "audit") == 0)
        return cmd_audit(argc - 1, argv + 1);
    if (strcmp(argv[1], "token-init") == 0)
        return cmd_token_init(argc - 1, argv + 1);
    if (strcmp(argv[1], "config") == 0)
        return cmd_config(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("mp-signer %s\n", mp_version());
        return CLI_OK;
    }
    fprintf(stderr, "mp-signer: unknown command \"%s\"\n%s", argv[1], usage);
    return CLI_USAGE;
}
