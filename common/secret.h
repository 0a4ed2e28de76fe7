/* Secrets read from files: a PIN file must be a regular file owned by the caller (or root) with
 * no group or other permission bits. The bytes live in locked memory and are wiped on free. */
#ifndef MP_SECRET_H
#define MP_SECRET_H

#include <stddef.h>

#include "common/err.h"

#define MP_SECRET_MAX 256

struct mp_secret;

/* Reads the file, strips one trailing "\n" or "\r\n". MP_ERR_PERM for unsafe permissions,
 * MP_ERR_INVALID for an empty or oversized secret. The message never contains the secret. */
enum mp_err mp_secret_read_file(const char *path, struct mp_secret **out, struct mp_errmsg *e);
/* The same for a secret that is not a PIN: the messages name it as what ("oauth client
 * secret", "audit_person_key_file") where they would say "PIN file". */
enum mp_err mp_secret_read_named(const char *path, const char *what, struct mp_secret **out,
    struct mp_errmsg *e);
const char *mp_secret_data(const struct mp_secret *s);
size_t mp_secret_len(const struct mp_secret *s);
void mp_secret_free(struct mp_secret *s); /* wipes; NULL is a no-op */

#endif
