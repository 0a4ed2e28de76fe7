/* The signing side of mp-signer serve: one logged-in token, the profiles' signers on it,
 * signing workers with a PKCS#11 session each, and recovery without restart.
 *
 * A worker checks the token state before every job. A lost session is replaced and the job
 * tried once more. A token that is gone (device removed, link lost, login lost) puts the
 * signer DOWN: callers are answered "HSM unavailable" at once, and the recovery thread waits
 * until no thread is inside the module, then C_Finalize / C_Initialize, logs in again (reading
 * the PIN file anew), and rebuilds profiles, audit key and sessions, with capped backoff. A PIN
 * problem stops every login until an operator sends SIGHUP: PIN tries are precious. A call
 * that hangs past its deadline answers the caller; its worker is retired and replaced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "signer/daemon/server_int.h"
#include "signer/grant/signer_token.h"

#define CHECKPOINT_EVERY 1000
/* How long a group commit may wait for signatures still queued for a worker. On the test VM an
 * fdatasync costs CPU, not only time: 900 a second from another process slowed raw C_Sign by
 * about a fifth. Waiting while signing is saturated cut syncs from 0.86 to 0.19 per line at
 * concurrency 8 with 2 workers. The bound matters only when signing is far slower than that. */
#define GROUP_WAIT_US 5000
#define CHECKPOINT_SECONDS 60
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000

static void
profiles_free(struct srv_profiles *p)
{
    size_t i;

    if (p == NULL)
        return;
    /* Signers on a shared token free only memory: no PKCS#11 call happens here. */
    for (i = 0; p->conf != NULL && i < p->conf->nprofiles; i++)
        grant_signer_free(p->signer[i]);
    signer_conf_free(p->conf);
    free(p);
}

void
hsmpool_profiles_put(struct srv_profiles *p)
{
    if (p != NULL && atomic_fetch_sub(&p->refs, 1) == 1)
        profiles_free(p);
}

struct srv_profiles *
hsmpool_profiles_get(struct server *s)
{
    struct srv_profiles *p;

    pthread_rwlock_rdlock(&s->prof_lock);
    if ((p = s->prof) != NULL)
        atomic_fetch_add(&p->refs, 1);
    pthread_rwlock_unlock(&s->prof_lock);
    return p;
}

static void
profiles_swap(struct server *s, struct srv_profiles *fresh)
{
    struct srv_profiles *old;

    pthread_rwlock_wrlock(&s->prof_lock);
    old = s->prof;
    s->prof = fresh;
    pthread_rwlock_unlock(&s->prof_lock);
    hsmpool_profiles_put(old);
}

/* Reads the config and prepares a signer for every profile on the shared token. */
static enum mp_err
profiles_load(struct server *s, struct srv_profiles **out, struct mp_errmsg *e)
{
    struct srv_profiles *p;
    struct signer_conf_profile *pr;
    size_t i;
    enum mp_err r = MP_ERR_NOMEM;

    if ((p = calloc(1, sizeof(*p))) == NULL || (p->conf = signer_conf_new()) == NULL) {
        mp_errf(e, r, "out of memory");
        goto out;
    }
    atomic_init(&p->refs, 1);
    if ((r = signer_conf_load(p->conf, s->config_path, e)) != MP_OK)
        goto out;
    if (p->conf->nprofiles == 0) {
        r = mp_errf(e, MP_ERR_INVALID, "config %s defines no [profile NAME]", s->config_path);
        goto out;
    }
    for (i = 0; i < p->conf->nprofiles; i++) {
        pr = p->conf->profiles[i];
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

/* Marks the token down (called with job_mu held); the recovery thread takes it from here. */
static void
hsm_down(struct server *s, enum mp_err why_code, const char *why)
{
    if (s->state != SRV_HSM_UP)
        return;
    s->state = SRV_HSM_DOWN;
    snprintf(s->state_why, sizeof(s->state_why), "%s", why);
    mp_error("HSM unavailable (%s): %s; recovering", mp_strerror(why_code), why);
    pthread_cond_broadcast(&s->rec_cv);
}

/* A thread left the module (called with job_mu held). Only recovery waits for the module to
 * be quiet, and only while the token is not up: waking it after every signature cost two
 * context switches per request. */
static void
pkcs11_leave(struct server *s)
{
    s->in_pkcs11--;
    if (s->state != SRV_HSM_UP || s->workers_stop)
        pthread_cond_broadcast(&s->rec_cv);
}

static void
job_put(struct server *s, struct sign_job *job)
{
    (void)s;
    if (atomic_fetch_sub(&job->refs, 1) > 1)
        return;
    hsmpool_profiles_put(job->prof);
    mp_buf_free(job->jws);
    pthread_cond_destroy(&job->done_cv);
    explicit_bzero(job, sizeof(*job));
    free(job);
}

/* Fails a job without signing (called with job_mu held). */
static void
job_refuse(struct server *s, struct sign_job *job)
{
    if (s->state == SRV_HSM_PIN_BLOCKED)
        job->result = mp_errf(&job->why, MP_ERR_HSM_PIN,
            "HSM unavailable: PIN problem (%s); an operator must fix it and send SIGHUP",
            s->state_why);
    else
        job->result = mp_errf(&job->why, MP_ERR_HSM_GONE, "HSM unavailable: %s", s->state_why);
}

/* Answers the job's caller and drops the worker's reference (called with job_mu held). The
 * wake-up goes out with job_mu released: signalled under it, the caller would preempt this
 * thread only to block on job_mu. The reference held until after the signal keeps the job's
 * condition alive. */
static void
job_finish(struct server *s, struct sign_job *job)
{
    job->done = 1;
    pthread_mutex_unlock(&s->job_mu);
    pthread_cond_signal(&job->done_cv);
    job_put(s, job);
    pthread_mutex_lock(&s->job_mu);
}

/* Signs one job on the worker's session; a lost session is replaced and the job tried once
 * more (called without job_mu; the worker is counted in in_pkcs11). */
static enum mp_err
worker_sign(struct server *s, struct srv_worker *w, struct sign_job *job)
{
    struct grant_signer *gs = job->prof->signer[job->index];
    struct hsm_session *fresh = NULL;
    enum mp_err r;

    r = grant_sign(gs, w->sess, &job->g, time(NULL), job->jws, &job->info, &job->why);
    if (r != MP_ERR_HSM_SESSION)
        return r;
    if (hsm_session_open(s->tok, &fresh, &job->why) != HSM_OK)
        return MP_ERR_HSM_GONE;
    pthread_mutex_lock(&s->job_mu);
    hsm_session_free(w->sess);
    w->sess = fresh;
    pthread_mutex_unlock(&s->job_mu);
    mp_warn("a PKCS#11 session was lost; replaced it and tried once more");
    return grant_sign(gs, w->sess, &job->g, time(NULL), job->jws, &job->info, &job->why);
}

static void
worker_exit(struct server *s, struct srv_worker *w)
{
    /* Recovery closes sessions only when no thread is inside the module, so ours is ours. */
    hsm_session_free(w->sess);
    w->sess = NULL;
    w->used = 0;
    w->retired = 0;
    /* Workers are detached: OpenSSL's per-thread cleanup would otherwise run at thread exit,
     * after this count lets the main thread finalize and exit (TSan saw the two race). */
    OPENSSL_thread_stop();
    s->nworkers_live--;
    pthread_cond_broadcast(&s->rec_cv);
}

struct worker_arg {
    struct server *s;
    struct srv_worker *w;
};

/* Takes the next job (called with job_mu held); NULL when the worker should exit. */
static struct sign_job *
worker_next(struct server *s, struct srv_worker *w)
{
    struct sign_job *job;

    while (s->job_head == NULL && !s->workers_stop && !w->retired)
        pthread_cond_wait(&s->job_cv, &s->job_mu);
    if (w->retired || s->job_head == NULL)
        return NULL;
    job = s->job_head;
    if ((s->job_head = job->next) == NULL)
        s->job_tail = NULL;
    job->next = NULL;
    return job;
}

static void *
worker_thread(void *arg)
{
    struct worker_arg wa = *(struct worker_arg *)arg;
    struct server *s = wa.s;
    struct srv_worker *w = wa.w;
    struct sign_job *job;
    enum mp_err r;

    free(arg);
    pthread_mutex_lock(&s->job_mu);
    while ((job = worker_next(s, w)) != NULL) {
        if (s->state != SRV_HSM_UP || w->sess == NULL) {
            job_refuse(s, job);
            job_finish(s, job);
            continue;
        }
        job->worker = (int)(w - s->worker);
        s->in_pkcs11++;
        pthread_mutex_unlock(&s->job_mu);
        r = worker_sign(s, w, job);
        pthread_mutex_lock(&s->job_mu);
        pkcs11_leave(s);
        if (r == MP_ERR_HSM_GONE || r == MP_ERR_HSM_PIN) {
            hsm_down(s, r, job->why.text);
            mp_err_prefix(&job->why, "HSM unavailable");
        }
        job->result = r;
        job_finish(s, job);
    }
    worker_exit(s, w);
    pthread_mutex_unlock(&s->job_mu);
    return NULL;
}

/* Starts a worker in a free slot (called with job_mu held). */
static enum mp_err
worker_spawn(struct server *s, struct mp_errmsg *e)
{
    struct worker_arg *wa;
    pthread_attr_t attr;
    size_t i;
    int rc;

    for (i = 0; i < SRV_MAX_WORKERS && s->worker[i].used; i++)
        ;
    if (i == SRV_MAX_WORKERS)
        return mp_errf(e, MP_ERR_NOMEM, "no free worker slot");
    if ((wa = malloc(sizeof(*wa))) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    wa->s = s;
    wa->w = &s->worker[i];
    if (s->tok != NULL && hsm_session_open(s->tok, &s->worker[i].sess, e) != HSM_OK) {
        free(wa);
        return MP_ERR_HSM_GONE;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&s->worker[i].thread, &attr, worker_thread, wa);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        hsm_session_free(s->worker[i].sess);
        s->worker[i].sess = NULL;
        free(wa);
        return mp_errf(e, MP_ERR_NOMEM, "cannot start a signing worker");
    }
    s->worker[i].used = 1;
    s->nworkers_live++;
    return MP_OK;
}

static struct sign_job *
job_new(struct srv_profiles *p, size_t i, const struct grant_request *g)
{
    struct sign_job *job = calloc(1, sizeof(*job));
    size_t k;

    if (job == NULL || (job->jws = mp_buf_new(JWS_MAX)) == NULL) {
        free(job);
        return NULL;
    }
    job->refs = 2; /* the caller and the worker */
    pthread_cond_init(&job->done_cv, NULL);
    job->prof = p;
    atomic_fetch_add(&p->refs, 1);
    job->index = i;
    job->g = *g;
    /* The caller may leave before a hung worker: the job owns what it signs. */
    snprintf(job->scope, sizeof(job->scope), "%s", g->scope ? g->scope : "");
    job->g.scope = g->scope != NULL ? job->scope : NULL;
    for (k = 0; k < g->nresources && k < GRANT_MAX_RESOURCES; k++) {
        snprintf(job->resources[k], sizeof(job->resources[k]), "%s", g->resources[k]);
        job->g.resources[k] = job->resources[k];
    }
    snprintf(job->consumer_org, sizeof(job->consumer_org), "%s",
        g->consumer_org ? g->consumer_org : "");
    job->g.consumer_org = g->consumer_org != NULL ? job->consumer_org : NULL;
    snprintf(job->su_org, sizeof(job->su_org), "%s", g->systemuser_org ? g->systemuser_org : "");
    job->g.systemuser_org = g->systemuser_org != NULL ? job->su_org : NULL;
    snprintf(job->su_ref, sizeof(job->su_ref), "%s", g->systemuser_ref ? g->systemuser_ref : "");
    job->g.systemuser_ref = g->systemuser_ref != NULL ? job->su_ref : NULL;
    job->worker = -1;
    return job;
}

/* The deadline passed: answer the caller, retire the stuck worker and start another one
 * (called with job_mu held). */
static void
job_abandon(struct server *s, struct sign_job *job)
{
    struct mp_errmsg e = {{0}};
    struct sign_job **pp;

    if (job->worker < 0) { /* still queued: nobody will want its signature */
        for (pp = &s->job_head; *pp != NULL && *pp != job; pp = &(*pp)->next)
            ;
        if (*pp == job) {
            *pp = job->next;
            if (s->job_tail == job)
                for (s->job_tail = s->job_head; s->job_tail != NULL && s->job_tail->next != NULL;
                     s->job_tail = s->job_tail->next)
                    ;
            job_put(s, job);
        }
        return;
    }
    if (!s->worker[job->worker].retired) {
        s->worker[job->worker].retired = 1;
        mp_error("a PKCS#11 call has not returned after %d ms: retiring its worker",
            SRV_SIGN_TIMEOUT_MS);
        if (worker_spawn(s, &e) != MP_OK)
            mp_error("no replacement worker: %s", e.text);
    }
}

enum mp_err
hsmpool_sign(struct server *s, struct srv_profiles *p, size_t i, const struct grant_request *g,
    struct mp_buf *jws, struct grant_info *info, struct mp_errmsg *why)
{
    struct sign_job *job = job_new(p, i, g);
    struct timespec deadline;
    enum mp_err r;

    if (job == NULL)
        return mp_errf(why, MP_ERR_NOMEM, "out of memory");
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SRV_SIGN_TIMEOUT_MS / 1000;
    pthread_mutex_lock(&s->job_mu);
    if (s->state != SRV_HSM_UP) {
        job_refuse(s, job);
        job_finish(s, job); /* the worker's reference */
    } else {
        if (s->job_tail != NULL)
            s->job_tail->next = job;
        else
            s->job_head = job;
        s->job_tail = job;
        /* Outside job_mu, so that the worker it wakes does not wait for it. */
        pthread_mutex_unlock(&s->job_mu);
        pthread_cond_signal(&s->job_cv);
        pthread_mutex_lock(&s->job_mu);
    }
    while (!job->done)
        if (pthread_cond_timedwait(&job->done_cv, &s->job_mu, &deadline) != 0 && !job->done)
            break;
    if (!job->done) {
        job_abandon(s, job);
        r = mp_errf(why, MP_ERR_TIMEOUT, "HSM unavailable: no signature within %d ms",
            SRV_SIGN_TIMEOUT_MS);
    } else {
        r = job->result;
        *why = job->why;
        *info = job->info;
        if (r == MP_OK && mp_buf_put(jws, mp_buf_ptr(job->jws), mp_buf_len(job->jws)) != MP_OK)
            r = mp_errf(why, MP_ERR_NOMEM, "out of memory");
    }
    job_put(s, job);
    pthread_mutex_unlock(&s->job_mu);
    return r;
}

static enum mp_err
audit_sign_cb(void *arg, const char *statement, unsigned char *sig, size_t *siglen,
    struct mp_errmsg *e)
{
    struct server *s = arg;
    enum hsm_err h;

    pthread_mutex_lock(&s->job_mu);
    if (s->state != SRV_HSM_UP || s->audit_sess == NULL) {
        pthread_mutex_unlock(&s->job_mu);
        return mp_errf(e, MP_ERR_HSM_GONE, "HSM unavailable: %s", s->state_why);
    }
    s->in_pkcs11++;
    pthread_mutex_unlock(&s->job_mu);
    h = hsm_sign_in(s->audit_sess, s->audit_key, HSM_SHA256, statement, strlen(statement), sig,
        siglen, e);
    pthread_mutex_lock(&s->job_mu);
    pkcs11_leave(s);
    if (h == HSM_ERR_TOKEN_GONE)
        hsm_down(s, MP_ERR_HSM_GONE, e->text);
    pthread_mutex_unlock(&s->job_mu);
    return hsm_to_mp(h);
}

/* The audit key signs checkpoints; it must pass the same exportability verdict. */
static enum mp_err
audit_key_open(struct server *s, struct mp_errmsg *e)
{
    enum hsm_err h;

    if (s->boot->audit_key == NULL)
        return MP_OK;
    if ((h = hsm_key_find(s->tok, s->boot->audit_key, &s->audit_key, e)) != HSM_OK ||
        (h = hsm_key_check(s->audit_key, e)) != HSM_OK ||
        (h = hsm_session_open(s->tok, &s->audit_sess, e)) != HSM_OK) {
        mp_err_prefix(e, "audit_key");
        return hsm_to_mp(h);
    }
    return MP_OK;
}

enum mp_err
hsmpool_audit_open(struct server *s, struct mp_errmsg *e)
{
    struct audit_checkpointer cp;
    enum mp_err r;

    if (s->boot->audit_log == NULL)
        return mp_errf(e, MP_ERR_INVALID,
            "audit_log is not set: mp-signer serve never signs "
            "without an audit log");
    if (s->audit_key == NULL) {
        mp_warn("audit_key is not set: the audit log gets no signed checkpoints, only its chain");
        r = audit_open(s->boot->audit_log, NULL, &s->audit, e);
    } else {
        memset(&cp, 0, sizeof(cp));
        if (audit_key_sha256(hsm_key_public(s->audit_key), cp.key_sha256) != MP_OK)
            return mp_errf(e, MP_ERR_CRYPTO, "cannot encode the audit public key");
        cp.sign = audit_sign_cb;
        cp.arg = s;
        cp.every = CHECKPOINT_EVERY;
        cp.seconds = CHECKPOINT_SECONDS;
        r = audit_open(s->boot->audit_log, &cp, &s->audit, e);
    }
    if (r == MP_OK)
        audit_group_wait(s->audit, s->boot->workers, GROUP_WAIT_US);
    return r;
}

/* Everything that holds a handle of the old token (called when no thread is inside the
 * module and the state is not UP). */
static void
teardown(struct server *s)
{
    size_t i;

    profiles_swap(s, NULL);
    pthread_mutex_lock(&s->job_mu);
    for (i = 0; i < SRV_MAX_WORKERS; i++) {
        hsm_session_free(s->worker[i].sess);
        s->worker[i].sess = NULL;
    }
    hsm_session_free(s->audit_sess);
    s->audit_sess = NULL;
    pthread_mutex_unlock(&s->job_mu);
    /* audit_key memory stays until the rebuild replaces it: the writer only reads its public
     * half, and only under the state check. */
    hsm_token_free(s->tok);
    s->tok = NULL;
}

/* Logs in on the (re-initialised) module and prepares everything that signs. */
static enum mp_err
rebuild(struct server *s, struct mp_errmsg *e)
{
    struct srv_profiles *fresh = NULL;
    struct hsm_key *old_audit = s->audit_key;
    size_t i;
    enum mp_err r;

    s->audit_key = NULL;
    if ((r = signer_token_login(s->boot, s->mod, s->boot->profiles[0]->key, &s->tok, e)) != MP_OK ||
        (r = profiles_load(s, &fresh, e)) != MP_OK || (r = audit_key_open(s, e)) != MP_OK)
        goto out;
    pthread_mutex_lock(&s->job_mu);
    for (i = 0; i < SRV_MAX_WORKERS && r == MP_OK; i++)
        if (s->worker[i].used && !s->worker[i].retired &&
            hsm_session_open(s->tok, &s->worker[i].sess, e) != HSM_OK)
            r = MP_ERR_HSM_GONE;
    pthread_mutex_unlock(&s->job_mu);
    if (r == MP_OK) {
        profiles_swap(s, fresh);
        fresh = NULL;
    }
out:
    hsm_key_free(old_audit);
    if (fresh != NULL)
        hsmpool_profiles_put(fresh);
    return r;
}

static void
recover_once(struct server *s, unsigned int *backoff_ms)
{
    struct mp_errmsg e = {{0}};
    struct hsm_key *orphan;
    enum mp_err r;

    teardown(s);
    r = hsm_to_mp(hsm_module_reinit(s->mod, &e));
    if (r == MP_OK)
        r = rebuild(s, &e);
    if (r != MP_OK) {
        /* Leave nothing half-built behind for the next attempt. */
        orphan = s->audit_key;
        s->audit_key = NULL;
        teardown(s);
        s->audit_key = orphan;
    }
    pthread_mutex_lock(&s->job_mu);
    if (r == MP_OK) {
        s->state = SRV_HSM_UP;
        s->state_why[0] = '\0';
        *backoff_ms = BACKOFF_MIN_MS;
        mp_info("HSM available again: signing resumes");
    } else if (r == MP_ERR_HSM_PIN) {
        s->state = SRV_HSM_PIN_BLOCKED;
        snprintf(s->state_why, sizeof(s->state_why), "%s", e.text);
        mp_error("PIN problem: %s. Not logging in again until an operator fixes it and sends "
                 "SIGHUP (PIN tries are limited)",
            e.text);
    } else {
        snprintf(s->state_why, sizeof(s->state_why), "%s", e.text);
        mp_warn("HSM still unavailable (%s); next try in %u ms", e.text, *backoff_ms);
        pthread_mutex_unlock(&s->job_mu);
        usleep(*backoff_ms * 1000);
        *backoff_ms = *backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff_ms * 2;
        pthread_mutex_lock(&s->job_mu);
    }
    pthread_cond_broadcast(&s->rec_cv);
    pthread_mutex_unlock(&s->job_mu);
}

static void *
recovery_thread(void *arg)
{
    struct server *s = arg;
    unsigned int backoff = BACKOFF_MIN_MS;

    pthread_mutex_lock(&s->job_mu);
    for (;;) {
        while (!s->workers_stop && s->state != SRV_HSM_DOWN)
            pthread_cond_wait(&s->rec_cv, &s->job_mu);
        /* C_Finalize while another thread is inside the module is undefined: wait. */
        while (!s->workers_stop && s->in_pkcs11 > 0)
            pthread_cond_wait(&s->rec_cv, &s->job_mu);
        if (s->workers_stop)
            break;
        pthread_mutex_unlock(&s->job_mu);
        recover_once(s, &backoff);
        pthread_mutex_lock(&s->job_mu);
    }
    pthread_mutex_unlock(&s->job_mu);
    return NULL;
}

enum mp_err
hsmpool_start(struct server *s, struct mp_errmsg *e)
{
    unsigned int i;
    enum mp_err r;
    enum hsm_err h;

    if (s->boot->nprofiles == 0 || s->boot->profiles[0]->key == NULL)
        return mp_errf(e, MP_ERR_INVALID, "config %s: the first profile needs a key",
            s->config_path);
    if (s->boot->module == NULL || s->boot->pin_file == NULL)
        return mp_errf(e, MP_ERR_INVALID, "config %s: module and pin_file are required",
            s->config_path);
    if ((r = signer_conf_apply_module_env(s->boot, e)) != MP_OK)
        return r;
    if ((h = hsm_module_load(s->boot->module, s->boot->module_init_args, &s->mod, e)) != HSM_OK)
        return hsm_to_mp(h);
    /* All profiles live on the token of the first profile's key. */
    if ((r = rebuild(s, e)) != MP_OK)
        return r;
    pthread_mutex_lock(&s->job_mu);
    for (i = 0; i < s->boot->workers && i < SRV_MAX_WORKERS && r == MP_OK; i++)
        r = worker_spawn(s, e);
    if (r == MP_OK && pthread_create(&s->recovery, NULL, recovery_thread, s) != 0)
        r = mp_errf(e, MP_ERR_NOMEM, "cannot start the recovery thread");
    s->recovery_started = r == MP_OK;
    pthread_mutex_unlock(&s->job_mu);
    return r;
}

bool
hsmpool_stop(struct server *s)
{
    struct timespec deadline;

    pthread_mutex_lock(&s->job_mu);
    s->workers_stop = 1;
    pthread_cond_broadcast(&s->job_cv);
    pthread_cond_broadcast(&s->rec_cv);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SRV_SIGN_TIMEOUT_MS / 1000 + 1;
    /* A worker stuck inside the module gets a deadline too: then we leave it behind. */
    while (s->nworkers_live > 0)
        if (pthread_cond_timedwait(&s->rec_cv, &s->job_mu, &deadline) != 0)
            break;
    pthread_mutex_unlock(&s->job_mu);
    if (s->recovery_started)
        pthread_join(s->recovery, NULL);
    profiles_swap(s, NULL);
    if (s->nworkers_live > 0) {
        mp_error("%u worker(s) still inside the PKCS#11 module at exit", s->nworkers_live);
        return false; /* finalizing under them would be undefined */
    }
    hsm_session_free(s->audit_sess);
    hsm_key_free(s->audit_key);
    hsm_token_free(s->tok);
    hsm_module_free(s->mod);
    return true;
}

enum mp_err
hsmpool_reload(struct server *s, struct mp_errmsg *e)
{
    struct srv_profiles *fresh = NULL;
    enum mp_err r;

    pthread_mutex_lock(&s->job_mu);
    if (s->state == SRV_HSM_PIN_BLOCKED) {
        /* The operator acted: one more login attempt. */
        s->state = SRV_HSM_DOWN;
        pthread_cond_broadcast(&s->rec_cv);
        pthread_mutex_unlock(&s->job_mu);
        mp_info("SIGHUP: trying to log in again");
        return MP_OK;
    }
    if (s->state != SRV_HSM_UP) {
        pthread_mutex_unlock(&s->job_mu);
        return mp_errf(e, MP_ERR_HSM_GONE, "the token is being recovered; reload later");
    }
    s->in_pkcs11++; /* recovery must not finalize under the key lookups below */
    pthread_mutex_unlock(&s->job_mu);
    r = profiles_load(s, &fresh, e);
    pthread_mutex_lock(&s->job_mu);
    pkcs11_leave(s);
    pthread_mutex_unlock(&s->job_mu);
    if (r == MP_OK)
        profiles_swap(s, fresh);
    return r;
}

enum mp_err
hsmpool_unavailable(struct server *s, struct mp_errmsg *why)
{
    enum mp_err r;

    pthread_mutex_lock(&s->job_mu);
    if (s->state == SRV_HSM_PIN_BLOCKED)
        r = mp_errf(why, MP_ERR_HSM_PIN,
            "HSM unavailable: PIN problem (%s); an operator must fix it "
            "and send SIGHUP",
            s->state_why);
    else
        r = mp_errf(why, MP_ERR_HSM_GONE, "HSM unavailable: %s", s->state_why);
    pthread_mutex_unlock(&s->job_mu);
    return r;
}

void
hsmpool_state(struct server *s, char *out, size_t outlen)
{
    pthread_mutex_lock(&s->job_mu);
    if (s->state == SRV_HSM_UP)
        snprintf(out, outlen, "hsm=up");
    else
        snprintf(out, outlen, "hsm=%s: %s", s->state == SRV_HSM_DOWN ? "down" : "pin",
            s->state_why);
    pthread_mutex_unlock(&s->job_mu);
}
