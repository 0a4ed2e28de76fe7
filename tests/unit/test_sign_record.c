/* signer/daemon/sign_record: the worst-case record (every field at its size limit, every byte
 * one that must be escaped) still fits one audit line, and escaped bytes read back as \xNN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/frame.h"
#include "common/json.h"
#include "signer/audit/audit_format.h"
#include "signer/audit/audit_person.h"
#include "signer/daemon/sign_record.h"
#include "signer/signer_conf.h"

static char scope[sizeof(((struct frame_msg *)0)->scope)];
static char res[FRAME_MAX_RESOURCES][sizeof(((struct frame_msg *)0)->resources[0])];
static char ref[sizeof(((struct frame_msg *)0)->su_ref)], org[16], prof[64];
static char conf_str[3][SIGNER_CONF_STR_MAX + 1], reason[MP_ERRMSG_MAX];
static char person[sizeof(((struct frame_msg *)0)->person)];
static char cid[sizeof(((struct frame_msg *)0)->consent_id)];
static char cfrom[sizeof(((struct frame_msg *)0)->consent_from)];

static void
fill(char *s, size_t size)
{
    memset(s, 0xff, size - 1);
    s[size - 1] = '\0';
}

static void
sign_record_worst_case_fits_a_line(void **state)
{
    struct peer who = {.uid = 4294967294u, .gid = 4294967294u, .pid = 2147483647};
    struct grant_request g = {.scope = scope,
        .nresources = FRAME_MAX_RESOURCES,
        .consumer_org = org,
        .systemuser_org = org,
        .systemuser_ref = ref,
        .person = person,
        .consent_id = cid,
        .consent_from = cfrom};
    struct grant_info info = {.jti = "0b7c2a4e-0000-4000-8000-000000000001",
        .iat = 9223372036854775807LL,
        .exp = 9223372036854775807LL};
    struct sign_record r = {.outcome = "refused",
        .reason = reason,
        .who = &who,
        .profile = prof,
        .client_id = conf_str[0],
        .key = conf_str[1],
        .cert_sha256 = NULL,
        .g = &g,
        .info = &info};
    char *line;
    json_t *rec;
    size_t i;

    (void)state;
    fill(scope, sizeof(scope));
    fill(ref, sizeof(ref));
    fill(person, sizeof(person));
    fill(cid, sizeof(cid));
    fill(cfrom, sizeof(cfrom));
    fill(org, sizeof(org));
    fill(prof, sizeof(prof));
    fill(reason, sizeof(reason));
    fill(who.exe, sizeof(who.exe));
    for (i = 0; i < 3; i++)
        fill(conf_str[i], sizeof(conf_str[i]));
    for (i = 0; i < FRAME_MAX_RESOURCES; i++) {
        fill(res[i], sizeof(res[i]));
        g.resources[i] = res[i];
    }
    g.aud = conf_str[2];
    assert_non_null(rec = sign_record_build(&r));
    assert_non_null(line = mp_json_dumps(rec, JSON_COMPACT));
    assert_true(strlen(line) < AUDIT_MAX_LINE);
    assert_non_null(strstr(line, "\"systemuser_ref\":\"\\\\xff\\\\xff"));
    free(line);
    json_decref(rec);
}

/* A pid, and a person a consent is from, reach the record only as their keyed marks. */
static void
sign_record_marks_people(void **state)
{
    char path[] = "/tmp/mp-sign-record-key.XXXXXX", mark[AUDIT_PERSON_MARK_MAX];
    struct peer who = {.uid = 1, .gid = 1, .pid = 1, .exe = "/x"};
    struct grant_request g = {.scope = "a:b",
        .person = "21818297804",
        .consent_id = "77ed8698-e619-4066-9eb4-5c1eb3f165a1",
        .consent_from = "urn:altinn:person:identifier-no:03867199348"};
    struct grant_info info = {.jti = ""};
    struct sign_record r =
        {.outcome = "refused", .reason = "r", .who = &who, .profile = "p", .g = &g, .info = &info};
    struct mp_errmsg e = {{0}};
    struct mp_secret *key = NULL;
    int fd = mkstemp(path);
    char *line;
    json_t *rec;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789abcdef0123\n", 21), 21);
    close(fd);
    assert_int_equal(mp_secret_read_file(path, &key, &e), MP_OK);
    unlink(path);
    r.person_key = key;
    assert_non_null(rec = sign_record_build(&r));
    assert_non_null(line = mp_json_dumps(rec, JSON_COMPACT));
    assert_null(strstr(line, "21818297804"));
    assert_null(strstr(line, "03867199348"));
    audit_person_mark(key, "21818297804", mark);
    assert_non_null(strstr(line, mark));
    audit_person_mark(key, "03867199348", mark);
    assert_non_null(strstr(line, mark));
    assert_non_null(strstr(line, "\"consent_id\":\"77ed8698-e619-4066-9eb4-5c1eb3f165a1\""));
    free(line);
    json_decref(rec);
    /* Without the key, only the fact is recorded. */
    r.person_key = NULL;
    assert_non_null(rec = sign_record_build(&r));
    assert_non_null(line = mp_json_dumps(rec, JSON_COMPACT));
    assert_null(strstr(line, "21818297804"));
    assert_non_null(strstr(line, "\"pid\":\"withheld (no audit_person_key_file)\""));
    free(line);
    json_decref(rec);
    mp_secret_free(key);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_record_worst_case_fits_a_line),
        cmocka_unit_test(sign_record_marks_people),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
