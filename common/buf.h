/* A growable byte buffer with a ceiling fixed at creation (sshbuf max_size, curl dynbuf).
 * Contents are wiped when the buffer grows, is reset or is freed, so it may hold secrets. */
#ifndef MP_BUF_H
#define MP_BUF_H

#include <stddef.h>

#include "common/err.h"

struct mp_buf;

/* NULL on allocation failure. max is the largest length the buffer will ever hold. */
struct mp_buf *mp_buf_new(size_t max);
void mp_buf_free(struct mp_buf *b); /* NULL is a no-op */
void mp_buf_reset(struct mp_buf *b);
/* Cuts the contents back to len bytes (a no-op if shorter), wiping what is cut. */
void mp_buf_truncate(struct mp_buf *b, size_t len);

/* MP_ERR_TOOBIG past the ceiling (the buffer is unchanged), MP_ERR_NOMEM. */
enum mp_err mp_buf_put(struct mp_buf *b, const void *data, size_t len);
enum mp_err mp_buf_puts(struct mp_buf *b, const char *s);
enum mp_err mp_buf_putf(struct mp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The bytes, always followed by a NUL that the length does not count. */
const unsigned char *mp_buf_ptr(const struct mp_buf *b);
const char *mp_buf_str(const struct mp_buf *b);
size_t mp_buf_len(const struct mp_buf *b);

/* A whole file of at most max bytes into a new buffer (*out); st, when not NULL, receives its
 * fstat. e names the file and the problem. */
struct stat;
enum mp_err mp_buf_read_file(const char *path, size_t max, struct mp_buf **out, struct stat *st,
    struct mp_errmsg *e);

/* Hands the bytes (NUL-terminated) to the caller and empties the buffer; NULL if empty and
 * allocation failed. The caller frees with free() (after explicit_bzero if secret). */
char *mp_buf_take(struct mp_buf *b, size_t *len);

#endif
