/* Norwegian national identity numbers (fødselsnummer, D-number, and the test environment's
 * synthetic numbers with month + 80): eleven digits, the last two mod-11 control digits. The
 * date part is not checked, so synthetic numbers pass. A pid is personal data: callers never
 * echo one in a message or a log. */
#ifndef MP_PID_H
#define MP_PID_H

#include <stdbool.h>

bool mp_pid_valid(const char *s);

#endif
