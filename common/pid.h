/* Norwegian national identity numbers (fødselsnummer, D-number, and the test environment's
 * synthetic numbers with month + 80): eleven digits, the last two mod-11 control digits. The
 * date part is not checked, so synthetic numbers pass. A pid is personal data: callers never
 * echo one in a message or a log. */
#ifndef MP_PID_H
#define MP_PID_H

#include <stdbool.h>

bool mp_pid_valid(const char *s);

/* Altinn's names for a party, as a consent's "from" carries them. */
#define MP_URN_PERSON "urn:altinn:person:identifier-no:"
#define MP_URN_ORG "urn:altinn:organization:identifier-no:"

/* True for MP_URN_PERSON + a valid pid, or MP_URN_ORG + a valid organisation number. */
bool mp_party_urn_valid(const char *urn);

#endif
