/* Layout shared by server.c (setup, socket, reload) and serve_conn.c (requests). */
#ifndef MP_SERVER_INTERNAL_H
#define MP_SERVER_INTERNAL_H

#include <pthread.h>

#include "pkcs11/hsm.h"
#include "signer/audit.h"
#include "signer/grant.h"
#include "signer/policy.h"
#include "signer/sconf.h"
#include "signer/server.h"

#define SRV_MAX_CONN 64
#define SRV_MAX_CONN_PER_UID 32
#define SRV_MAX_WORKERS 64

/* The profiles in force; replaced whole on reload. */
struct srv_profiles {
    struct sconf *conf;
    struct grant_signer *signer[SCONF_MAX_PROFILES];
};

struct server {
    char config_path[512];
    struct sconf *boot; /* module, pin file, socket and audit settings from start-up */
    struct hsm_module *mod;
    struct hsm_token *tok;
    pthread_rwlock_t prof_lock;
    struct srv_profiles *prof;

    /* Signing workers, each with its own PKCS#11 session, fed by a job queue: a worker that
     * finishes takes the next job at once, so the token never waits for a thread wake-up. */
    pthread_mutex_t job_mu;
    pthread_cond_t job_cv;
    pthread_cond_t job_done;
    struct sign_job *job_head, *job_tail;
    int workers_stop;
    pthread_t worker[SRV_MAX_WORKERS];
    struct hsm_session *sess[SRV_MAX_WORKERS];
    size_t nsess;
    size_t nworkers;

    struct audit *audit;
    struct hsm_key *audit_key;
    struct hsm_session *audit_sess;

    int lfd;
    int bound; /* we created the socket file and remove it */
    pthread_t acceptor;
    int accepting;
    pthread_mutex_t conn_mu;
    pthread_cond_t conn_cv;
    int conn_fd[SRV_MAX_CONN];
    uid_t conn_uid[SRV_MAX_CONN];
    size_t nconn;
    int stopping;
};

/* Runs one connection until EOF, error or shutdown; frees nothing it did not allocate. */
void serve_connection(struct server *s, int fd, const struct peer *who);
/* One signature for a worker: the caller waits until done is set. */
struct sign_job {
    struct grant_signer *gs;
    const struct grant_request *g;
    struct mp_buf *jws;
    struct grant_info *info;
    struct mp_errmsg *why;
    enum mp_err result;
    int done;
    struct sign_job *next;
};

/* Queues the job for a signing worker and waits for its result. */
enum mp_err srv_sign(struct server *s, struct sign_job *job);
/* A JSON object with event and pid, for start/stop/reload records. */
json_t *srv_event_record(const char *event, const struct sconf *c);

#endif
