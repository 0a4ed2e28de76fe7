/* The HTTP API: listeners, the guard in front of every route, the routes themselves. */
#include "exchange/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/num.h"
#include "exchange/api_guard.h"
#include "exchange/api_oauth.h"
#include "exchange/peer.h"

/* A POST body's ceiling: a token request is a few hundred bytes, authorization_details a few
 * kilobytes. */
#define API_BODY_MAX (64 * 1024)

struct api {
    struct exchange *x;
    struct MHD_Daemon *tcp, *unx;
    struct api_guard *guard;
    char unix_path[108];
};

struct qctx {
    struct token_req q;
    struct mp_errmsg e;
    int bad;
};

/* One request's state across libmicrohttpd's calls: the POST body so far. */
struct conn {
    struct mp_buf *body;
    int too_big;
};

/* Frees a response body after wiping it: it may hold a token. */
static void
wipe_free(void *p)
{
    explicit_bzero(p, strlen(p));
    free(p);
}

static enum MHD_Result
send_body(struct MHD_Connection *c, unsigned int status, char *body, const char *type)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (body == NULL) {
        static char oom[] = "{\"error\":\"server_error\",\"error_description\":\"out of memory\"}";

        r = MHD_create_response_from_buffer(strlen(oom), oom, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
    } else
        r = MHD_create_response_from_buffer_with_free_callback(strlen(body), body, wipe_free);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, MHD_HTTP_HEADER_PRAGMA, "no-cache"); /* RFC 6749 §5.1 */
    if (status == MHD_HTTP_UNAUTHORIZED) /* only the OAuth2 routes answer 401 (§5.2) */
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"mp-exchange\"");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
send_json(struct api *a, struct MHD_Connection *c, const char *route, unsigned int status,
    json_t *j)
{
    char *body = j != NULL ? mp_json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    metrics_request(a->x->metrics, route, body != NULL ? (int)status : 503);
    return send_body(c, status, body, "application/json");
}

static enum MHD_Result
send_error(struct api *a, struct MHD_Connection *c, const char *route, const struct xerr *err)
{
    json_t *j = json_pack("{s:s, s:s}", "error", err->error, "error_description", err->description);

    if (j != NULL && err->uri[0] != '\0')
        json_object_set_new(j, "error_uri", json_string(err->uri));
    if (j != NULL && err->code[0] != '\0')
        json_object_set_new(j, "mp_code", json_string(err->code));
    return send_json(a, c, route,
        err->status >= 400 && err->status < 600 ? (unsigned)err->status : 502, j);
}

static enum MHD_Result
on_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct qctx *qc = cls;

    (void)kind;
    if (qc->bad)
        return MHD_NO;
    if (value == NULL || token_req_set(&qc->q, key, value, &qc->e) != MP_OK) {
        if (value == NULL)
            mp_errf(&qc->e, MP_ERR_INVALID, "parameter %.32s has no value", key);
        qc->bad = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

/* True for a connection to listen_unix. Asked of the socket: with a thread pool a connection
 * belongs to one of the listener's worker daemons, so MHD_CONNECTION_INFO_DAEMON does not
 * name the listener. */
static int
conn_is_unix(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    int domain = -1;
    socklen_t len = sizeof(domain);

    return ci != NULL && getsockopt(ci->connect_fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
        domain == AF_UNIX;
}

/* forward_caller: the caller of a request, for the signer and the cache key: SO_PEERCRED on
 * the Unix socket, the kernel's socket table on loopback TCP. A caller that cannot be named
 * gets nothing. */
static enum mp_err
token_caller(struct api *a, struct MHD_Connection *c, struct token_caller *who, struct xerr *err)
{
    const union MHD_ConnectionInfo *fd;
    struct mp_errmsg e = {{0}};
    enum mp_err r;

    if (!a->x->conf->forward_caller)
        return MP_OK;
    fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (fd == NULL)
        r = mp_errf(&e, MP_ERR_IO, "no connection socket");
    else if (conn_is_unix(c))
        r = peer_of_unix(fd->connect_fd, who, &e);
    else
        r = peer_of_tcp(fd->connect_fd, who, &e);
    if (r == MP_ERR_NOTFOUND)
        xerr_set(err, 403, "access_denied", "cannot tell who is calling: %s", e.text);
    else if (r != MP_OK)
        xerr_set(err, 503, "temporarily_unavailable", "cannot tell who is calling: %s", e.text);
    return r;
}

static enum MHD_Result
token_route(struct api *a, struct MHD_Connection *c, int altinn)
{
    const char *route = altinn ? "altinn" : "maskinporten";
    struct qctx qc;
    struct xtok t;
    struct xerr err;
    json_t *j;
    enum mp_err r;

    memset(&qc, 0, sizeof(qc));
    memset(&err, 0, sizeof(err));
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_arg, &qc);
    if (qc.bad || token_req_finish(&qc.q, &qc.e) != MP_OK) {
        xerr_set(&err, 400, "invalid_request", "%s", qc.e.text);
        return send_error(a, c, route, &err);
    }
    if (token_caller(a, c, &qc.q.caller, &err) != MP_OK)
        return send_error(a, c, route, &err);
    r = altinn ? cache_altinn(a->x->cache, &qc.q, &t, &err)
               : cache_maskinporten(a->x->cache, &qc.q, &t, &err);
    if (r != MP_OK)
        return send_error(a, c, route, &err);
    j = json_pack("{s:s, s:s, s:I}", "access_token", t.value, "token_type", "Bearer", "expires_in",
        (json_int_t)(t.exp - time(NULL)));
    if (j != NULL && !altinn)
        json_object_set_new(j, "scope", json_string(t.scope[0] ? t.scope : qc.q.scope));
    xtok_clear(&t);
    return send_json(a, c, route, MHD_HTTP_OK, j);
}

static const char *
header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The OAuth2 and TEXAS routes (api_oauth.h) on a complete POST body. */
static enum MHD_Result
oauth_route(struct api *a, struct MHD_Connection *c, enum oauth_route route, struct conn *cn)
{
    static const char *const names[] = {"oauth2", "oauth2_altinn", "texas", "introspect"};
    struct oauth_http in = {
        .content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
        .authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION),
        .body = cn->body != NULL ? mp_buf_str(cn->body) : "",
        .len = cn->body != NULL ? mp_buf_len(cn->body) : 0,
    };
    struct token_caller who;
    struct oauth_answer ans;
    struct xerr err;

    memset(&who, 0, sizeof(who));
    memset(&err, 0, sizeof(err));
    if (cn->too_big) {
        xerr_set(&err, 413, "invalid_request", "the body is over %d bytes", API_BODY_MAX);
        return send_error(a, c, names[route], &err);
    }
    if (route == OAUTH_INTROSPECT) {
        oauth_introspect(a->x, &in, &ans);
        return send_json(a, c, names[route], ans.status, ans.body);
    }
    if (token_caller(a, c, &who, &err) != MP_OK)
        return send_error(a, c, names[route], &err);
    oauth_token(a->x, route, a->x->conf->forward_caller ? &who : NULL, &in, &ans);
    return send_json(a, c, names[route], ans.status, ans.body);
}

static enum MHD_Result
metadata_route(struct api *a, struct MHD_Connection *c)
{
    const char *host = header(c, MHD_HTTP_HEADER_HOST);

    /* On TCP the guard has checked Host; a Unix socket's Host is whatever the client put. */
    if (conn_is_unix(c) || host == NULL)
        host = "localhost";
    return send_json(a, c, "metadata", MHD_HTTP_OK, oauth_metadata(host));
}

static int
oauth_path(const char *url, enum oauth_route *route)
{
    if (strcmp(url, "/oauth2/token") == 0)
        *route = OAUTH_MASKINPORTEN;
    else if (strcmp(url, "/oauth2/altinn/token") == 0)
        *route = OAUTH_ALTINN;
    else if (strcmp(url, "/api/v1/token") == 0)
        *route = OAUTH_TEXAS;
    else if (strcmp(url, "/api/v1/introspect") == 0)
        *route = OAUTH_INTROSPECT;
    else
        return 0;
    return 1;
}

static enum MHD_Result
readyz(struct api *a, struct MHD_Connection *c)
{
    char why[512] = "";
    int signer = pipeline_signer_alive(&a->x->pipeline, why, sizeof(why));
    int up = metrics_upstream_state(a->x->metrics);
    int ready = signer == 1 && up != 0;
    json_t *j = json_pack("{s:b, s:s, s:s, s:s}", "ready", ready, "signer",
        signer == 0 ? "unreachable" : "up", "hsm",
        signer == 0       ? "unknown"
            : signer == 1 ? "up"
                          : why,
        "upstream",
        up < 0   ? "unknown"
            : up ? "ok"
                 : "failing");

    return send_json(a, c, "readyz", ready ? MHD_HTTP_OK : 503, j);
}

static enum MHD_Result
metrics_route(struct api *a, struct MHD_Connection *c)
{
    struct mp_buf *b = mp_buf_new(1024 * 1024);
    char *body = NULL;

    metrics_request(a->x->metrics, "metrics", 200);
    if (b != NULL && metrics_render(a->x->metrics, b) == MP_OK &&
        cache_render(a->x->cache, b) == MP_OK)
        body = mp_buf_take(b, NULL);
    mp_buf_free(b);
    return send_body(c, MHD_HTTP_OK, body, "text/plain; version=0.0.4");
}

/* The browser defences (api_guard.h); MHD_YES with *refused set when an answer was queued. */
static enum MHD_Result
guard(struct api *a, struct MHD_Connection *c, const char *url, int *refused)
{
    struct api_guard_req rq = {
        .tcp = !conn_is_unix(c),
        .token_route = strcmp(url, "/v1/maskinporten") == 0 || strcmp(url, "/v1/altinn") == 0,
        .host = header(c, MHD_HTTP_HEADER_HOST),
        .origin = header(c, "Origin"),
        .sec_fetch_site = header(c, "Sec-Fetch-Site"),
        .marker = header(c, API_GUARD_HEADER),
    };
    struct xerr err;

    memset(&err, 0, sizeof(err));
    *refused = api_guard_check(a->guard, &rq, &err) != MP_OK;
    if (!*refused)
        return MHD_YES;
    mp_warn("refused a request for %.64s: %s", url, err.description);
    return send_error(a, c, "refused", &err);
}

/* Keeps a POST body up to API_BODY_MAX (more marks it too big, answered 413 once complete);
 * any other method's body is dropped. */
static void
body_append(struct conn *cn, int post, const char *data, size_t len)
{
    if (!post || cn->too_big)
        return;
    if (cn->body == NULL && (cn->body = mp_buf_new(API_BODY_MAX)) == NULL) {
        cn->too_big = 1;
        return;
    }
    if (mp_buf_put(cn->body, data, len) != MP_OK)
        cn->too_big = 1;
}

/* The end of a request: its body may hold a client secret, and mp_buf_free wipes it. */
static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode why)
{
    struct conn *cn = *con_cls;

    (void)cls;
    (void)c;
    (void)why;
    if (cn != NULL) {
        mp_buf_free(cn->body);
        free(cn);
        *con_cls = NULL;
    }
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct api *a = cls;
    struct conn *cn = *con_cls;
    enum oauth_route route;
    struct xerr err;
    enum MHD_Result ret;
    int refused, post = strcmp(method, "POST") == 0;

    (void)version;
    if (cn == NULL) { /* first call: headers only */
        *con_cls = calloc(1, sizeof(struct conn));
        return *con_cls != NULL ? MHD_YES : MHD_NO;
    }
    if (*upload_size != 0) {
        body_append(cn, post, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if ((ret = guard(a, c, url, &refused)) != MHD_YES || refused)
        return ret;
    if (oauth_path(url, &route)) {
        if (post)
            return oauth_route(a, c, route, cn);
        xerr_set(&err, 405, "invalid_request", "%s takes POST", url);
        return send_error(a, c, "other", &err);
    }
    if (strcmp(method, "GET") != 0) {
        xerr_set(&err, 405, "invalid_request", "only GET is served here");
        return send_error(a, c, "other", &err);
    }
    if (strcmp(url, "/.well-known/oauth-authorization-server") == 0)
        return metadata_route(a, c);
    if (strcmp(url, "/v1/maskinporten") == 0)
        return token_route(a, c, 0);
    if (strcmp(url, "/v1/altinn") == 0)
        return token_route(a, c, 1);
    if (strcmp(url, "/healthz") == 0)
        return send_json(a, c, "healthz", MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
    if (strcmp(url, "/readyz") == 0)
        return readyz(a, c);
    if (strcmp(url, "/metrics") == 0)
        return metrics_route(a, c);
    xerr_set(&err, 404, "not_found", "no such route");
    return send_error(a, c, "other", &err);
}

/* "127.0.0.1:8471" or "[::1]:8471"; tokens are bearer credentials, so loopback only. */
static enum mp_err
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, struct mp_errmsg *e)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    uint64_t port;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    size_t hl;

    memset(ss, 0, sizeof(*ss));
    if (colon == NULL || (hl = (size_t)(colon - s)) == 0 || hl >= sizeof(host) ||
        mp_parse_u64(colon + 1, 0, 65535, &port) != MP_OK)
        return mp_errf(e, MP_ERR_INVALID, "listen must be HOST:PORT, not \"%.64s\"", s);
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1 && (ntohl(v4->sin_addr.s_addr) >> 24) == 127) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
        return MP_OK;
    }
    if (strcmp(host, "[::1]") == 0 && inet_pton(AF_INET6, "::1", &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
        return MP_OK;
    }
    return mp_errf(e, MP_ERR_INVALID,
        "listen %s: only loopback addresses (tokens are bearer credentials; use a Unix socket "
        "or a reverse proxy for anything else)",
        s);
}

/* Either a socket address to bind (sa) or an already listening socket (fd). */
static struct MHD_Daemon *
daemon_start(struct api *a, unsigned int flags, const struct sockaddr_storage *sa, int fd)
{
    unsigned int threads = a->x->conf->threads;
    unsigned int flag_all = flags | MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;

    if (sa != NULL)
        return MHD_start_daemon(flag_all, 0, NULL, NULL, on_request, a, MHD_OPTION_SOCK_ADDR, sa,
            MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, 1024u,
            MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    return MHD_start_daemon(flag_all, 0, NULL, NULL, on_request, a, MHD_OPTION_LISTEN_SOCKET,
        (MHD_socket)fd, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, 1024u,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
}

/* Binds and listens itself, so the Host allow-list knows the port (listen = …:0 takes any)
 * before the first request can arrive. */
static enum mp_err
tcp_listen(const char *what, const struct sockaddr_storage *ss, socklen_t len, int *fd,
    unsigned int *port, struct mp_errmsg *e)
{
    struct sockaddr_storage got;
    socklen_t glen = sizeof(got);
    int one = 1;

    if ((*fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return mp_errf(e, MP_ERR_IO, "socket: %s", strerror(errno));
    if (setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(*fd, (const struct sockaddr *)ss, len) != 0 || listen(*fd, 128) != 0 ||
        getsockname(*fd, (struct sockaddr *)&got, &glen) != 0) {
        mp_errf(e, MP_ERR_IO, "cannot listen on %s: %s", what, strerror(errno));
        close(*fd);
        *fd = -1;
        return MP_ERR_IO;
    }
    *port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                            : ((struct sockaddr_in *)&got)->sin_port);
    return MP_OK;
}

static enum mp_err
start_tcp(struct api *a, struct mp_errmsg *e)
{
    const char *listen_s = a->x->conf->listen;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    unsigned int port = 0;
    char host[64], addr[INET_ADDRSTRLEN];
    int fd = -1;
    enum mp_err r;

    if ((r = parse_listen(listen_s, &ss, &len, e)) != MP_OK)
        return r;
    snprintf(host, sizeof(host), "%.*s", (int)(strrchr(listen_s, ':') - listen_s), listen_s);
    if ((r = tcp_listen(listen_s, &ss, len, &fd, &port, e)) != MP_OK)
        return r;
    if ((r = api_guard_new(host, port, a->x->conf->allowed_hosts, &a->guard, e)) != MP_OK) {
        close(fd);
        return r;
    }
    a->tcp = daemon_start(a, ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0, NULL, fd);
    if (a->tcp == NULL) {
        close(fd);
        return mp_errf(e, MP_ERR_IO, "cannot serve on %s", listen_s);
    }
    if (ss.ss_family == AF_INET6)
        snprintf(addr, sizeof(addr), "[::1]");
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
    mp_info("listening on http://%s:%u", addr, port);
    return MP_OK;
}

/* Between bind and chmod: the socket is still 0600, nobody can connect yet. */
static enum mp_err
unix_group(const char *path, const char *group, struct mp_errmsg *e)
{
    struct group *gr = getgrnam(group);

    if (gr == NULL)
        return mp_errf(e, MP_ERR_INVALID, "unix_group %.64s does not exist", group);
    if (chown(path, (uid_t)-1, gr->gr_gid) != 0)
        return mp_errf(e, MP_ERR_INVALID, "chown %s to group %.64s: %s", path, group,
            strerror(errno));
    return MP_OK;
}

static enum mp_err
start_unix(struct api *a, struct mp_errmsg *e)
{
    const char *path = a->x->conf->listen_unix;
    struct sockaddr_un sun;
    mode_t old;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path))
        return mp_errf(e, MP_ERR_INVALID, "listen_unix path too long");
    memcpy(sun.sun_path, path, strlen(path) + 1);
    unlink(path); /* a stale socket of an earlier run */
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return mp_errf(e, MP_ERR_IO, "socket: %s", strerror(errno));
    old = umask(0177);
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        umask(old);
        close(fd);
        return mp_errf(e, MP_ERR_IO, "bind %s: %s", path, strerror(errno));
    }
    umask(old);
    if (a->x->conf->unix_group != NULL && unix_group(path, a->x->conf->unix_group, e) != MP_OK) {
        close(fd);
        return MP_ERR_INVALID;
    }
    if (chmod(path, (mode_t)a->x->conf->unix_mode) != 0 || listen(fd, 128) != 0) {
        close(fd);
        return mp_errf(e, MP_ERR_IO, "%s: %s", path, strerror(errno));
    }
    memcpy(a->unix_path, path, strlen(path) + 1);
    if ((a->unx = daemon_start(a, 0, NULL, fd)) == NULL) {
        close(fd);
        return mp_errf(e, MP_ERR_IO, "cannot serve on %s", path);
    }
    mp_info("listening on unix:%s", path);
    return MP_OK;
}

enum mp_err
api_start(struct exchange *x, struct api **out, struct mp_errmsg *e)
{
    struct api *a = calloc(1, sizeof(*a));
    enum mp_err r = MP_OK;

    if (a == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    a->x = x;
    /* Before the listeners say they listen, so whoever waits for that has read this too. */
    if (x->conf->forward_caller)
        mp_info("forward_caller = yes: the signer decides for each caller, not for this exchange");
    else
        mp_warn("forward_caller = no: the signer sees this exchange as the caller of every token "
                "request, so any local user who can reach it gets what its profiles allow this "
                "exchange (set forward_caller = yes and trusted_forwarders in the signer)");
    if (x->conf->listen != NULL)
        r = start_tcp(a, e);
    else /* Unix socket only: the Host check does not apply, the others do */
        r = api_guard_new(NULL, 0, NULL, &a->guard, e);
    if (r == MP_OK && x->conf->listen_unix != NULL)
        r = start_unix(a, e);
    if (r != MP_OK) {
        api_stop(a);
        return r;
    }
    *out = a;
    return MP_OK;
}

void
api_stop(struct api *a)
{
    if (a == NULL)
        return;
    if (a->tcp != NULL)
        MHD_stop_daemon(a->tcp);
    if (a->unx != NULL)
        MHD_stop_daemon(a->unx);
    if (a->unix_path[0] != '\0')
        unlink(a->unix_path);
    api_guard_free(a->guard);
    free(a);
}
