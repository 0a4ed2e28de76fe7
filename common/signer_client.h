/* The caller's side of the signer wire protocol (common/frame.h), for mp-signer request/bench
 * and mp-exchange. */
#ifndef MP_SIGNER_CLIENT_H
#define MP_SIGNER_CLIENT_H

#include "common/frame.h"

/* Connects to the signer's Unix socket (close(2) the fd when done). */
enum mp_err signer_client_connect(const char *path, int *fd, struct mp_errmsg *e);
/* Sends req and reads the answer into resp; MP_OK means an answer arrived (JWS, PONG or
 * ERROR: look at resp->type). */
enum mp_err signer_client_call(int fd, const struct frame_msg *req, struct frame_msg *resp,
    struct mp_errmsg *e);

#endif
