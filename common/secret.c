/* PIN files: opened without following links or blocking, checked for mode and owner, read
 * into locked memory that is wiped on free. */
#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct mp_secret {
    size_t len;
    int locked;
    /* The longest secret, its "\r\n", one byte that shows the file is longer, and a NUL. */
    char data[MP_SECRET_MAX + 4];
};

void
mp_secret_free(struct mp_secret *s)
{
    int locked;

    if (s == NULL)
        return;
    locked = s->locked; /* read before the wipe clears it */
    explicit_bzero(s, sizeof(*s));
    if (locked)
        munlock(s, sizeof(*s));
    free(s);
}

static enum mp_err
secret_check_stat(int fd, const char *path, struct mp_errmsg *e)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return mp_errf(e, MP_ERR_IO, "PIN file %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return mp_errf(e, MP_ERR_PERM, "PIN file %s is not a regular file", path);
    if ((st.st_mode & 077) != 0)
        return mp_errf(e, MP_ERR_PERM,
            "PIN file %s has mode %04o: group and others must have no access (chmod 600)", path,
            (unsigned int)(st.st_mode & 07777));
    if (st.st_uid != geteuid() && st.st_uid != 0)
        return mp_errf(e, MP_ERR_PERM, "PIN file %s is owned by uid %u, not by uid %u or root",
            path, (unsigned int)st.st_uid, (unsigned int)geteuid());
    return MP_OK;
}

static enum mp_err
secret_read_all(int fd, struct mp_secret *s, const char *path, struct mp_errmsg *e)
{
    ssize_t n;
    size_t cap = sizeof(s->data) - 1;

    for (;;) {
        n = read(fd, s->data + s->len, cap - s->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mp_errf(e, MP_ERR_IO, "PIN file %s: %s", path, strerror(errno));
        if (n == 0)
            break;
        s->len += (size_t)n;
        if (s->len == cap)
            return mp_errf(e, MP_ERR_INVALID, "PIN file %s is longer than %d bytes", path,
                MP_SECRET_MAX);
    }
    if (s->len > 0 && s->data[s->len - 1] == '\n')
        s->len--;
    if (s->len > 0 && s->data[s->len - 1] == '\r')
        s->len--;
    s->data[s->len] = '\0';
    if (s->len > MP_SECRET_MAX)
        return mp_errf(e, MP_ERR_INVALID, "PIN file %s is longer than %d bytes", path,
            MP_SECRET_MAX);
    if (s->len == 0)
        return mp_errf(e, MP_ERR_INVALID, "PIN file %s is empty", path);
    if (memchr(s->data, '\n', s->len) != NULL || memchr(s->data, '\0', s->len) != NULL)
        return mp_errf(e, MP_ERR_INVALID, "PIN file %s holds more than one line", path);
    return MP_OK;
}

enum mp_err
mp_secret_read_file(const char *path, struct mp_secret **out, struct mp_errmsg *e)
{
    struct mp_secret *s = NULL;
    int fd = -1;
    enum mp_err r = MP_ERR_NOMEM;

    if ((s = calloc(1, sizeof(*s))) == NULL) {
        mp_errf(e, r, "out of memory reading PIN file");
        goto out;
    }
    /* Best effort: mlock fails without CAP_IPC_LOCK beyond RLIMIT_MEMLOCK; the wipe still runs. */
    s->locked = mlock(s, sizeof(*s)) == 0;
    /* O_NONBLOCK: a FIFO would otherwise hang start-up or reload until someone writes to it;
     * O_NOFOLLOW: a symlink could point at a device or another user's file. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK)) < 0) {
        if (errno == ELOOP)
            r = mp_errf(e, MP_ERR_PERM, "PIN file %s is a symbolic link: name the file itself",
                path);
        else
            r = mp_errf(e, MP_ERR_IO, "PIN file %s: %s", path, strerror(errno));
        goto out;
    }
    if ((r = secret_check_stat(fd, path, e)) != MP_OK)
        goto out;
    if ((r = secret_read_all(fd, s, path, e)) != MP_OK)
        goto out;
    *out = s;
    s = NULL;
    r = MP_OK;
out:
    if (fd >= 0)
        close(fd);
    mp_secret_free(s);
    return r;
}

const char *
mp_secret_data(const struct mp_secret *s)
{
    return s->data;
}

size_t
mp_secret_len(const struct mp_secret *s)
{
    return s->len;
}

enum mp_err
mp_secret_read_named(const char *path, const char *what, struct mp_secret **out,
    struct mp_errmsg *e)
{
    enum mp_err r = mp_secret_read_file(path, out, e);
    char text[sizeof(e->text)];
    const char *p;

    if (r == MP_OK || (p = strstr(e->text, "PIN file")) == NULL)
        return r;
    snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - e->text), e->text, what,
        p + strlen("PIN file"));
    return mp_errf(e, r, "%s", text);
}
