/* The signing workers of mp-signer serve: one PKCS#11 session each, a job queue, a deadline
 * per job after which a stuck worker is retired and replaced (server_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "signer/daemon/server_int.h"

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
        hsmpool_leave(s);
        if (r == MP_ERR_HSM_GONE || r == MP_ERR_HSM_PIN) {
            hsmpool_down(s, r, job->why.text);
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
enum mp_err
hsmpool_worker_spawn(struct server *s, struct mp_errmsg *e)
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
    snprintf(job->person, sizeof(job->person), "%s", g->person ? g->person : "");
    job->g.person = g->person != NULL ? job->person : NULL;
    snprintf(job->consent_id, sizeof(job->consent_id), "%s", g->consent_id ? g->consent_id : "");
    job->g.consent_id = g->consent_id != NULL ? job->consent_id : NULL;
    snprintf(job->consent_from, sizeof(job->consent_from), "%s",
        g->consent_from ? g->consent_from : "");
    job->g.consent_from = g->consent_from != NULL ? job->consent_from : NULL;
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
        if (hsmpool_worker_spawn(s, &e) != MP_OK)
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
