/* anchor_command: every signed checkpoint note is handed to a configured program on its stdin,
 * so deployments can ship them to another host or a transparency witness. The signer itself
 * may not execve or fork once sandboxed, so a small relay process, forked before the token is
 * opened and before any thread exists, runs the program; the signer writes each note to it
 * over a pipe without ever waiting (a full pipe drops the note, with a warning). */
#ifndef MP_AUDIT_RELAY_H
#define MP_AUDIT_RELAY_H

#include "common/err.h"

struct audit_relay;

/* Forks the relay. command is an absolute path, run without arguments, killed after
 * timeout_s seconds. */
enum mp_err audit_relay_start(const char *command, unsigned int timeout_s, struct audit_relay **out,
    struct mp_errmsg *e);
/* Hands over one note; never blocks. */
void audit_relay_send(struct audit_relay *r, const char *note);
/* Closes the pipe: the relay runs the program for the notes still queued, then exits; waited
 * for. NULL is a no-op. */
void audit_relay_stop(struct audit_relay *r);

#endif
