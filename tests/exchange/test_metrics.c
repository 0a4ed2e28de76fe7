/* exchange/metrics: the expiry gauges of the signing certificate and of registered keys, and
 * the warnings 30 days ahead (the integration tests see only keys and certificates a year from
 * expiry). The log goes to stderr, captured here in a temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/log.h"
#include "exchange/metrics.h"

static char logged[8192];

/* Runs fn with stderr in a temporary file; logged holds what was written. */
static void
capture(void (*fn)(struct metrics *), struct metrics *m)
{
    FILE *tmp = tmpfile();
    int saved = dup(2);
    size_t n;

    assert_non_null(tmp);
    fflush(stderr);
    assert_int_not_equal(dup2(fileno(tmp), 2), -1);
    fn(m);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    n = fread(logged, 1, sizeof(logged) - 1, tmp);
    logged[n] = '\0';
    fclose(tmp);
}

static void
near_expiry(struct metrics *m)
{
    struct metrics_key k = {"kidprof", "client-1", "key-1"};

    metrics_cert(m, "default", time(NULL) + 10 * 86400 + 600, "/CN=short");
    metrics_cert(m, "long", time(NULL) + 40 * 86400, "/CN=long");
    metrics_key_seen(m, "kidprof", "client-1", "key-1");
    metrics_key_expiry(m, &k, time(NULL) + 5 * 86400 + 600);
    /* Again the same day: no second warning. */
    metrics_cert(m, "default", time(NULL) + 10 * 86400 + 600, "/CN=short");
    metrics_key_expiry(m, &k, time(NULL) + 5 * 86400 + 600);
}

static long long
gauge(const char *text, const char *series)
{
    const char *p = strstr(text, series);

    assert_non_null(p);
    return strtoll(p + strlen(series), NULL, 10);
}

static void
expiry_gauges_and_warnings(void **state)
{
    struct metrics *m = metrics_new();
    struct mp_buf *b = mp_buf_new(64 * 1024);
    const char *t;

    (void)state;
    assert_non_null(m);
    assert_non_null(b);
    capture(near_expiry, m);
    assert_non_null(strstr(logged,
        "warning: profile default: the signer's certificate /CN=short "
        "expires in 10 days"));
    assert_non_null(strstr(logged,
        "warning: profile kidprof: key key-1 registered on client "
        "client-1 expires in 5 days"));
    assert_null(strstr(logged, "CN=long"));
    /* Once a day: the second round of calls logged nothing more. */
    assert_null(strstr(strstr(logged, "expires in 10 days") + 1, "expires in 10 days"));
    assert_null(strstr(strstr(logged, "expires in 5 days") + 1, "expires in 5 days"));
    assert_int_equal(metrics_render(m, b), MP_OK);
    t = mp_buf_str(b);
    assert_in_range(gauge(t, "mp_exchange_certificate_expiry_seconds{profile=\"default\"} "),
        10 * 86400 + 590, 10 * 86400 + 600);
    assert_in_range(gauge(t, "mp_exchange_certificate_expiry_seconds{profile=\"long\"} "),
        40 * 86400 - 10, 40 * 86400);
    assert_in_range(
        gauge(t, "mp_exchange_registered_key_expiry_seconds{profile=\"kidprof\",kid=\"key-1\"} "),
        5 * 86400 + 590, 5 * 86400 + 600);
    mp_buf_free(b);
    metrics_free(m);
}

/* A profile name that would need escaping in a label value is not made a series. */
static void
unsafe_profile_names_make_no_series(void **state)
{
    struct metrics *m = metrics_new();
    struct mp_buf *b = mp_buf_new(64 * 1024);

    (void)state;
    metrics_cert(m, "a\"b", time(NULL) + 400 * 86400, "/CN=x");
    metrics_key_seen(m, "x\ny", "c", "k");
    assert_int_equal(metrics_render(m, b), MP_OK);
    assert_null(strstr(mp_buf_str(b), "certificate_expiry_seconds{"));
    assert_null(strstr(mp_buf_str(b), "registered_key_expiry_seconds{"));
    mp_buf_free(b);
    metrics_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expiry_gauges_and_warnings),
        cmocka_unit_test(unsafe_profile_names_make_no_series),
    };

    mp_log_init("mp-exchange", MP_LOG_INFO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
