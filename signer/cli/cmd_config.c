/* mp-signer config check: reads a config as serve would and prints what it means (sshd -T). */
#include <stdio.h>

#include "common/conf.h"
#include "signer/cli/cli.h"
#include "signer/cli/cmds.h"

static const char config_usage[] =
    "usage: mp-signer config check --config FILE\n"
    "  Reads FILE as mp-signer serve would and prints the effective settings, defaults\n"
    "  filled in, one \"key = value\" a line (unset ones as \"# key =\"), then each\n"
    "  [profile NAME]. Exit 0: valid; 1: the first error, as FILE:LINE: what; 2: usage.\n"
    "  Only the pin_file path is shown, never the PIN.\n";

int
cmd_config(int argc, char **argv)
{
    struct signer_conf *c = NULL;
    struct mp_errmsg e = {{0}};
    const char *path;
    enum mp_err r;
    int rc = CLI_FAIL;

    if ((r = mp_conf_check_args("mp-signer", config_usage, argc, argv, &path)) != MP_OK)
        return r == MP_ERR_HELP ? CLI_OK : CLI_USAGE;
    if ((c = signer_conf_new()) == NULL) {
        mp_errf(&e, MP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (signer_conf_load(c, path, &e) != MP_OK)
        goto out;
    signer_conf_print(stdout, c);
    rc = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
out:
    if (e.text[0] != '\0')
        cli_fail(&e);
    signer_conf_free(c);
    return rc;
}
