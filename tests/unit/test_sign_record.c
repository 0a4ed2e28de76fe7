/* signer/daemon/sign_record: the worst-case record (every field at its size limit, every byte
 * one that must be escaped) still fits one audit line, and escaped bytes read back as \xNN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/frame.h"
#include "common/json.h"
#include "signer/audit/audit_format.h"
#include "signer/daemon/sign_record.h"
#include "signer/signer_conf.h"

static char scope[sizeof(((struct frame_msg *)0)->scope)];
static char res[FRAME_MAX_RESOURCES][sizeof(((struct frame_msg *)0)->resources[0])];
static char ref[sizeof(((struct frame_msg *)0)->su_ref)], org[16], prof[64];
static char conf_str[3][SIGNER_CONF_STR_MAX + 1], reason[MP_ERRMSG_MAX];

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
        .systemuser_ref = ref};
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_record_worst_case_fits_a_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
