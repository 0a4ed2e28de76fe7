/* mp-exchange client: Maskinporten clients and their keys through the Digdir self-service API
 * (PROTOCOL.md §6). The admin token is fetched the way `serve` fetches tokens: a grant from the
 * signer for --profile (a client holding idporten:dcr.* scopes), posted to Maskinporten's token
 * endpoint (exchange/pipeline.c). The API replaces a client's whole key set on every write, so the
 * key commands read the set, change it here and write all of it back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/json.h"
#include "common/log.h"
#include "exchange/client_opts.h"
#include "exchange/client_profile.h"
#include "exchange/pipeline.h"
#include "exchange/selfservice.h"
#include "exchange/https.h"
#include "exchange/exchange_cmd.h"

struct cctx {
    struct client_args a;
    struct exchange_conf *conf;
    char env[8];
    char ss_url[2048];
    int write; /* the command changes something: the token needs idporten:dcr.write */
    struct selfservice *ss;
};

struct ccmd {
    const char *name;
    int npos;
    int write;
    enum mp_err (*run)(struct cctx *x, struct mp_errmsg *e);
};

/* The admin token: a grant from the signer, traded at Maskinporten like serve does. */
static enum mp_err
admin_token(struct cctx *x, struct xtok *tok, struct mp_errmsg *e)
{
    struct metrics *m = metrics_new();
    struct pipeline f;
    struct token_req q;
    struct xerr xe;
    enum mp_err rc = MP_ERR_NOMEM;

    memset(&q, 0, sizeof(q));
    memset(&xe, 0, sizeof(xe));
    if (m == NULL) {
        mp_errf(e, rc, "out of memory");
        goto out;
    }
    if ((rc = https_global_init()) != MP_OK || (rc = pipeline_init(&f, x->conf, m, e)) != MP_OK ||
        (x->a.o.profile != NULL &&
            (rc = token_req_set(&q, "profile", x->a.o.profile, e)) != MP_OK) ||
        (rc = token_req_set(&q, "scope",
             x->write ? "idporten:dcr.read idporten:dcr.write" : "idporten:dcr.read", e)) !=
            MP_OK ||
        (rc = token_req_finish(&q, e)) != MP_OK)
        goto out;
    if ((rc = pipeline_maskinporten(&f, &q, tok, &xe)) != MP_OK)
        mp_errf(e, rc, "admin token for profile %s: %s: %s%s%s",
            x->a.o.profile != NULL ? x->a.o.profile : "default", xe.error, xe.description,
            xe.code[0] ? " " : "", xe.code);
out:
    metrics_free(m);
    return rc;
}

/* Token and API handle, made when a command first needs them (after its local checks). */
static enum mp_err
connect_api(struct cctx *x, struct mp_errmsg *e)
{
    struct xtok tok;
    enum mp_err rc;

    memset(&tok, 0, sizeof(tok));
    if ((rc = admin_token(x, &tok, e)) == MP_OK)
        rc = selfservice_new(x->conf, x->ss_url, tok.value, &x->ss, e);
    xtok_clear(&tok); /* wipes */
    return rc;
}

static enum mp_err
print_json(const json_t *j)
{
    char *s = mp_json_dumps(j, JSON_INDENT(2));

    if (s == NULL)
        return MP_ERR_NOMEM;
    printf("%s\n", s);
    free(s);
    return MP_OK;
}

/* An API string for a terminal line: printable ASCII, bounded. */
static const char *
safe(const char *in, char *out, size_t outlen)
{
    size_t i;

    for (i = 0; in != NULL && in[i] != '\0' && i + 1 < outlen; i++)
        out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
    out[i] = '\0';
    return out;
}

static const char *
field(const json_t *o, const char *key, char *out, size_t outlen)
{
    return safe(json_string_value(json_object_get(o, key)), out, outlen);
}

static void
print_client(const json_t *c)
{
    static const char *const keys[] = {"client_id", "client_name", "description", "client_orgno",
        "integration_type", "created", "last_updated"};
    char v[512];
    json_t *s;
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        printf("%-13s %s\n", keys[i], field(c, keys[i], v, sizeof(v)));
    printf("%-13s", "scopes");
    json_array_foreach(json_object_get(c, "scopes"), i, s)
        printf(" %s", safe(json_string_value(s), v, sizeof(v)));
    printf("\n");
}

static enum mp_err
jwk_load(const char *path, json_t **out, struct mp_errmsg *e)
{
    struct mp_buf *b = NULL;
    struct stat st;
    enum mp_err rc;

    if ((rc = mp_buf_read_file(path, CLIENT_MAX_JWK_FILE, &b, &st, e)) == MP_OK)
        rc = selfservice_jwk_parse(mp_buf_str(b), mp_buf_len(b), path, out, e);
    mp_buf_free(b);
    return rc;
}

static enum mp_err
cl_create(struct cctx *x, struct mp_errmsg *e)
{
    struct client_profile prof;
    json_t *c = NULL;
    char id[160];
    enum mp_err rc;

    memset(&prof, 0, sizeof(prof));
    /* Refuse an unusable signer config before anything is registered. */
    if (x->a.o.append != NULL && (rc = client_profile_check(&x->a.o, &prof, e)) != MP_OK)
        return rc;
    if ((rc = connect_api(x, e)) != MP_OK ||
        (rc = selfservice_create(x->ss, x->a.o.name, x->a.o.description, x->a.o.scopes,
             x->a.o.nscopes, &c, e)) != MP_OK)
        goto out;
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(c, "client_id")));
    if (x->a.o.json ? print_json(c) != MP_OK : printf("%s\n", id) < 0)
        rc = mp_errf(e, MP_ERR_IO, "client %s registered, but stdout failed", id);
    fflush(stdout);
    if (rc == MP_OK && x->a.o.append != NULL &&
        (rc = client_profile_append(&x->a.o, x->env, &prof, id, e)) != MP_OK)
        mp_err_prefix(e, "client %s was registered, but the profile was not added", id);
out:
    json_decref(c);
    return rc;
}

static enum mp_err
cl_show(struct cctx *x, struct mp_errmsg *e)
{
    json_t *c = NULL;
    enum mp_err rc;

    if ((rc = connect_api(x, e)) != MP_OK ||
        (rc = selfservice_show(x->ss, x->a.pos[0], &c, e)) != MP_OK)
        return rc;
    if (x->a.o.json)
        rc = print_json(c);
    else
        print_client(c);
    json_decref(c);
    return rc;
}

static enum mp_err
cl_list(struct cctx *x, struct mp_errmsg *e)
{
    json_t *a = NULL, *c;
    char id[160], org[16], name[256];
    size_t i;
    enum mp_err rc;

    if ((rc = connect_api(x, e)) != MP_OK || (rc = selfservice_list(x->ss, &a, e)) != MP_OK)
        return rc;
    if (x->a.o.json)
        rc = print_json(a);
    else {
        printf("%-36s  %-9s  %s\n", "CLIENT_ID", "ORGNO", "NAME");
        json_array_foreach(a, i, c) printf("%-36s  %-9s  %s\n",
            field(c, "client_id", id, sizeof(id)), field(c, "client_orgno", org, sizeof(org)),
            field(c, "client_name", name, sizeof(name)));
    }
    json_decref(a);
    return rc;
}

static void
print_keys(const json_t *keys)
{
    char kid[160], alg[16], use[16], exp[64] = "-", when[24];
    json_t *k, *x;
    time_t t;
    struct tm tm;
    size_t i;

    printf("%-40s  %-5s  %-3s  %s\n", "KID", "ALG", "USE", "EXPIRES");
    json_array_foreach(keys, i, k)
    {
        snprintf(exp, sizeof(exp), "-");
        if (json_is_integer(x = json_object_get(k, "exp"))) {
            t = (time_t)json_integer_value(x);
            gmtime_r(&t, &tm);
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
            snprintf(exp, sizeof(exp), "%s (%lld days%s)", when,
                (long long)(t - time(NULL)) / 86400, t - time(NULL) < 30 * 86400 ? ": RENEW" : "");
        }
        printf("%-40s  %-5s  %-3s  %s\n", field(k, "kid", kid, sizeof(kid)),
            field(k, "alg", alg, sizeof(alg)), field(k, "use", use, sizeof(use)), exp);
    }
}

static enum mp_err
cl_keys_list(struct cctx *x, struct mp_errmsg *e)
{
    json_t *keys = NULL, *jwks;
    enum mp_err rc;

    if ((rc = connect_api(x, e)) != MP_OK ||
        (rc = selfservice_keys(x->ss, x->a.pos[0], &keys, e)) != MP_OK)
        return rc;
    if (x->a.o.json) {
        jwks = json_pack("{s:O}", "keys", keys);
        rc = jwks != NULL ? print_json(jwks) : MP_ERR_NOMEM;
        json_decref(jwks);
    } else
        print_keys(keys);
    json_decref(keys);
    return rc;
}

/* After a write: the API's set must be exactly the kids we sent. */
static enum mp_err
check_written(const json_t *sent, const json_t *got, const char *id, struct mp_errmsg *e)
{
    json_t *k;
    size_t i;

    if (json_array_size(sent) == json_array_size(got)) {
        json_array_foreach(sent, i, k)
        {
            if (selfservice_key_find(got, selfservice_key_kid(k)) == NULL)
                break;
        }
        if (i == json_array_size(sent))
            return MP_OK;
    }
    return mp_errf(e, MP_ERR_PARSE,
        "client %s: the API answered a key set that differs from the one sent: check it with "
        "`mp-exchange client keys list %s`",
        id, id);
}

/* XXX: the API has no conditional write (no ETag): a change another admin makes between our GET
 * and our PUT is overwritten. Keep key changes to one operator at a time. */
static enum mp_err
cl_keys_add(struct cctx *x, struct mp_errmsg *e)
{
    json_t *add = NULL, *cur = NULL, *set = NULL, *got = NULL;
    const char *id = x->a.pos[0];
    enum mp_err rc;

    if ((rc = jwk_load(x->a.o.jwk, &add, e)) != MP_OK || (rc = connect_api(x, e)) != MP_OK ||
        (rc = selfservice_keys(x->ss, id, &cur, e)) != MP_OK ||
        (rc = selfservice_keys_merge(cur, add, id, &set, e)) != MP_OK ||
        (rc = selfservice_keys_put(x->ss, id, set, &got, e)) != MP_OK ||
        (rc = check_written(set, got, id, e)) != MP_OK)
        goto out;
    printf("client %s: %zu key%s now\n", id, json_array_size(got),
        json_array_size(got) == 1 ? "" : "s");
out:
    json_decref(add);
    json_decref(cur);
    json_decref(set);
    json_decref(got);
    return rc;
}

static enum mp_err
cl_keys_remove(struct cctx *x, struct mp_errmsg *e)
{
    json_t *cur = NULL, *set = NULL, *got = NULL;
    const char *id = x->a.pos[0], *kid = x->a.pos[1];
    enum mp_err rc;

    if ((rc = connect_api(x, e)) != MP_OK || (rc = selfservice_keys(x->ss, id, &cur, e)) != MP_OK ||
        (rc = selfservice_keys_without(cur, kid, id, &set, e)) != MP_OK)
        goto out;
    /* The API refuses an empty set: the last key goes with DELETE. */
    if (json_array_size(set) == 0)
        rc = selfservice_keys_delete(x->ss, id, e);
    else if ((rc = selfservice_keys_put(x->ss, id, set, &got, e)) == MP_OK)
        rc = check_written(set, got, id, e);
    if (rc == MP_OK)
        printf("client %s: removed %s, %zu key%s left\n", id, kid, json_array_size(set),
            json_array_size(set) == 1 ? "" : "s");
out:
    json_decref(cur);
    json_decref(set);
    json_decref(got);
    return rc;
}

static const struct ccmd commands[] = {
    {"create", 0, 1, cl_create},
    {"show", 1, 0, cl_show},
    {"list", 0, 0, cl_list},
    {"keys list", 1, 0, cl_keys_list},
    {"keys add", 1, 1, cl_keys_add},
    {"keys remove", 2, 1, cl_keys_remove},
};

static const struct ccmd *
find_command(int argc, char **argv, int *used)
{
    char name[32];
    size_t i;

    *used = argc > 2 && strcmp(argv[1], "keys") == 0 ? 3 : 2;
    snprintf(name, sizeof(name), "%s%s%s", argv[1], *used == 3 ? " " : "",
        *used == 3 ? argv[2] : "");
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static enum mp_err
conf_cb(void *arg, const char *section, const char *name, const char *key, const char *value,
    struct mp_errmsg *e)
{
    struct cctx *x = arg;

    (void)name;
    if (*section != '\0' || key == NULL)
        return mp_errf(e, MP_ERR_PARSE, "mp-exchange takes no [%.32s] sections", section);
    if (strcmp(key, "env") == 0)
        snprintf(x->env, sizeof(x->env), "%s", value);
    return exchange_conf_set(x->conf, key, value, e);
}

/* Defaults (env test), then the config file, then the flags on top. */
static enum mp_err
configure(struct cctx *x, struct mp_errmsg *e)
{
    const struct client_opts *o = &x->a.o;
    enum mp_err rc;

    snprintf(x->env, sizeof(x->env), "test");
    if ((x->conf = exchange_conf_new()) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if ((rc = exchange_conf_set(x->conf, "env", "test", e)) != MP_OK ||
        (o->config != NULL && (rc = mp_conf_parse_file(o->config, conf_cb, x, e)) != MP_OK) ||
        (o->env != NULL && (rc = conf_cb(x, "", "", "env", o->env, e)) != MP_OK) ||
        (o->mp_url != NULL &&
            (rc = exchange_conf_set(x->conf, "maskinporten_url", o->mp_url, e)) != MP_OK) ||
        (o->ca_file != NULL &&
            (rc = exchange_conf_set(x->conf, "ca_file", o->ca_file, e)) != MP_OK) ||
        (o->socket != NULL &&
            (rc = exchange_conf_set(x->conf, "signer_socket", o->socket, e)) != MP_OK) ||
        (rc = exchange_conf_check(x->conf, 0, e)) != MP_OK)
        return rc;
    return selfservice_url(o->ss_url != NULL ? o->ss_url : x->conf->selfservice_url, x->env,
        x->ss_url, sizeof(x->ss_url), e);
}

static int
run(struct cctx *x, const struct ccmd *cmd)
{
    struct mp_errmsg e = {{0}};
    enum mp_err rc;

    x->write = cmd->write;
    if ((rc = configure(x, &e)) == MP_OK)
        rc = cmd->run(x, &e);
    if (rc == MP_OK)
        return fflush(stdout) == 0 ? 0 : 1;
    fprintf(stderr, "mp-exchange: error: %s\n", e.text[0] ? e.text : mp_strerror(rc));
    return 1;
}

/* The exit code of a parser's or check's result: help printed is a success. */
static int
opts_exit(enum mp_err r)
{
    return r == MP_ERR_HELP ? 0 : 2;
}

int
exchange_cmd_client(int argc, char **argv)
{
    const struct ccmd *cmd;
    struct cctx x;
    enum mp_err r;
    int used, rc;

    /* "keys" alone or "keys --help" asks for the usage too: keys is a group, not a command. */
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0 ||
        (strcmp(argv[1], "keys") == 0 && (argc == 2 || strcmp(argv[2], "--help") == 0))) {
        int usage_error = argc < 2 || (argc == 2 && strcmp(argv[1], "keys") == 0);

        fputs(client_usage, usage_error ? stderr : stdout);
        return usage_error ? 2 : 0;
    }
    if ((cmd = find_command(argc, argv, &used)) == NULL)
        return opts_exit(client_usage_error("unknown command \"%s%s%s\"", argv[1],
            used == 3 ? " " : "", used == 3 ? argv[2] : ""));
    memset(&x, 0, sizeof(x));
    /* Only errors on stderr: the fetch code's warnings would add lines to the one error line. */
    mp_log_set_level(MP_LOG_ERR);
    if ((r = client_opts_parse(argc - used + 1, argv + used - 1, &x.a)) != MP_OK)
        return opts_exit(r);
    if (x.a.npos != cmd->npos)
        rc = opts_exit(client_usage_error("%s takes a different number of arguments", cmd->name));
    else if ((r = client_opts_check(&x.a, cmd->name)) != MP_OK)
        rc = opts_exit(r);
    else
        rc = run(&x, cmd);
    selfservice_free(x.ss);
    exchange_conf_free(x.conf);
    return rc;
}
