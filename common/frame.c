/* Encoding and decoding of the signer wire protocol's frames (frame.h). */
#include "common/frame.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Where each tag's value lives in struct frame_msg, and which types accept it. */
struct tag_slot {
    enum frame_tag tag;
    size_t off;
    size_t size;
    unsigned int types; /* bit (1 << type) */
};

#define T(x) (1u << (x))
static const struct tag_slot slots[] = {
    {TAG_PROFILE, offsetof(struct frame_msg, profile), 64, T(FRAME_SIGN)},
    {TAG_SCOPE, offsetof(struct frame_msg, scope), 1024, T(FRAME_SIGN)},
    {TAG_RESOURCE, offsetof(struct frame_msg, resources), 512, T(FRAME_SIGN)},
    {TAG_CONSUMER_ORG, offsetof(struct frame_msg, consumer_org), 16, T(FRAME_SIGN)},
    {TAG_SU_ORG, offsetof(struct frame_msg, su_org), 16, T(FRAME_SIGN)},
    {TAG_SU_REF, offsetof(struct frame_msg, su_ref), 129, T(FRAME_SIGN)},
    {TAG_LIFETIME, offsetof(struct frame_msg, lifetime), 8, T(FRAME_SIGN)},
    {TAG_OBO_UID, offsetof(struct frame_msg, obo_uid), 12, T(FRAME_SIGN)},
    {TAG_OBO_GID, offsetof(struct frame_msg, obo_gid), 12, T(FRAME_SIGN)},
    {TAG_OBO_PID, offsetof(struct frame_msg, obo_pid), 12, T(FRAME_SIGN)},
    {TAG_OBO_EXE, offsetof(struct frame_msg, obo_exe), 256, T(FRAME_SIGN)},
    {TAG_PERSON, offsetof(struct frame_msg, person), 12, T(FRAME_SIGN)},
    {TAG_CONSENT_ID, offsetof(struct frame_msg, consent_id), 37, T(FRAME_SIGN)},
    {TAG_CONSENT_FROM, offsetof(struct frame_msg, consent_from), 64, T(FRAME_SIGN)},
    {TAG_JWS, offsetof(struct frame_msg, jws), 16 * 1024 + 1, T(FRAME_JWS)},
    {TAG_CODE, offsetof(struct frame_msg, code), 8, T(FRAME_ERROR)},
    {TAG_MESSAGE, offsetof(struct frame_msg, message), 512, T(FRAME_ERROR) | T(FRAME_PONG)},
};
#undef T

#define NSLOTS (sizeof(slots) / sizeof(slots[0]))

void
frame_init(struct frame_msg *m, enum frame_type type)
{
    memset(m, 0, sizeof(*m));
    m->type = type;
}

static const struct tag_slot *
slot_of(unsigned int tag)
{
    size_t i;

    for (i = 0; i < NSLOTS; i++)
        if ((unsigned int)slots[i].tag == tag)
            return &slots[i];
    return NULL;
}

static int
valid_type(unsigned int t)
{
    return t >= FRAME_SIGN && t <= FRAME_PONG;
}

static enum mp_err
put_field(struct mp_buf *b, enum frame_tag tag, const char *v)
{
    size_t n = strlen(v);
    unsigned char h[3] = {(unsigned char)tag, (unsigned char)(n >> 8), (unsigned char)n};
    enum mp_err r;

    if (n == 0)
        return MP_OK;
    if ((r = mp_buf_put(b, h, 3)) != MP_OK)
        return r;
    return mp_buf_put(b, v, n);
}

enum mp_err
frame_encode(const struct frame_msg *m, struct mp_buf *out)
{
    struct mp_buf *b = mp_buf_new(FRAME_MAX);
    unsigned char h[6];
    size_t i, j, n;
    enum mp_err r = MP_ERR_NOMEM;

    if (b == NULL)
        return r;
    for (i = 0; i < NSLOTS; i++) {
        if (!(slots[i].types & (1u << m->type)))
            continue;
        for (j = 0; j < (slots[i].tag == TAG_RESOURCE ? m->nresources : 1); j++) {
            if ((r = put_field(b, slots[i].tag,
                     (const char *)m + slots[i].off + j * slots[i].size)) != MP_OK)
                goto out;
        }
    }
    n = mp_buf_len(b) + 2;
    if (n > FRAME_MAX) {
        r = MP_ERR_TOOBIG;
        goto out;
    }
    h[0] = (unsigned char)(n >> 24);
    h[1] = (unsigned char)(n >> 16);
    h[2] = (unsigned char)(n >> 8);
    h[3] = (unsigned char)n;
    h[4] = FRAME_VERSION;
    h[5] = (unsigned char)m->type;
    if ((r = mp_buf_put(out, h, 6)) == MP_OK)
        r = mp_buf_put(out, mp_buf_ptr(b), mp_buf_len(b));
out:
    mp_buf_free(b);
    return r;
}

static enum mp_err
take_field(struct frame_msg *m, const struct tag_slot *s, const unsigned char *v, size_t n,
    unsigned int *seen, struct mp_errmsg *e)
{
    char *dst = (char *)m + s->off;

    if (s->tag == TAG_RESOURCE) {
        if (m->nresources >= FRAME_MAX_RESOURCES)
            return mp_errf(e, MP_ERR_PARSE, "more than %d resources", FRAME_MAX_RESOURCES);
        dst += m->nresources++ * s->size;
    } else if (*seen & (1u << s->tag))
        return mp_errf(e, MP_ERR_PARSE, "field %d repeated", (int)s->tag);
    *seen |= 1u << s->tag;
    if (n == 0 || n >= s->size)
        return mp_errf(e, MP_ERR_PARSE, "field %d has length %zu (1..%zu allowed)", (int)s->tag, n,
            s->size - 1);
    if (memchr(v, '\0', n) != NULL)
        return mp_errf(e, MP_ERR_PARSE, "field %d contains a NUL byte", (int)s->tag);
    memcpy(dst, v, n);
    dst[n] = '\0';
    return MP_OK;
}

enum mp_err
frame_decode(const unsigned char *body, size_t len, struct frame_msg *m, struct mp_errmsg *e)
{
    const struct tag_slot *s;
    unsigned int seen = 0;
    size_t pos = 2, n;
    enum mp_err r;

    if (len < 2 || len > FRAME_MAX)
        return mp_errf(e, MP_ERR_PARSE, "frame of %zu bytes", len);
    if (body[0] != FRAME_VERSION)
        return mp_errf(e, MP_ERR_PARSE, "protocol version %u (this signer speaks %d)", body[0],
            FRAME_VERSION);
    if (!valid_type(body[1]))
        return mp_errf(e, MP_ERR_PARSE, "unknown frame type %u", body[1]);
    frame_init(m, (enum frame_type)body[1]);
    while (pos < len) {
        if (len - pos < 3)
            return mp_errf(e, MP_ERR_PARSE, "truncated field header at byte %zu", pos);
        s = slot_of(body[pos]);
        n = (size_t)body[pos + 1] << 8 | body[pos + 2];
        if (s == NULL || !(s->types & (1u << m->type)))
            return mp_errf(e, MP_ERR_PARSE, "field %u not allowed in frame type %d", body[pos],
                (int)m->type);
        if (n > len - pos - 3)
            return mp_errf(e, MP_ERR_PARSE, "field %u runs past the frame", body[pos]);
        if ((r = take_field(m, s, body + pos + 3, n, &seen, e)) != MP_OK)
            return r;
        pos += 3 + n;
    }
    return MP_OK;
}

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable or deadline (a now_ms() time) passes. A peer that sends one byte
 * at a time still runs into the deadline: it is for the whole wait, not per read. */
static enum mp_err
wait_readable(int fd, int64_t deadline)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int64_t left;
    int n;

    for (;;) {
        /* A deadline already passed still looks once: what is queued is read. */
        if ((left = deadline - now_ms()) < 0)
            left = 0;
        n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (n > 0)
            return MP_OK;
        if (n == 0)
            return MP_ERR_TIMEOUT;
        if (errno != EINTR)
            return MP_ERR_IO;
    }
}

static enum mp_err
read_full(int fd, unsigned char *p, size_t n, int64_t deadline, size_t *got)
{
    enum mp_err r;
    ssize_t k;

    *got = 0;
    while (*got < n) {
        /* With a deadline, poll only when nothing is there yet: most frames arrive whole, and
         * a poll before every read cost the daemon a system call per read. */
        k = deadline < 0 ? read(fd, p + *got, n - *got)
                         : recv(fd, p + *got, n - *got, MSG_DONTWAIT);
        if (k < 0 && errno == EAGAIN && deadline >= 0) {
            if ((r = wait_readable(fd, deadline)) != MP_OK)
                return r;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return MP_ERR_IO;
        if (k == 0)
            return MP_ERR_NOTFOUND;
        *got += (size_t)k;
    }
    return MP_OK;
}

static enum mp_err
read_failed(enum mp_err r, int frame_ms, struct mp_errmsg *e)
{
    if (r == MP_ERR_TIMEOUT)
        return mp_errf(e, r, "frame not complete within %d ms", frame_ms);
    return mp_errf(e, MP_ERR_IO, "reading frame: %s",
        r == MP_ERR_IO ? strerror(errno) : "connection closed mid-frame");
}

enum mp_err
frame_read_timed(int fd, struct frame_msg *m, int idle_ms, int frame_ms, struct mp_errmsg *e)
{
    unsigned char hdr[4];
    unsigned char *body = NULL;
    int64_t deadline = -1;
    uint32_t len;
    size_t got;
    enum mp_err r;

    if (idle_ms >= 0 && (r = wait_readable(fd, now_ms() + idle_ms)) != MP_OK)
        return r == MP_ERR_TIMEOUT ? mp_errf(e, MP_ERR_NOTFOUND, "idle for %d ms", idle_ms)
                                   : mp_errf(e, r, "waiting for a frame: %s", strerror(errno));
    if (frame_ms >= 0)
        deadline = now_ms() + frame_ms;
    if ((r = read_full(fd, hdr, 4, deadline, &got)) != MP_OK) {
        if (r == MP_ERR_NOTFOUND && got == 0)
            return mp_errf(e, r, "connection closed");
        return read_failed(r, frame_ms, e);
    }
    len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    /* The cap is checked before anything is allocated. */
    if (len < 2 || len > FRAME_MAX)
        return mp_errf(e, MP_ERR_TOOBIG, "frame length %u outside 2..%d", len, FRAME_MAX);
    if ((body = malloc(len)) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if ((r = read_full(fd, body, len, deadline, &got)) != MP_OK) {
        r = read_failed(r, frame_ms, e);
        goto out;
    }
    r = frame_decode(body, len, m, e);
out:
    explicit_bzero(body, len);
    free(body);
    return r;
}

enum mp_err
frame_read(int fd, struct frame_msg *m, struct mp_errmsg *e)
{
    return frame_read_timed(fd, m, -1, -1, e);
}

enum mp_err
frame_write(int fd, const struct frame_msg *m, struct mp_errmsg *e)
{
    struct mp_buf *b = mp_buf_new(FRAME_MAX + 4);
    const unsigned char *p;
    size_t left;
    ssize_t k;
    enum mp_err r;

    if (b == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if ((r = frame_encode(m, b)) != MP_OK) {
        mp_errf(e, r, "cannot encode frame: %s", mp_strerror(r));
        goto out;
    }
    for (p = mp_buf_ptr(b), left = mp_buf_len(b); left > 0; p += k, left -= (size_t)k) {
        k = write(fd, p, left);
        if (k < 0 && errno == EINTR) {
            k = 0;
            continue;
        }
        if (k < 0) {
            r = mp_errf(e, MP_ERR_IO, "writing frame: %s", strerror(errno));
            goto out;
        }
    }
out:
    mp_buf_free(b);
    return r;
}
