/* libcurl calls to Maskinporten, Altinn and the self-service API, TLS always verified (https.h). */
#include "exchange/https.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "common/version.h"

static pthread_key_t curl_key;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_handle_free(void *h)
{
    curl_easy_cleanup(h);
}

static void
curl_key_init(void)
{
    pthread_key_create(&curl_key, curl_handle_free);
}

enum mp_err
https_global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return MP_ERR_NOMEM;
    pthread_once(&curl_once, curl_key_init);
    return MP_OK;
}

/* The calling thread's handle: reused so connections to the same host stay alive. */
static CURL *
thread_handle(void)
{
    CURL *h;

    pthread_once(&curl_once, curl_key_init);
    if ((h = pthread_getspecific(curl_key)) == NULL && (h = curl_easy_init()) != NULL)
        pthread_setspecific(curl_key, h);
    else if (h != NULL)
        curl_easy_reset(h);
    return h;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct https_resp *r = arg;

    /* Returning short makes libcurl abort the transfer: the cap holds. */
    if (mp_buf_put(r->body, p, size * n) != MP_OK) {
        r->fail = HTTPS_TOOBIG;
        return 0;
    }
    return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct https_resp *r = arg;
    size_t len = size * n;
    char line[256];
    struct tm tm;

    if (len >= sizeof(line))
        return len;
    memcpy(line, p, len);
    line[len] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "Content-Type:", 13) == 0)
        snprintf(r->content_type, sizeof(r->content_type), "%s",
            line + 13 + strspn(line + 13, " "));
    else if (strncasecmp(line, "Date:", 5) == 0) {
        memset(&tm, 0, sizeof(tm));
        if (strptime(line + 5 + strspn(line + 5, " "), "%a, %d %b %Y %H:%M:%S GMT", &tm) != NULL)
            r->date = timegm(&tm);
    }
    return len;
}

static void
common_opts(CURL *h, const struct exchange_conf *c, const char *url, struct https_resp *r)
{
    char agent[96];

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTPS_MAX_BODY);
    snprintf(agent, sizeof(agent), "mp-exchange/%s", mp_version());
    curl_easy_setopt(h, CURLOPT_USERAGENT, agent); /* libcurl keeps a copy */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
}

static enum https_fail
classify(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT: return HTTPS_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR: return HTTPS_CONNECT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE: return HTTPS_TLS;
    case CURLE_FILESIZE_EXCEEDED: return HTTPS_TOOBIG;
    default: return HTTPS_OTHER;
    }
}

static enum mp_err
perform(CURL *h, const char *url, struct https_resp *r, struct mp_errmsg *e)
{
    struct timespec t0, t1;
    CURLcode cc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    cc = curl_easy_perform(h);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (cc != CURLE_OK) {
        if (r->fail == HTTPS_OK)
            r->fail = classify(cc);
        return mp_errf(e, MP_ERR_IO, "%s: %s", url,
            r->fail == HTTPS_TOOBIG ? "answer larger than 1 MiB" : curl_easy_strerror(cc));
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    return MP_OK;
}

static enum mp_err
resp_init(struct https_resp *r, struct mp_errmsg *e)
{
    memset(r, 0, sizeof(*r));
    if ((r->body = mp_buf_new(HTTPS_MAX_BODY)) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    return MP_OK;
}

enum mp_err
https_post_form(const struct exchange_conf *c, const char *url, const char *form,
    struct https_resp *r, struct mp_errmsg *e)
{
    struct curl_slist *hdr = NULL;
    CURL *h;
    enum mp_err ret;

    if ((ret = resp_init(r, e)) != MP_OK)
        return ret;
    if ((h = thread_handle()) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "cannot create a libcurl handle");
    common_opts(h, c, url, r);
    hdr = curl_slist_append(hdr, "Content-Type: application/x-www-form-urlencoded");
    hdr = curl_slist_append(hdr, "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
    ret = perform(h, url, r, e);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L); /* the handle is reused: back to GET */
    curl_slist_free_all(hdr);
    return ret;
}

/* One call with Authorization: Bearer <token>; json, when not NULL, is the body. The handle is
 * the thread's, reused: everything set here is unset before it goes back. */
static enum mp_err
bearer_call(const struct exchange_conf *c, const char *method, const char *url, const char *token,
    const char *accept, const char *json, struct https_resp *r, struct mp_errmsg *e)
{
    struct curl_slist *hdr = NULL;
    struct mp_buf *auth = NULL;
    CURL *h;
    enum mp_err ret;

    if ((ret = resp_init(r, e)) != MP_OK)
        return ret;
    if ((h = thread_handle()) == NULL || (auth = mp_buf_new(20 * 1024)) == NULL ||
        mp_buf_putf(auth, "Authorization: Bearer %s", token) != MP_OK ||
        mp_buf_putf(auth, "%cAccept: %s", '\0', accept) != MP_OK) {
        mp_buf_free(auth);
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    }
    common_opts(h, c, url, r);
    hdr = curl_slist_append(hdr, mp_buf_str(auth));
    hdr = curl_slist_append(hdr, mp_buf_str(auth) + strlen(mp_buf_str(auth)) + 1);
    if (json != NULL) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    }
    /* POSTFIELDS makes a POST; PUT and DELETE keep the body under their own name. */
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    ret = perform(h, url, r, e);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L); /* drops POSTFIELDS: the next call is a GET */
    curl_slist_free_all(hdr);
    mp_buf_free(auth); /* wipes the token copy */
    return ret;
}

enum mp_err
https_get_bearer(const struct exchange_conf *c, const char *url, const char *token,
    struct https_resp *r, struct mp_errmsg *e)
{
    /* Altinn answers the token as text/plain when asked so (PROTOCOL.md §4). */
    return bearer_call(c, "GET", url, token, "text/plain", NULL, r, e);
}

enum mp_err
https_call_json(const struct exchange_conf *c, const char *method, const char *url,
    const char *token, const char *json, struct https_resp *r, struct mp_errmsg *e)
{
    return bearer_call(c, method, url, token, "application/json", json, r, e);
}

void
https_resp_clear(struct https_resp *r)
{
    mp_buf_free(r->body);
    r->body = NULL;
}

enum mp_err
https_form_escape(const char *s, struct mp_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    char enc[3];
    enum mp_err r;

    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~')
            r = mp_buf_put(out, s, 1);
        else {
            enc[0] = '%';
            enc[1] = hex[ch >> 4];
            enc[2] = hex[ch & 15];
            r = mp_buf_put(out, enc, 3);
        }
        if (r != MP_OK)
            return r;
    }
    return MP_OK;
}
