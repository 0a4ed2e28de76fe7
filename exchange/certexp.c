/* x5c[0] of a grant's header: the leaf certificate, standard base64 DER (RFC 7515 §4.1.6); or
 * the kid and iss of a kid grant. */
#include "exchange/certexp.h"

#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "exchange/answer.h"
#include "exchange/selfservice.h"

#define X5C_DER_MAX (16 * 1024)

static X509 *
x5c_leaf(json_t *h)
{
    json_t *s = json_array_get(json_object_get(h, "x5c"), 0);
    unsigned char der[X5C_DER_MAX];
    const unsigned char *p = der;
    int n;

    if (!json_is_string(s) || json_string_length(s) > 4 * (sizeof(der) / 3))
        return NULL;
    n = EVP_DecodeBlock(der, (const unsigned char *)json_string_value(s),
        (int)json_string_length(s));
    /* EVP_DecodeBlock counts padding as zero bytes; d2i stops at the DER's own length. */
    return n > 0 ? d2i_X509(NULL, &p, n) : NULL;
}

static enum mp_err
read_x5c(json_t *h, struct grant_key *out)
{
    X509 *x = x5c_leaf(h);
    struct tm tm;
    enum mp_err r = MP_ERR_PARSE;

    if (x != NULL && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
        out->x5c = 1;
        out->not_after = timegm(&tm);
        X509_NAME_oneline(X509_get_subject_name(x), out->subject, (int)sizeof(out->subject));
        r = MP_OK;
    }
    ERR_clear_error();
    X509_free(x);
    return r;
}

/* A string member that is a self-service id (safe in a URL path and as a label value). */
static int
copy_id(json_t *o, const char *name, char *out, size_t outlen)
{
    const char *v = json_string_value(json_object_get(o, name));

    if (!selfservice_id_ok(v) || strlen(v) >= outlen)
        return 0;
    memcpy(out, v, strlen(v) + 1);
    return 1;
}

enum mp_err
certexp_read(const char *jws, struct grant_key *out)
{
    json_t *h = answer_jwt_part(jws, 0), *c = NULL;
    enum mp_err r = MP_ERR_PARSE;

    memset(out, 0, sizeof(*out));
    if (h == NULL)
        return r;
    if (json_object_get(h, "x5c") != NULL)
        r = read_x5c(h, out);
    else if (copy_id(h, "kid", out->kid, sizeof(out->kid)) &&
        (c = answer_jwt_part(jws, 1)) != NULL &&
        copy_id(c, "iss", out->client_id, sizeof(out->client_id)))
        r = MP_OK;
    json_decref(c);
    json_decref(h);
    return r;
}
