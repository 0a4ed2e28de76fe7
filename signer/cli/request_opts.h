/* Options shared by mp-signer request and mp-signer bench: what to ask the signer for. */
#ifndef MP_REQUEST_OPTS_H
#define MP_REQUEST_OPTS_H

#include <stddef.h>

#include "common/frame.h"

struct request_opts {
    const char *socket, *profile, *scope, *consumer_org, *su_org, *su_ref, *lifetime;
    const char *obo; /* --on-behalf-of UID:GID[:PID[:EXE]] */
    const char *resources[FRAME_MAX_RESOURCES];
    size_t nresources;
    /* bench only */
    const char *requests, *concurrency, *config, *sync_file;
    /* the pid claim and an Altinn consent (id, from URN) */
    const char *person, *consent_id, *consent_from;
    int raw;
};

/* Parses argv; cmd "bench" also accepts --requests, --concurrency, --raw, --config and
 * --sync-file (with --raw only). Returns
 * MP_OK, MP_ERR_USAGE (the problem printed) or MP_ERR_HELP (the usage printed). */
enum mp_err request_opts_parse(const char *cmd, const char *usage, int argc, char **argv,
    struct request_opts *f);
/* Fills a SIGN frame; CLI_USAGE with a message when a value does not fit its field. */
int request_opts_frame(const struct request_opts *f, struct frame_msg *m);

#endif
