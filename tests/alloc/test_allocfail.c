/* Allocation-failure sweep: for each operation, fail its 1st, 2nd, … Nth allocation (every
 * malloc, calloc and realloc in our code, jansson and OpenSSL alike) until a run completes with
 * no failure left to inject. Every run must return (no crash), must either fail cleanly or give
 * the same answer as the unfailed run, and must leave no allocation behind.
 *
 * The operations are the grant's JWS builder (claims, header with x5c or kid, signing input,
 * signature, self-verification), the parsers of what upstreams and the signer answer, both
 * daemons' config loading (keyword tables) with its printing, and the signer's audit record.
 *
 * glibc lets a program replace malloc (all four calls together); the replacements here count
 * and fail, and hand the real work to glibc's own __libc_* entry points. Sanitizer builds
 * replace malloc themselves, so this test is built without them (CMakeLists.txt). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/frame.h"
#include "common/json.h"
#include "common/conf.h"
#include "exchange/answer.h"
#include "exchange/exchange_conf.h"
#include "signer/daemon/sign_record.h"
#include "signer/grant/grant_claims.h"
#include "signer/grant/jws.h"
#include "signer/signer_conf.h"
#include "tests/unit/testcert.h"

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static long fail_at; /* the allocation to fail, counted from arming; 0: none */
static long calls;
static long live; /* allocations not yet freed */
static int injected;

static int
should_fail(void)
{
    if (fail_at == 0 || ++calls != fail_at)
        return 0;
    injected = 1;
    errno = ENOMEM;
    return 1;
}

void *
malloc(size_t n)
{
    void *p = should_fail() ? NULL : __libc_malloc(n);

    live += p != NULL;
    return p;
}

void *
calloc(size_t n, size_t m)
{
    void *p = should_fail() ? NULL : __libc_calloc(n, m);

    live += p != NULL;
    return p;
}

void *
realloc(void *p, size_t n)
{
    void *q;

    if (should_fail())
        return NULL;
    q = __libc_realloc(p, n);
    if (p == NULL && q != NULL)
        live++;
    else if (p != NULL && n == 0 && q == NULL)
        live--;
    return q;
}

void
free(void *p)
{
    live -= p != NULL;
    __libc_free(p);
}

/* Never failed (nothing in the swept code asks for alignment), only counted. */
int
posix_memalign(void **out, size_t align, size_t n)
{
    *out = __libc_memalign(align, n);
    live += *out != NULL;
    return *out != NULL ? 0 : ENOMEM;
}

void *
aligned_alloc(size_t align, size_t n)
{
    void *p = __libc_memalign(align, n);

    live += p != NULL;
    return p;
}

/* One operation: fills out (a bounded text answer) and returns MP_OK, or fails. */
typedef enum mp_err (*op_fn)(char *out, size_t outlen);

static EVP_PKEY *key;
static X509 *leaf;

/* The token's C_Sign, played by OpenSSL with failures paused: in production no allocation of
 * ours or OpenSSL's is involved here, and OpenSSL's EVP_DigestSignInit keeps a name string
 * when one of its own allocations fails (seen at allocation 78 of the x5c run). */
static enum mp_err
sign_input(struct mp_buf *b, unsigned char *sig, size_t *siglen)
{
    long armed = fail_at;
    EVP_MD_CTX *md;
    enum mp_err r = MP_ERR_CRYPTO;

    fail_at = 0;
    md = EVP_MD_CTX_new();
    if (md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(md, sig, siglen, mp_buf_ptr(b), mp_buf_len(b)) == 1)
        r = MP_OK;
    EVP_MD_CTX_free(md);
    fail_at = armed;
    return r;
}

/* The whole builder as grant.c runs it, with a software key standing in for the token. */
static enum mp_err
build_jws(const char *kid, char *out, size_t outlen)
{
    struct grant_request g = {.aud = "https://test.maskinporten.no/",
        .client_id = "0e85a98d-0000-4000-8000-000000000001",
        .scope = "altinn:serviceowner/instances.read  altinn:serviceowner/instances.write",
        .resources = {"https://a.example/"},
        .nresources = 1,
        .consumer_org = "991825827",
        .lifetime = 120};
    struct mp_errmsg e = {{0}};
    json_t *claims = NULL, *hdr = NULL;
    struct mp_buf *b = mp_buf_new(JWS_MAX);
    unsigned char sig[512];
    size_t siglen = sizeof(sig);
    enum mp_err r = MP_ERR_NOMEM;

    if (b == NULL || (r = grant_claims_json(&g, 1764000000, "jti-1", &claims, &e)) != MP_OK ||
        (r = jws_header_json(JWS_RS256, kid, kid ? NULL : leaf, NULL, &hdr, &e)) != MP_OK ||
        (r = jws_signing_input(hdr, claims, b, &e)) != MP_OK ||
        (r = sign_input(b, sig, &siglen)) != MP_OK ||
        (r = jws_append_signature(b, sig, siglen)) != MP_OK ||
        (r = jws_verify(mp_buf_str(b), mp_buf_len(b), JWS_RS256, key, &e)) != MP_OK)
        goto out;
    snprintf(out, outlen, "%s", mp_buf_str(b));
out:
    json_decref(claims);
    json_decref(hdr);
    mp_buf_free(b);
    return r;
}

static enum mp_err
op_jws_x5c(char *out, size_t outlen)
{
    return build_jws(NULL, out, outlen);
}

static enum mp_err
op_jws_kid(char *out, size_t outlen)
{
    return build_jws("sw-key-1", out, outlen);
}

static enum mp_err
op_token(char *out, size_t outlen)
{
    static const char body[] =
        "{\"access_token\":\"eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3NjQwMDAxMjB9.c2ln\","
        "\"token_type\":\"Bearer\",\"expires_in\":119,"
        "\"scope\":\"altinn:serviceowner/instances.read\"}";
    struct mp_token *t = calloc(1, sizeof(*t));
    struct mp_errmsg e = {{0}};
    enum mp_err r = MP_ERR_NOMEM;

    if (t != NULL && (r = answer_token(body, sizeof(body) - 1, t, &e)) == MP_OK)
        snprintf(out, outlen, "%s|%s|%lld|%s", t->access_token, t->token_type, t->expires_in,
            t->scope);
    free(t);
    return r;
}

static enum mp_err
op_error(char *out, size_t outlen)
{
    static const char body[] = "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid "
                               "assertion. Client authentication failed. (trace_id: ab12)\","
                               "\"error_uri\":\"https://docs.digdir.no/#MP-122\"}";
    struct mp_error me;
    enum mp_err r = answer_error(body, sizeof(body) - 1, &me);

    if (r == MP_OK)
        snprintf(out, outlen, "%s|%s|%s|%s", me.error, me.code, me.trace_id, me.description);
    return r;
}

static enum mp_err
op_altinn(char *out, size_t outlen)
{
    static const char body[] = "\"eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3NjQwMDE4MDB9.c2ln\"";
    long long exp = 0;
    enum mp_err r = answer_altinn(body, sizeof(body) - 1, out, outlen, NULL);

    if (r == MP_OK && (r = answer_jwt_exp(out, &exp)) == MP_OK)
        snprintf(out + strlen(out), outlen - strlen(out), "|%lld", exp);
    return r;
}

/* A GRANT frame encoded and decoded again: the signer's wire format both ways. */
static enum mp_err
op_frame(char *out, size_t outlen)
{
    struct frame_msg *m = calloc(1, sizeof(*m)), *d = calloc(1, sizeof(*d));
    struct mp_buf *b = mp_buf_new(FRAME_MAX + 16);
    struct mp_errmsg e = {{0}};
    enum mp_err r = MP_ERR_NOMEM;

    if (m == NULL || d == NULL || b == NULL)
        goto out;
    frame_init(m, FRAME_JWS);
    snprintf(m->jws, sizeof(m->jws), "a.b.c");
    if ((r = frame_encode(m, b)) != MP_OK ||
        (r = frame_decode(mp_buf_ptr(b) + 4, mp_buf_len(b) - 4, d, &e)) != MP_OK)
        goto out;
    snprintf(out, outlen, "%d|%s", (int)d->type, d->jws);
out:
    free(m);
    free(d);
    mp_buf_free(b);
    return r;
}

/* A config read (keyword tables, profiles, repeatable keys) and printed back into out. */
static enum mp_err
conf_print(const struct mp_conf_schema *s, void *obj, const char *text, char *out, size_t outlen)
{
    struct mp_errmsg e = {{0}};
    FILE *f = NULL;
    enum mp_err r = MP_ERR_NOMEM;

    if (obj == NULL || (r = mp_conf_load_text(text, strlen(text), "t.conf", s, obj, &e)) != MP_OK)
        goto out;
    r = MP_ERR_NOMEM;
    if ((f = fmemopen(out, outlen, "w")) == NULL)
        goto out;
    mp_conf_print(f, s, obj);
    r = fclose(f) == 0 ? MP_OK : MP_ERR_IO;
out:
    return r;
}

static enum mp_err
op_signer_conf(char *out, size_t outlen)
{
    static const char text[] = "module = /usr/lib/softhsm/libsofthsm2.so\n"
                               "module_env = SOFTHSM2_CONF=/tmp/s.conf\nmodule_env = B=1\n"
                               "pin_file = /etc/pin\nworkers = 4\nsandbox = log\n"
                               "[profile default]\nkey = pkcs11:object=k\nenv = test\n"
                               "scopes = a:b c:d\nallow_uids = 0 1000\nalg = RS384\n"
                               "[profile b]\naud = https://x/\nresources = urn:a\n";
    struct signer_conf *c = signer_conf_new();
    enum mp_err r = conf_print(&signer_conf_schema, c, text, out, outlen);

    signer_conf_free(c);
    return r;
}

static enum mp_err
op_exchange_conf(char *out, size_t outlen)
{
    static const char text[] = "env = test\nsigner_socket = /run/s\nlisten = 127.0.0.1:1\n"
                               "threads = 4\nunix_mode = 0600\nca_file = /etc/ca.pem\n";
    struct exchange_conf *c = exchange_conf_new();
    enum mp_err r = conf_print(&exchange_conf_schema, c, text, out, outlen);

    exchange_conf_free(c);
    return r;
}

/* The audit record of a granted request from a caller whose path is not UTF-8: whole (every
 * field, the path escaped) or NULL, never a line missing a field. */
static enum mp_err
op_sign_record(char *out, size_t outlen)
{
    struct peer who = {.uid = 1000, .gid = 1000, .pid = 4242, .exe = "/tmp/odd-\xff-name"};
    struct grant_request g = {.aud = "https://test.maskinporten.no/",
        .client_id = "c1",
        .scope = "altinn:serviceowner/instances.read",
        .resources = {"https://a.example/", "https://b.example/"},
        .nresources = 2,
        .consumer_org = "991825827",
        .systemuser_org = "991825827",
        .systemuser_ref = "ref-1"};
    struct grant_info info = {.jti = "0b7c2a4e-0000-4000-8000-000000000001",
        .iat = 1700000000,
        .exp = 1700000120,
        .jws_sha256 = "ab"};
    struct sign_record r = {.outcome = "granted",
        .who = &who,
        .profile = "default",
        .client_id = "c1",
        .key = "pkcs11:token=t;object=k;type=private",
        .cert_sha256 = "cd",
        .g = &g,
        .info = &info};
    json_t *rec = sign_record_build(&r);
    char *text = rec != NULL ? mp_json_dumps(rec, JSON_COMPACT) : NULL;
    enum mp_err ret = MP_ERR_NOMEM;

    if (text != NULL && strlen(text) < outlen) {
        memcpy(out, text, strlen(text) + 1);
        ret = MP_OK;
    }
    free(text);
    json_decref(rec);
    return ret;
}

struct sweep {
    const char *name;
    op_fn fn;
};

/* One run of op with its nth allocation failed: how many allocations it left behind. */
static long
run_failing(const struct sweep *s, long n, char *got, size_t len, enum mp_err *r)
{
    long base;

    ERR_clear_error();
    base = live;
    calls = 0;
    injected = 0;
    got[0] = '\0';
    fail_at = n;
    *r = s->fn(got, len);
    fail_at = 0;
    ERR_clear_error();
    return live - base;
}

/* Runs op with its Nth allocation failed, for N = 1, 2, … until nothing was left to fail. A
 * block left behind once and never again at the same N is a cache entry a library keeps (it
 * would make it on the next successful call anyway); left behind twice, it is a leak. */
static int
sweep(const struct sweep *s, char *want, char *got, size_t len)
{
    long n;
    unsigned long clean = 0, survived = 0, cached = 0;
    enum mp_err r;

    if (s->fn(want, len) != MP_OK) {
        fprintf(stderr, "FAIL - %s: the unfailed run does not succeed\n", s->name);
        return 1;
    }
    for (n = 1;; n++) {
        if (run_failing(s, n, got, len, &r) != 0 &&
            (cached++, run_failing(s, n, got, len, &r)) != 0) {
            fprintf(stderr, "FAIL - %s: allocation %ld failed: memory leaked\n", s->name, n);
            return 1;
        }
        if (!injected)
            break;
        if (r == MP_OK && strcmp(got, want) != 0) {
            fprintf(stderr,
                "FAIL - %s: allocation %ld failed, yet it answered a wrong result\n"
                "  want %.300s\n  got  %.300s\n",
                s->name, n, want, got);
            return 1;
        }
        r == MP_OK ? survived++ : clean++;
    }
    if (n < 2) {
        fprintf(stderr, "FAIL - %s: no allocation was ever made, the sweep proved nothing\n",
            s->name);
        return 1;
    }
    printf("ok - %s: each of %ld allocations failed in turn: %lu clean errors, %lu recovered, "
           "no crash, no leak (%lu one-time library cache entries)\n",
        s->name, n - 1, clean, survived, cached);
    return 0;
}

int
main(void)
{
    static const struct sweep sweeps[] = {{"JWS builder, x5c header", op_jws_x5c},
        {"JWS builder, kid header", op_jws_kid}, {"Maskinporten token parser", op_token},
        {"Maskinporten error parser", op_error}, {"Altinn answer parser", op_altinn},
        {"signer frame encode/decode", op_frame}, {"signer config read and print", op_signer_conf},
        {"exchange config read and print", op_exchange_conf},
        {"audit record of a sign decision", op_sign_record}};
    static char want[JWS_MAX], got[JWS_MAX];
    struct tc_spec spec = {.cn = "alloc sweep", .org_id = "NTRNO-314159268"};
    size_t i;
    int bad = 0;

    if ((key = tc_rsa_key(2048)) == NULL || (leaf = tc_cert(key, &spec)) == NULL) {
        fputs("FAIL - cannot make the test key\n", stderr);
        return 1;
    }
    /* OpenSSL sets up its per-thread error queue on the first error: do that unarmed. */
    ERR_raise(ERR_LIB_USER, ERR_R_MALLOC_FAILURE);
    ERR_clear_error();
    for (i = 0; i < sizeof(sweeps) / sizeof(sweeps[0]); i++)
        bad |= sweep(&sweeps[i], want, got, sizeof(want));
    X509_free(leaf);
    EVP_PKEY_free(key);
    return bad;
}
