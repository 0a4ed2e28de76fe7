/* National identity number control digits (pid.h). */
#include "common/pid.h"

#include <string.h>

#include "common/orgno.h"

/* 11 - (sum mod 11), 11 giving 0; 10 means no valid number has these digits (-1). */
static int
control(const char *s, const int *w, int n)
{
    int i, sum = 0, k;

    for (i = 0; i < n; i++)
        sum += (s[i] - '0') * w[i];
    k = 11 - sum % 11;
    return k == 11 ? 0 : k == 10 ? -1 : k;
}

bool
mp_pid_valid(const char *s)
{
    static const int w1[9] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
    static const int w2[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
    int i;

    if (s == NULL || strlen(s) != 11)
        return false;
    for (i = 0; i < 11; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return control(s, w1, 9) == s[9] - '0' && control(s, w2, 10) == s[10] - '0';
}

bool
mp_party_urn_valid(const char *urn)
{
    size_t np = strlen(MP_URN_PERSON), no = strlen(MP_URN_ORG);

    if (urn == NULL)
        return false;
    if (strncmp(urn, MP_URN_PERSON, np) == 0)
        return mp_pid_valid(urn + np);
    return strncmp(urn, MP_URN_ORG, no) == 0 && mp_orgno_valid(urn + no);
}
