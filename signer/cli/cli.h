/* Shared pieces of mp-signer's command line: option errors, config loading, exit codes. */
#ifndef MP_CLI_H
#define MP_CLI_H

#include <stddef.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "signer/signer_conf.h"

enum cli_exit {
    CLI_OK = 0,
    CLI_FAIL = 1, /* the operation failed or was refused */
    CLI_USAGE = 2, /* bad command line */
};

/* Prints "mp-signer CMD: <what>" for the getopt_long '?' / ':' case and returns CLI_USAGE. */
enum mp_err cli_bad_option(const char *cmd, int opt, int optopt_, char **argv, int optind_);
/* The exit code for what an option parser returned: MP_ERR_HELP (usage printed) is a
 * success, anything else a usage error. */
int cli_parse_exit(enum mp_err r);
/* Refuses, before getopt sees them, arguments that would put a PIN on the command line:
 * "--pin", "--pin=…" and every abbreviation getopt_long would take for --pin-file. The value
 * is never echoed. Returns CLI_OK or CLI_USAGE. */
int cli_refuse_pin_args(const char *cmd, int argc, char **argv);
/* Prints "mp-signer: error: <text>" and returns CLI_FAIL (or CLI_USAGE for MP_ERR_INVALID
 * raised before anything ran, when usage is true). */
int cli_fail(const struct mp_errmsg *e);
/* Loads path (if not NULL) and returns the profile to use: the named one, else "default"; with
 * no config, an empty "default" is created. */
enum mp_err cli_config(const char *path, const char *profile, struct signer_conf **conf,
    struct signer_conf_profile **prof, struct mp_errmsg *e);
/* Hex string ("01", "a0b1") to bytes; MP_ERR_INVALID if odd length, non-hex or too long. */
/* The audit key from a PEM certificate or a PEM public key (audit verify --cert, check-proof
 * --pubkey); NULL with e set. */
EVP_PKEY *cli_pub_load(const char *path, struct mp_errmsg *e);
enum mp_err cli_hex(const char *s, unsigned char *out, size_t max, size_t *len);

#endif
