/* Connection slots of mp-signer serve: who may hold how many. A caller no profile allows can
 * get nothing but refusals and PONGs, so such callers share a few slots and the rest stay free
 * for the callers the profiles name (the exchange among them). */
#include "signer/daemon/server_int.h"

/* Whether the profiles in force let who in; while the token is recovered there are none, and
 * the start-up config decides. */
static bool
caller_known(struct server *s, const struct peer *who)
{
    struct srv_profiles *set = hsmpool_profiles_get(s);
    bool known = policy_conf_allows(set != NULL ? set->conf : s->boot, who);

    hsmpool_profiles_put(set);
    return known;
}

/* With conn_mu held. */
static enum mp_err
slot_check(const struct server *s, const struct peer *who, bool known, struct mp_errmsg *why)
{
    size_t i, mine = 0, strangers = 0;

    for (i = 0; i < s->nconn; i++) {
        mine += s->conn_uid[i] == who->uid;
        strangers += !s->conn_known[i];
    }
    if (s->stopping)
        return mp_errf(why, MP_ERR_INVALID, "the signer is stopping");
    if (s->nconn >= SRV_MAX_CONN)
        return mp_errf(why, MP_ERR_TOOBIG, "all %d connection slots are taken", SRV_MAX_CONN);
    if (known && mine >= SRV_MAX_CONN_PER_UID)
        return mp_errf(why, MP_ERR_TOOBIG, "it holds %d connections, the most one uid may hold",
            SRV_MAX_CONN_PER_UID);
    if (!known && mine >= SRV_MAX_CONN_STRANGER_PER_UID)
        return mp_errf(why, MP_ERR_POLICY,
            "no profile allows it and it holds %d connections, the most such a uid may hold",
            SRV_MAX_CONN_STRANGER_PER_UID);
    if (!known && strangers >= SRV_MAX_CONN_STRANGERS)
        return mp_errf(why, MP_ERR_POLICY,
            "no profile allows it and such uids hold all %d of their slots",
            SRV_MAX_CONN_STRANGERS);
    return MP_OK;
}

enum mp_err
slots_take(struct server *s, int fd, const struct peer *who, struct mp_errmsg *why)
{
    bool known = caller_known(s, who);
    enum mp_err r;

    pthread_mutex_lock(&s->conn_mu);
    if ((r = slot_check(s, who, known, why)) == MP_OK) {
        s->conn_fd[s->nconn] = fd;
        s->conn_uid[s->nconn] = who->uid;
        s->conn_known[s->nconn++] = known;
    }
    pthread_mutex_unlock(&s->conn_mu);
    return r;
}

void
slots_release(struct server *s, int fd)
{
    size_t i, last;

    pthread_mutex_lock(&s->conn_mu);
    for (i = 0; i < s->nconn; i++)
        if (s->conn_fd[i] == fd) {
            last = s->nconn - 1;
            s->conn_fd[i] = s->conn_fd[last];
            s->conn_uid[i] = s->conn_uid[last];
            s->conn_known[i] = s->conn_known[last];
            s->nconn--;
            break;
        }
    pthread_cond_broadcast(&s->conn_cv);
    pthread_mutex_unlock(&s->conn_mu);
}
