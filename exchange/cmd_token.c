/* mp-exchange token: prints a token from a running mp-exchange, like
 * `gcloud auth print-access-token`, for shell scripts and CI. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/json.h"
#include "exchange/api_guard.h"
#include "exchange/https.h"
#include "exchange/exchange_cmd.h"

static const char token_usage[] =
    "usage: mp-exchange token [--url URL | --socket PATH] --scope \"A B\" [--altinn] [--json]\n"
    "         [--profile NAME] [--resource URI]... [--consumer-org ORGNO]\n"
    "         [--systemuser-org ORGNO] [--systemuser-ref REF]\n"
    "Prints the access token (or with --json the whole answer) of a running mp-exchange.\n";

static const struct option token_opts[] = {
    {"url", required_argument, NULL, 'u'},
    {"socket", required_argument, NULL, 's'},
    {"scope", required_argument, NULL, 'S'},
    {"profile", required_argument, NULL, 'p'},
    {"resource", required_argument, NULL, 'r'},
    {"consumer-org", required_argument, NULL, 'c'},
    {"systemuser-org", required_argument, NULL, 'o'},
    {"systemuser-ref", required_argument, NULL, 'R'},
    {"altinn", no_argument, NULL, 'a'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct tflags {
    const char *url, *socket;
    int altinn, json;
    struct mp_buf *query;
};

static const char *
param_name(int o)
{
    switch (o) {
    case 'S': return "scope";
    case 'p': return "profile";
    case 'r': return "resource";
    case 'c': return "consumer_org";
    case 'o': return "systemuser_org";
    case 'R': return "systemuser_ref";
    default: return NULL;
    }
}

/* MP_OK, MP_ERR_USAGE (printed), MP_ERR_HELP (usage printed) or MP_ERR_NOMEM. */
static enum mp_err
token_parse(int argc, char **argv, struct tflags *f)
{
    const char *name;
    int o;

    opterr = 0;
    while ((o = getopt_long(argc, argv, ":", token_opts, NULL)) != -1) {
        if ((name = param_name(o)) != NULL) {
            if (mp_buf_putf(f->query, "%s%s=", mp_buf_len(f->query) ? "&" : "", name) != MP_OK ||
                https_form_escape(optarg, f->query) != MP_OK) {
                fputs("mp-exchange token: the request is too large\n", stderr);
                return MP_ERR_USAGE;
            }
        } else if (o == 'u')
            f->url = optarg;
        else if (o == 's')
            f->socket = optarg;
        else if (o == 'a')
            f->altinn = 1;
        else if (o == 'j')
            f->json = 1;
        else if (o == 'h') {
            fputs(token_usage, stdout);
            return MP_ERR_HELP;
        } else {
            fprintf(stderr, "mp-exchange token: %s %s\n",
                o == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
            return MP_ERR_USAGE;
        }
    }
    if (optind < argc || strstr(mp_buf_str(f->query), "scope=") == NULL) {
        fputs(token_usage, stderr);
        return MP_ERR_USAGE;
    }
    return MP_OK;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    return mp_buf_put(arg, p, size * n) == MP_OK ? size * n : 0;
}

static int
token_print(long status, const struct mp_buf *body, int json)
{
    json_t *j = mp_json_loadb(mp_buf_str(body), mp_buf_len(body), 0, NULL);
    const char *tok = json_string_value(json_object_get(j, "access_token"));
    const char *err = json_string_value(json_object_get(j, "error"));
    const char *desc = json_string_value(json_object_get(j, "error_description"));
    const char *code = json_string_value(json_object_get(j, "mp_code"));
    int rc = 1;

    if (status == 200 && tok != NULL) {
        printf("%s\n", json ? mp_buf_str(body) : tok);
        rc = fflush(stdout) == 0 ? 0 : 1;
    } else
        fprintf(stderr, "mp-exchange: error: HTTP %ld: %s%s%s%s%s\n", status,
            err != NULL ? err : "no JSON answer", desc != NULL ? ": " : "", desc ? desc : "",
            code != NULL ? " " : "", code != NULL ? code : "");
    json_decref(j);
    return rc;
}

int
exchange_cmd_token(int argc, char **argv)
{
    struct tflags f;
    struct mp_buf *url = mp_buf_new(8192), *body = mp_buf_new(64 * 1024);
    CURL *h = NULL;
    struct curl_slist *hdr = NULL;
    CURLcode cc;
    long status = 0;
    enum mp_err r;
    int rc = 1;

    memset(&f, 0, sizeof(f));
    if (url == NULL || body == NULL || (f.query = mp_buf_new(8192)) == NULL)
        goto out;
    if ((r = token_parse(argc, argv, &f)) != MP_OK) {
        rc = r == MP_ERR_HELP ? 0 : 2;
        goto out;
    }
    mp_buf_putf(url, "%s/v1/%s?%s",
        f.url != NULL          ? f.url
            : f.socket != NULL ? "http://localhost"
                               : "http://127.0.0.1:8471",
        f.altinn ? "altinn" : "maskinporten", mp_buf_str(f.query));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (h = curl_easy_init()) == NULL)
        goto out;
    /* The exchange answers token requests only with this header (api_guard.h). */
    if ((hdr = curl_slist_append(NULL, API_GUARD_HEADER ": 1")) == NULL)
        goto out;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_URL, mp_buf_str(url));
    if (f.socket != NULL)
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, f.socket);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    if ((cc = curl_easy_perform(h)) != CURLE_OK) {
        fprintf(stderr, "mp-exchange: error: %s: %s\n", f.socket ? f.socket : mp_buf_str(url),
            curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    rc = token_print(status, body, f.json);
out:
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    mp_buf_free(f.query);
    mp_buf_free(url);
    mp_buf_free(body); /* wipes the token */
    return rc;
}
