/* Layout shared by server.c (socket, connections, lifecycle), conn_slots.c (connection caps),
 * hsmpool.c (the signing side: profiles, workers, sessions, recovery) and conn.c (requests). */
#ifndef MP_SERVER_INT_H
#define MP_SERVER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <time.h>

#include "common/frame.h"
#include "pkcs11/hsm.h"
#include "signer/audit/audit_writer.h"
#include "signer/grant/grant.h"
#include "signer/daemon/policy.h"
#include "signer/signer_conf.h"
#include "signer/daemon/server.h"

#define SRV_MAX_CONN 64
#define SRV_MAX_CONN_PER_UID 32
/* Callers no profile allows (conn_slots.c): a few slots in all, two per uid. */
#define SRV_MAX_CONN_STRANGERS 8
#define SRV_MAX_CONN_STRANGER_PER_UID 2
/* A frame must arrive whole within SRV_FRAME_MS of its first byte, so trickling bytes cannot
 * hold a thread; between frames a connection may idle SRV_IDLE_MS. */
#define SRV_FRAME_MS 5000
#define SRV_IDLE_MS 60000
#define SRV_MAX_WORKERS 64
#define SRV_SIGN_TIMEOUT_MS 5000

/* The profiles in force, with a signer each; replaced whole on reload or recovery and freed
 * when the last job using them lets go. */
struct srv_profiles {
    atomic_int refs;
    struct signer_conf *conf;
    struct grant_signer *signer[SIGNER_CONF_MAX_PROFILES];
};

enum srv_hsm_state {
    SRV_HSM_UP = 0,
    SRV_HSM_DOWN = 1, /* recovering: callers get "HSM unavailable" at once */
    SRV_HSM_PIN_BLOCKED = 2, /* the PIN was refused: no login until an operator sends SIGHUP */
};

struct srv_worker {
    pthread_t thread;
    struct hsm_session *sess;
    int used; /* slot holds a live thread */
    int retired; /* abandoned after a hung call: exits when the call returns */
};

/* One signature, shared by the connection thread and a worker (refs), so either may leave
 * first: a caller whose deadline passed does not wait for a hung token. */
struct sign_job {
    atomic_int refs; /* dropped without job_mu by a worker that has answered */
    struct srv_profiles *prof;
    size_t index;
    struct grant_request g; /* strings point into the copies below and into prof */
    char scope[1024];
    char resources[GRANT_MAX_RESOURCES][512];
    char consumer_org[16];
    char su_org[16];
    char su_ref[129];
    char person[12];
    char consent_id[37];
    char consent_from[64];
    struct mp_buf *jws;
    struct grant_info info;
    struct mp_errmsg why;
    enum mp_err result;
    int done;
    pthread_cond_t done_cv; /* its caller waits here: waking every caller per job cost a core */
    int worker;
    struct sign_job *next;
};

struct server {
    char config_path[512];
    struct signer_conf *boot; /* module, pin file, socket and audit settings from start-up */
    struct hsm_module *mod;
    struct hsm_token *tok;
    pthread_rwlock_t prof_lock;
    struct srv_profiles *prof; /* NULL while the token is being recovered */

    /* job_mu guards the queue, the workers, the HSM state, tok/sessions/audit key swaps. */
    pthread_mutex_t job_mu;
    pthread_cond_t job_cv; /* work for workers */
    pthread_cond_t rec_cv; /* state changes, PKCS#11 calls finished */
    struct sign_job *job_head, *job_tail;
    struct srv_worker worker[SRV_MAX_WORKERS];
    unsigned int nworkers_live;
    unsigned int in_pkcs11;
    enum srv_hsm_state state;
    char state_why[MP_ERRMSG_MAX];
    int workers_stop;
    pthread_t recovery;
    int recovery_started;

    struct audit *audit;
    struct audit_relay *relay; /* anchor_command's, or NULL */
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
    bool conn_known[SRV_MAX_CONN]; /* some profile allows the uid */
    size_t nconn;
    int stopping;
    time_t refused_logged_at; /* acceptor thread only */
    unsigned long refused_quiet;
};

/* hsmpool.c */
/* Loads the module, logs in, prepares profiles, audit key and worker sessions; starts the
 * workers and the recovery thread. */
enum mp_err hsmpool_start(struct server *s, struct mp_errmsg *e);
/* Stops workers and recovery and frees everything of the signing side. */
/* false: a worker is still inside the module, so nothing it can reach was freed. */
bool hsmpool_stop(struct server *s);
/* SIGHUP: reload the profiles; after a PIN problem, one new login attempt. */
enum mp_err hsmpool_reload(struct server *s, struct mp_errmsg *e);
/* The profiles in force with a reference taken (NULL while recovering); put when done. */
struct srv_profiles *hsmpool_profiles_get(struct server *s);
void hsmpool_profiles_put(struct srv_profiles *p);
/* Signs g with profile index i of p on a worker, waiting at most SRV_SIGN_TIMEOUT_MS. The JWS
 * is appended to jws; info and why are filled. */
enum mp_err hsmpool_sign(struct server *s, struct srv_profiles *p, size_t i,
    const struct grant_request *g, struct mp_buf *jws, struct grant_info *info,
    struct mp_errmsg *why);
/* Fills why with "HSM unavailable: …" for the current state; MP_ERR_HSM_PIN or _GONE. */
enum mp_err hsmpool_unavailable(struct server *s, struct mp_errmsg *why);
/* "hsm=up", "hsm=down: …" or "hsm=pin: …" for PONG answers. */
void hsmpool_state(struct server *s, char *out, size_t outlen);
/* Opens the audit log with checkpoints signed by the audit key (after hsmpool_start). */
enum mp_err hsmpool_audit_open(struct server *s, struct mp_errmsg *e);
/* Between hsmpool.c and hsmpool_workers.c, with job_mu held: the token is down (recovery
 * takes it from here); a thread left the module; start a worker in a free slot. */
void hsmpool_down(struct server *s, enum mp_err why_code, const char *why);
void hsmpool_leave(struct server *s);
enum mp_err hsmpool_worker_spawn(struct server *s, struct mp_errmsg *e);

/* conn.c */
void conn_serve(struct server *s, int fd, const struct peer *who);
/* Makes out an ERROR frame with code and text. */
void conn_reply_error(struct frame_msg *out, enum frame_code code, const char *text);

/* conn_slots.c */
/* Takes a connection slot for fd or says in why which cap refuses it. */
enum mp_err slots_take(struct server *s, int fd, const struct peer *who, struct mp_errmsg *why);
void slots_release(struct server *s, int fd);

/* server.c */
/* A JSON object with event and pid, for start/stop/reload records. */
json_t *server_event_record(const char *event, const struct signer_conf *c);

#endif
