/* Units under mp-signer grant: base64url, org numbers, claims, the JWS builder (signed and
 * checked in software here), the config parser and PIN files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/b64.h"
#include "common/orgno.h"
#include "common/secret.h"
#include "signer/grant/grant_claims.h"
#include "signer/grant/jws.h"
#include "signer/signer_conf.h"

static struct mp_errmsg err;

static char *
b64url(const char *in, size_t n)
{
    static char out[256];
    struct mp_buf *b = mp_buf_new(sizeof(out) - 1);

    assert_int_equal(mp_b64url_encode(b, in, n), MP_OK);
    snprintf(out, sizeof(out), "%s", mp_buf_str(b));
    mp_buf_free(b);
    return out;
}

static void
base64url_vectors_and_strictness(void **state)
{
    struct mp_buf *b = mp_buf_new(64);

    (void)state;
    /* RFC 4648 §10 vectors, unpadded. */
    assert_string_equal(b64url("", 0), "");
    assert_string_equal(b64url("f", 1), "Zg");
    assert_string_equal(b64url("fo", 2), "Zm8");
    assert_string_equal(b64url("foobar", 6), "Zm9vYmFy");
    assert_string_equal(b64url("\xfb\xff", 2), "-_8");
    assert_int_equal(mp_b64url_decode(b, "Zm9vYmFy", 8), MP_OK);
    assert_memory_equal(mp_buf_ptr(b), "foobar", 6);
    mp_buf_reset(b);
    assert_int_equal(mp_b64url_decode(b, "Zg==", 4), MP_ERR_PARSE); /* no padding */
    assert_int_equal(mp_b64url_decode(b, "Z+8", 3), MP_ERR_PARSE); /* not url-safe */
    assert_int_equal(mp_b64url_decode(b, "Zh", 2), MP_ERR_PARSE); /* non-zero spare bits */
    assert_int_equal(mp_b64url_decode(b, "Z", 1), MP_ERR_PARSE);
    assert_int_equal(mp_b64url_decode(b, "Zm 8", 4), MP_ERR_PARSE);
    mp_buf_free(b);
}

static void
org_numbers(void **state)
{
    (void)state;
    assert_true(mp_orgno_valid("991825827"));
    assert_true(mp_orgno_valid("314159268"));
    assert_true(mp_orgno_valid("974760673"));
    assert_false(mp_orgno_valid("991825826")); /* wrong check digit */
    assert_false(mp_orgno_valid("99182582"));
    assert_false(mp_orgno_valid("9918258270"));
    assert_false(mp_orgno_valid("99182582a"));
    assert_false(mp_orgno_valid("912345670")); /* remainder gives 10: no valid number */
    assert_false(mp_orgno_valid(NULL));
}

static struct grant_request
request(void)
{
    struct grant_request g;

    memset(&g, 0, sizeof(g));
    g.aud = "https://test.maskinporten.no/";
    g.client_id = "cid";
    g.scope = "b:y  a:x";
    g.lifetime = 60;
    return g;
}

static void
claims_exact_json(void **state)
{
    struct grant_request g = request();
    json_t *c = NULL;
    char *s;

    (void)state;
    g.resources[0] = "https://r/";
    g.nresources = 1;
    g.consumer_org = "991825827";
    g.systemuser_org = "974760673";
    g.systemuser_ref = "ref";
    assert_int_equal(grant_claims_json(&g, 1700000000, "the-jti", &c, &err), MP_OK);
    s = json_dumps(c, JSON_COMPACT);
    assert_string_equal(s,
        "{\"aud\":\"https://test.maskinporten.no/\",\"iss\":\"cid\",\"scope\":\"b:y a:x\","
        "\"iat\":1700000000,\"exp\":1700000060,\"jti\":\"the-jti\",\"resource\":[\"https://r/\"],"
        "\"consumer_org\":\"991825827\",\"authorization_details\":[{\"type\":"
        "\"urn:altinn:systemuser\",\"systemuser_org\":{\"authority\":\"iso6523-actorid-upis\","
        "\"ID\":\"0192:974760673\"},\"externalRef\":\"ref\"}]}");
    free(s);
    json_decref(c);
}

static void
claims_refusals(void **state)
{
    struct grant_request g;

    (void)state;
    g = request(), g.lifetime = 0;
    assert_int_equal(grant_request_check(&g, NULL, &err), MP_ERR_INVALID);
    g = request(), g.lifetime = 121;
    assert_int_equal(grant_request_check(&g, NULL, &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "lifetime"));
    g = request(), g.consumer_org = "991825826";
    assert_int_equal(grant_request_check(&g, NULL, &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "consumer_org"));
    g = request(), g.consumer_org = "991825827";
    assert_int_equal(grant_request_check(&g, "991825827", &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "own organisation"));
    g = request(), g.systemuser_ref = "x";
    assert_int_equal(grant_request_check(&g, NULL, &err), MP_ERR_INVALID);
    g = request(), g.scope = "a:b \"c";
    assert_int_equal(grant_request_check(&g, NULL, &err), MP_ERR_INVALID);
    g = request(), g.scope = "a:b a:b";
    assert_int_equal(grant_request_check(&g, NULL, &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "twice"));
    g = request(), g.resources[0] = "no scheme", g.nresources = 1;
    assert_int_equal(grant_request_check(&g, NULL, &err), MP_ERR_INVALID);
    g = request(), g.aud = "not a url";
    assert_int_equal(grant_request_check(&g, NULL, &err), MP_ERR_INVALID);
}

/* Builds, signs in software and verifies a JWS exactly as grant_sign does with the token. */
static void
jws_sign_verify_tamper(void **state)
{
    static const enum jws_alg algs[] = {JWS_RS256, JWS_RS384, JWS_RS512};
    static const char *const mds[] = {"SHA256", "SHA384", "SHA512"};
    EVP_PKEY *key = EVP_RSA_gen(2048), *other = EVP_RSA_gen(2048);
    struct grant_request g = request();
    unsigned char sig[512];
    static char copy[JWS_MAX + 1];
    size_t i, siglen;
    json_t *h, *c;
    struct mp_buf *b;
    EVP_MD_CTX *ctx;

    (void)state;
    for (i = 0; i < 3; i++) {
        b = mp_buf_new(JWS_MAX);
        ctx = EVP_MD_CTX_new();
        assert_int_equal(jws_header_json(algs[i], "kid-1", NULL, NULL, &h, &err), MP_OK);
        assert_int_equal(grant_claims_json(&g, 1700000000, "j", &c, &err), MP_OK);
        assert_int_equal(jws_signing_input(h, c, b, &err), MP_OK);
        siglen = sizeof(sig);
        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_get_digestbyname(mds[i]), NULL, key), 1);
        assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, mp_buf_ptr(b), mp_buf_len(b)), 1);
        assert_int_equal(jws_append_signature(b, sig, siglen), MP_OK);
        assert_int_equal(jws_verify(mp_buf_str(b), mp_buf_len(b), algs[i], key, &err), MP_OK);
        assert_int_equal(jws_verify(mp_buf_str(b), mp_buf_len(b), algs[i], other, &err),
            MP_ERR_CRYPTO);
        memcpy(copy, mp_buf_str(b), mp_buf_len(b) + 1);
        copy[40] ^= 1; /* one bit of the claims */
        assert_int_not_equal(jws_verify(copy, mp_buf_len(b), algs[i], key, &err), MP_OK);
        json_decref(h);
        json_decref(c);
        EVP_MD_CTX_free(ctx);
        mp_buf_free(b);
    }
    assert_int_equal(jws_header_json(JWS_RS256, NULL, NULL, NULL, &h, &err), MP_ERR_INVALID);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

static void
jws_alg_names(void **state)
{
    enum jws_alg a;

    (void)state;
    assert_int_equal(jws_alg_parse("RS384", &a), MP_OK);
    assert_int_equal(a, JWS_RS384);
    assert_int_equal(jws_alg_parse("none", &a), MP_ERR_INVALID);
    assert_int_equal(jws_alg_parse("PS256", &a), MP_ERR_INVALID);
    assert_int_equal(jws_alg_parse("ES256", &a), MP_ERR_INVALID);
    assert_int_equal(jws_alg_parse("rs256", &a), MP_ERR_INVALID);
}

static void
config_parsing(void **state)
{
    struct signer_conf *c = signer_conf_new();
    struct signer_conf_profile *p;
    enum mp_err r;

    (void)state;
    r = signer_conf_load_text(c,
        "# comment\nmodule = /m.so\npin_file = /p\nsocket_mode = 0600\n"
        "[profile a]\nkey = pkcs11:object=k\nenv = prod\nalg = RS512\n"
        "lifetime = 30\nallow_uids = 0 root\n[profile b]\naud = https://x/\n",
        "t.conf", &err);
    if (r != MP_OK)
        print_error("config: %s\n", err.text);
    assert_int_equal(r, MP_OK);
    assert_string_equal(c->module, "/m.so");
    assert_int_equal(c->socket_mode, 0600);
    assert_int_equal(c->nprofiles, 2);
    p = signer_conf_profile(c, "a");
    assert_string_equal(p->aud, "https://maskinporten.no/");
    assert_int_equal(p->alg, JWS_RS512);
    assert_int_equal(p->lifetime, 30);
    assert_int_equal(p->nuids, 2);
    assert_int_equal(signer_conf_load_text(c, "\n\nbogus = 1\n", "t.conf", &err), MP_ERR_PARSE);
    assert_non_null(strstr(err.text, "t.conf:3: unknown setting"));
    assert_int_equal(signer_conf_load_text(c, "[profile a]\nlifetime = 200\n", "t.conf", &err),
        MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "t.conf:2:"));
    assert_int_equal(signer_conf_load_text(c, "[frob x]\nkey = 1\n", "t.conf", &err), MP_ERR_PARSE);
    assert_int_equal(signer_conf_load_text(c, "socket_mode = 660\n", "t.conf", &err),
        MP_ERR_INVALID);
    assert_int_equal(signer_conf_load_text(c, "[profile a]\nenv = staging\n", "t.conf", &err),
        MP_ERR_INVALID);
    signer_conf_free(c);
}

static void
pin_files(void **state)
{
    char path[] = "/tmp/mp-pin-XXXXXX";
    struct mp_secret *s = NULL;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "12345678\r\n", 10), 10);
    close(fd);
    assert_int_equal(mp_secret_read_file(path, &s, &err), MP_OK);
    assert_string_equal(mp_secret_data(s), "12345678");
    mp_secret_free(s);
    chmod(path, 0640);
    assert_int_equal(mp_secret_read_file(path, &s, &err), MP_ERR_PERM);
    assert_non_null(strstr(err.text, "0640"));
    assert_null(strstr(err.text, "12345678"));
    chmod(path, 0604);
    assert_int_equal(mp_secret_read_file(path, &s, &err), MP_ERR_PERM);
    unlink(path);
    assert_int_equal(mp_secret_read_file(path, &s, &err), MP_ERR_IO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64url_vectors_and_strictness),
        cmocka_unit_test(org_numbers),
        cmocka_unit_test(claims_exact_json),
        cmocka_unit_test(claims_refusals),
        cmocka_unit_test(jws_sign_verify_tamper),
        cmocka_unit_test(jws_alg_names),
        cmocka_unit_test(config_parsing),
        cmocka_unit_test(pin_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
