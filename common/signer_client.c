/* The caller's side of the signer protocol: connect, send a frame, read the answer
 * (signer_client.h). */
#include "common/signer_client.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum mp_err
signer_client_connect(const char *path, int *fd, struct mp_errmsg *e)
{
    struct sockaddr_un sun;
    int s;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path))
        return mp_errf(e, MP_ERR_INVALID, "socket path %s is too long", path);
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return mp_errf(e, MP_ERR_IO, "socket: %s", strerror(errno));
    if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        int err = errno;

        close(s);
        return mp_errf(e, MP_ERR_IO, "cannot reach the signer at %s: %s", path, strerror(err));
    }
    *fd = s;
    return MP_OK;
}

enum mp_err
signer_client_call(int fd, const struct frame_msg *req, struct frame_msg *resp, struct mp_errmsg *e)
{
    struct mp_errmsg unread = {{0}};
    enum mp_err r;

    /* A signer that refuses the connection answers and closes, perhaps before the request was
     * written: the answer already queued says why, where the failed write would not. */
    if ((r = frame_write(fd, req, e)) != MP_OK) {
        if (frame_read_timed(fd, resp, 0, 1000, &unread) == MP_OK && resp->type == FRAME_ERROR)
            return MP_OK;
        return r;
    }
    if ((r = frame_read(fd, resp, e)) == MP_ERR_NOTFOUND)
        return mp_errf(e, MP_ERR_IO, "the signer closed the connection without an answer");
    return r;
}
