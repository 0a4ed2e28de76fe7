/* mp-signer serve's listener: the socket, callers identified by SO_PEERCRED, a slot
 * (conn_slots.c) and a thread per connection. */
#include "signer/daemon/server_int.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sandbox.h"
#include "common/version.h"
#include "signer/audit/audit_relay.h"

json_t *
server_event_record(const char *event, const struct signer_conf *c)
{
    json_t *names = json_array(), *rec;
    size_t i;

    if (c == NULL) {
        json_decref(names);
        return json_pack("{s:s, s:I}", "event", event, "pid", (json_int_t)getpid());
    }
    for (i = 0; names != NULL && i < c->nprofiles; i++)
        json_array_append_new(names, json_string(c->profiles[i]->name));
    rec = json_pack("{s:s, s:I, s:s, s:o}", "event", event, "pid", (json_int_t)getpid(), "version",
        mp_version(), "profiles", names != NULL ? names : json_array());
    return rec;
}

/* A socket someone still answers on is in use; a dead one is stale and replaced. */
static enum mp_err
socket_claim(const char *path, struct sockaddr_un *sun, struct mp_errmsg *e)
{
    struct stat st;
    int fd;

    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path))
        return mp_errf(e, MP_ERR_INVALID, "socket path %s is too long", path);
    memcpy(sun->sun_path, path, strlen(path) + 1);
    if (lstat(path, &st) != 0)
        return MP_OK;
    if (!S_ISSOCK(st.st_mode))
        return mp_errf(e, MP_ERR_INVALID, "%s exists and is not a socket", path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return mp_errf(e, MP_ERR_IO, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)sun, sizeof(*sun)) == 0) {
        close(fd);
        return mp_errf(e, MP_ERR_INVALID, "socket %s is already served by another process", path);
    }
    close(fd);
    if (unlink(path) != 0)
        return mp_errf(e, MP_ERR_IO, "cannot remove stale socket %s: %s", path, strerror(errno));
    return MP_OK;
}

static enum mp_err
socket_listen(struct server *s, struct mp_errmsg *e)
{
    const struct signer_conf *c = s->boot;
    struct sockaddr_un sun;
    struct group *gr;
    mode_t old;
    enum mp_err r;

    if (c->socket == NULL)
        return mp_errf(e, MP_ERR_INVALID, "socket is not set in the config");
    if ((r = socket_claim(c->socket, &sun, e)) != MP_OK)
        return r;
    if ((s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return mp_errf(e, MP_ERR_IO, "socket: %s", strerror(errno));
    /* Nobody may connect between bind and chmod. */
    old = umask(0177);
    r = bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? MP_OK : MP_ERR_IO;
    umask(old);
    if (r != MP_OK)
        return mp_errf(e, r, "bind %s: %s", c->socket, strerror(errno));
    s->bound = 1;
    if (c->socket_group != NULL) {
        if ((gr = getgrnam(c->socket_group)) == NULL)
            return mp_errf(e, MP_ERR_INVALID, "socket_group %s does not exist", c->socket_group);
        if (chown(c->socket, (uid_t)-1, gr->gr_gid) != 0)
            return mp_errf(e, MP_ERR_IO, "chown %s: %s", c->socket, strerror(errno));
    }
    if (chmod(c->socket, (mode_t)c->socket_mode) != 0 || listen(s->lfd, 64) != 0)
        return mp_errf(e, MP_ERR_IO, "socket %s: %s", c->socket, strerror(errno));
    return MP_OK;
}

static enum mp_err
peer_identify(int fd, struct peer *who)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    char link[64];
    ssize_t n;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred))
        return MP_ERR_IO;
    who->uid = cred.uid;
    who->gid = cred.gid;
    who->pid = cred.pid;
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)cred.pid);
    n = readlink(link, who->exe, sizeof(who->exe) - 1);
    if (n <= 0)
        n = snprintf(who->exe, sizeof(who->exe), "?");
    who->exe[n] = '\0';
    return MP_OK;
}

struct conn_arg {
    struct server *s;
    int fd;
    struct peer who;
};

static void *
conn_thread(void *arg)
{
    struct conn_arg *ca = arg;

    conn_serve(ca->s, ca->fd, &ca->who);
    slots_release(ca->s, ca->fd);
    close(ca->fd);
    free(ca);
    return NULL;
}

/* A caller looping on connect must not flood the journal: one line a second at most, saying
 * how many refusals it stands for. */
static void
refusal_log(struct server *s, const struct peer *who, const char *why)
{
    time_t now = time(NULL);
    char more[80] = "";

    if (now == s->refused_logged_at) {
        s->refused_quiet++;
        return;
    }
    if (s->refused_quiet > 0)
        snprintf(more, sizeof(more), " (%lu more refused without a line since the last one)",
            s->refused_quiet);
    mp_warn("refusing a connection from uid %u pid %d: %s%s", (unsigned int)who->uid, (int)who->pid,
        why, more);
    s->refused_logged_at = now;
    s->refused_quiet = 0;
}

/* Reads are bounded by conn.c's frame deadline (poll); writes by this send timeout, or a peer
 * that never reads would hold its thread in write(). */
static enum mp_err
conn_limit_writes(int fd, const struct peer *who)
{
    struct timeval tv = {SRV_FRAME_MS / 1000, 0};

    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0)
        return MP_OK;
    mp_warn("dropping a connection from uid %u pid %d: cannot set its send timeout: %s",
        (unsigned int)who->uid, (int)who->pid, strerror(errno));
    return MP_ERR_IO;
}

/* A refused caller hears why, if its socket takes the answer at once: the acceptor never
 * waits on a caller. A caller no profile allows is refused; a full house is "busy". */
static void
refusal_answer(int fd, enum mp_err r, const char *why)
{
    struct frame_msg *m = malloc(sizeof(*m));
    struct mp_buf *b = mp_buf_new(FRAME_MAX + 4);
    enum frame_code code = FCODE_HSM_UNAVAILABLE;
    char text[sizeof(m->message)];

    if (r == MP_ERR_POLICY)
        code = FCODE_REFUSED;
    else if (r == MP_ERR_INVALID)
        code = FCODE_SHUTTING_DOWN;
    if (m != NULL && b != NULL) {
        snprintf(text, sizeof(text), "connection refused: %s", why);
        conn_reply_error(m, code, text);
        if (frame_encode(m, b) == MP_OK)
            (void)send(fd, mp_buf_ptr(b), mp_buf_len(b), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    mp_buf_free(b);
    free(m);
}

static void
accept_one(struct server *s)
{
    struct mp_errmsg why = {{0}};
    struct conn_arg *ca;
    enum mp_err r;
    pthread_attr_t attr;
    pthread_t t;
    int fd;

    if ((fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
        return;
    if ((ca = calloc(1, sizeof(*ca))) == NULL || peer_identify(fd, &ca->who) != MP_OK ||
        conn_limit_writes(fd, &ca->who) != MP_OK) {
        free(ca);
        close(fd);
        return;
    }
    if ((r = slots_take(s, fd, &ca->who, &why)) != MP_OK) {
        refusal_log(s, &ca->who, why.text);
        refusal_answer(fd, r, why.text);
        free(ca);
        close(fd);
        return;
    }
    ca->s = s;
    ca->fd = fd;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, conn_thread, ca) != 0) {
        mp_warn("dropping a connection from uid %u: cannot start its thread",
            (unsigned int)ca->who.uid);
        slots_release(s, fd);
        close(fd);
        free(ca);
    }
    pthread_attr_destroy(&attr);
}

static void *
acceptor_thread(void *arg)
{
    struct server *s = arg;
    struct pollfd pfd;
    int stop;

    for (;;) {
        pthread_mutex_lock(&s->conn_mu);
        stop = s->stopping;
        pthread_mutex_unlock(&s->conn_mu);
        if (stop)
            break;
        pfd.fd = s->lfd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 200) > 0)
            accept_one(s);
    }
    return NULL;
}

static struct server *
server_alloc(const char *config_path)
{
    struct server *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    snprintf(s->config_path, sizeof(s->config_path), "%s", config_path);
    s->lfd = -1;
    pthread_rwlock_init(&s->prof_lock, NULL);
    pthread_mutex_init(&s->job_mu, NULL);
    pthread_cond_init(&s->job_cv, NULL);
    pthread_cond_init(&s->rec_cv, NULL);
    pthread_mutex_init(&s->conn_mu, NULL);
    pthread_cond_init(&s->conn_cv, NULL);
    return s;
}

enum mp_err
server_open(const char *config_path, struct server **out, struct mp_errmsg *e)
{
    struct server *s;
    enum mp_err r;

    if ((s = server_alloc(config_path)) == NULL || (s->boot = signer_conf_new()) == NULL) {
        free(s);
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    }
    *out = s;
    if ((r = signer_conf_load(s->boot, config_path, e)) != MP_OK)
        return r;
    /* Root is dropped before the module is loaded: the token, its recovery and every file the
     * signer makes belong to the service user. */
    if ((r = mp_sandbox_drop_root(s->boot->user, "mp-signer", e)) != MP_OK)
        return r;
    /* Forked now, before the module is loaded and before any thread: the relay runs
     * anchor_command, which the sandboxed signer could not. */
    if (s->boot->anchor_command != NULL &&
        (r = audit_relay_start(s->boot->anchor_command, s->boot->anchor_timeout, &s->relay, e)) !=
            MP_OK)
        return r;
    /* The socket is claimed before the audit log so a second signer names the real reason. */
    if ((r = hsmpool_start(s, e)) != MP_OK || (r = socket_listen(s, e)) != MP_OK ||
        (r = hsmpool_audit_open(s, e)) != MP_OK)
        return r;
    /* Initialised: from here on only the system calls serving needs. */
    return mp_sandbox_enter((enum mp_sandbox_mode)s->boot->sandbox, e);
}

void
server_rotate(struct server *s)
{
    if (s->audit != NULL)
        audit_rotate(s->audit);
}

enum mp_err
server_start(struct server *s, struct mp_errmsg *e)
{
    json_t *rec = server_event_record("start", s->boot);
    enum mp_err r;

    r = rec != NULL ? audit_submit(s->audit, rec, e) : mp_errf(e, MP_ERR_NOMEM, "out of memory");
    json_decref(rec);
    if (r != MP_OK)
        return r;
    if (pthread_create(&s->acceptor, NULL, acceptor_thread, s) != 0)
        return mp_errf(e, MP_ERR_NOMEM, "cannot start the acceptor");
    s->accepting = 1;
    mp_info("serving %zu profile(s) on %s with %u signing workers, audit log %s",
        s->boot->nprofiles, s->boot->socket, s->nworkers_live, s->boot->audit_log);
    return MP_OK;
}

enum mp_err
server_reload(struct server *s, struct mp_errmsg *e)
{
    struct srv_profiles *p;
    json_t *rec;
    enum mp_err r;

    if ((r = hsmpool_reload(s, e)) != MP_OK)
        return r;
    if ((p = hsmpool_profiles_get(s)) == NULL)
        return MP_OK; /* a login retry after a PIN problem: recovery reports the outcome */
    if ((rec = server_event_record("reload", p->conf)) != NULL) {
        r = audit_submit(s->audit, rec, e);
        json_decref(rec);
    }
    mp_info("reloaded %zu profile(s) from %s", p->conf->nprofiles, s->config_path);
    hsmpool_profiles_put(p);
    return r;
}

/* Wakes idle connection threads (their next read sees EOF) and waits for all to finish the
 * request they are serving. */
static void
connections_drain(struct server *s)
{
    size_t i;

    pthread_mutex_lock(&s->conn_mu);
    s->stopping = 1;
    for (i = 0; i < s->nconn; i++)
        shutdown(s->conn_fd[i], SHUT_RD);
    while (s->nconn > 0)
        pthread_cond_wait(&s->conn_cv, &s->conn_mu);
    pthread_mutex_unlock(&s->conn_mu);
}

/* The server a stuck worker was left inside the module with (see server_shutdown). */
static struct server *abandoned;

void
server_shutdown(struct server *s)
{
    struct mp_errmsg e = {{0}};
    json_t *rec;

    if (s == NULL)
        return;
    pthread_mutex_lock(&s->conn_mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->conn_mu);
    if (s->accepting)
        pthread_join(s->acceptor, NULL);
    connections_drain(s);
    if (s->audit != NULL && s->accepting && (rec = server_event_record("stop", NULL)) != NULL) {
        if (audit_submit(s->audit, rec, &e) != MP_OK)
            mp_error("stop record not written: %s", e.text);
        json_decref(rec);
    }
    /* Before the workers stop: the final checkpoint is signed inside the token. */
    audit_close(s->audit);
    audit_relay_stop(s->relay); /* after the final checkpoint: it is shipped too */
    s->relay = NULL;
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->bound)
        unlink(s->boot->socket);
    if (!hsmpool_stop(s)) {
        /* A worker hung in C_Sign still uses s: kept, and reachable, until the process ends. */
        abandoned = s;
        return;
    }
    signer_conf_free(s->boot);
    free(s);
}
