/* Norwegian organisation number check digits (orgno.h). */
#include "common/orgno.h"

#include <string.h>

bool
mp_orgno_valid(const char *s)
{
    static const int weight[8] = {3, 2, 7, 6, 5, 4, 3, 2};
    int i, sum = 0, check;

    if (s == NULL || strlen(s) != 9)
        return false;
    for (i = 0; i < 9; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    for (i = 0; i < 8; i++)
        sum += (s[i] - '0') * weight[i];
    check = 11 - sum % 11;
    if (check == 11)
        check = 0;
    /* A remainder giving 10 means no valid number has these eight digits. */
    return check != 10 && check == s[8] - '0';
}
