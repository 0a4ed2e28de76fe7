/* mp-signer token-init: a developer or CI token (SoftHSM) with PINs read from files. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/conf.h"
#include "common/log.h"
#include "common/secret.h"
#include "pkcs11/hsm.h"
#include "signer/cli/cli.h"
#include "signer/cli/cmds.h"

static const char token_usage[] =
    "usage: mp-signer token-init --label L --so-pin-file FILE [--pin-file FILE]\n"
    "         [--config FILE] [--module PATH]\n"
    "Initialises the first free token of the module (SoftHSM) and sets its user PIN.\n";

enum { T_CONFIG = 256, T_MODULE, T_PIN_FILE, T_SO_PIN_FILE, T_LABEL, T_HELP };

static const struct option token_opts[] = {
    {"config", required_argument, NULL, T_CONFIG},
    {"module", required_argument, NULL, T_MODULE},
    {"pin-file", required_argument, NULL, T_PIN_FILE},
    {"so-pin-file", required_argument, NULL, T_SO_PIN_FILE},
    {"label", required_argument, NULL, T_LABEL},
    {"help", no_argument, NULL, T_HELP},
    {NULL, 0, NULL, 0},
};

struct token_flags {
    const char *config, *module, *pin_file, *so_pin_file, *label;
};

static enum mp_err
token_run(const struct token_flags *f, struct mp_errmsg *e)
{
    struct signer_conf *c = NULL;
    struct signer_conf_profile *p;
    struct mp_secret *so = NULL, *pin = NULL;
    struct hsm_module *m = NULL;
    enum hsm_err h;
    enum mp_err r;

    if ((r = cli_config(f->config, NULL, &c, &p, e)) != MP_OK)
        return r;
    if ((f->module != NULL && (r = mp_conf_set_str(&c->module, f->module)) != MP_OK) ||
        (f->pin_file != NULL && (r = mp_conf_set_str(&c->pin_file, f->pin_file)) != MP_OK))
        goto out;
    if (f->label == NULL || f->so_pin_file == NULL || c->module == NULL || c->pin_file == NULL) {
        r = mp_errf(e, MP_ERR_INVALID,
            "token-init needs --label, --so-pin-file, a module and a "
            "pin file");
        goto out;
    }
    if ((r = mp_secret_read_file(f->so_pin_file, &so, e)) != MP_OK ||
        (r = mp_secret_read_file(c->pin_file, &pin, e)) != MP_OK ||
        (r = signer_conf_apply_module_env(c, e)) != MP_OK)
        goto out;
    if ((h = hsm_module_load(c->module, c->module_init_args, &m, e)) != HSM_OK ||
        (h = hsm_token_init(m, f->label, so, pin, e)) != HSM_OK) {
        r = hsm_to_mp(h);
        goto out;
    }
    mp_info("initialised token \"%s\"", f->label);
out:
    hsm_module_free(m);
    mp_secret_free(pin);
    mp_secret_free(so);
    signer_conf_free(c);
    return r;
}

int
cmd_token_init(int argc, char **argv)
{
    struct token_flags f;
    const char **slot[] = {&f.config, &f.module, &f.pin_file, &f.so_pin_file, &f.label};
    struct mp_errmsg e = {{0}};
    int c;

    memset(&f, 0, sizeof(f));
    if (cli_refuse_pin_args("token-init", argc, argv) != CLI_OK)
        return CLI_USAGE;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", token_opts, NULL)) != -1) {
        if (c >= T_CONFIG && c <= T_LABEL)
            *slot[c - T_CONFIG] = optarg;
        else if (c == T_HELP) {
            fputs(token_usage, stdout);
            return CLI_OK;
        } else
            return cli_parse_exit(cli_bad_option("token-init", c, optopt, argv, optind));
    }
    if (optind < argc) {
        fprintf(stderr,
            "mp-signer token-init: unexpected argument at position %d (not echoed: it could be a "
            "secret)\n",
            optind);
        return CLI_USAGE;
    }
    return token_run(&f, &e) == MP_OK ? CLI_OK : cli_fail(&e);
}
