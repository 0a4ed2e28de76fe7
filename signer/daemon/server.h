/* mp-signer serve: the long-running signer. It logs in once, keeps a pool of PKCS#11 sessions
 * (one per worker), answers framed requests (common/frame.h) on a Unix socket, decides per
 * caller (SO_PEERCRED) what it signs, and releases a JWS only after its audit line is durable.
 * It opens no network socket. */
#ifndef MP_SERVER_H
#define MP_SERVER_H

#include "common/err.h"

struct server;

/* Loads the config, logs in, prepares every profile, opens the audit log, binds the socket
 * (refusing one that is already served). Signals must already be blocked by the caller. */
enum mp_err server_open(const char *config_path, struct server **out, struct mp_errmsg *e);
/* Starts accepting; returns at once. */
enum mp_err server_start(struct server *s, struct mp_errmsg *e);
/* Re-reads the profiles; on any error the old ones stay. The PKCS#11 login is kept. */
enum mp_err server_reload(struct server *s, struct mp_errmsg *e);
/* Asks for the audit log's rotation (SIGUSR1): done within a second by its writer. */
void server_rotate(struct server *s);
/* Stops accepting, drains in-flight requests, writes the stop record and a final checkpoint,
 * removes the socket and frees everything. */
void server_shutdown(struct server *s);

#endif
