/* mp-signer request: ask a running signer for one grant (same output contract as grant). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/signer_client.h"
#include "signer/cli/cli.h"
#include "signer/cli/cmds.h"
#include "signer/cli/request_opts.h"

static const char request_usage[] =
    "usage: mp-signer request --socket PATH [--profile NAME] --scope \"A B\" [--resource URI]...\n"
    "         [--consumer-org ORGNO] [--systemuser-org ORGNO] [--systemuser-ref REF]\n"
    "         [--lifetime 1..120] [--on-behalf-of UID:GID[:PID[:EXE]]]\n"
    "         [--pid NUMBER] [--consent-id UUID --consent-from URN]\n"
    "Asks mp-signer serve for one grant and prints the JWS on stdout.\n"
    "--pid puts a person's national identity number in the grant (profile: allow_pid);\n"
    "--consent-id and --consent-from name an Altinn consent (profile: allow_consent).\n"
    "--on-behalf-of asks as a forwarder for that end caller: only a peer in the signer's\n"
    "trusted_forwarders may, and the profile's allow_uids/allow_gids then apply to the end "
    "caller.\n";

int
cmd_request(int argc, char **argv)
{
    enum mp_err pr;
    struct request_opts f;
    struct frame_msg *req = NULL, *resp = NULL;
    struct mp_errmsg e = {{0}};
    int fd = -1, rc;

    if ((pr = request_opts_parse("request", request_usage, argc, argv, &f)) != MP_OK)
        return cli_parse_exit(pr);
    if ((req = malloc(sizeof(*req))) == NULL || (resp = malloc(sizeof(*resp))) == NULL) {
        mp_errf(&e, MP_ERR_NOMEM, "out of memory");
        rc = cli_fail(&e);
        goto out;
    }
    if ((rc = request_opts_frame(&f, req)) != CLI_OK)
        goto out;
    rc = CLI_FAIL;
    if (signer_client_connect(f.socket, &fd, &e) != MP_OK ||
        signer_client_call(fd, req, resp, &e) != MP_OK) {
        cli_fail(&e);
        goto out;
    }
    if (resp->type == FRAME_JWS) {
        printf("%s\n", resp->jws);
        rc = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    } else if (resp->type == FRAME_ERROR)
        fprintf(stderr, "mp-signer: refused (code %s): %s\n", resp->code, resp->message);
    else
        fprintf(stderr, "mp-signer: error: unexpected answer type %d\n", (int)resp->type);
out:
    if (fd >= 0)
        close(fd);
    if (resp != NULL)
        explicit_bzero(resp->jws, sizeof(resp->jws));
    free(req);
    free(resp);
    return rc;
}
