/* The caller of an HTTP request on the Unix socket, from the kernel (peer.h). */
#include "exchange/peer.h"

#include <errno.h>
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
