/* mp-exchange client's command line: the options, their per-command checks and the usage
 * text. The parsers return enum mp_err: MP_OK, MP_ERR_USAGE (the problem printed on stderr)
 * or MP_ERR_HELP (the usage printed on stdout). */
#ifndef MP_CLIENT_OPTS_H
#define MP_CLIENT_OPTS_H

#include <stddef.h>

#include "common/err.h"

enum client_opt {
    CO_CONFIG = 256,
    CO_ENV,
    CO_SSURL,
    CO_MPURL,
    CO_CA,
    CO_SOCKET,
    CO_PROFILE,
    CO_NAME,
    CO_DESC,
    CO_SCOPE,
    CO_APPEND,
    CO_PNAME,
    CO_PKEY,
    CO_JWK,
    CO_JSON,
    CO_VERBOSE,
    CO_HELP,
};

#define CLIENT_MAX_POS 2
#define CLIENT_MAX_SCOPES 32
#define CLIENT_MAX_JWK_FILE (64 * 1024)

/* Flag values, pointing into argv. The string slots are in the enum's order from CO_CONFIG. */
struct client_opts {
    const char *config, *env, *ss_url, *mp_url, *ca_file, *socket, *profile, *name, *description;
    const char *scopes[CLIENT_MAX_SCOPES];
    size_t nscopes;
    const char *append, *profile_name, *profile_key, *jwk;
    int json;
};

/* The options and the command's positional arguments (client ids, kids). */
struct client_args {
    struct client_opts o;
    const char *pos[CLIENT_MAX_POS];
    int npos;
};

extern const char client_usage[];

/* argv from the command's name on: options into a->o, the rest into a->pos. */
enum mp_err client_opts_parse(int argc, char **argv, struct client_args *a);
/* What command cmd ("create", "keys add", …) needs, and nothing it would ignore. */
enum mp_err client_opts_check(const struct client_args *a, const char *cmd);
/* Prints "mp-exchange client: MESSAGE (… --help for usage)"; returns MP_ERR_USAGE. */
enum mp_err client_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
