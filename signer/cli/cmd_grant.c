/* mp-signer grant: sign one Maskinporten grant and print the compact JWS. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/conf.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/num.h"
#include "signer/cli/cli.h"
#include "signer/cli/cmds.h"
#include "signer/grant/grant.h"

static const char grant_usage[] =
    "usage: mp-signer grant [--config FILE] [--profile NAME] [--module PATH] [--key URI]\n"
    "         [--pin-file FILE] [--client-id ID] [--scope \"A B\"] [--env test|prod]\n"
    "         [--aud URL] [--alg RS256|RS384|RS512] [--kid KID | --chain FILE]\n"
    "         [--resource URI]... [--consumer-org ORGNO] [--systemuser-org ORGNO]\n"
    "         [--systemuser-ref REF] [--lifetime 1..120] [--verbose]\n"
    "Signs one Maskinporten JWT grant inside the PKCS#11 token and prints it on stdout.\n";

enum {
    OPT_CONFIG = 256,
    OPT_PROFILE,
    OPT_MODULE,
    OPT_KEY,
    OPT_PIN_FILE,
    OPT_CLIENT_ID,
    OPT_SCOPE,
    OPT_ENV,
    OPT_AUD,
    OPT_ALG,
    OPT_KID,
    OPT_CHAIN,
    OPT_RESOURCE,
    OPT_CONSUMER,
    OPT_SU_ORG,
    OPT_SU_REF,
    OPT_LIFETIME,
    OPT_HELP,
    OPT_VERBOSE,
};

static const struct option grant_opts[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"module", required_argument, NULL, OPT_MODULE},
    {"key", required_argument, NULL, OPT_KEY},
    {"pin-file", required_argument, NULL, OPT_PIN_FILE},
    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
    {"scope", required_argument, NULL, OPT_SCOPE},
    {"env", required_argument, NULL, OPT_ENV},
    {"aud", required_argument, NULL, OPT_AUD},
    {"alg", required_argument, NULL, OPT_ALG},
    {"kid", required_argument, NULL, OPT_KID},
    {"chain", required_argument, NULL, OPT_CHAIN},
    {"resource", required_argument, NULL, OPT_RESOURCE},
    {"consumer-org", required_argument, NULL, OPT_CONSUMER},
    {"systemuser-org", required_argument, NULL, OPT_SU_ORG},
    {"systemuser-ref", required_argument, NULL, OPT_SU_REF},
    {"lifetime", required_argument, NULL, OPT_LIFETIME},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Flags as given; applied over the config once it is loaded. NULL = not given. */
struct grant_flags {
    const char *config, *profile, *module, *key, *pin_file, *client_id, *scope, *env, *aud;
    const char *alg, *kid, *chain, *lifetime;
    struct grant_request req;
};

static enum mp_err
grant_parse(int argc, char **argv, struct grant_flags *f)
{
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":v", grant_opts, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG: f->config = optarg; break;
        case OPT_PROFILE: f->profile = optarg; break;
        case OPT_MODULE: f->module = optarg; break;
        case OPT_KEY: f->key = optarg; break;
        case OPT_PIN_FILE: f->pin_file = optarg; break;
        case OPT_CLIENT_ID: f->client_id = optarg; break;
        case OPT_SCOPE: f->scope = optarg; break;
        case OPT_ENV: f->env = optarg; break;
        case OPT_AUD: f->aud = optarg; break;
        case OPT_ALG: f->alg = optarg; break;
        case OPT_KID: f->kid = optarg; break;
        case OPT_CHAIN: f->chain = optarg; break;
        case OPT_LIFETIME: f->lifetime = optarg; break;
        case OPT_CONSUMER: f->req.consumer_org = optarg; break;
        case OPT_SU_ORG: f->req.systemuser_org = optarg; break;
        case OPT_SU_REF: f->req.systemuser_ref = optarg; break;
        case OPT_RESOURCE:
            if (f->req.nresources >= GRANT_MAX_RESOURCES) {
                fprintf(stderr, "mp-signer grant: at most %d --resource\n", GRANT_MAX_RESOURCES);
                return MP_ERR_USAGE;
            }
            f->req.resources[f->req.nresources++] = optarg;
            break;
        case 'v':
        case OPT_VERBOSE: mp_log_set_level(MP_LOG_DEBUG); break;
        case OPT_HELP: fputs(grant_usage, stdout); return MP_ERR_HELP;
        default: return cli_bad_option("grant", c, optopt, argv, optind);
        }
    }
    if (optind < argc) {
        fprintf(stderr,
            "mp-signer grant: unexpected argument at position %d (not echoed: it could be a "
            "secret)\n",
            optind);
        return MP_ERR_USAGE;
    }
    return MP_OK;
}

#define SET_IF(slot, v)                                            \
    do {                                                           \
        if ((v) != NULL && mp_conf_set_str(&(slot), (v)) != MP_OK) \
            return mp_errf(e, MP_ERR_NOMEM, "out of memory");      \
    } while (0)

/* Flags override the config. Values are checked here, before the token is touched. */
static enum mp_err
grant_apply(const struct grant_flags *f, struct signer_conf *c, struct signer_conf_profile *p,
    struct mp_errmsg *e)
{
    uint64_t v;
    const char *aud;

    SET_IF(c->module, f->module);
    SET_IF(c->pin_file, f->pin_file);
    SET_IF(p->key, f->key);
    SET_IF(p->client_id, f->client_id);
    SET_IF(p->kid, f->kid);
    SET_IF(p->chain, f->chain);
    SET_IF(p->scopes, f->scope);
    if (f->env != NULL) {
        if ((aud = signer_conf_env_aud(f->env)) == NULL)
            return mp_errf(e, MP_ERR_INVALID, "--env must be test or prod, not \"%.32s\"", f->env);
        SET_IF(p->aud, aud);
    }
    SET_IF(p->aud, f->aud);
    if (f->alg != NULL && jws_alg_parse(f->alg, &p->alg) != MP_OK)
        return mp_errf(e, MP_ERR_INVALID,
            "--alg must be RS256, RS384 or RS512 (Maskinporten accepts nothing else)");
    if (f->lifetime != NULL) {
        if (mp_parse_u64(f->lifetime, 1, GRANT_MAX_LIFETIME, &v) != MP_OK)
            return mp_errf(e, MP_ERR_INVALID, "--lifetime must be 1..%d seconds, not \"%.32s\"",
                GRANT_MAX_LIFETIME, f->lifetime);
        p->lifetime = (unsigned int)v;
    }
    if (p->lifetime > p->max_lifetime)
        return mp_errf(e, MP_ERR_INVALID, "lifetime %u s exceeds the profile's max_lifetime %u s",
            p->lifetime, p->max_lifetime);
    if (p->kid != NULL && p->chain != NULL)
        return mp_errf(e, MP_ERR_INVALID,
            "--kid and --chain exclude each other: a kid grant "
            "carries no certificate chain");
    return MP_OK;
}

static void
grant_request_fill(struct grant_request *g, const struct signer_conf_profile *p)
{
    g->aud = p->aud;
    g->client_id = p->client_id;
    g->scope = p->scopes;
    g->lifetime = p->lifetime;
}

static enum mp_err
grant_run(const struct grant_flags *f, struct mp_errmsg *e)
{
    struct signer_conf *c = NULL;
    struct signer_conf_profile *p = NULL;
    struct grant_signer *s = NULL;
    struct grant_request g = f->req;
    struct mp_buf *jws = NULL;
    enum mp_err r;

    if ((r = cli_config(f->config, f->profile, &c, &p, e)) != MP_OK)
        return r;
    if ((r = grant_apply(f, c, p, e)) != MP_OK)
        goto out;
    grant_request_fill(&g, p);
    if (g.aud == NULL) {
        r = mp_errf(e, MP_ERR_INVALID, "no audience: give --env test|prod");
        goto out;
    }
    if ((r = grant_request_check(&g, NULL, e)) != MP_OK)
        goto out;
    if ((r = grant_signer_open(c, p, &s, e)) != MP_OK)
        goto out;
    if ((jws = mp_buf_new(JWS_MAX)) == NULL) {
        r = mp_errf(e, MP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((r = grant_sign(s, NULL, &g, time(NULL), jws, NULL, e)) != MP_OK)
        goto out;
    if (printf("%s\n", mp_buf_str(jws)) < 0 || fflush(stdout) != 0)
        r = mp_errf(e, MP_ERR_IO, "cannot write the grant to stdout");
out:
    mp_buf_free(jws);
    grant_signer_free(s);
    signer_conf_free(c);
    return r;
}

int
cmd_grant(int argc, char **argv)
{
    enum mp_err pr;
    struct grant_flags f;
    struct mp_errmsg e = {{0}};

    memset(&f, 0, sizeof(f));
    if (cli_refuse_pin_args("grant", argc, argv) != CLI_OK)
        return CLI_USAGE;
    if ((pr = grant_parse(argc, argv, &f)) != MP_OK)
        return cli_parse_exit(pr);
    if (grant_run(&f, &e) != MP_OK)
        return cli_fail(&e);
    return CLI_OK;
}
