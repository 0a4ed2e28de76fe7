/* The config parser with the signer's keyword table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signer/signer_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct signer_conf *c = signer_conf_new();
    struct mp_errmsg e;
    char *text = malloc(size + 1);

    if (c != NULL && text != NULL) {
        memcpy(text, data, size);
        text[size] = '\0';
        signer_conf_load_text(c, text, "fuzz", &e);
    }
    free(text);
    signer_conf_free(c);
    return 0;
}
