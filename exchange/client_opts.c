/* mp-exchange client's options: parsing, per-command checks, usage (client_opts.h). */
#include "exchange/client_opts.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "exchange/selfservice.h"

const char client_usage[] =
    "usage: mp-exchange client COMMAND [OPTIONS]\n"
    "  create --name N --description D --scope S [--scope S]...\n"
    "         [--append-profile SIGNER_CONF --profile-name P [--profile-key URI]]\n"
    "                       register a Maskinporten client; prints its client_id\n"
    "  show ID | list       one client, or the clients of the admin's organisation\n"
    "  keys list ID         the client's registered public keys\n"
    "  keys add ID --jwk FILE      add the key(s) of a JWK or JWKS file (at most 5 in all)\n"
    "  keys remove ID KID   remove one key (the last one with DELETE)\n"
    "Every command: [--config FILE] [--env test|prod] [--selfservice-url URL]\n"
    "  [--maskinporten-url URL] [--ca-file PEM] [--signer-socket PATH] [--profile NAME] [--json]\n"
    "The admin token comes from the signer's --profile (default \"default\"), whose client must\n"
    "hold idporten:dcr.read and idporten:dcr.write.\n";

static const struct option client_opts[] = {
    {"config", required_argument, NULL, CO_CONFIG},
    {"env", required_argument, NULL, CO_ENV},
    {"selfservice-url", required_argument, NULL, CO_SSURL},
    {"maskinporten-url", required_argument, NULL, CO_MPURL},
    {"ca-file", required_argument, NULL, CO_CA},
    {"signer-socket", required_argument, NULL, CO_SOCKET},
    {"profile", required_argument, NULL, CO_PROFILE},
    {"name", required_argument, NULL, CO_NAME},
    {"description", required_argument, NULL, CO_DESC},
    {"scope", required_argument, NULL, CO_SCOPE},
    {"append-profile", required_argument, NULL, CO_APPEND},
    {"profile-name", required_argument, NULL, CO_PNAME},
    {"profile-key", required_argument, NULL, CO_PKEY},
    {"jwk", required_argument, NULL, CO_JWK},
    {"json", no_argument, NULL, CO_JSON},
    {"verbose", no_argument, NULL, CO_VERBOSE},
    {"help", no_argument, NULL, CO_HELP},
    {NULL, 0, NULL, 0},
};

enum mp_err
client_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("mp-exchange client: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (mp-exchange client --help for usage)\n", stderr);
    return MP_ERR_USAGE;
}

/* Flag values into o; MP_ERR_TOOBIG for a flag given too often. */
static enum mp_err
opt_set(struct client_opts *o, int opt, const char *v)
{
    const char **slot[] = {&o->config, &o->env, &o->ss_url, &o->mp_url, &o->ca_file, &o->socket,
        &o->profile, &o->name, &o->description, NULL, &o->append, &o->profile_name, &o->profile_key,
        &o->jwk};

    if (opt == CO_SCOPE) {
        if (o->nscopes == CLIENT_MAX_SCOPES)
            return MP_ERR_TOOBIG;
        o->scopes[o->nscopes++] = v;
        return MP_OK;
    }
    if (opt < CO_CONFIG || opt > CO_JWK || slot[opt - CO_CONFIG] == NULL)
        return MP_ERR_TOOBIG;
    *slot[opt - CO_CONFIG] = v;
    return MP_OK;
}

/* Text that goes into one config line or one JSON string: printable, no line breaks. */
static int
one_line(const char *s, size_t max, int spaces)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || (!spaces && s[i] == ' '))
            return 0;
    return i > 0 && i <= max;
}

static enum mp_err
create_opts_check(const struct client_opts *o)
{
    size_t i;

    if (o->name == NULL || o->description == NULL || o->nscopes == 0)
        return client_usage_error("%s",
            "create needs --name, --description and at least one --scope");
    if (!one_line(o->name, 256, 1) || !one_line(o->description, 1024, 1))
        return client_usage_error("%s", "--name and --description must be one printable line");
    for (i = 0; i < o->nscopes; i++)
        if (!one_line(o->scopes[i], 256, 0))
            return client_usage_error("--scope \"%s\": one scope per --scope, no spaces",
                o->scopes[i]);
    if ((o->append == NULL) != (o->profile_name == NULL))
        return client_usage_error("%s", "--append-profile and --profile-name go together");
    if (o->profile_name != NULL &&
        (!selfservice_id_ok(o->profile_name) || strlen(o->profile_name) > 63))
        return client_usage_error("%s", "--profile-name is [A-Za-z0-9._-], at most 63 characters");
    if (o->profile_key != NULL && (o->append == NULL || !one_line(o->profile_key, 1000, 0)))
        return client_usage_error("%s", "--profile-key is one URI, with --append-profile");
    return MP_OK;
}

enum mp_err
client_opts_check(const struct client_args *x, const char *cmd)
{
    const struct client_opts *o = &x->o;
    int i;

    for (i = 0; i < x->npos; i++)
        if (!selfservice_id_ok(x->pos[i]))
            return client_usage_error("\"%s\" is not a client id or kid ([A-Za-z0-9._-])",
                x->pos[i]);
    if (strcmp(cmd, "create") == 0)
        return create_opts_check(o);
    if (o->name != NULL || o->description != NULL || o->nscopes > 0 || o->append != NULL ||
        o->profile_name != NULL || o->profile_key != NULL)
        return client_usage_error("%s",
            "--name, --description, --scope and the profile flags are for create");
    if ((strcmp(cmd, "keys add") == 0) != (o->jwk != NULL))
        return client_usage_error("%s", "--jwk FILE is needed by keys add, and only there");
    return MP_OK;
}

enum mp_err
client_opts_parse(int argc, char **argv, struct client_args *x)
{
    int o;

    opterr = 0;
    optind = 0;
    while ((o = getopt_long(argc, argv, ":", client_opts, NULL)) != -1) {
        if (o == '?' || o == ':')
            return client_usage_error(o == ':' ? "missing value for %s" : "unknown option %s",
                argv[optind - 1]);
        if (o == CO_JSON)
            x->o.json = 1;
        else if (o == CO_VERBOSE)
            mp_log_set_level(MP_LOG_DEBUG);
        else if (o == CO_HELP) {
            fputs(client_usage, stdout);
            return MP_ERR_HELP;
        } else if (opt_set(&x->o, o, optarg) != MP_OK)
            return client_usage_error("too many values for %s", argv[optind - 1]);
    }
    for (; optind < argc; optind++) {
        if (x->npos == CLIENT_MAX_POS)
            return client_usage_error("unexpected argument \"%s\"", argv[optind]);
        x->pos[x->npos++] = argv[optind];
    }
    return MP_OK;
}
