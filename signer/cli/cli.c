/* mp-signer's shared command-line pieces: option errors, config loading, exit codes (cli.h). */
#include "signer/cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/hex.h"

enum mp_err
cli_bad_option(const char *cmd, int opt, int optopt_, char **argv, int optind_)
{
    const char *arg = optind_ > 0 ? argv[optind_ - 1] : "?";

    if (strncmp(arg, "--pin", 5) == 0 && strncmp(arg, "--pin-file", 10) != 0)
        fprintf(stderr,
            "mp-signer %s: PINs are never taken on the command line; use "
            "--pin-file FILE (mode 0600)\n",
            cmd);
    else if (opt == ':')
        fprintf(stderr, "mp-signer %s: option %s needs a value\n", cmd, arg);
    else if (optopt_ != 0)
        fprintf(stderr, "mp-signer %s: unknown option -%c (see mp-signer %s --help)\n", cmd,
            optopt_, cmd);
    else
        fprintf(stderr, "mp-signer %s: unknown option %s (see mp-signer %s --help)\n", cmd, arg,
            cmd);
    return MP_ERR_USAGE;
}

int
cli_parse_exit(enum mp_err r)
{
    return r == MP_ERR_HELP ? CLI_OK : CLI_USAGE;
}

static int
pin_like(const char *a)
{
    size_t n = strcspn(a, "=");

    if (strncmp(a, "--so-pin-file", n) == 0 && n >= 5 && strncmp(a, "--so", 4) == 0)
        return n != 13; /* only the full --so-pin-file */
    return n >= 4 && strncmp(a, "--pin-file", n) == 0 && n != 10;
}

int
cli_refuse_pin_args(const char *cmd, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (pin_like(argv[i])) {
            fprintf(stderr,
                "mp-signer %s: PINs are never taken on the command line; use "
                "--pin-file FILE (mode 0600)\n",
                cmd);
            return CLI_USAGE;
        }
    return CLI_OK;
}

int
cli_fail(const struct mp_errmsg *e)
{
    fprintf(stderr, "mp-signer: error: %s\n", e->text);
    return CLI_FAIL;
}

enum mp_err
cli_config(const char *path, const char *profile, struct signer_conf **conf,
    struct signer_conf_profile **prof, struct mp_errmsg *e)
{
    struct signer_conf *c;
    struct signer_conf_profile *p;
    enum mp_err r;

    if ((c = signer_conf_new()) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if (path != NULL && (r = signer_conf_load(c, path, e)) != MP_OK) {
        signer_conf_free(c);
        return r;
    }
    p = signer_conf_profile(c, profile != NULL ? profile : "default");
    if (p == NULL && (path == NULL || profile == NULL) && c->nprofiles == 0)
        p = signer_conf_profile_add(c, "default");
    if (p == NULL) {
        mp_errf(e, MP_ERR_INVALID, "config %s has no [profile %s]", path ? path : "(none)",
            profile ? profile : "default");
        signer_conf_free(c);
        return MP_ERR_INVALID;
    }
    *conf = c;
    *prof = p;
    return MP_OK;
}

enum mp_err
cli_hex(const char *s, unsigned char *out, size_t max, size_t *len)
{
    return mp_hex_decode(s, strlen(s), MP_HEX_ANY, out, max, len);
}

/* A certificate or a bare public key, PEM. */
EVP_PKEY *
cli_pub_load(const char *path, struct mp_errmsg *e)
{
    FILE *fp = fopen(path, "re");
    EVP_PKEY *k = NULL;
    X509 *x;

    if (fp == NULL) {
        mp_errf(e, MP_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
        k = X509_get_pubkey(x);
        X509_free(x);
    } else {
        rewind(fp);
        k = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
    }
    fclose(fp);
    ERR_clear_error();
    if (k == NULL)
        mp_errf(e, MP_ERR_PARSE, "%s holds neither a PEM certificate nor a PEM public key", path);
    return k;
}
