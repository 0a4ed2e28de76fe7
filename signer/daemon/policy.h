/* What a caller may ask of a profile. Callers are identified by SO_PEERCRED, never by what they
 * claim; aud, iss, iat, exp and jti are never the caller's to choose. */
#ifndef MP_POLICY_H
#define MP_POLICY_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"
#include "signer/grant/grant_claims.h"
#include "signer/signer_conf.h"

struct peer {
    uid_t uid;
    gid_t gid;
    pid_t pid;
    char exe[256]; /* "?" when unreadable */
};

/* MP_ERR_POLICY with the reason in why when the request is outside the profile: caller not in
 * allow_uids/allow_gids (primary gid), a scope not in scopes, a resource not in resources, a
 * consumer_org or system-user org not listed, a lifetime over max_lifetime. */
enum mp_err policy_check(const struct signer_conf_profile *p, const struct peer *who,
    const struct grant_request *g, struct mp_errmsg *why);

/* True when some profile of c lets who in (allow_uids, allow_gids): a caller no profile allows
 * can get nothing but refusals, so it is given only a few connection slots. */
bool policy_conf_allows(const struct signer_conf *c, const struct peer *who);

/* True when word is one of the whitespace-separated words of list (NULL list: false). */
int policy_list_has(const char *list, const char *word, size_t wlen);

#endif
