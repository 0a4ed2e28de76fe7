/* The signing side of mp-signer serve: one logged-in token, the profiles' signers on it,
 * signing workers with a PKCS#11 session each, and recovery without restart.
 *
 * A worker checks the token state before every job. A lost session is replaced and the job
 * tried once more. A token that is gone (device removed, link lost, login lost) puts the
 * signer DOWN: callers are answered "HSM unavailable" at once, and the recovery thread waits
 * until no thread is inside the module, then C_Finalize / C_Initialize, logs in again (reading
 * the PIN file anew), and rebuilds profiles, audit key and sessions, with capped backoff. A PIN
 * problem stops every login until an operator sends SIGHUP: PIN tries are precious. A call
 * that hangs past its deadline answers the caller; its worker is retired and replaced (the
 * workers are in hsmpool_workers.c). */
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
void
hsmpool_down(struct server *s, enum mp_err why_code, const char *why)
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
void
hsmpool_leave(struct server *s)
{
    s->in_pkcs11--;
    if (s->state != SRV_HSM_UP || s->workers_stop)
        pthread_cond_broadcast(&s->rec_cv);
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
    hsmpool_leave(s);
    if (h == HSM_ERR_TOKEN_GONE)
        hsmpool_down(s, MP_ERR_HSM_GONE, e->text);
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
        cp.origin = s->boot->audit_origin;
        cp.pub = hsm_key_public(s->audit_key);
        r = audit_open(s->boot->audit_log, &cp, &s->audit, e);
    }
    if (r != MP_OK)
        return r;
    audit_group_wait(s->audit, s->boot->workers, GROUP_WAIT_US);
    audit_rotation(s->audit, s->boot->audit_rotate_bytes, s->boot->audit_rotate_interval);
    if (s->relay != NULL)
        audit_relay_attach(s->audit, s->relay);
    return MP_OK;
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
        r = hsmpool_worker_spawn(s, e);
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
    hsmpool_leave(s);
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
