/* signer/cert: the organisation number of a virksomhetssertifikat (SEID 2.0 and 1.0), the
 * validity window, and that an x5c chain really runs leaf, issuer, issuer's issuer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "signer/grant/cert.h"
#include "testcert.h"

#define T0 ((time_t)1700000000)

static EVP_PKEY *root_key, *inter_key, *leaf_key, *rogue_key;
static X509 *root, *inter, *leaf;
static struct mp_errmsg err;

static int
setup(void **state)
{
    struct tc_spec s = {.cn = "Test Root CA", .ca = 1};

    (void)state;
    if ((root_key = tc_rsa_key(2048)) == NULL || (inter_key = tc_rsa_key(2048)) == NULL ||
        (leaf_key = tc_rsa_key(2048)) == NULL || (rogue_key = tc_rsa_key(2048)) == NULL)
        return -1;
    if ((root = tc_cert(root_key, &s)) == NULL)
        return -1;
    s.cn = "Test Intermediate CA";
    s.issuer = root;
    s.issuer_key = root_key;
    if ((inter = tc_cert(inter_key, &s)) == NULL)
        return -1;
    s.cn = "TEST AS";
    s.org_id = "NTRNO-991825827";
    s.ca = 0;
    s.issuer = inter;
    s.issuer_key = inter_key;
    return (leaf = tc_cert(leaf_key, &s)) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    X509_free(leaf);
    X509_free(inter);
    X509_free(root);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(inter_key);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(rogue_key);
    return 0;
}

/* cert_orgno of a self-signed certificate with these subject attributes. */
static enum mp_err
orgno_of(const char *org_id, const char *serial, char out[10])
{
    struct tc_spec s = {.cn = "TEST AS", .org_id = org_id, .serial = serial};
    X509 *x = tc_cert(leaf_key, &s);
    enum mp_err r;

    assert_non_null(x);
    memset(out, 'X', 10);
    r = cert_orgno(x, out);
    X509_free(x);
    return r;
}

static void
orgno_from_seid2_organization_identifier(void **state)
{
    char o[10];

    (void)state;
    assert_int_equal(orgno_of("NTRNO-991825827", NULL, o), MP_OK);
    assert_string_equal(o, "991825827");
    assert_int_equal(cert_orgno(leaf, o), MP_OK);
    assert_string_equal(o, "991825827");
}

static void
orgno_from_seid1_serial_number(void **state)
{
    char o[10];

    (void)state;
    assert_int_equal(orgno_of(NULL, "974760673", o), MP_OK);
    assert_string_equal(o, "974760673");
}

static void
orgno_prefers_organization_identifier_over_serial_number(void **state)
{
    char o[10];

    (void)state;
    assert_int_equal(orgno_of("NTRNO-314159268", "974760673", o), MP_OK);
    assert_string_equal(o, "314159268");
}

static void
orgno_not_found_without_either_attribute(void **state)
{
    char o[10];

    (void)state;
    assert_int_equal(orgno_of(NULL, NULL, o), MP_ERR_NOTFOUND);
    assert_int_equal(orgno_of("VATNO-991825827", NULL, o), MP_ERR_NOTFOUND);
    assert_int_equal(orgno_of("991825827", NULL, o), MP_ERR_NOTFOUND);
    assert_int_equal(orgno_of(NULL, "NTRNO-991825827", o), MP_ERR_NOTFOUND);
}

static void
orgno_with_a_bad_check_digit_is_refused(void **state)
{
    char o[10];

    (void)state;
    assert_int_equal(orgno_of("NTRNO-991825826", NULL, o), MP_ERR_NOTFOUND);
    assert_int_equal(orgno_of(NULL, "974760674", o), MP_ERR_NOTFOUND);
    assert_int_equal(orgno_of("NTRNO-9918258270", NULL, o), MP_ERR_NOTFOUND);
    assert_int_equal(orgno_of(NULL, "97476067", o), MP_ERR_NOTFOUND);
}

/* cert_orgno after adding one raw attribute of len bytes (possibly holding a NUL). */
static enum mp_err
orgno_with_raw(int nid, int type, const char *value, int len, char out[10])
{
    struct tc_spec s = {.cn = "TEST AS"};
    X509 *x = tc_cert(leaf_key, &s);
    enum mp_err r;

    assert_non_null(x);
    assert_int_equal(X509_NAME_add_entry_by_NID(X509_get_subject_name(x), nid, type,
                         (const unsigned char *)value, len, -1, 0),
        1);
    r = cert_orgno(x, out);
    X509_free(x);
    return r;
}

static void
orgno_with_an_embedded_nul_is_refused(void **state)
{
    char o[10];

    (void)state;
    assert_int_equal(orgno_with_raw(NID_organizationIdentifier, V_ASN1_UTF8STRING,
                         "NTRNO-991825827", 15, o),
        MP_OK);
    assert_int_equal(orgno_with_raw(NID_organizationIdentifier, V_ASN1_UTF8STRING,
                         "NTRNO-991825827\0.evil", 21, o),
        MP_ERR_NOTFOUND);
    assert_int_equal(orgno_with_raw(NID_serialNumber, V_ASN1_PRINTABLESTRING, "974760673\0x", 11,
                         o),
        MP_ERR_NOTFOUND);
}

/* A self-signed certificate valid from T0 to T0 + 1000. */
static X509 *
window_cert(void)
{
    struct tc_spec s = {.cn = "window", .not_before = T0, .not_after = T0 + 1000};
    X509 *x = tc_cert(leaf_key, &s);

    assert_non_null(x);
    return x;
}

static void
check_time_accepts_inside_the_window(void **state)
{
    X509 *x = window_cert();

    (void)state;
    assert_int_equal(cert_check_time(x, T0 + 1, &err), MP_OK);
    assert_int_equal(cert_check_time(x, T0 + 500, &err), MP_OK);
    assert_int_equal(cert_check_time(x, T0 + 999, &err), MP_OK);
    X509_free(x);
}

static void
check_time_refuses_an_expired_certificate(void **state)
{
    X509 *x = window_cert();

    (void)state;
    assert_int_equal(cert_check_time(x, T0 + 1001, &err), MP_ERR_POLICY);
    assert_non_null(strstr(err.text, "has expired"));
    assert_non_null(strstr(err.text, "CN=window"));
    assert_int_equal(cert_check_time(x, T0 + 86400 * 365, &err), MP_ERR_POLICY);
    X509_free(x);
}

static void
check_time_refuses_a_certificate_not_yet_valid(void **state)
{
    X509 *x = window_cert();

    (void)state;
    assert_int_equal(cert_check_time(x, T0 - 1, &err), MP_ERR_POLICY);
    assert_non_null(strstr(err.text, "not valid yet"));
    assert_int_equal(cert_check_time(x, T0 - 86400, &err), MP_ERR_POLICY);
    X509_free(x);
}

/* A notAfter OpenSSL cannot read (X509_cmp_time answers 0) must not pass as valid. */
static void
check_time_refuses_an_unreadable_validity(void **state)
{
    X509 *x = window_cert();
    ASN1_TIME *bad = ASN1_STRING_type_new(V_ASN1_UTCTIME);

    (void)state;
    assert_non_null(bad);
    assert_int_equal(ASN1_STRING_set(bad, "not a time", -1), 1);
    assert_int_equal(X509_set1_notAfter(x, bad), 1);
    assert_int_equal(cert_check_time(x, T0 + 500, &err), MP_ERR_PARSE);
    assert_non_null(strstr(err.text, "unreadable validity period"));
    ASN1_TIME_free(bad);
    X509_free(x);
}

static STACK_OF(X509) * chain_of(X509 *a, X509 *b)
{
    STACK_OF(X509) *sk = sk_X509_new_null();

    assert_non_null(sk);
    assert_true(a == NULL || sk_X509_push(sk, a) > 0);
    assert_true(b == NULL || sk_X509_push(sk, b) > 0);
    return sk;
}

static void
check_chain_accepts_leaf_intermediate_root(void **state)
{
    STACK_OF(X509) *sk = chain_of(inter, root);

    (void)state;
    assert_int_equal(cert_check_chain(leaf, sk, &err), MP_OK);
    sk_X509_free(sk);
    sk = chain_of(inter, NULL);
    assert_int_equal(cert_check_chain(leaf, sk, &err), MP_OK);
    sk_X509_free(sk);
}

static void
check_chain_refuses_the_wrong_order(void **state)
{
    STACK_OF(X509) *sk = chain_of(root, inter);

    (void)state;
    assert_int_equal(cert_check_chain(leaf, sk, &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "chain certificate 1 "));
    sk_X509_free(sk);
}

static void
check_chain_refuses_a_missing_link(void **state)
{
    STACK_OF(X509) *sk = chain_of(root, NULL);

    (void)state;
    assert_int_equal(cert_check_chain(leaf, sk, &err), MP_ERR_INVALID);
    sk_X509_free(sk);
    sk = chain_of(inter, inter);
    assert_int_equal(cert_check_chain(leaf, sk, &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "chain certificate 2 "));
    sk_X509_free(sk);
}

static void
check_chain_refuses_an_impostor_with_the_issuer_name(void **state)
{
    struct tc_spec s = {.cn = "Test Intermediate CA", .ca = 1};
    X509 *rogue = tc_cert(rogue_key, &s);
    STACK_OF(X509) * sk;

    (void)state;
    assert_non_null(rogue);
    sk = chain_of(rogue, NULL);
    assert_int_equal(cert_check_chain(leaf, sk, &err), MP_ERR_INVALID);
    sk_X509_free(sk);
    X509_free(rogue);
}

static void
check_chain_refuses_a_signature_by_another_key(void **state)
{
    struct tc_spec s = {.cn = "no akid", .issuer = inter, .issuer_key = rogue_key, .no_akid = 1};
    X509 *forged = tc_cert(leaf_key, &s);
    STACK_OF(X509) * sk;

    (void)state;
    assert_non_null(forged);
    sk = chain_of(inter, root);
    assert_int_equal(cert_check_chain(forged, sk, &err), MP_ERR_INVALID);
    assert_non_null(strstr(err.text, "chain certificate 1 "));
    sk_X509_free(sk);
    X509_free(forged);
}

static void
sha256_hex_is_the_digest_of_the_der(void **state)
{
    unsigned char *der = NULL, md[32];
    char hex[65], want[65];
    int len;
    size_t i;

    (void)state;
    assert_true((len = i2d_X509(leaf, &der)) > 0);
    assert_int_equal(EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL), 1);
    for (i = 0; i < sizeof(md); i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_int_equal(cert_sha256_hex(leaf, hex), MP_OK);
    assert_string_equal(hex, want);
    OPENSSL_free(der);
}

static void
load_pem_file_keeps_file_order(void **state)
{
    char path[] = "/tmp/mp-unit-chain-XXXXXX";
    STACK_OF(X509) *sk = NULL;
    FILE *f;
    int fd;

    (void)state;
    assert_true((fd = mkstemp(path)) >= 0);
    assert_non_null(f = fdopen(fd, "w"));
    assert_int_equal(PEM_write_X509(f, inter), 1);
    assert_int_equal(PEM_write_X509(f, root), 1);
    fclose(f);
    assert_int_equal(cert_load_pem_file(path, &sk, &err), MP_OK);
    assert_int_equal(sk_X509_num(sk), 2);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 0), inter), 0);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 1), root), 0);
    assert_int_equal(cert_check_chain(leaf, sk, &err), MP_OK);
    sk_X509_pop_free(sk, X509_free);
    assert_non_null(f = fopen(path, "w"));
    fclose(f);
    assert_int_equal(cert_load_pem_file(path, &sk, &err), MP_ERR_PARSE);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(orgno_from_seid2_organization_identifier),
        cmocka_unit_test(orgno_from_seid1_serial_number),
        cmocka_unit_test(orgno_prefers_organization_identifier_over_serial_number),
        cmocka_unit_test(orgno_not_found_without_either_attribute),
        cmocka_unit_test(orgno_with_a_bad_check_digit_is_refused),
        cmocka_unit_test(orgno_with_an_embedded_nul_is_refused),
        cmocka_unit_test(check_time_accepts_inside_the_window),
        cmocka_unit_test(check_time_refuses_an_expired_certificate),
        cmocka_unit_test(check_time_refuses_a_certificate_not_yet_valid),
        cmocka_unit_test(check_time_refuses_an_unreadable_validity),
        cmocka_unit_test(check_chain_accepts_leaf_intermediate_root),
        cmocka_unit_test(check_chain_refuses_the_wrong_order),
        cmocka_unit_test(check_chain_refuses_a_missing_link),
        cmocka_unit_test(check_chain_refuses_an_impostor_with_the_issuer_name),
        cmocka_unit_test(check_chain_refuses_a_signature_by_another_key),
        cmocka_unit_test(sha256_hex_is_the_digest_of_the_der),
        cmocka_unit_test(load_pem_file_keeps_file_order),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
