/* Keyed marks of personal identity numbers (audit_person.h). */
#include "signer/audit/audit_person.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "signer/audit/audit_writer.h"

static void
hex(const unsigned char *b, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

void
audit_person_mark(const struct mp_secret *key, const char *pid, char out[AUDIT_PERSON_MARK_MAX])
{
    unsigned char mac[32];
    unsigned int maclen = 0;
    char idhex[65], machex[65];

    if (key == NULL ||
        HMAC(EVP_sha256(), mp_secret_data(key), (int)mp_secret_len(key), (const unsigned char *)pid,
            strlen(pid), mac, &maclen) == NULL ||
        maclen != 32) {
        snprintf(out, AUDIT_PERSON_MARK_MAX, "withheld (no audit_person_key_file)");
        return;
    }
    audit_sha256_hex(mp_secret_data(key), mp_secret_len(key), idhex);
    hex(mac, 32, machex);
    explicit_bzero(mac, sizeof(mac));
    snprintf(out, AUDIT_PERSON_MARK_MAX, "hmac-sha256:%.16s:%s", idhex, machex);
}
