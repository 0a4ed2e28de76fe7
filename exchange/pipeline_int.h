/* Between the pipeline's stages: pipeline.c (Maskinporten, Altinn) asks pipeline_signer.c
 * for a grant. Not for use outside them. */
#ifndef MP_PIPELINE_INT_H
#define MP_PIPELINE_INT_H

#include <stddef.h>

#include "exchange/pipeline.h"

/* One grant from the signer for q into jws (jwslen bytes); err says what to answer if not. */
enum mp_err pipeline_signer_grant(struct pipeline *f, const struct token_req *q, char *jws,
    size_t jwslen, struct xerr *err);

#endif
