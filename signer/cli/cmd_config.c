/* mp-signer config check: reads a config as serve would and prints what it means (sshd -T). */
#include <stdio.h>

#include "common/conf.h"
#include "signer/signer_conf.h"
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
    struct signer_conf *c = signer_conf_new();
    int rc = mp_conf_check_cmd("mp-signer", config_usage, argc, argv, &signer_conf_schema, c,
        signer_conf_check);

    signer_conf_free(c);
    return rc;
}
