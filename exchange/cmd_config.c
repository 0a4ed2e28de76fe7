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

int
exchange_cmd_config(int argc, char **argv)
{
    struct exchange_conf *c = NULL;
    struct mp_errmsg e = {{0}};
    const char *path;
    enum mp_err r;
    int rc = 1;

    if ((r = mp_conf_check_args("mp-exchange", config_usage, argc, argv, &path)) != MP_OK)
        return r == MP_ERR_HELP ? 0 : 2;
    if ((c = exchange_conf_new()) == NULL) {
        mp_errf(&e, MP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (exchange_conf_load(c, path, &e) != MP_OK)
        goto out;
    /* The combination has no line of its own: the file names it. */
    if (exchange_conf_check(c, 1, &e) != MP_OK) {
        mp_err_prefix(&e, "%s", path);
        goto out;
    }
    exchange_conf_print(stdout, c);
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    if (e.text[0] != '\0')
        fprintf(stderr, "mp-exchange: error: %s\n", e.text);
    exchange_conf_free(c);
    return rc;
}
