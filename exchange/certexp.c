/* x5c[0] of a grant's header: the leaf certificate, standard base64 DER (RFC 7515 §4.1.6). */
#include "exchange/certexp.h"

#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/json.h"

#define HEADER_MAX (16 * 1024)

/* Part 0 (header) or 1 (claims) of a compact JWS, parsed. */
static json_t *
jws_part(const char *jws, int part)
{
    const char *start = jws, *dot = strchr(jws, '.');
    struct mp_buf *b = mp_buf_new(HEADER_MAX);
    json_t *j = NULL;

    if (part == 1 && dot != NULL) {
        start = dot + 1;
        dot = strchr(start, '.');
    }
    if (dot != NULL && b != NULL && mp_b64url_decode(b, start, (size_t)(dot - start)) == MP_OK)
        j = mp_json_loadb((const char *)mp_buf_ptr(b), mp_buf_len(b), JSON_REJECT_DUPLICATES, NULL);
    mp_buf_free(b);
    return j;
}

static json_t *
jws_header(const char *jws)
{
    return jws_part(jws, 0);
}

/* Copies a string member made of [A-Za-z0-9._-] only (safe as a label value and in a URL). */
static int
copy_id(json_t *o, const char *name, char *out, size_t outlen)
{
    const char *v = json_string_value(json_object_get(o, name));
    size_t n = v != NULL ? strlen(v) : 0;

    if (n == 0 || n >= outlen ||
        strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
        return 0;
    memcpy(out, v, n + 1);
    return 1;
}

enum mp_err
certexp_kid(const char *jws, char *kid, size_t kid_len, char *client_id, size_t client_id_len)
{
    json_t *h = jws_header(jws), *c = NULL;
    enum mp_err r = MP_ERR_PARSE;

    if (h != NULL && json_object_get(h, "kid") == NULL)
        r = MP_ERR_NOTFOUND;
    else if (h != NULL && (c = jws_part(jws, 1)) != NULL && copy_id(h, "kid", kid, kid_len) &&
        copy_id(c, "iss", client_id, client_id_len))
        r = MP_OK;
    json_decref(c);
    json_decref(h);
    return r;
}

static X509 *
x5c_leaf(json_t *h)
{
    json_t *s = json_array_get(json_object_get(h, "x5c"), 0);
    unsigned char der[HEADER_MAX];
    const unsigned char *p = der;
    int n;

    if (!json_is_string(s) || json_string_length(s) > 4 * (sizeof(der) / 3))
        return NULL;
    n = EVP_DecodeBlock(der, (const unsigned char *)json_string_value(s),
        (int)json_string_length(s));
    /* EVP_DecodeBlock counts padding as zero bytes; d2i stops at the DER's own length. */
    return n > 0 ? d2i_X509(NULL, &p, n) : NULL;
}

enum mp_err
certexp_from_jws(const char *jws, time_t *not_after, char *subject, size_t subject_len)
{
    json_t *h = jws_header(jws);
    X509 *x = NULL;
    struct tm tm;
    enum mp_err r = MP_ERR_PARSE;

    if (h == NULL)
        goto out;
    if (json_object_get(h, "x5c") == NULL) {
        r = MP_ERR_NOTFOUND;
        goto out;
    }
    if ((x = x5c_leaf(h)) == NULL || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
        goto out;
    *not_after = timegm(&tm);
    X509_NAME_oneline(X509_get_subject_name(x), subject, (int)subject_len);
    r = MP_OK;
out:
    ERR_clear_error();
    X509_free(x);
    json_decref(h);
    return r;
}
