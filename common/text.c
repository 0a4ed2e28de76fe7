/* UTF-8 checking and escaping of caller-supplied text (text.h). */
#include "common/text.h"

#include <stdio.h>
#include <string.h>

/* The length of the well-formed UTF-8 character at s (1..4), or 0 if the bytes there are
 * not one (RFC 3629 table 3-7: the second byte's range depends on the first). */
static size_t
utf8_char(const unsigned char *s, size_t n)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        lo = s[0] == 0xe0 ? 0xa0 : 0x80; /* overlong */
        hi = s[0] == 0xed ? 0x9f : 0xbf; /* surrogates */
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        lo = s[0] == 0xf0 ? 0x90 : 0x80; /* overlong */
        hi = s[0] == 0xf4 ? 0x8f : 0xbf; /* above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static int
is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

int
mp_text_clean(const char *s, size_t n, size_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, len;

    while (i < n) {
        if ((len = utf8_char(u + i, n - i)) == 0 || (len == 1 && is_control(u[i]))) {
            if (bad != NULL)
                *bad = i;
            return 0;
        }
        i += len;
    }
    return 1;
}

size_t
mp_text_escape(char *out, size_t outlen, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, o = 0, len;

    while (i < n) {
        len = utf8_char(u + i, n - i);
        if (len == 0 || (len == 1 && (is_control(u[i]) || u[i] == '\\'))) {
            if (o + 4 >= outlen)
                break;
            snprintf(out + o, 5, "\\x%02x", u[i]);
            o += 4;
            i++;
            continue;
        }
        if (o + len >= outlen)
            break;
        memcpy(out + o, u + i, len);
        o += len;
        i += len;
    }
    out[o] = '\0';
    return o;
}
