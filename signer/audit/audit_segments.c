/* One audit log's segments, found and ordered by name, read by mmap or inflated from .gz
 * (audit_segments.h). */
#include "signer/audit/audit_segments.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "common/num.h"
#include "signer/audit/audit_format.h"

#define NAME_CAP 256 /* NAME_MAX and its NUL */
#define GZ_CHUNK (1U << 30) /* zlib counts in unsigned int: feed it at most this at a time */

enum seg_state { SEG_IDLE, SEG_MAPPED, SEG_INFLATED, SEG_EMPTY };

struct seg {
    char *path;
    char name[NAME_CAP]; /* without the directory */
    char stem[NAME_CAP]; /* and without .gz */
    unsigned long long seq; /* from the name, when rotated */
    int rotated, gz;
    /* The file read the first time: a later read must find the same one. */
    int seen;
    dev_t dev;
    ino_t ino;
    enum seg_state state;
    char *bytes;
    size_t len;
};

struct audit_segments {
    struct seg *v;
    size_t n, cap;
    char base[NAME_CAP];
    int from_dir, have_live;
};

/* The parts of a segment's file name: BASE.<20 digits>[.gz] is rotated, anything else is a
 * live segment named BASE (a .gz of one is read inflated). */
static int
name_parse(const char *name, struct seg *g, char base[NAME_CAP])
{
    size_t n = strlen(name), i;
    uint64_t seq;
    char digits[AUDIT_SEGMENT_DIGITS + 1];

    if (n == 0 || n >= NAME_CAP)
        return 0;
    memcpy(g->name, name, n + 1);
    g->gz = n > 3 && strcmp(name + n - 3, ".gz") == 0;
    n -= g->gz ? 3 : 0;
    memcpy(g->stem, name, n);
    g->stem[n] = '\0';
    g->rotated = 0;
    memcpy(base, g->stem, n + 1);
    if (n < AUDIT_SEGMENT_DIGITS + 2 || g->stem[n - AUDIT_SEGMENT_DIGITS - 1] != '.')
        return 1;
    for (i = 0; i < AUDIT_SEGMENT_DIGITS; i++)
        if ((digits[i] = g->stem[n - AUDIT_SEGMENT_DIGITS + i]) < '0' || digits[i] > '9')
            return 1;
    digits[AUDIT_SEGMENT_DIGITS] = '\0';
    /* 20 digits reach past 2^64: such a name is no seq the writer can have made. */
    if (mp_parse_u64(digits, 0, ~0ULL, &seq) != MP_OK)
        return 1;
    g->rotated = 1;
    g->seq = seq;
    base[n - AUDIT_SEGMENT_DIGITS - 1] = '\0';
    return 1;
}

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash != NULL ? slash + 1 : path;
}

static enum mp_err
seg_push(struct audit_segments *s, const char *dir, const char *path, struct mp_errmsg *e)
{
    char base[NAME_CAP];
    struct seg *g, *nv;
    size_t plen, ncap;

    if (s->n == AUDIT_SEGMENTS_MAX)
        return mp_errf(e, MP_ERR_TOOBIG, "more than %d segments", AUDIT_SEGMENTS_MAX);
    if (s->n == s->cap) {
        ncap = s->cap ? 2 * s->cap : 16;
        if ((nv = realloc(s->v, ncap * sizeof(*nv))) == NULL)
            return mp_errf(e, MP_ERR_NOMEM, "out of memory");
        s->v = nv;
        s->cap = ncap;
    }
    g = &s->v[s->n];
    memset(g, 0, sizeof(*g));
    if (!name_parse(base_name(path), g, base))
        return mp_errf(e, MP_ERR_INVALID, "%s: not a file name", path);
    plen = (dir != NULL ? strlen(dir) + 1 : 0) + strlen(path) + 1;
    if (plen > PATH_MAX || (g->path = malloc(plen)) == NULL)
        return mp_errf(e, plen > PATH_MAX ? MP_ERR_TOOBIG : MP_ERR_NOMEM, "%s: %s", path,
            plen > PATH_MAX ? "path too long" : "out of memory");
    snprintf(g->path, plen, "%s%s%s", dir != NULL ? dir : "", dir != NULL ? "/" : "", path);
    if (s->n > 0 && strcmp(base, s->base) != 0) {
        mp_errf(e, MP_ERR_INVALID, "%s and %s are segments of two logs (%s and %s)", s->v[0].path,
            g->path, s->base, base);
        free(g->path);
        return MP_ERR_INVALID;
    }
    memcpy(s->base, base, sizeof(base));
    s->have_live |= !g->rotated;
    s->n++;
    return MP_OK;
}

static int
seg_cmp(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;

    if (x->rotated != y->rotated)
        return x->rotated ? -1 : 1;
    if (x->rotated && x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* In seq order, the live one last; one name per seq, one live segment. */
static enum mp_err
seg_sort(struct audit_segments *s, struct mp_errmsg *e)
{
    size_t i;

    qsort(s->v, s->n, sizeof(s->v[0]), seg_cmp);
    for (i = 1; i < s->n; i++) {
        if (s->v[i].rotated && s->v[i].seq == s->v[i - 1].seq)
            return mp_errf(e, MP_ERR_INVALID, "the segment of seq %llu is there twice: %s and %s",
                s->v[i].seq, s->v[i - 1].path, s->v[i].path);
        if (!s->v[i].rotated && !s->v[i - 1].rotated)
            return mp_errf(e, MP_ERR_INVALID,
                "two live segments (no seq in their names): %s and %s", s->v[i - 1].path,
                s->v[i].path);
    }
    return MP_OK;
}

static enum mp_err
regular(const char *path, struct mp_errmsg *e)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return mp_errf(e, MP_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return mp_errf(e, MP_ERR_IO, "%s is not a regular file", path);
    return MP_OK;
}

/* A regular file that starts like an audit record. */
static int
looks_like_log(const char *dir, const char *name)
{
    char path[PATH_MAX], head[7];
    struct stat st;
    int fd, ok = 0;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
        return 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, head, sizeof(head)) == 7)
        ok = memcmp(head, "{\"seq\":", 7) == 0;
    close(fd);
    return ok;
}

static int
ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);

    return n > t && strcmp(s + n - t, tail) == 0;
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory's entries, sorted (so which two logs an error names does not depend on
 * readdir's order); dot files, BASE.torn and BASE.next left out. */
static enum mp_err
dir_names(const char *dir, char ***out, size_t *count, struct mp_errmsg *e)
{
    DIR *dh = opendir(dir);
    struct dirent *d;
    char **v = NULL, **nv;
    size_t n = 0, cap = 0;
    enum mp_err r = MP_ERR_NOMEM;

    if (dh == NULL)
        return mp_errf(e, MP_ERR_IO, "%s: %s", dir, strerror(errno));
    while ((d = readdir(dh)) != NULL) {
        if (d->d_name[0] == '.' || ends_with(d->d_name, ".torn") || ends_with(d->d_name, ".next"))
            continue;
        if (n == 2 * AUDIT_SEGMENTS_MAX) {
            r = mp_errf(e, MP_ERR_TOOBIG, "%s holds more than %d files", dir,
                2 * AUDIT_SEGMENTS_MAX);
            goto out;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
                r = mp_errf(e, MP_ERR_NOMEM, "out of memory");
                goto out;
            }
            v = nv;
        }
        if ((v[n] = strdup(d->d_name)) == NULL) {
            r = mp_errf(e, MP_ERR_NOMEM, "out of memory");
            goto out;
        }
        n++;
    }
    if (n > 0)
        qsort(v, n, sizeof(*v), str_cmp);
    *out = v;
    *count = n;
    v = NULL;
    n = 0;
    r = MP_OK;
out:
    while (n > 0)
        free(v[--n]);
    free(v);
    closedir(dh);
    return r;
}

/* The log's BASE: the rotated segments' (all one), else the one file that looks like a log. */
static enum mp_err
dir_base(const char *dir, char **names, size_t n, char base[NAME_CAP], struct mp_errmsg *e)
{
    struct seg g;
    char b[NAME_CAP];
    size_t i;

    base[0] = '\0';
    for (i = 0; i < n; i++) {
        if (!name_parse(names[i], &g, b) || !g.rotated)
            continue;
        if (base[0] != '\0' && strcmp(b, base) != 0)
            return mp_errf(e, MP_ERR_INVALID,
                "%s holds segments of two logs, %s and %s: give "
                "the segments of one as files",
                dir, base, b);
        memcpy(base, b, sizeof(b));
    }
    for (i = 0; i < n; i++) {
        if (!name_parse(names[i], &g, b) || g.rotated || g.gz || strcmp(b, base) == 0 ||
            !looks_like_log(dir, names[i]))
            continue;
        if (base[0] != '\0')
            return mp_errf(e, MP_ERR_INVALID,
                "%s holds two logs, %s and %s: give the segments of one as files", dir, base,
                names[i]);
        memcpy(base, b, sizeof(b));
    }
    if (base[0] == '\0')
        return mp_errf(e, MP_ERR_NOTFOUND, "%s holds no audit log segment", dir);
    return MP_OK;
}

static enum mp_err
dir_open(struct audit_segments *s, const char *dir, struct mp_errmsg *e)
{
    char **names = NULL, base[NAME_CAP], b[NAME_CAP];
    struct seg g;
    size_t n = 0, i;
    enum mp_err r;

    s->from_dir = 1;
    if ((r = dir_names(dir, &names, &n, e)) != MP_OK)
        return r;
    if ((r = dir_base(dir, names, n, base, e)) != MP_OK)
        goto out;
    for (i = 0; i < n; i++) {
        if (!name_parse(names[i], &g, b) || strcmp(b, base) != 0 || (!g.rotated && g.gz))
            continue;
        if ((r = seg_push(s, dir, names[i], e)) != MP_OK ||
            (r = regular(s->v[s->n - 1].path, e)) != MP_OK)
            goto out;
    }
out:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r;
}

enum mp_err
audit_segments_open(const char *const *paths, size_t npaths, struct audit_segments **out,
    struct mp_errmsg *e)
{
    struct audit_segments *s = calloc(1, sizeof(*s));
    struct stat st;
    size_t i;
    enum mp_err r = MP_ERR_NOMEM;

    if (s == NULL) {
        mp_errf(e, r, "out of memory");
        goto out;
    }
    r = MP_ERR_INVALID;
    if (npaths == 0) {
        mp_errf(e, r, "no audit log given");
        goto out;
    }
    if (npaths == 1 && stat(paths[0], &st) == 0 && S_ISDIR(st.st_mode))
        r = dir_open(s, paths[0], e);
    else
        for (i = 0, r = MP_OK; r == MP_OK && i < npaths; i++) {
            if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
                r = mp_errf(e, MP_ERR_INVALID,
                    "%s is a directory: give one directory or a list of files", paths[i]);
            else if ((r = regular(paths[i], e)) == MP_OK)
                r = seg_push(s, NULL, paths[i], e);
        }
    if (r != MP_OK || (r = seg_sort(s, e)) != MP_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    audit_segments_free(s);
    return r;
}

size_t
audit_segments_count(const struct audit_segments *s)
{
    return s->n;
}

const char *
audit_segments_path(const struct audit_segments *s, size_t i)
{
    return s->v[i].path;
}

const char *
audit_segments_name(const struct audit_segments *s, size_t i)
{
    return s->v[i].name;
}

const char *
audit_segments_stem(const struct audit_segments *s, size_t i)
{
    return s->v[i].stem;
}

int
audit_segments_name_seq(const struct audit_segments *s, size_t i, unsigned long long *seq)
{
    if (!s->v[i].rotated)
        return 0;
    *seq = s->v[i].seq;
    return 1;
}

int
audit_segments_from_dir(const struct audit_segments *s)
{
    return s->from_dir;
}

int
audit_segments_live(const struct audit_segments *s, const char **base)
{
    *base = s->base;
    return s->have_live;
}

/* Inflates the gzip members in in[0, n) into a new buffer of at most AUDIT_SEGMENT_GZ_MAX
 * bytes; one byte more than that is room to learn that the segment is larger. */
static enum mp_err
gz_inflate(const struct seg *g, const unsigned char *in, size_t n, char **out, size_t *outlen,
    struct mp_errmsg *e)
{
    const size_t max = (size_t)AUDIT_SEGMENT_GZ_MAX + 1;
    z_stream zs;
    char *buf = NULL, *nb;
    size_t cap, used = 0, done = 0, ain, aout;
    int zr;
    enum mp_err r = MP_ERR_PARSE;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return mp_errf(e, MP_ERR_NOMEM, "%s: cannot start zlib", g->path);
    cap = n < max / 4 ? (n * 4 > 65536 ? n * 4 : 65536) : max;
    if ((buf = malloc(cap)) == NULL) {
        r = mp_errf(e, MP_ERR_NOMEM, "%s: out of memory", g->path);
        goto out;
    }
    for (;;) {
        if (used == cap) {
            if (cap == max) {
                r = mp_errf(e, MP_ERR_TOOBIG, "%s inflates to more than %llu bytes", g->path,
                    AUDIT_SEGMENT_GZ_MAX);
                goto out;
            }
            cap = cap < max / 2 ? 2 * cap : max;
            if ((nb = realloc(buf, cap)) == NULL) {
                r = mp_errf(e, MP_ERR_NOMEM, "%s: out of memory", g->path);
                goto out;
            }
            buf = nb;
        }
        ain = n - done < GZ_CHUNK ? n - done : GZ_CHUNK;
        aout = cap - used < GZ_CHUNK ? cap - used : GZ_CHUNK;
        zs.next_in = (unsigned char *)(uintptr_t)(in + done); /* zlib does not write it */
        zs.avail_in = (unsigned int)ain;
        zs.next_out = (unsigned char *)buf + used;
        zs.avail_out = (unsigned int)aout;
        zr = inflate(&zs, Z_NO_FLUSH);
        done += ain - zs.avail_in;
        used += aout - zs.avail_out;
        if (zr == Z_STREAM_END && done == n)
            break;
        if (zr == Z_STREAM_END) /* gzip allows members one after another */
            zr = inflateReset(&zs);
        else if (zr == Z_BUF_ERROR && done == n) {
            mp_errf(e, r, "%s is truncated (the gzip stream does not end)", g->path);
            goto out;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            mp_errf(e, r, "%s is not a valid gzip file (%s)", g->path,
                zs.msg != NULL ? zs.msg : "zlib error");
            goto out;
        }
    }
    if (used > AUDIT_SEGMENT_GZ_MAX) {
        r = mp_errf(e, MP_ERR_TOOBIG, "%s inflates to more than %llu bytes", g->path,
            AUDIT_SEGMENT_GZ_MAX);
        goto out;
    }
    *out = buf;
    *outlen = used;
    buf = NULL;
    r = MP_OK;
out:
    inflateEnd(&zs);
    free(buf);
    return r;
}

/* Maps the file open on fd (st its fstat) or, for .gz, inflates it; g->bytes and g->len. */
static enum mp_err
seg_load(struct seg *g, int fd, const struct stat *st, struct mp_errmsg *e)
{
    void *map;
    size_t size = (size_t)st->st_size;
    enum mp_err r;

    if (size == 0 && !g->gz) {
        g->bytes = (char *)(uintptr_t) "";
        g->len = 0;
        g->state = SEG_EMPTY;
        return MP_OK;
    }
    if (size == 0)
        return mp_errf(e, MP_ERR_PARSE, "%s is empty, not a gzip file", g->path);
    if ((map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
        return mp_errf(e, MP_ERR_IO, "%s: %s", g->path, strerror(errno));
    madvise(map, size, MADV_SEQUENTIAL);
    if (!g->gz) {
        g->bytes = map;
        g->len = size;
        g->state = SEG_MAPPED;
        return MP_OK;
    }
    r = gz_inflate(g, map, size, &g->bytes, &g->len, e);
    munmap(map, size);
    if (r == MP_OK)
        g->state = SEG_INFLATED;
    return r;
}

enum mp_err
audit_segments_read(struct audit_segments *s, size_t i, const char **buf, size_t *len,
    struct mp_errmsg *e)
{
    struct seg *g = &s->v[i];
    struct stat st;
    int fd = -1;
    enum mp_err r = MP_ERR_IO;

    if (g->state != SEG_IDLE) { /* read already, and not yet released */
        *buf = g->bytes;
        *len = g->len;
        return MP_OK;
    }
    if ((fd = open(g->path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
        mp_errf(e, r, "%s: %s", g->path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        mp_errf(e, r, "%s is not a regular file", g->path);
        goto out;
    }
    if (g->seen && (st.st_dev != g->dev || st.st_ino != g->ino)) {
        mp_errf(e, r, "%s was replaced while it was read", g->path);
        goto out;
    }
    if ((r = seg_load(g, fd, &st, e)) != MP_OK)
        goto out;
    g->seen = 1;
    g->dev = st.st_dev;
    g->ino = st.st_ino;
    *buf = g->bytes;
    *len = g->len;
    r = MP_OK;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

void
audit_segments_release(struct audit_segments *s, size_t i)
{
    struct seg *g = &s->v[i];

    if (g->state == SEG_MAPPED)
        munmap(g->bytes, g->len);
    else if (g->state == SEG_INFLATED)
        free(g->bytes);
    g->state = SEG_IDLE;
    g->bytes = NULL;
    g->len = 0;
}

void
audit_segments_free(struct audit_segments *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->n; i++) {
        audit_segments_release(s, i);
        free(s->v[i].path);
    }
    free(s->v);
    free(s);
}
