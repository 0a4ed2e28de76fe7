/* The bounded, self-wiping byte buffer (buf.h). */
#include "common/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct mp_buf {
    unsigned char *d;
    size_t len;
    size_t cap; /* allocated bytes, one more than the usable length for the NUL */
    size_t max;
};

struct mp_buf *
mp_buf_new(size_t max)
{
    struct mp_buf *b;

    if ((b = calloc(1, sizeof(*b))) == NULL)
        return NULL;
    b->max = max;
    return b;
}

void
mp_buf_free(struct mp_buf *b)
{
    if (b == NULL)
        return;
    if (b->d != NULL) {
        explicit_bzero(b->d, b->cap);
        free(b->d);
    }
    free(b);
}

void
mp_buf_reset(struct mp_buf *b)
{
    if (b->d != NULL)
        explicit_bzero(b->d, b->cap);
    b->len = 0;
}

void
mp_buf_truncate(struct mp_buf *b, size_t len)
{
    if (b->d == NULL || len >= b->len)
        return;
    explicit_bzero(b->d + len, b->len - len);
    b->len = len;
}

/* Grows by doubling; copies instead of realloc so old contents can be wiped. */
static enum mp_err
buf_reserve(struct mp_buf *b, size_t add)
{
    size_t need, cap;
    unsigned char *n;

    if (add > b->max || b->len > b->max - add)
        return MP_ERR_TOOBIG;
    need = b->len + add + 1;
    if (need <= b->cap)
        return MP_OK;
    cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap = cap > b->max / 2 + 1 ? b->max + 1 : cap * 2;
    if ((n = calloc(1, cap)) == NULL)
        return MP_ERR_NOMEM;
    if (b->d != NULL) {
        memcpy(n, b->d, b->len);
        explicit_bzero(b->d, b->cap);
        free(b->d);
    }
    b->d = n;
    b->cap = cap;
    return MP_OK;
}

enum mp_err
mp_buf_put(struct mp_buf *b, const void *data, size_t len)
{
    enum mp_err r;

    if ((r = buf_reserve(b, len)) != MP_OK)
        return r;
    if (len > 0)
        memcpy(b->d + b->len, data, len);
    b->len += len;
    b->d[b->len] = '\0';
    return MP_OK;
}

enum mp_err
mp_buf_puts(struct mp_buf *b, const char *s)
{
    return mp_buf_put(b, s, strlen(s));
}

enum mp_err
mp_buf_putf(struct mp_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    enum mp_err r;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return MP_ERR_INVALID;
    if ((r = buf_reserve(b, (size_t)n)) != MP_OK)
        return r;
    va_start(ap, fmt);
    vsnprintf((char *)b->d + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return MP_OK;
}

const unsigned char *
mp_buf_ptr(const struct mp_buf *b)
{
    return b->d != NULL ? b->d : (const unsigned char *)"";
}

const char *
mp_buf_str(const struct mp_buf *b)
{
    return (const char *)mp_buf_ptr(b);
}

size_t
mp_buf_len(const struct mp_buf *b)
{
    return b->len;
}

char *
mp_buf_take(struct mp_buf *b, size_t *len)
{
    char *out;

    if (b->d == NULL && buf_reserve(b, 0) != MP_OK)
        return NULL;
    out = (char *)b->d;
    if (len != NULL)
        *len = b->len;
    b->d = NULL;
    b->len = b->cap = 0;
    return out;
}

enum mp_err
mp_buf_read_file(const char *path, size_t max, struct mp_buf **out, struct stat *st,
    struct mp_errmsg *e)
{
    struct mp_buf *b = mp_buf_new(max);
    struct stat own;
    char chunk[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    enum mp_err rc = MP_ERR_IO;

    if (b == NULL) {
        rc = mp_errf(e, MP_ERR_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    if (fd < 0 || fstat(fd, st != NULL ? st : &own) != 0) {
        mp_errf(e, rc, "%s: %s", path, strerror(errno));
        goto out;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if ((rc = mp_buf_put(b, chunk, (size_t)n)) != MP_OK) {
            mp_errf(e, rc, "%s: larger than %zu bytes", path, max);
            goto out;
        }
    if (n < 0) {
        rc = mp_errf(e, MP_ERR_IO, "%s: %s", path, strerror(errno));
        goto out;
    }
    *out = b;
    b = NULL;
    rc = MP_OK;
out:
    if (fd >= 0)
        close(fd);
    mp_buf_free(b);
    return rc;
}
