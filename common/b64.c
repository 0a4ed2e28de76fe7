/* Base64 and base64url encoding and strict decoding (b64.h). */
#include "common/b64.h"

#include <stdint.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static enum mp_err
b64_encode(struct mp_buf *out, const unsigned char *in, size_t len, const char *alpha, int pad)
{
    char q[4];
    size_t i, n;
    uint32_t v;
    enum mp_err r;

    for (i = 0; i < len; i += 3) {
        n = len - i < 3 ? len - i : 3;
        v = (uint32_t)in[i] << 16;
        if (n > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (n > 2)
            v |= in[i + 2];
        q[0] = alpha[(v >> 18) & 63];
        q[1] = alpha[(v >> 12) & 63];
        q[2] = n > 1 ? alpha[(v >> 6) & 63] : '=';
        q[3] = n > 2 ? alpha[v & 63] : '=';
        if ((r = mp_buf_put(out, q, pad ? 4 : n + 1)) != MP_OK)
            return r;
    }
    return MP_OK;
}

enum mp_err
mp_b64url_encode(struct mp_buf *out, const void *in, size_t len)
{
    return b64_encode(out, in, len, b64_url, 0);
}

enum mp_err
mp_b64_encode(struct mp_buf *out, const void *in, size_t len)
{
    return b64_encode(out, in, len, b64_std, 1);
}

static int
url_val(char c, int std)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (std ? '+' : '-'))
        return 62;
    if (c == (std ? '/' : '_'))
        return 63;
    return -1;
}

static enum mp_err
url_decode(struct mp_buf *out, const char *in, size_t len, int std)
{
    unsigned char o[3];
    uint32_t v = 0;
    size_t i, bits = 0, n = 0;
    int d;
    enum mp_err r;

    if (len % 4 == 1)
        return MP_ERR_PARSE;
    for (i = 0; i < len; i++) {
        if ((d = url_val(in[i], std)) < 0)
            return MP_ERR_PARSE;
        v = (v << 6) | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[n++] = (unsigned char)(v >> bits);
            v &= (1u << bits) - 1;
            if (n == 3) {
                if ((r = mp_buf_put(out, o, n)) != MP_OK)
                    return r;
                n = 0;
            }
        }
    }
    if (v != 0) /* leftover bits must be zero for a canonical encoding */
        return MP_ERR_PARSE;
    return n > 0 ? mp_buf_put(out, o, n) : MP_OK;
}

/* On failure the bytes already decoded are taken back out: out is as the caller gave it. */
enum mp_err
mp_b64url_decode(struct mp_buf *out, const char *in, size_t len)
{
    size_t start = mp_buf_len(out);
    enum mp_err r = url_decode(out, in, len, 0);

    if (r != MP_OK)
        mp_buf_truncate(out, start);
    return r;
}

/* Padded: a length of 4k, at most two '=' and only at the end. */
enum mp_err
mp_b64_decode(struct mp_buf *out, const char *in, size_t len)
{
    size_t start = mp_buf_len(out), pad = 0;
    enum mp_err r;

    if (len % 4 != 0)
        return MP_ERR_PARSE;
    while (pad < 2 && len > pad && in[len - 1 - pad] == '=')
        pad++;
    if ((r = url_decode(out, in, len - pad, 1)) != MP_OK)
        mp_buf_truncate(out, start);
    return r;
}
