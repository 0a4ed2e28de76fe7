/* The exchange's request parser: key=value pairs as libmicrohttpd hands them over. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/token_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct token_req q;
    struct mp_errmsg e;
    char *text = malloc(size + 1), *pair, *save = NULL, *eq, key[4096];

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    memset(&q, 0, sizeof(q));
    for (pair = strtok_r(text, "&", &save); pair != NULL; pair = strtok_r(NULL, "&", &save)) {
        if ((eq = strchr(pair, '=')) == NULL)
            continue;
        *eq = '\0';
        token_req_set(&q, pair, eq + 1, &e);
    }
    if (token_req_finish(&q, &e) == MP_OK)
        token_req_key(&q, key, sizeof(key));
    free(text);
    return 0;
}
