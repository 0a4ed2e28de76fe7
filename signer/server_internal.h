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

    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    struct hsm_session *sess[SRV_MAX_WORKERS];
    size_t nsess;
    struct hsm_session *idle[SRV_MAX_WORKERS];
    size_t nidle;

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
/* A session for one signature (blocks while all are busy); put it back with the outcome, so a
 * session that failed is replaced rather than reused. */
struct hsm_session *srv_session_get(struct server *s);
void srv_session_put(struct server *s, struct hsm_session *sess, int failed);
/* A JSON object with event and pid, for start/stop/reload records. */
json_t *srv_event_record(const char *event, const struct sconf *c);

#endif
