/* The signer wire protocol (version 1): callers talk to `mp-signer serve` over a Unix socket.
 *
 *   frame  = length:u32be  version:u8 (=1)  type:u8  field*
 *   field  = tag:u8  len:u16be  value[len]      (a string: no NUL byte)
 *
 * length counts the bytes after itself (version, type, fields) and is checked against
 * FRAME_MAX before anything is read or allocated. Each type accepts a fixed set of tags; an
 * unknown tag, a repeated tag (other than RESOURCE), a value longer than its field, a NUL inside
 * a value, a field running past the frame, or bytes left over reject the whole frame. One
 * request per frame, one answer per request; a connection may carry many in sequence.
 *
 *   SIGN  → JWS | ERROR    fields PROFILE SCOPE RESOURCE* CONSUMER_ORG SU_ORG SU_REF LIFETIME
 *                          OBO_UID OBO_GID OBO_PID OBO_EXE
 *   PING  → PONG           PONG carries MESSAGE "hsm=up" or "hsm=down: why" (readiness)
 *   JWS   field JWS;  ERROR fields CODE (decimal) MESSAGE
 *
 * The OBO ("on behalf of") fields name the end caller a forwarder (mp-exchange) asks for:
 * decimal uid and gid, decimal pid (optional) and the executable's path (optional), as the
 * forwarder learned them from the kernel. The signer believes them only from a peer listed in
 * its trusted_forwarders and then applies the profile's policy to that end caller instead of
 * the peer; from anyone else it refuses the request.
 */
#ifndef MP_FRAME_H
#define MP_FRAME_H

#include <stddef.h>

#include "common/buf.h"

#define FRAME_VERSION 1
#define FRAME_MAX (24 * 1024)
#define FRAME_MAX_RESOURCES 8

/* Wire numbers: never reused. */
enum frame_type {
    FRAME_SIGN = 1,
    FRAME_JWS = 2,
    FRAME_ERROR = 3,
    FRAME_PING = 4,
    FRAME_PONG = 5,
};

enum frame_tag {
    TAG_PROFILE = 1,
    TAG_SCOPE = 2,
    TAG_RESOURCE = 3,
    TAG_CONSUMER_ORG = 4,
    TAG_SU_ORG = 5,
    TAG_SU_REF = 6,
    TAG_LIFETIME = 7,
    TAG_OBO_UID = 8,
    TAG_OBO_GID = 9,
    TAG_OBO_PID = 10,
    TAG_OBO_EXE = 11,
    /* The grant's pid claim (a person's national identity number), and an Altinn consent:
     * its request id and the URN of who gave it. */
    TAG_PERSON = 12,
    TAG_CONSENT_ID = 13,
    TAG_CONSENT_FROM = 14,
    TAG_JWS = 16,
    TAG_CODE = 17,
    TAG_MESSAGE = 18,
};

/* Error codes carried in ERROR frames. */
enum frame_code {
    FCODE_BAD_REQUEST = 1,
    FCODE_REFUSED = 2, /* outside the caller's profile */
    FCODE_HSM_UNAVAILABLE = 3, /* token gone, session lost, busy */
    FCODE_AUDIT_UNAVAILABLE = 4,
    FCODE_INTERNAL = 5,
    FCODE_PIN = 6, /* PIN problem: an operator must act */
    FCODE_SHUTTING_DOWN = 7,
    /* The caller may use the profile, but asked for a scope, resource, organisation or
     * lifetime outside it: an OAuth2 client maps this to invalid_scope, FCODE_REFUSED and
     * FCODE_NO_PROFILE to invalid_client. */
    FCODE_OUT_OF_PROFILE = 8,
    FCODE_NO_PROFILE = 9,
};

/* A decoded message: plain bounded data, "" for an absent field. */
struct frame_msg {
    enum frame_type type;
    char profile[64];
    char scope[1024];
    char resources[FRAME_MAX_RESOURCES][512];
    size_t nresources;
    char consumer_org[16];
    char su_org[16];
    char su_ref[129];
    char lifetime[8];
    char obo_uid[12]; /* "" when the request is not forwarded */
    char obo_gid[12];
    char obo_pid[12];
    char obo_exe[256];
    char person[12];
    char consent_id[37];
    char consent_from[64];
    char jws[16 * 1024 + 1];
    char code[8];
    char message[512];
};

/* Appends length prefix and body. MP_ERR_TOOBIG if it would exceed FRAME_MAX. */
enum mp_err frame_encode(const struct frame_msg *m, struct mp_buf *out);
/* Decodes a frame body (the bytes after the length prefix). */
enum mp_err frame_decode(const unsigned char *body, size_t len, struct frame_msg *m,
    struct mp_errmsg *e);
/* Reads one frame from a stream socket: MP_ERR_NOTFOUND on a clean EOF before the first byte,
 * MP_ERR_IO on errors or timeouts, MP_ERR_TOOBIG/MP_ERR_PARSE on bad frames. */
enum mp_err frame_read(int fd, struct frame_msg *m, struct mp_errmsg *e);
/* frame_read with limits, for a server whose peers may be hostile: at most idle_ms for the
 * first byte (then MP_ERR_NOTFOUND, "idle"), and frame_ms from the first byte to the last,
 * however the bytes trickle in (then MP_ERR_TIMEOUT). -1 leaves either unlimited. */
enum mp_err frame_read_timed(int fd, struct frame_msg *m, int idle_ms, int frame_ms,
    struct mp_errmsg *e);
enum mp_err frame_write(int fd, const struct frame_msg *m, struct mp_errmsg *e);
/* Resets every field to absent and sets the type. */
void frame_init(struct frame_msg *m, enum frame_type type);

#endif
