/* signer/audit: group commit that waits for announced records. A caller that has announced
 * signatures under way beyond the threshold waits for them (bounded), so they share one
 * fdatasync; a lone caller never waits. And no checkpoint is signed while the log is broken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signer/audit/audit_writer.h"

struct fixture {
    char dir[64];
    char path[96];
    struct audit *a;
};

struct submitter {
    struct audit *a;
    int expected; /* audit_submit_expected, else audit_submit */
    atomic_int done;
    enum mp_err result;
    double seconds;
    pthread_t t;
};

static double
now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&t, NULL);
}

static enum mp_err
submit_one(struct audit *a, int expected, const char *event)
{
    struct mp_errmsg e = {{0}};
    json_t *rec = json_pack("{s:s}", "event", event);
    enum mp_err r;

    assert_non_null(rec);
    r = expected ? audit_submit_expected(a, rec, &e) : audit_submit(a, rec, &e);
    json_decref(rec);
    return r;
}

static void *
submitter_main(void *arg)
{
    struct submitter *s = arg;
    double t0 = now_s();

    s->result = submit_one(s->a, s->expected, "background");
    s->seconds = now_s() - t0;
    atomic_store(&s->done, 1);
    return NULL;
}

static void
submitter_start(struct submitter *s, struct audit *a, int expected)
{
    memset(s, 0, sizeof(*s));
    s->a = a;
    s->expected = expected;
    assert_int_equal(pthread_create(&s->t, NULL, submitter_main, s), 0);
}

static void
submitter_join(struct submitter *s)
{
    assert_int_equal(pthread_join(s->t, NULL), 0);
    assert_int_equal(s->result, MP_OK);
}

static size_t
file_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c;

    assert_non_null(f);
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct mp_errmsg e = {{0}};

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/mp-audit-test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/audit.log", f->dir);
    assert_int_equal(audit_open(f->path, NULL, &f->a, &e), MP_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    audit_close(f->a);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
lone_caller_never_waits(void **state)
{
    struct fixture *f = *state;
    unsigned long long lines, syncs;
    double t0;

    audit_group_wait(f->a, 0, 2000000);
    t0 = now_s();
    assert_int_equal(submit_one(f->a, 0, "alone"), MP_OK);
    audit_expect(f->a);
    assert_int_equal(submit_one(f->a, 1, "announced, and the only one"), MP_OK);
    assert_true(now_s() - t0 < 1.0);
    audit_stats(f->a, &lines, &syncs);
    assert_int_equal(lines, 2);
    assert_int_equal(syncs, 2);
}

/* A leader with a second signature announced, still waiting for it after a pause. */
static void
start_waiting_leader(struct fixture *f, struct submitter *first)
{
    audit_group_wait(f->a, 0, 5000000);
    audit_expect(f->a);
    audit_expect(f->a);
    submitter_start(first, f->a, 1);
    sleep_ms(200);
    assert_int_equal(atomic_load(&first->done), 0);
}

static void
announced_record_joins_the_batch(void **state)
{
    struct fixture *f = *state;
    struct submitter first;
    unsigned long long lines, syncs;
    size_t before = file_lines(f->path);

    start_waiting_leader(f, &first);
    assert_int_equal(file_lines(f->path), before); /* nothing written yet */
    assert_int_equal(submit_one(f->a, 1, "second"), MP_OK);
    submitter_join(&first);
    assert_true(first.seconds < 2.5);
    audit_stats(f->a, &lines, &syncs);
    assert_int_equal(lines, 2);
    assert_int_equal(syncs, 1);
    assert_int_equal(file_lines(f->path), before + 2);
}

static void
withdrawn_announcement_ends_the_wait(void **state)
{
    struct fixture *f = *state;
    struct submitter first;

    start_waiting_leader(f, &first);
    audit_expect_cancel(f->a);
    submitter_join(&first);
    assert_true(first.seconds < 2.5);
}

static void
wait_is_bounded(void **state)
{
    struct fixture *f = *state;
    size_t before = file_lines(f->path);
    double t0;

    audit_group_wait(f->a, 0, 300000);
    audit_expect(f->a);
    audit_expect(f->a); /* never comes */
    t0 = now_s();
    assert_int_equal(submit_one(f->a, 1, "waits out the bound"), MP_OK);
    assert_true(now_s() - t0 >= 0.3);
    assert_int_equal(file_lines(f->path), before + 1);
    audit_expect_cancel(f->a);
}

static void
no_wait_up_to_the_threshold(void **state)
{
    struct fixture *f = *state;
    double t0;

    /* Two workers: one more signature under way is being made, not queued. */
    audit_group_wait(f->a, 1, 5000000);
    audit_expect(f->a);
    audit_expect(f->a);
    t0 = now_s();
    assert_int_equal(submit_one(f->a, 1, "first of two"), MP_OK);
    assert_true(now_s() - t0 < 2.0);
    assert_int_equal(submit_one(f->a, 1, "second of two"), MP_OK);
}

static void
unannounced_records_do_not_end_the_wait(void **state)
{
    struct fixture *f = *state;
    struct submitter first, refusal;
    unsigned long long lines, syncs;

    start_waiting_leader(f, &first);
    /* A refusal is not a signature: it queues behind the waiting leader, the wait goes on. */
    submitter_start(&refusal, f->a, 0);
    sleep_ms(100);
    assert_int_equal(atomic_load(&first.done), 0);
    assert_int_equal(atomic_load(&refusal.done), 0);
    assert_int_equal(submit_one(f->a, 1, "second"), MP_OK);
    submitter_join(&first);
    submitter_join(&refusal);
    audit_stats(f->a, &lines, &syncs);
    assert_int_equal(lines, 3);
    assert_int_equal(syncs, 1);
}

static atomic_int cp_signs;

static enum mp_err
count_sign(void *arg, const char *statement, unsigned char *sig, size_t *siglen,
    struct mp_errmsg *e)
{
    (void)arg;
    (void)statement;
    (void)e;
    atomic_fetch_add(&cp_signs, 1);
    memset(sig, 0xab, 32);
    *siglen = 32;
    return MP_OK;
}

/* A checkpoint every second, and the log cannot be written (a file-size limit makes write(2)
 * fail with EFBIG, as a full disk fails with ENOSPC). The ticker must not have the HSM sign
 * checkpoints that cannot be stored; once a record is written again, its checkpoint follows. */
static void
no_checkpoint_signed_while_the_log_is_broken(void **state)
{
    struct fixture *f = *state;
    struct audit_checkpointer cp = {count_sign, NULL, {0}, 1000, 1, NULL, NULL};
    struct mp_errmsg e = {{0}};
    struct rlimit old, lim;
    struct stat st;
    char path[128];
    struct audit *a;
    int before;

    memset(cp.key_sha256, 'a', 64);
    assert_non_null(cp.pub = EVP_RSA_gen(2048)); /* for the notes' key ID only */
    snprintf(path, sizeof(path), "%s/cp.log", f->dir);
    assert_int_equal(audit_open(path, &cp, &a, &e), MP_OK);
    EVP_PKEY_free(cp.pub);
    assert_int_equal(submit_one(a, 0, "first"), MP_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = (rlim_t)st.st_size + 8;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    assert_int_equal(submit_one(a, 0, "refused"), MP_ERR_IO);
    before = atomic_load(&cp_signs);
    sleep_ms(2500);
    assert_int_equal(atomic_load(&cp_signs), before);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(submit_one(a, 0, "writable again"), MP_OK);
    sleep_ms(2500);
    assert_true(atomic_load(&cp_signs) > before);
    audit_close(a);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lone_caller_never_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(announced_record_joins_the_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(withdrawn_announcement_ends_the_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(wait_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(no_wait_up_to_the_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(unannounced_records_do_not_end_the_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(no_checkpoint_signed_while_the_log_is_broken, setup,
            teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
