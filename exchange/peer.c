/* The caller of an HTTP request, from the kernel: SO_PEERCRED or the socket table (peer.h). */
#include "exchange/peer.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum mp_err
peer_of_unix(int fd, struct token_caller *out, struct mp_errmsg *e)
{
    struct ucred uc;
    socklen_t len = sizeof(uc);
    char path[64];
    ssize_t n;

    memset(out, 0, sizeof(*out));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 || len != sizeof(uc))
        return mp_errf(e, MP_ERR_IO, "cannot tell who is calling (SO_PEERCRED): %s",
            strerror(errno));
    out->uid = (unsigned int)uc.uid;
    out->gid = (unsigned int)uc.gid;
    out->pid = (int)uc.pid;
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)uc.pid);
    n = readlink(path, out->exe, sizeof(out->exe) - 1);
    if (n <= 0 || (size_t)n >= sizeof(out->exe) - 1)
        snprintf(out->exe, sizeof(out->exe), "?");
    else
        out->exe[n] = '\0';
    out->set = 1;
    return MP_OK;
}

/* The diag request for the socket at the other end of fd: its source is our peer's address. */
static enum mp_err
diag_request(int fd, struct inet_diag_req_v2 *rq, struct mp_errmsg *e)
{
    struct sockaddr_storage me, them;
    socklen_t ml = sizeof(me), tl = sizeof(them);

    memset(rq, 0, sizeof(*rq));
    if (getsockname(fd, (struct sockaddr *)&me, &ml) != 0 ||
        getpeername(fd, (struct sockaddr *)&them, &tl) != 0)
        return mp_errf(e, MP_ERR_IO, "cannot read the connection's addresses: %s", strerror(errno));
    rq->sdiag_family = (unsigned char)me.ss_family;
    rq->sdiag_protocol = IPPROTO_TCP;
    rq->idiag_states = 1u << TCP_ESTABLISHED;
    rq->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    rq->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    if (me.ss_family == AF_INET) {
        const struct sockaddr_in *m = (const void *)&me, *t = (const void *)&them;

        rq->id.idiag_sport = t->sin_port;
        rq->id.idiag_dport = m->sin_port;
        memcpy(rq->id.idiag_src, &t->sin_addr, 4);
        memcpy(rq->id.idiag_dst, &m->sin_addr, 4);
    } else if (me.ss_family == AF_INET6) {
        const struct sockaddr_in6 *m = (const void *)&me, *t = (const void *)&them;

        rq->id.idiag_sport = t->sin6_port;
        rq->id.idiag_dport = m->sin6_port;
        memcpy(rq->id.idiag_src, &t->sin6_addr, 16);
        memcpy(rq->id.idiag_dst, &m->sin6_addr, 16);
    } else
        return mp_errf(e, MP_ERR_IO, "not a TCP connection");
    return MP_OK;
}

/* One exact lookup (no dump): the answer is that socket's inet_diag_msg or an error. */
static enum mp_err
diag_uid(const struct inet_diag_req_v2 *rq, uid_t *uid, struct mp_errmsg *e)
{
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 rq;
    } msg = {{.nlmsg_len = sizeof(msg),
                 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                 .nlmsg_flags = NLM_F_REQUEST,
                 .nlmsg_seq = 1},
        *rq};
    union {
        struct nlmsghdr nh;
        char buf[8192];
    } ans;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    const struct nlmsghdr *h = &ans.nh;
    enum mp_err r = MP_ERR_IO;
    ssize_t n;
    int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

    if (s < 0)
        return mp_errf(e, MP_ERR_IO, "sock_diag: %s", strerror(errno));
    if (sendto(s, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0 ||
        (n = recv(s, ans.buf, sizeof(ans.buf), 0)) < 0) {
        mp_errf(e, MP_ERR_IO, "sock_diag: %s", strerror(errno));
        goto out;
    }
    if (!NLMSG_OK(h, (size_t)n))
        mp_errf(e, MP_ERR_IO, "sock_diag: short answer");
    else if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *er = NLMSG_DATA(h);

        r = er->error == -ENOENT ? MP_ERR_NOTFOUND : MP_ERR_IO;
        mp_errf(e, r, "sock_diag: %s",
            er->error == -ENOENT
                ? "the other end of the connection is no socket of this network namespace"
                : strerror(-er->error));
    } else if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
        h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
        mp_errf(e, MP_ERR_IO, "sock_diag: unexpected answer");
    else {
        *uid = ((const struct inet_diag_msg *)NLMSG_DATA(h))->idiag_uid;
        r = MP_OK;
    }
out:
    close(s);
    return r;
}

enum mp_err
peer_of_tcp(int fd, struct token_caller *out, struct mp_errmsg *e)
{
    struct inet_diag_req_v2 rq;
    struct passwd pw, *res = NULL;
    char buf[2048];
    uid_t uid = 0;
    enum mp_err r;

    memset(out, 0, sizeof(*out));
    if ((r = diag_request(fd, &rq, e)) != MP_OK || (r = diag_uid(&rq, &uid, e)) != MP_OK)
        return r;
    /* The signer's allow_gids need a gid; TCP tells none, the user's primary group stands in. */
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
        return mp_errf(e, MP_ERR_NOTFOUND, "uid %u (the caller on TCP) has no passwd entry",
            (unsigned int)uid);
    out->uid = (unsigned int)uid;
    out->gid = (unsigned int)pw.pw_gid;
    out->pid = 0;
    snprintf(out->exe, sizeof(out->exe), "?");
    out->set = 1;
    return MP_OK;
}
