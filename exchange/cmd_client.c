/* mp-exchange client: Maskinporten clients and their keys through the Digdir self-service API
 * (PROTOCOL.md §6). The admin token is fetched the way `serve` fetches tokens: a grant from the
 * signer for --profile (a client holding idporten:dcr.* scopes), posted to Maskinporten's token
 * endpoint (exchange/fetch.c). The API replaces a client's whole key set on every write, so the
 * key commands read the set, change it here and write all of it back. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/json.h"
#include "common/log.h"
#include "exchange/pipeline.h"
#include "exchange/selfservice.h"
#include "exchange/https.h"
#include "exchange/exchange_cmd.h"

static const char client_usage[] =
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

enum {
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

/* What the signer config says, for --append-profile. */
struct client_profile {
    int exists; /* [profile NAME] for the new name is there already */
    char key[1024]; /* the key URI the new profile gets */
};

struct cctx {
    struct client_opts o;
    const char *pos[CLIENT_MAX_POS];
    int npos;
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
        (x->o.profile != NULL && (rc = token_req_set(&q, "profile", x->o.profile, e)) != MP_OK) ||
        (rc = token_req_set(&q, "scope",
             x->write ? "idporten:dcr.read idporten:dcr.write" : "idporten:dcr.read", e)) !=
            MP_OK ||
        (rc = token_req_finish(&q, e)) != MP_OK)
        goto out;
    if ((rc = pipeline_maskinporten(&f, &q, tok, &xe)) != MP_OK)
        mp_errf(e, rc, "admin token for profile %s: %s: %s%s%s",
            x->o.profile != NULL ? x->o.profile : "default", xe.error, xe.description,
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

struct profile_scan {
    const char *admin, *want;
    struct client_profile *p;
};

/* Only profile names and the admin profile's key matter here; the signer checks the rest. */
static enum mp_err
scan_cb(void *arg, const char *section, const char *name, const char *key, const char *value,
    struct mp_errmsg *e)
{
    struct profile_scan *s = arg;

    (void)e;
    if (strcmp(section, "profile") != 0)
        return MP_OK;
    if (key == NULL)
        s->p->exists |= strcmp(name, s->want) == 0;
    else if (strcmp(key, "key") == 0 && strcmp(name, s->admin) == 0)
        snprintf(s->p->key, sizeof(s->p->key), "%s", value);
    return MP_OK;
}

/* The signer config as it is now: does the new profile exist, which key does it get. */
static enum mp_err
profile_scan(struct cctx *x, struct client_profile *p, struct mp_buf **text, struct stat *st,
    struct mp_errmsg *e)
{
    struct profile_scan s = {x->o.profile != NULL ? x->o.profile : "default", x->o.profile_name, p};
    enum mp_err rc;

    memset(p, 0, sizeof(*p));
    if ((rc = mp_buf_read_file(x->o.append, MP_CONF_MAX_FILE, text, st, e)) != MP_OK ||
        (rc = mp_conf_parse_text(mp_buf_str(*text), mp_buf_len(*text), x->o.append, scan_cb, &s,
             e)) != MP_OK)
        return rc;
    if (p->exists)
        return mp_errf(e, MP_ERR_INVALID,
            "%s already has [profile %s]: choose another --profile-name", x->o.append,
            x->o.profile_name);
    if (x->o.profile_key != NULL)
        snprintf(p->key, sizeof(p->key), "%s", x->o.profile_key);
    if (p->key[0] == '\0')
        return mp_errf(e, MP_ERR_INVALID,
            "%s: profile %s has no key to copy: give --profile-key URI", x->o.append, s.admin);
    return MP_OK;
}

static enum mp_err
profile_check(struct cctx *x, struct client_profile *p, struct mp_errmsg *e)
{
    struct mp_buf *text = NULL;
    struct stat st;
    enum mp_err rc = profile_scan(x, p, &text, &st, e);

    mp_buf_free(text);
    return rc;
}

/* The section appended to the signer config. */
static enum mp_err
profile_text(struct cctx *x, const struct client_profile *p, const char *id, struct mp_buf *b)
{
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    size_t i;
    enum mp_err rc;

    gmtime_r(&t, &tm);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
    rc = mp_buf_putf(b,
        "\n# Registered by mp-exchange client create at %s. Grants carry this key's certificate\n"
        "# (x5c) until a key is registered on the client (mp-exchange client keys add); then set\n"
        "# kid = <its kid>. No caller may use this profile until allow_uids or allow_gids is set.\n"
        "[profile %s]\nkey = %s\nclient_id = %s\nenv = %s\nscopes =",
        now, x->o.profile_name, p->key, id, x->env);
    for (i = 0; rc == MP_OK && i < x->o.nscopes; i++)
        rc = mp_buf_putf(b, " %s", x->o.scopes[i]);
    return rc == MP_OK ? mp_buf_puts(b, "\n") : rc;
}

static enum mp_err
write_all(int fd, const struct mp_buf *b)
{
    const unsigned char *p = mp_buf_ptr(b);
    size_t left = mp_buf_len(b);
    ssize_t n;

    for (; left > 0; p += n, left -= (size_t)n)
        if ((n = write(fd, p, left)) <= 0)
            return MP_ERR_IO;
    return MP_OK;
}

/* Replaces path by b: a temp file beside it with path's mode (and owner, as root), synced,
 * renamed over it, the directory synced. A crash leaves the old file or the new one. */
static enum mp_err
replace_file(const char *path, const struct stat *st, const struct mp_buf *b, struct mp_errmsg *e)
{
    char tmp[PATH_MAX], dir[PATH_MAX], *slash;
    int fd, dfd, ok;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
        return mp_errf(e, MP_ERR_INVALID, "%s: path too long", path);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        return mp_errf(e, MP_ERR_IO, "%s: cannot create a temp file beside it: %s", path,
            strerror(errno));
    ok = fchmod(fd, st->st_mode & 07777) == 0 &&
        (geteuid() != 0 || fchown(fd, st->st_uid, st->st_gid) == 0) && write_all(fd, b) == MP_OK &&
        fsync(fd) == 0;
    ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
    if (!ok) {
        mp_errf(e, MP_ERR_IO, "%s: cannot write it: %s", path, strerror(errno));
        unlink(tmp);
        return MP_ERR_IO;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    if ((slash = strrchr(dir, '/')) == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        slash[slash == dir] = '\0';
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return MP_OK;
}

/* Appends [profile NAME] for the new client, re-checking the file as it is now. */
static enum mp_err
profile_append(struct cctx *x, struct client_profile *p, const char *id, struct mp_errmsg *e)
{
    struct mp_buf *text = NULL;
    struct client_profile now;
    struct stat st;
    enum mp_err rc;

    if ((rc = profile_scan(x, &now, &text, &st, e)) != MP_OK)
        goto out;
    if ((rc = profile_text(x, p, id, text)) != MP_OK) {
        mp_errf(e, rc, "%s: the profile would make it too large", x->o.append);
        goto out;
    }
    rc = replace_file(x->o.append, &st, text, e);
out:
    mp_buf_free(text);
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
    if (x->o.append != NULL && (rc = profile_check(x, &prof, e)) != MP_OK)
        return rc;
    if ((rc = connect_api(x, e)) != MP_OK ||
        (rc = selfservice_create(x->ss, x->o.name, x->o.description, x->o.scopes, x->o.nscopes, &c,
             e)) != MP_OK)
        goto out;
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(c, "client_id")));
    if (x->o.json ? print_json(c) != MP_OK : printf("%s\n", id) < 0)
        rc = mp_errf(e, MP_ERR_IO, "client %s registered, but stdout failed", id);
    fflush(stdout);
    if (rc == MP_OK && x->o.append != NULL && (rc = profile_append(x, &prof, id, e)) != MP_OK)
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
        (rc = selfservice_show(x->ss, x->pos[0], &c, e)) != MP_OK)
        return rc;
    if (x->o.json)
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
    if (x->o.json)
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
        (rc = selfservice_keys(x->ss, x->pos[0], &keys, e)) != MP_OK)
        return rc;
    if (x->o.json) {
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
    const char *id = x->pos[0];
    enum mp_err rc;

    if ((rc = jwk_load(x->o.jwk, &add, e)) != MP_OK || (rc = connect_api(x, e)) != MP_OK ||
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
    const char *id = x->pos[0], *kid = x->pos[1];
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

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("mp-exchange client: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (mp-exchange client --help for usage)\n", stderr);
    return 2;
}

/* Flag values into o; -1 for a flag given too often. */
static int
opt_set(struct client_opts *o, int opt, const char *v)
{
    const char **slot[] = {&o->config, &o->env, &o->ss_url, &o->mp_url, &o->ca_file, &o->socket,
        &o->profile, &o->name, &o->description, NULL, &o->append, &o->profile_name, &o->profile_key,
        &o->jwk};

    if (opt == CO_SCOPE) {
        if (o->nscopes == CLIENT_MAX_SCOPES)
            return -1;
        o->scopes[o->nscopes++] = v;
        return 0;
    }
    if (opt < CO_CONFIG || opt > CO_JWK || slot[opt - CO_CONFIG] == NULL)
        return -1;
    *slot[opt - CO_CONFIG] = v;
    return 0;
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

static int
create_opts_check(const struct client_opts *o)
{
    size_t i;

    if (o->name == NULL || o->description == NULL || o->nscopes == 0)
        return usage_error("%s", "create needs --name, --description and at least one --scope");
    if (!one_line(o->name, 256, 1) || !one_line(o->description, 1024, 1))
        return usage_error("%s", "--name and --description must be one printable line");
    for (i = 0; i < o->nscopes; i++)
        if (!one_line(o->scopes[i], 256, 0))
            return usage_error("--scope \"%s\": one scope per --scope, no spaces", o->scopes[i]);
    if ((o->append == NULL) != (o->profile_name == NULL))
        return usage_error("%s", "--append-profile and --profile-name go together");
    if (o->profile_name != NULL &&
        (!selfservice_id_ok(o->profile_name) || strlen(o->profile_name) > 63))
        return usage_error("%s", "--profile-name is [A-Za-z0-9._-], at most 63 characters");
    if (o->profile_key != NULL && (o->append == NULL || !one_line(o->profile_key, 1000, 0)))
        return usage_error("%s", "--profile-key is one URI, with --append-profile");
    return 0;
}

/* Per command: what it needs and nothing it would ignore. */
static int
opts_check(const struct cctx *x, const char *cmd)
{
    const struct client_opts *o = &x->o;
    int i;

    for (i = 0; i < x->npos; i++)
        if (!selfservice_id_ok(x->pos[i]))
            return usage_error("\"%s\" is not a client id or kid ([A-Za-z0-9._-])", x->pos[i]);
    if (strcmp(cmd, "create") == 0)
        return create_opts_check(o);
    if (o->name != NULL || o->description != NULL || o->nscopes > 0 || o->append != NULL ||
        o->profile_name != NULL || o->profile_key != NULL)
        return usage_error("%s",
            "--name, --description, --scope and the profile flags are for create");
    if ((strcmp(cmd, "keys add") == 0) != (o->jwk != NULL))
        return usage_error("%s", "--jwk FILE is needed by keys add, and only there");
    return 0;
}

/* Options into x->o; 0 ok, 2 usage error, -1 help printed. */
static int
parse_opts(int argc, char **argv, struct cctx *x)
{
    int o;

    opterr = 0;
    optind = 0;
    while ((o = getopt_long(argc, argv, ":", client_opts, NULL)) != -1) {
        if (o == '?' || o == ':')
            return usage_error(o == ':' ? "missing value for %s" : "unknown option %s",
                argv[optind - 1]);
        if (o == CO_JSON)
            x->o.json = 1;
        else if (o == CO_VERBOSE)
            mp_log_set_level(MP_LOG_DEBUG);
        else if (o == CO_HELP) {
            fputs(client_usage, stdout);
            return -1;
        } else if (opt_set(&x->o, o, optarg) != 0)
            return usage_error("too many values for %s", argv[optind - 1]);
    }
    for (; optind < argc; optind++) {
        if (x->npos == CLIENT_MAX_POS)
            return usage_error("unexpected argument \"%s\"", argv[optind]);
        x->pos[x->npos++] = argv[optind];
    }
    return 0;
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
    const struct client_opts *o = &x->o;
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

int
exchange_cmd_client(int argc, char **argv)
{
    const struct ccmd *cmd;
    struct cctx x;
    int used, rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(client_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if ((cmd = find_command(argc, argv, &used)) == NULL)
        return usage_error("unknown command \"%s%s%s\"", argv[1], used == 3 ? " " : "",
            used == 3 ? argv[2] : "");
    memset(&x, 0, sizeof(x));
    /* Only errors on stderr: the fetch code's warnings would add lines to the one error line. */
    mp_log_set_level(MP_LOG_ERR);
    if ((rc = parse_opts(argc - used + 1, argv + used - 1, &x)) != 0)
        return rc < 0 ? 0 : rc;
    if (x.npos != cmd->npos)
        rc = usage_error("%s takes a different number of arguments", cmd->name);
    else if (opts_check(&x, cmd->name) != 0)
        rc = 2;
    else
        rc = run(&x, cmd);
    selfservice_free(x.ss);
    exchange_conf_free(x.conf);
    return rc;
}
