#include "signer/server_internal.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "common/log.h"
#include "signer/session.h"

#define CHECKPOINT_EVERY 1000
#define CHECKPOINT_SECONDS 60

static void
profiles_free(struct srv_profiles *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; p->conf != NULL && i < p->conf->nprofiles; i++)
        grant_signer_free(p->signer[i]);
    sconf_free(p->conf);
    free(p);
}

/* Reads the config and prepares a signer for every profile on the shared token. */
static enum mp_err
profiles_load(struct server *s, struct srv_profiles **out, struct mp_errmsg *e)
{
    struct srv_profiles *p;
    size_t i;
    enum mp_err r = MP_ERR_NOMEM;

    if ((p = calloc(1, sizeof(*p))) == NULL || (p->conf = sconf_new()) == NULL) {
        mp_errf(e, r, "out of memory");
        goto out;
    }
    if ((r = sconf_load(p->conf, s->config_path, e)) != MP_OK)
        goto out;
    if (p->conf->nprofiles == 0) {
        r = mp_errf(e, MP_ERR_INVALID, "config %s defines no [profile NAME]", s->config_path);
        goto out;
    }
    for (i = 0; i < p->conf->nprofiles; i++) {
        struct sconf_profile *pr = p->conf->profiles[i];

        if (pr->nuids == 0 && pr->ngids == 0)
            mp_warn("profile %s has neither allow_uids nor allow_gids: it refuses every caller",
                pr->name);
        if ((r = grant_signer_open_on(s->tok, pr, &p->signer[i], e)) != MP_OK) {
            mp_err_prefix(e, "profile %s", pr->name);
            goto out;
        }
    }
    *out = p;
    p = NULL;
out:
    profiles_free(p);
    return r;
}

enum mp_err
srv_sign(struct server *s, struct sign_job *job)
{
    pthread_mutex_lock(&s->job_mu);
    if (s->job_tail != NULL)
        s->job_tail->next = job;
    else
        s->job_head = job;
    s->job_tail = job;
    pthread_cond_signal(&s->job_cv);
    while (!job->done)
        pthread_cond_wait(&s->job_done, &s->job_mu);
    pthread_mutex_unlock(&s->job_mu);
    return job->result;
}

struct worker_arg {
    struct server *s;
    size_t i;
};

/* A session that saw an error is not trusted again: the worker opens a replacement. */
static void
worker_renew(struct server *s, size_t i)
{
    struct hsm_session *fresh = NULL;
    struct mp_errmsg e = {{0}};

    if (hsm_session_open(s->tok, &fresh, &e) != HSM_OK) {
        mp_error("worker %zu: cannot open a new PKCS#11 session: %s", i, e.text);
        return;
    }
    hsm_session_free(s->sess[i]);
    s->sess[i] = fresh;
}

static void *
worker_thread(void *arg)
{
    struct worker_arg wa = *(struct worker_arg *)arg;
    struct server *s = wa.s;
    struct sign_job *job;

    free(arg);
    pthread_mutex_lock(&s->job_mu);
    for (;;) {
        while (s->job_head == NULL && !s->workers_stop)
            pthread_cond_wait(&s->job_cv, &s->job_mu);
        if (s->job_head == NULL)
            break;
        job = s->job_head;
        if ((s->job_head = job->next) == NULL)
            s->job_tail = NULL;
        pthread_mutex_unlock(&s->job_mu);
        job->result =
            grant_sign(job->gs, s->sess[wa.i], job->g, time(NULL), job->jws, job->info, job->why);
        if (job->result == MP_ERR_HSM)
            worker_renew(s, wa.i);
        pthread_mutex_lock(&s->job_mu);
        job->done = 1;
        pthread_cond_broadcast(&s->job_done);
    }
    pthread_mutex_unlock(&s->job_mu);
    return NULL;
}

static void
workers_stop(struct server *s)
{
    size_t i;

    pthread_mutex_lock(&s->job_mu);
    s->workers_stop = 1;
    pthread_cond_broadcast(&s->job_cv);
    pthread_mutex_unlock(&s->job_mu);
    for (i = 0; i < s->nworkers; i++)
        pthread_join(s->worker[i], NULL);
    s->nworkers = 0;
}

static enum mp_err
workers_start(struct server *s, struct mp_errmsg *e)
{
    struct worker_arg *wa;
    unsigned int i, n = s->boot->workers;

    for (i = 0; i < n && i < SRV_MAX_WORKERS; i++) {
        if (hsm_session_open(s->tok, &s->sess[i], e) != HSM_OK)
            return MP_ERR_HSM;
        s->nsess = i + 1;
        if ((wa = malloc(sizeof(*wa))) == NULL)
            return mp_errf(e, MP_ERR_NOMEM, "out of memory");
        wa->s = s;
        wa->i = i;
        if (pthread_create(&s->worker[i], NULL, worker_thread, wa) != 0) {
            free(wa);
            return mp_errf(e, MP_ERR_NOMEM, "cannot start signing worker %u", i);
        }
        s->nworkers = i + 1;
    }
    return MP_OK;
}

static enum mp_err
audit_sign_cb(void *arg, const char *statement, unsigned char *sig, size_t *siglen,
    struct mp_errmsg *e)
{
    struct server *s = arg;

    return hsm_to_mp(hsm_sign_in(s->audit_sess, s->audit_key, HSM_SHA256, statement,
        strlen(statement), sig, siglen, e));
}

/* The audit key signs checkpoints; it must pass the same exportability verdict. */
static enum mp_err
audit_setup(struct server *s, struct mp_errmsg *e)
{
    struct audit_checkpointer cp;
    unsigned char *der = NULL;
    int len;
    enum hsm_err h;

    if (s->boot->audit_log == NULL)
        return mp_errf(e, MP_ERR_INVALID,
            "audit_log is not set: mp-signer serve never signs "
            "without an audit log");
    if (s->boot->audit_key == NULL) {
        mp_warn("audit_key is not set: the audit log gets no signed checkpoints, only its chain");
        return audit_open(s->boot->audit_log, NULL, &s->audit, e);
    }
    if ((h = hsm_key_find(s->tok, s->boot->audit_key, &s->audit_key, e)) != HSM_OK ||
        (h = hsm_key_check(s->audit_key, e)) != HSM_OK ||
        (h = hsm_session_open(s->tok, &s->audit_sess, e)) != HSM_OK) {
        mp_err_prefix(e, "audit_key");
        return hsm_to_mp(h);
    }
    memset(&cp, 0, sizeof(cp));
    if ((len = i2d_PUBKEY(hsm_key_public(s->audit_key), &der)) <= 0)
        return mp_errf(e, MP_ERR_CRYPTO, "cannot encode the audit public key");
    audit_sha256_hex(der, (size_t)len, cp.key_sha256);
    OPENSSL_free(der);
    cp.sign = audit_sign_cb;
    cp.arg = s;
    cp.every = CHECKPOINT_EVERY;
    cp.seconds = CHECKPOINT_SECONDS;
    return audit_open(s->boot->audit_log, &cp, &s->audit, e);
}

json_t *
srv_event_record(const char *event, const struct sconf *c)
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
        MP_VERSION, "profiles", names != NULL ? names : json_array());
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
    const struct sconf *c = s->boot;
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

static void
conn_forget(struct server *s, int fd)
{
    size_t i;

    pthread_mutex_lock(&s->conn_mu);
    for (i = 0; i < s->nconn; i++)
        if (s->conn_fd[i] == fd) {
            s->conn_fd[i] = s->conn_fd[s->nconn - 1];
            s->conn_uid[i] = s->conn_uid[s->nconn - 1];
            s->nconn--;
            break;
        }
    pthread_cond_broadcast(&s->conn_cv);
    pthread_mutex_unlock(&s->conn_mu);
}

static void *
conn_thread(void *arg)
{
    struct conn_arg *ca = arg;

    serve_connection(ca->s, ca->fd, &ca->who);
    conn_forget(ca->s, ca->fd);
    close(ca->fd);
    free(ca);
    return NULL;
}

/* Per-uid and total caps keep one caller from exhausting the signer's threads. */
static int
conn_admit(struct server *s, int fd, uid_t uid)
{
    size_t i, mine = 0;
    int ok;

    pthread_mutex_lock(&s->conn_mu);
    for (i = 0; i < s->nconn; i++)
        mine += s->conn_uid[i] == uid;
    ok = !s->stopping && s->nconn < SRV_MAX_CONN && mine < SRV_MAX_CONN_PER_UID;
    if (ok) {
        s->conn_fd[s->nconn] = fd;
        s->conn_uid[s->nconn++] = uid;
    }
    pthread_mutex_unlock(&s->conn_mu);
    return ok;
}

static void
accept_one(struct server *s)
{
    struct conn_arg *ca;
    struct timeval tv = {60, 0};
    pthread_attr_t attr;
    pthread_t t;
    int fd;

    if ((fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
        return;
    if ((ca = calloc(1, sizeof(*ca))) == NULL || peer_identify(fd, &ca->who) != MP_OK) {
        free(ca);
        close(fd);
        return;
    }
    if (!conn_admit(s, fd, ca->who.uid)) {
        mp_warn("refusing a connection from uid %u: connection limit reached",
            (unsigned int)ca->who.uid);
        free(ca);
        close(fd);
        return;
    }
    ca->s = s;
    ca->fd = fd;
    /* An idle or stalled caller cannot hold a thread for ever. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, conn_thread, ca) != 0) {
        conn_forget(s, fd);
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
    pthread_cond_init(&s->job_done, NULL);
    pthread_mutex_init(&s->conn_mu, NULL);
    pthread_cond_init(&s->conn_cv, NULL);
    return s;
}

enum mp_err
server_open(const char *config_path, struct server **out, struct mp_errmsg *e)
{
    struct server *s;
    enum mp_err r;

    if ((s = server_alloc(config_path)) == NULL || (s->boot = sconf_new()) == NULL) {
        free(s);
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    }
    *out = s;
    if ((r = sconf_load(s->boot, config_path, e)) != MP_OK)
        return r;
    if (s->boot->nprofiles == 0 || s->boot->profiles[0]->key == NULL)
        return mp_errf(e, MP_ERR_INVALID, "config %s: the first profile needs a key", config_path);
    /* All profiles live on the token of the first profile's key. */
    if ((r = signer_token_open(s->boot, s->boot->profiles[0]->key, false, &s->mod, &s->tok, e)) !=
            MP_OK ||
        (r = workers_start(s, e)) != MP_OK || (r = profiles_load(s, &s->prof, e)) != MP_OK ||
        (r = socket_listen(s, e)) != MP_OK || (r = audit_setup(s, e)) != MP_OK)
        return r;
    return MP_OK;
}

enum mp_err
server_start(struct server *s, struct mp_errmsg *e)
{
    json_t *rec = srv_event_record("start", s->prof->conf);
    enum mp_err r;

    r = rec != NULL ? audit_submit(s->audit, rec, e) : mp_errf(e, MP_ERR_NOMEM, "out of memory");
    json_decref(rec);
    if (r != MP_OK)
        return r;
    if (pthread_create(&s->acceptor, NULL, acceptor_thread, s) != 0)
        return mp_errf(e, MP_ERR_NOMEM, "cannot start the acceptor");
    s->accepting = 1;
    mp_info("serving %zu profile(s) on %s with %zu PKCS#11 sessions, audit log %s",
        s->prof->conf->nprofiles, s->boot->socket, s->nsess, s->boot->audit_log);
    return MP_OK;
}

enum mp_err
server_reload(struct server *s, struct mp_errmsg *e)
{
    struct srv_profiles *fresh = NULL, *old;
    json_t *rec;
    enum mp_err r;

    if ((r = profiles_load(s, &fresh, e)) != MP_OK)
        return r;
    pthread_rwlock_wrlock(&s->prof_lock);
    old = s->prof;
    s->prof = fresh;
    pthread_rwlock_unlock(&s->prof_lock);
    profiles_free(old);
    if ((rec = srv_event_record("reload", fresh->conf)) != NULL) {
        r = audit_submit(s->audit, rec, e);
        json_decref(rec);
    }
    mp_info("reloaded %zu profile(s) from %s", fresh->conf->nprofiles, s->config_path);
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

void
server_shutdown(struct server *s)
{
    struct mp_errmsg e = {{0}};
    json_t *rec;
    size_t i;

    if (s == NULL)
        return;
    pthread_mutex_lock(&s->conn_mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->conn_mu);
    if (s->accepting)
        pthread_join(s->acceptor, NULL);
    connections_drain(s);
    workers_stop(s);
    if (s->audit != NULL && s->accepting && (rec = srv_event_record("stop", NULL)) != NULL) {
        if (audit_submit(s->audit, rec, &e) != MP_OK)
            mp_error("stop record not written: %s", e.text);
        json_decref(rec);
    }
    audit_close(s->audit);
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->bound)
        unlink(s->boot->socket);
    profiles_free(s->prof);
    hsm_session_free(s->audit_sess);
    hsm_key_free(s->audit_key);
    for (i = 0; i < s->nsess; i++)
        hsm_session_free(s->sess[i]);
    hsm_token_free(s->tok);
    hsm_module_free(s->mod);
    sconf_free(s->boot);
    free(s);
}
