/* Who is on the other end of an HTTP connection to the exchange, as the kernel says, for
 * forward_caller: SO_PEERCRED on the Unix socket, the socket table for loopback TCP. */
#ifndef MP_EXCHANGE_PEER_H
#define MP_EXCHANGE_PEER_H

#include "common/err.h"
#include "exchange/token_req.h"

/* The peer of the connected Unix socket fd: uid, gid and pid from SO_PEERCRED, exe from
 * /proc/PID/exe ("?" when the kernel does not show it to this process, as for another user's
 * process). MP_ERR_IO when the kernel gives no credentials. */
enum mp_err peer_of_unix(int fd, struct token_caller *out, struct mp_errmsg *e);

/* The owner of the other end of a loopback TCP connection fd, as the kernel's socket table
 * says (NETLINK_SOCK_DIAG, looked up by the connection's 4-tuple: the identd technique). Only
 * the uid is known; gid is that user's primary group from the passwd database, pid 0, exe "?".
 * MP_ERR_NOTFOUND when no socket of this network namespace is the other end (the peer is a
 * proxy's or another namespace's), MP_ERR_IO on other failures. */
enum mp_err peer_of_tcp(int fd, struct token_caller *out, struct mp_errmsg *e);

#endif
