/* C2SP checkpoint notes: text, key ID, strict parse and signature check (audit_note.h). */
#include "signer/audit/audit_note.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/num.h"

#define EM_DASH "\xe2\x80\x94"
#define SIG_MAX 1024 /* an RSA-8192 signature and the ID */

int
audit_origin_valid(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > AUDIT_ORIGIN_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || s[i] == '+')
            return 0;
    return 1;
}

void
audit_origin_default(const char *nonce_hex, char out[AUDIT_ORIGIN_MAX + 1])
{
    snprintf(out, AUDIT_ORIGIN_MAX + 1, "%s%.16s", AUDIT_ORIGIN_DEFAULT, nonce_hex);
}

enum mp_err
audit_note_key_id(const char *origin, EVP_PKEY *pub, unsigned char id[4])
{
    static const unsigned char sep[2] = {0x0a, 0xff};
    unsigned char *der = NULL, md[32];
    EVP_MD_CTX *c = NULL;
    int len;
    enum mp_err r = MP_ERR_CRYPTO;

    if ((len = i2d_PUBKEY(pub, &der)) <= 0 || (c = EVP_MD_CTX_new()) == NULL)
        goto out;
    if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(c, origin, strlen(origin)) != 1 ||
        EVP_DigestUpdate(c, sep, sizeof(sep)) != 1 ||
        EVP_DigestUpdate(c, AUDIT_NOTE_SIGTYPE, strlen(AUDIT_NOTE_SIGTYPE)) != 1 ||
        EVP_DigestUpdate(c, der, (size_t)len) != 1 || EVP_DigestFinal_ex(c, md, NULL) != 1)
        goto out;
    memcpy(id, md, 4);
    r = MP_OK;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(c);
    OPENSSL_free(der);
    return r;
}

enum mp_err
audit_note_body(const char *origin, uint64_t size, const unsigned char *root,
    char out[AUDIT_NOTE_BODY_MAX])
{
    struct mp_buf *b = mp_buf_new(128);
    enum mp_err r = MP_ERR_NOMEM;
    int n;

    if (b == NULL || mp_b64_encode(b, root, MERKLE_HASH_LEN) != MP_OK)
        goto out;
    r = MP_ERR_TOOBIG;
    n = snprintf(out, AUDIT_NOTE_BODY_MAX, "%s\n%llu\n%s\n", origin, (unsigned long long)size,
        mp_buf_str(b));
    if (n > 0 && n < AUDIT_NOTE_BODY_MAX)
        r = MP_OK;
out:
    mp_buf_free(b);
    return r;
}

enum mp_err
audit_note_assemble(const char *body, const char *origin, const unsigned char id[4],
    const unsigned char *sig, size_t siglen, struct mp_buf *out)
{
    unsigned char raw[4 + SIG_MAX];
    enum mp_err r;

    if (siglen > SIG_MAX)
        return MP_ERR_TOOBIG;
    memcpy(raw, id, 4);
    memcpy(raw + 4, sig, siglen);
    if ((r = mp_buf_putf(out, "%s\n" EM_DASH " %s ", body, origin)) != MP_OK ||
        (r = mp_b64_encode(out, raw, 4 + siglen)) != MP_OK)
        return r;
    return mp_buf_puts(out, "\n");
}

static enum mp_err note_bad(char *why, size_t whylen, enum mp_err r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum mp_err
note_bad(char *why, size_t whylen, enum mp_err r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return r;
}

/* The body's three lines: origin, size (decimal, no leading zero), base64 of 32 bytes. */
static enum mp_err
body_parse(const char *p, size_t len, struct audit_note *out, char *why, size_t whylen)
{
    const char *l1 = memchr(p, '\n', len), *l2, *l3;
    char num[24];
    uint64_t v;
    enum mp_err r = MP_ERR_PARSE;

    if (l1 == NULL || (l2 = memchr(l1 + 1, '\n', len - (size_t)(l1 + 1 - p))) == NULL ||
        (l3 = memchr(l2 + 1, '\n', len - (size_t)(l2 + 1 - p))) == NULL || l3 + 1 != p + len)
        return note_bad(why, whylen, r, "the note's text is not exactly three lines");
    if ((size_t)(l1 - p) > AUDIT_ORIGIN_MAX || l1 == p)
        return note_bad(why, whylen, r, "the note's origin line is empty or too long");
    memcpy(out->origin, p, (size_t)(l1 - p));
    out->origin[l1 - p] = '\0';
    if (!audit_origin_valid(out->origin))
        return note_bad(why, whylen, r, "the note's origin holds a space, '+' or non-ASCII");
    if ((size_t)(l2 - l1 - 1) >= sizeof(num) || l2 == l1 + 1 || (l1[1] == '0' && l2 != l1 + 2))
        return note_bad(why, whylen, r, "the note's tree size is not a decimal number");
    memcpy(num, l1 + 1, (size_t)(l2 - l1 - 1));
    num[l2 - l1 - 1] = '\0';
    if (mp_parse_u64(num, 0, ~0ULL, &v) != MP_OK)
        return note_bad(why, whylen, r, "the note's tree size is not a decimal number");
    out->size = v;
    if (!merkle_hash_b64(l2 + 1, (size_t)(l3 - l2 - 1), out->root))
        return note_bad(why, whylen, r, "the note's root is not the base64 of 32 bytes");
    return MP_OK;
}

static int
sig_ok(EVP_PKEY *pub, const char *body, size_t blen, const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, pub) == 1 &&
        EVP_DigestVerify(c, sig, siglen, (const unsigned char *)body, blen) == 1;

    ERR_clear_error();
    EVP_MD_CTX_free(c);
    return ok;
}

/* One signature line "— NAME BASE64" (without its newline). *mine: it is the key named origin
 * with key ID id; *good: and it verifies. */
static enum mp_err
sig_line(const char *p, size_t len, const struct audit_note *n, EVP_PKEY *pub,
    const unsigned char *id, const char *body, size_t blen, int *mine, int *good)
{
    const char *name = p + 4, *sp;
    struct mp_buf *raw;
    enum mp_err r = MP_ERR_PARSE;

    *mine = *good = 0;
    if (len < 6 || memcmp(p, EM_DASH " ", 4) != 0 || (sp = memchr(name, ' ', len - 4)) == NULL ||
        sp == name)
        return r;
    if ((raw = mp_buf_new(SIG_MAX + 8)) == NULL)
        return MP_ERR_NOMEM;
    if (mp_b64_decode(raw, sp + 1, (size_t)(p + len - sp - 1)) == MP_OK && mp_buf_len(raw) > 4) {
        r = MP_OK;
        *mine = pub != NULL && (size_t)(sp - name) == strlen(n->origin) &&
            memcmp(name, n->origin, (size_t)(sp - name)) == 0 &&
            memcmp(mp_buf_ptr(raw), id, 4) == 0;
        if (*mine)
            *good = sig_ok(pub, body, blen, mp_buf_ptr(raw) + 4, mp_buf_len(raw) - 4);
    }
    mp_buf_free(raw);
    return r;
}

/* Every line after the blank one is a signature line; ours must be there and verify. */
static enum mp_err
sigs_check(const char *text, size_t len, size_t blen, EVP_PKEY *pub, const struct audit_note *n,
    char *why, size_t whylen)
{
    const char *p = text + blen + 1, *end = text + len, *nl;
    unsigned char id[4] = {0};
    int mine, good, found = 0;
    enum mp_err r;

    if (pub != NULL && audit_note_key_id(n->origin, pub, id) != MP_OK)
        return note_bad(why, whylen, MP_ERR_INVALID, "cannot encode the audit public key");
    if (p >= end)
        return note_bad(why, whylen, MP_ERR_PARSE, "the note has no signature line");
    for (; p < end; p = nl + 1) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            return note_bad(why, whylen, MP_ERR_PARSE, "the note does not end in a newline");
        if ((r = sig_line(p, (size_t)(nl - p), n, pub, id, text, blen, &mine, &good)) != MP_OK)
            return note_bad(why, whylen, r, "the note has a malformed signature line");
        if (mine && !good)
            return note_bad(why, whylen, MP_ERR_CRYPTO,
                "the note's signature by %s does not verify with the audit key", n->origin);
        found |= mine;
    }
    if (pub != NULL && !found)
        return note_bad(why, whylen, MP_ERR_CRYPTO,
            "the note has no signature by the audit key under the name %s", n->origin);
    return MP_OK;
}

enum mp_err
audit_note_open(const char *text, size_t len, EVP_PKEY *pub, struct audit_note *out, char *why,
    size_t whylen)
{
    size_t i, blen = 0;
    enum mp_err r;

    memset(out, 0, sizeof(*out));
    if (len > AUDIT_NOTE_MAX)
        return note_bad(why, whylen, MP_ERR_PARSE, "the note is longer than %d bytes",
            AUDIT_NOTE_MAX);
    for (i = 0; i < len; i++)
        if (((unsigned char)text[i] < 0x20 && text[i] != '\n') || text[i] == 0x7f)
            return note_bad(why, whylen, MP_ERR_PARSE, "the note holds a control character");
    /* The text ends at the last blank line (signed-note): text "\n\n" signatures. */
    for (i = len; i >= 2; i--)
        if (text[i - 1] == '\n' && text[i - 2] == '\n') {
            blen = i - 1;
            break;
        }
    if (blen == 0)
        return note_bad(why, whylen, MP_ERR_PARSE,
            "the note has no blank line before its "
            "signatures");
    if ((r = body_parse(text, blen, out, why, whylen)) != MP_OK)
        return r;
    return sigs_check(text, len, blen, pub, out, why, whylen);
}
