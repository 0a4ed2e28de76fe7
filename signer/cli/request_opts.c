/* Parsing the request options shared by mp-signer request and bench (request_opts.h). */
#include "signer/cli/request_opts.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "signer/cli/cli.h"

enum {
    R_SOCKET = 256,
    R_PROFILE,
    R_SCOPE,
    R_CONSUMER,
    R_SU_ORG,
    R_SU_REF,
    R_LIFETIME,
    R_OBO,
    R_REQUESTS,
    R_CONCURRENCY,
    R_CONFIG,
    R_SYNC_FILE,
    R_PID,
    R_CONSENT_ID,
    R_CONSENT_FROM,
    R_RESOURCE,
    R_RAW,
    R_HELP,
};

static const struct option req_opts[] = {
    {"socket", required_argument, NULL, R_SOCKET},
    {"profile", required_argument, NULL, R_PROFILE},
    {"scope", required_argument, NULL, R_SCOPE},
    {"consumer-org", required_argument, NULL, R_CONSUMER},
    {"systemuser-org", required_argument, NULL, R_SU_ORG},
    {"systemuser-ref", required_argument, NULL, R_SU_REF},
    {"lifetime", required_argument, NULL, R_LIFETIME},
    {"on-behalf-of", required_argument, NULL, R_OBO},
    {"requests", required_argument, NULL, R_REQUESTS},
    {"concurrency", required_argument, NULL, R_CONCURRENCY},
    {"config", required_argument, NULL, R_CONFIG},
    {"sync-file", required_argument, NULL, R_SYNC_FILE},
    {"pid", required_argument, NULL, R_PID},
    {"consent-id", required_argument, NULL, R_CONSENT_ID},
    {"consent-from", required_argument, NULL, R_CONSENT_FROM},
    {"resource", required_argument, NULL, R_RESOURCE},
    {"raw", no_argument, NULL, R_RAW},
    {"help", no_argument, NULL, R_HELP},
    {NULL, 0, NULL, 0},
};

/* Names a bench-only option for request: getopt has already taken its value, so argv at
 * optind - 1 would be the value, not the option. */
static enum mp_err
bench_only(const char *cmd, int c)
{
    size_t i;

    for (i = 0; req_opts[i].name != NULL && req_opts[i].val != c; i++)
        ;
    fprintf(stderr, "mp-signer %s: --%s is for mp-signer bench only\n", cmd,
        req_opts[i].name != NULL ? req_opts[i].name : "?");
    return MP_ERR_USAGE;
}

enum mp_err
request_opts_parse(const char *cmd, const char *usage, int argc, char **argv,
    struct request_opts *f)
{
    const char **slot[] = {&f->socket, &f->profile, &f->scope, &f->consumer_org, &f->su_org,
        &f->su_ref, &f->lifetime, &f->obo, &f->requests, &f->concurrency, &f->config, &f->sync_file,
        &f->person, &f->consent_id, &f->consent_from};
    int bench = strcmp(cmd, "bench") == 0, c;

    memset(f, 0, sizeof(*f));
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", req_opts, NULL)) != -1) {
        if (!bench &&
            (c == R_REQUESTS || c == R_CONCURRENCY || c == R_CONFIG || c == R_SYNC_FILE ||
                c == R_RAW))
            return bench_only(cmd, c);
        if (c >= R_SOCKET && c <= R_CONSENT_FROM)
            *slot[c - R_SOCKET] = optarg;
        else if (c == R_RESOURCE && f->nresources < FRAME_MAX_RESOURCES)
            f->resources[f->nresources++] = optarg;
        else if (c == R_RESOURCE) {
            fprintf(stderr, "mp-signer %s: at most %d --resource\n", cmd, FRAME_MAX_RESOURCES);
            return MP_ERR_USAGE;
        } else if (c == R_RAW)
            f->raw = 1;
        else if (c == R_HELP) {
            fputs(usage, stdout);
            return MP_ERR_HELP;
        } else
            return cli_bad_option(cmd, c, optopt, argv, optind);
    }
    if (optind < argc) {
        fprintf(stderr, "mp-signer %s: unexpected argument at position %d\n", cmd, optind);
        return MP_ERR_USAGE;
    }
    /* Both modes named: say which one runs rather than silently measure the other. */
    if (f->raw && f->socket != NULL) {
        fprintf(stderr, "mp-signer %s: --raw signs on the token itself; leave out --socket\n", cmd);
        return MP_ERR_USAGE;
    }
    if (f->raw && f->obo != NULL) {
        fprintf(stderr, "mp-signer %s: --on-behalf-of goes to a daemon; --raw has none\n", cmd);
        return MP_ERR_USAGE;
    }
    if (!f->raw && f->config != NULL) {
        fprintf(stderr, "mp-signer %s: --config goes with --raw; the daemon reads its own\n", cmd);
        return MP_ERR_USAGE;
    }
    if ((f->socket == NULL && !f->raw) || (f->raw && f->config == NULL) ||
        (f->sync_file != NULL && !f->raw)) {
        fputs(usage, stderr);
        return MP_ERR_USAGE;
    }
    return MP_OK;
}

static int
put(char *dst, size_t size, const char *v, const char *what)
{
    if (v == NULL)
        return CLI_OK;
    if (strlen(v) >= size || *v == '\0') {
        fprintf(stderr, "mp-signer: error: %s must be 1..%zu bytes\n", what, size - 1);
        return CLI_USAGE;
    }
    memcpy(dst, v, strlen(v) + 1);
    return CLI_OK;
}

/* UID:GID[:PID[:EXE]] into the OBO fields; the signer checks the values. */
static int
put_obo(struct frame_msg *m, const char *v)
{
    char *dst[] = {m->obo_uid, m->obo_gid, m->obo_pid, m->obo_exe};
    size_t size[] = {sizeof(m->obo_uid), sizeof(m->obo_gid), sizeof(m->obo_pid),
        sizeof(m->obo_exe)};
    const char *p = v, *colon;
    size_t i, n;

    for (i = 0; i < 4 && p != NULL; i++) {
        colon = i < 3 ? strchr(p, ':') : NULL;
        n = colon != NULL ? (size_t)(colon - p) : strlen(p);
        if (n == 0 || n >= size[i]) {
            fprintf(stderr, "mp-signer: error: --on-behalf-of must be UID:GID[:PID[:EXE]]\n");
            return CLI_USAGE;
        }
        memcpy(dst[i], p, n);
        dst[i][n] = '\0';
        p = colon != NULL ? colon + 1 : NULL;
    }
    if (m->obo_gid[0] == '\0') {
        fprintf(stderr, "mp-signer: error: --on-behalf-of must be UID:GID[:PID[:EXE]]\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

int
request_opts_frame(const struct request_opts *f, struct frame_msg *m)
{
    size_t i;
    int rc = CLI_OK;

    frame_init(m, FRAME_SIGN);
    if (f->scope == NULL) {
        fprintf(stderr, "mp-signer: error: give --scope \"A B\"\n");
        return CLI_USAGE;
    }
    rc |= put(m->profile, sizeof(m->profile), f->profile, "--profile");
    rc |= put(m->scope, sizeof(m->scope), f->scope, "--scope");
    rc |= put(m->consumer_org, sizeof(m->consumer_org), f->consumer_org, "--consumer-org");
    rc |= put(m->su_org, sizeof(m->su_org), f->su_org, "--systemuser-org");
    rc |= put(m->su_ref, sizeof(m->su_ref), f->su_ref, "--systemuser-ref");
    rc |= put(m->lifetime, sizeof(m->lifetime), f->lifetime, "--lifetime");
    rc |= put(m->person, sizeof(m->person), f->person, "--pid");
    rc |= put(m->consent_id, sizeof(m->consent_id), f->consent_id, "--consent-id");
    rc |= put(m->consent_from, sizeof(m->consent_from), f->consent_from, "--consent-from");
    for (i = 0; i < f->nresources; i++)
        rc |= put(m->resources[i], sizeof(m->resources[i]), f->resources[i], "--resource");
    m->nresources = f->nresources;
    if (f->obo != NULL)
        rc |= put_obo(m, f->obo);
    return rc != CLI_OK ? CLI_USAGE : CLI_OK;
}
