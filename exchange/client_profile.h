/* --append-profile of mp-exchange client create: reads the signer config to refuse an unusable
 * one before anything is registered, then appends the new client's [profile NAME] (copying the
 * admin profile's key unless --profile-key names one) by writing a temp file beside it and
 * renaming it over the file. */
#ifndef MP_CLIENT_PROFILE_H
#define MP_CLIENT_PROFILE_H

#include "common/err.h"
#include "exchange/client_opts.h"

/* What the signer config says, for --append-profile. */
struct client_profile {
    int exists; /* [profile NAME] for the new name is there already */
    char key[1024]; /* the key URI the new profile gets */
};

/* o->append must exist, hold no [profile o->profile_name], and give the new profile a key. */
enum mp_err client_profile_check(const struct client_opts *o, struct client_profile *p,
    struct mp_errmsg *e);
/* Appends the profile for client id, re-checking the file as it is now; env is test|prod. */
enum mp_err client_profile_append(const struct client_opts *o, const char *env,
    const struct client_profile *p, const char *id, struct mp_errmsg *e);

#endif
