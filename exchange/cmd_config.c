/* mp-exchange config check: reads a config as serve would and prints what it means (sshd -T). */
#include <stdio.h>

#include "common/conf.h"
#include "exchange/exchange_cmd.h"
#include "exchange/exchange_conf.h"

static const char config_usage[] =
    "usage: mp-exchange config check --config FILE\n"
    "  Reads FILE as mp-exchange serve would, checks it as serve does (URLs, signer_socket,\n"
    "  something to listen on) and prints the effective settings, defaults filled in, one\n"
    "  \"key = value\" a line (unset ones as \"# key =\").\n"
    "  Exit 0: valid; 1: the first error, as FILE:LINE: what (or FILE: what); 2: usage.\n";

/* What serve insists on beyond the file's own lines. */
static enum mp_err
check_serve(const void *obj, struct mp_errmsg *e)
{
    return exchange_conf_check(obj, 1, e);
}

int
exchange_cmd_config(int argc, char **argv)
{
    struct exchange_conf *x = exchange_conf_new();
    int rc;

    rc = mp_conf_check_cmd("mp-exchange", config_usage, argc, argv, &exchange_conf_schema, x,
        check_serve);
    exchange_conf_free(x);
    return rc;
}
