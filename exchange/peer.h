/* Who is on the other end of an HTTP connection to the exchange's Unix socket, as the kernel
 * says (SO_PEERCRED), for forward_caller. */
#ifndef MP_EXCHANGE_PEER_H
#define MP_EXCHANGE_PEER_H

#include "common/err.h"
#include "exchange/token_req.h"

/* The peer of the connected Unix socket fd: uid, gid and pid from SO_PEERCRED, exe from
 * /proc/PID/exe ("?" when the kernel does not show it to this process, as for another user's
 * process). MP_ERR_IO when the kernel gives no credentials. */
enum mp_err peer_of_unix(int fd, struct token_caller *out, struct mp_errmsg *e);

#endif
