/* --append-profile of mp-exchange client create: the signer config checked, and the new
 * [profile NAME] appended by an atomic replace (client_profile.h). */
#include "exchange/client_profile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"

struct profile_scan {
    const char *admin, *want;
    struct client_profile *p;
};

/* Only profile names and the admin profile's key matter here; the signer checks the rest. */
static enum mp_err
scan_cb(void *arg, const char *section, const char *name, const char *key, const char *value,
    struct mp_errmsg *e)
{
    struct profile_scan *s = arg;

    (void)e;
    if (strcmp(section, "profile") != 0)
        return MP_OK;
    if (key == NULL)
        s->p->exists |= strcmp(name, s->want) == 0;
    else if (strcmp(key, "key") == 0 && strcmp(name, s->admin) == 0)
        snprintf(s->p->key, sizeof(s->p->key), "%s", value);
    return MP_OK;
}

/* The signer config as it is now: does the new profile exist, which key does it get. */
static enum mp_err
profile_scan(const struct client_opts *o, struct client_profile *p, struct mp_buf **text,
    struct stat *st, struct mp_errmsg *e)
{
    struct profile_scan s = {o->profile != NULL ? o->profile : "default", o->profile_name, p};
    enum mp_err rc;

    memset(p, 0, sizeof(*p));
    if ((rc = mp_buf_read_file(o->append, MP_CONF_MAX_FILE, text, st, e)) != MP_OK ||
        (rc = mp_conf_parse_text(mp_buf_str(*text), mp_buf_len(*text), o->append, scan_cb, &s,
             e)) != MP_OK)
        return rc;
    if (p->exists)
        return mp_errf(e, MP_ERR_INVALID,
            "%s already has [profile %s]: choose another --profile-name", o->append,
            o->profile_name);
    if (o->profile_key != NULL)
        snprintf(p->key, sizeof(p->key), "%s", o->profile_key);
    if (p->key[0] == '\0')
        return mp_errf(e, MP_ERR_INVALID,
            "%s: profile %s has no key to copy: give --profile-key URI", o->append, s.admin);
    return MP_OK;
}

enum mp_err
client_profile_check(const struct client_opts *o, struct client_profile *p, struct mp_errmsg *e)
{
    struct mp_buf *text = NULL;
    struct stat st;
    enum mp_err rc = profile_scan(o, p, &text, &st, e);

    mp_buf_free(text);
    return rc;
}

/* The section appended to the signer config. */
static enum mp_err
profile_text(const struct client_opts *o, const char *env, const struct client_profile *p,
    const char *id, struct mp_buf *b)
{
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    size_t i;
    enum mp_err rc;

    gmtime_r(&t, &tm);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
    rc = mp_buf_putf(b,
        "\n# Registered by mp-exchange client create at %s. Grants carry this key's certificate\n"
        "# (x5c) until a key is registered on the client (mp-exchange client keys add); then set\n"
        "# kid = <its kid>. No caller may use this profile until allow_uids or allow_gids is set.\n"
        "[profile %s]\nkey = %s\nclient_id = %s\nenv = %s\nscopes =",
        now, o->profile_name, p->key, id, env);
    for (i = 0; rc == MP_OK && i < o->nscopes; i++)
        rc = mp_buf_putf(b, " %s", o->scopes[i]);
    return rc == MP_OK ? mp_buf_puts(b, "\n") : rc;
}

static enum mp_err
write_all(int fd, const struct mp_buf *b)
{
    const unsigned char *p = mp_buf_ptr(b);
    size_t left = mp_buf_len(b);
    ssize_t n;

    for (; left > 0; p += n, left -= (size_t)n)
        if ((n = write(fd, p, left)) <= 0) {
            if (n == 0)
                errno = ENOSPC;
            return MP_ERR_IO;
        }
    return MP_OK;
}

/* The directory holding path, for syncing the rename into it. */
static void
dir_of(const char *path, char *dir, size_t len)
{
    char *slash;

    snprintf(dir, len, "%s", path);
    if ((slash = strrchr(dir, '/')) == NULL)
        snprintf(dir, len, ".");
    else
        slash[slash == dir] = '\0';
}

/* Mode, owner (as root), contents and fsync of the temp file: the step that failed, or NULL;
 * *err gets its errno. */
static const char *
temp_fill(int fd, const struct stat *st, const struct mp_buf *b, int *err)
{
    const char *step = NULL;

    errno = 0;
    if (fchmod(fd, st->st_mode & 07777) != 0)
        step = "set its mode on the temp file";
    else if (geteuid() == 0 && fchown(fd, st->st_uid, st->st_gid) != 0)
        step = "set its owner on the temp file";
    else if (write_all(fd, b) != MP_OK)
        step = "write the temp file";
    else if (fsync(fd) != 0)
        step = "sync the temp file";
    *err = errno != 0 ? errno : EIO;
    return step;
}

/* Replaces path by b: a temp file beside it with path's mode (and owner, as root), synced,
 * renamed over it, the directory synced. A crash leaves the old file or the new one. The
 * error names the step that failed, so the operator knows what to look at. */
static enum mp_err
replace_file(const char *path, const struct stat *st, const struct mp_buf *b, struct mp_errmsg *e)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    const char *step;
    int fd, dfd, err = 0;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
        return mp_errf(e, MP_ERR_INVALID, "%s: path too long", path);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        return mp_errf(e, MP_ERR_IO, "%s: cannot create a temp file beside it: %s", path,
            strerror(errno));
    step = temp_fill(fd, st, b, &err);
    if (close(fd) != 0 && step == NULL) {
        step = "close the temp file";
        err = errno;
    }
    if (step == NULL && rename(tmp, path) != 0) {
        step = "rename the temp file over it";
        err = errno;
    }
    if (step != NULL) {
        unlink(tmp);
        return mp_errf(e, MP_ERR_IO, "%s unchanged: cannot %s: %s", path, step, strerror(err));
    }
    dir_of(path, dir, sizeof(dir));
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0) {
        err = errno;
        if (dfd >= 0)
            close(dfd);
        return mp_errf(e, MP_ERR_IO,
            "%s was replaced, but its directory %s could not be synced: %s", path, dir,
            strerror(err));
    }
    close(dfd);
    return MP_OK;
}

enum mp_err
client_profile_append(const struct client_opts *o, const char *env, const struct client_profile *p,
    const char *id, struct mp_errmsg *e)
{
    struct mp_buf *text = NULL;
    struct client_profile now;
    struct stat st;
    enum mp_err rc;

    if ((rc = profile_scan(o, &now, &text, &st, e)) != MP_OK)
        goto out;
    if ((rc = profile_text(o, env, p, id, text)) != MP_OK) {
        mp_errf(e, rc, "%s: the profile would make it too large", o->append);
        goto out;
    }
    rc = replace_file(o->append, &st, text, e);
out:
    mp_buf_free(text);
    return rc;
}
