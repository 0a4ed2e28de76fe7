/* mp-fake: HTTP(S) glue, fault knobs and stats around the fake Maskinporten, Altinn and
 * self-service API.
 * Usage: mp-fake --config FILE; prints "mp-fake listening on URL" once it accepts. */
#include <arpa/inet.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/rsa.h>

#include "common/log.h"
#include "common/num.h"
#include "common/version.h"
#include "tests/fakes/fake.h"

#define BODY_MAX (64 * 1024)

static const char *const stat_names[] = {"token", "token_ok", "exchange", "exchange_ok", "jwk",
    "well_known", "selfservice_read", "selfservice_write"};

struct req {
    struct mp_buf *body;
    int too_big;
};

static void
reply_stats(struct fake *f, struct fake_reply *r)
{
    json_t *j = json_object();
    size_t i;

    pthread_mutex_lock(&f->mu);
    for (i = 0; j != NULL && i < sizeof(stat_names) / sizeof(stat_names[0]); i++)
        json_object_set_new(j, stat_names[i], json_integer((json_int_t)f->stats[i]));
    pthread_mutex_unlock(&f->mu);
    fake_json(r, 200, j);
}

static void
fault_set(struct fake *f, const char *body, size_t len, struct fake_reply *r)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    struct fake_fault ft;
    const char *t = json_string_value(json_object_get(j, "target"));
    const char *err = json_string_value(json_object_get(j, "error"));

    memset(&ft, 0, sizeof(ft));
    if (j == NULL || t == NULL ||
        (strcmp(t, "token") && strcmp(t, "exchange") && strcmp(t, "any"))) {
        fake_json(r, 400, json_pack("{s:s}", "error", "target must be token, exchange or any"));
        json_decref(j);
        return;
    }
    snprintf(ft.target, sizeof(ft.target), "%s", t);
    snprintf(ft.error, sizeof(ft.error), "%s", err != NULL ? err : "");
    ft.delay_ms = (unsigned int)json_integer_value(json_object_get(j, "delay_ms"));
    ft.status = (int)json_integer_value(json_object_get(j, "status"));
    ft.drop = json_is_true(json_object_get(j, "drop"));
    ft.garbage = json_is_true(json_object_get(j, "garbage"));
    ft.count = (long)json_integer_value(json_object_get(j, "count"));
    ft.date_offset_s = (long)json_integer_value(json_object_get(j, "date_offset_s"));
    ft.active = 1;
    pthread_mutex_lock(&f->mu);
    f->fault = ft;
    pthread_mutex_unlock(&f->mu);
    json_decref(j);
    fake_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* Takes the fault that applies to this call, if any (and counts it down). */
static int
fault_take(struct fake *f, const char *target, struct fake_fault *out)
{
    int hit;

    pthread_mutex_lock(&f->mu);
    hit = f->fault.active &&
        (strcmp(f->fault.target, "any") == 0 || strcmp(f->fault.target, target) == 0);
    if (hit) {
        *out = f->fault;
        if (f->fault.count > 0 && --f->fault.count == 0)
            f->fault.active = 0;
    }
    pthread_mutex_unlock(&f->mu);
    return hit;
}

/* 1 when the fault answered (or dropped) the call instead of the real handler. */
static int
fault_apply(const struct fake_fault *ft, struct fake_reply *r)
{
    r->date_offset_s = ft->date_offset_s;
    if (ft->delay_ms > 0)
        usleep(ft->delay_ms * 1000u);
    if (ft->drop) {
        r->drop = 1;
        return 1;
    }
    if (ft->garbage) {
        r->status = 200;
        r->type = "application/json";
        mp_buf_puts(r->body, "{\"access_token\": <html>oops");
        return 1;
    }
    if (ft->error[0] != '\0') {
        fake_mp_error(r, ft->status ? (unsigned int)ft->status : 400, "invalid_grant", ft->error,
            "Forced by mp-fake: %s%s", ft->error,
            strcmp(ft->error, "MP-130") == 0 ? " Issue time is after now" : "");
        return 1;
    }
    if (ft->status != 0) {
        r->status = (unsigned int)ft->status;
        r->type = "text/plain";
        mp_buf_puts(r->body, "forced by mp-fake");
        return 1;
    }
    return 0;
}

static void
count(struct fake *f, enum fake_stat s)
{
    pthread_mutex_lock(&f->mu);
    f->stats[s]++;
    pthread_mutex_unlock(&f->mu);
}

/* A Date header from a clock that is off by offset seconds; MHD then sends no Date of its own. */
static void
add_skewed_date(struct MHD_Response *resp, long offset)
{
    time_t t = time(NULL) + offset;
    struct tm tm;
    char date[64];

    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, date);
}

static void
route(struct fake *f, struct MHD_Connection *c, const char *url, const char *method,
    const struct mp_buf *body, struct fake_reply *r)
{
    const char *xpath = "/authentication/api/v1/exchange/";
    struct fake_fault ft;
    int post = strcmp(method, "POST") == 0;

    if (!post && strcmp(url, "/.well-known/oauth-authorization-server") == 0) {
        count(f, ST_WELL_KNOWN);
        fake_well_known(f, r);
    } else if (!post && strcmp(url, "/jwk") == 0) {
        count(f, ST_JWK);
        fake_jwks(f, r);
    } else if (post && strcmp(url, "/token") == 0) {
        count(f, ST_TOKEN);
        if (!fault_take(f, "token", &ft) || !fault_apply(&ft, r))
            fake_token(f,
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
                mp_buf_str(body), mp_buf_len(body), r);
    } else if (!post && strncmp(url, xpath, strlen(xpath)) == 0) {
        count(f, ST_EXCHANGE);
        if (!fault_take(f, "exchange", &ft) || !fault_apply(&ft, r))
            fake_exchange(f, url + strlen(xpath),
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                    "X-Altinn-EnterpriseUser-Authentication") != NULL,
                r);
    } else if (strncmp(url, "/clients", 8) == 0 && (url[8] == '\0' || url[8] == '/')) {
        count(f, strcmp(method, "GET") == 0 ? ST_SS_READ : ST_SS_WRITE);
        fake_selfservice(f, method, url + 8,
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
            mp_buf_str(body), mp_buf_len(body), r);
    } else if (!post && strcmp(url, "/stats") == 0)
        reply_stats(f, r);
    else if (post && strcmp(url, "/fake/fault") == 0)
        fault_set(f, mp_buf_str(body), mp_buf_len(body), r);
    else if (post && strcmp(url, "/fake/reset") == 0) {
        pthread_mutex_lock(&f->mu);
        memset(&f->fault, 0, sizeof(f->fault));
        memset(f->stats, 0, sizeof(f->stats));
        pthread_mutex_unlock(&f->mu);
        fake_json(r, 200, json_pack("{s:b}", "ok", 1));
    } else
        fake_json(r, 404, json_pack("{s:s}", "error", "not_found"));
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct fake *f = cls;
    struct req *q = *con_cls;
    struct fake_reply r;
    struct MHD_Response *resp;
    enum MHD_Result ret;

    (void)version;
    if (q == NULL) {
        if ((q = calloc(1, sizeof(*q))) == NULL || (q->body = mp_buf_new(BODY_MAX)) == NULL) {
            free(q);
            return MHD_NO;
        }
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (mp_buf_put(q->body, upload, *upload_size) != MP_OK)
            q->too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    memset(&r, 0, sizeof(r));
    if ((r.body = mp_buf_new(256 * 1024)) == NULL)
        return MHD_NO;
    if (q->too_big)
        fake_json(&r, 413, json_pack("{s:s}", "error", "body over 64 KiB"));
    else
        route(f, c, url, method, q->body, &r);
    if (r.drop) {
        mp_buf_free(r.body);
        return MHD_NO; /* closes the connection without an answer */
    }
    resp = MHD_create_response_from_buffer(mp_buf_len(r.body),
        (void *)(uintptr_t)mp_buf_ptr(r.body), MHD_RESPMEM_MUST_COPY);
    mp_buf_free(r.body);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.type ? r.type : "text/plain");
    if (r.date_offset_s != 0)
        add_skewed_date(resp, r.date_offset_s);
    ret = MHD_queue_response(c, r.status ? r.status : 500, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    struct req *q = *con_cls;

    (void)cls;
    (void)c;
    (void)t;
    if (q != NULL) {
        mp_buf_free(q->body);
        free(q);
        *con_cls = NULL;
    }
}

static char *
slurp(const char *path)
{
    FILE *fp = fopen(path, "re");
    struct mp_buf *b = mp_buf_new(1024 * 1024);
    char chunk[4096];
    size_t n;
    char *out = NULL;

    if (fp != NULL && b != NULL) {
        while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
            mp_buf_put(b, chunk, n);
        out = mp_buf_take(b, NULL);
    }
    if (fp != NULL)
        fclose(fp);
    mp_buf_free(b);
    return out;
}

static EVP_PKEY *
rsa_key(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *k = NULL;

    if (ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1)
        EVP_PKEY_keygen(ctx, &k);
    EVP_PKEY_CTX_free(ctx);
    return k;
}

static struct MHD_Daemon *
start(struct fake *f, struct sockaddr_in *sin, char **cert, char **key)
{
    unsigned int flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;

    if (f->tls_cert == NULL)
        return MHD_start_daemon(flags, 0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR, sin,
            MHD_OPTION_NOTIFY_COMPLETED, on_done, f, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
            MHD_OPTION_END);
    if ((*cert = slurp(f->tls_cert)) == NULL || (*key = slurp(f->tls_key)) == NULL)
        return NULL;
    return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR,
        sin, MHD_OPTION_HTTPS_MEM_CERT, *cert, MHD_OPTION_HTTPS_MEM_KEY, *key,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, f, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_END);
}

static int
parse_listen(const char *s, struct sockaddr_in *sin)
{
    char host[32];
    const char *colon = strrchr(s, ':');
    uint64_t port;

    memset(sin, 0, sizeof(*sin));
    if (colon == NULL || (size_t)(colon - s) >= sizeof(host) ||
        mp_parse_u64(colon + 1, 0, 65535, &port) != MP_OK)
        return 0;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sin->sin_addr) == 1 &&
        (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
}

static const char fake_usage[] =
    "usage: mp-fake --config FILE\n"
    "       mp-fake --version | --help\n"
    "A strict fake of Maskinporten, the Altinn token exchange and the Digdir self-service API,\n"
    "on 127.0.0.1 only, for tests and CI. It prints \"mp-fake listening on URL\" when ready.\n";

int
main(int argc, char **argv)
{
    static struct fake f;
    struct mp_errmsg e = {{0}};
    struct sockaddr_in sin;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    char *cert = NULL, *key = NULL;
    sigset_t set;
    int sig;

    mp_log_init("mp-fake", MP_LOG_INFO);
    if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
        printf("mp-fake %s\n", mp_version());
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        fputs(fake_usage, stdout);
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "--config") != 0) {
        fputs(fake_usage, stderr);
        return 2;
    }
    pthread_mutex_init(&f.mu, NULL);
    pthread_mutex_init(&f.reg, NULL);
    f.jti = calloc(FAKE_MAX_JTI, sizeof(f.jti[0]));
    f.jti_exp = calloc(FAKE_MAX_JTI, sizeof(f.jti_exp[0]));
    if (f.jti == NULL || f.jti_exp == NULL || fake_load(&f, argv[2], &e) != MP_OK ||
        (f.mp_key = rsa_key()) == NULL || (f.altinn_key = rsa_key()) == NULL) {
        fprintf(stderr, "mp-fake: error: %s\n", e.text[0] ? e.text : "cannot start");
        return 1;
    }
    if (!parse_listen(f.listen, &sin)) {
        fprintf(stderr, "mp-fake: error: listen must be 127.x.x.x:PORT\n");
        return 1;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((d = start(&f, &sin, &cert, &key)) == NULL) {
        fprintf(stderr, "mp-fake: error: cannot listen on %s%s\n", f.listen,
            f.tls_cert ? " (or read tls_cert/tls_key)" : "");
        return 1;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(f.base, sizeof(f.base), "%s://127.0.0.1:%u", f.tls_cert ? "https" : "http",
        info != NULL ? (unsigned int)info->port : 0);
    printf("mp-fake listening on %s\n", f.base);
    fflush(stdout);
    while (sigwait(&set, &sig) != 0)
        ;
    MHD_stop_daemon(d);
    free(cert);
    free(key);
    return 0;
}
