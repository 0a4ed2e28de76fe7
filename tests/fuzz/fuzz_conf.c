/* The config parser with the signer's keyword tables, and printing back what it accepted. */
#include <stdint.h>
#include <stdio.h>
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
    static char out[64 * 1024];
    FILE *f;

    if (c != NULL && text != NULL) {
        memcpy(text, data, size);
        text[size] = '\0';
        if (signer_conf_load_text(c, text, "fuzz", &e) == MP_OK &&
            (f = fmemopen(out, sizeof(out), "w")) != NULL) {
            signer_conf_print(f, c);
            fclose(f);
        }
    }
    free(text);
    signer_conf_free(c);
    return 0;
}
