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

/* MP_ERR_PERM with the reason in why when the caller is not in allow_uids/allow_gids (primary
 * gid); MP_ERR_POLICY when the request is outside the profile: no scope, a scope not in
 * scopes, a resource not in resources, a consumer_org or system-user org not listed, a
 * lifetime over max_lifetime. */
enum mp_err policy_check(const struct signer_conf_profile *p, const struct peer *who,
    const struct grant_request *g, struct mp_errmsg *why);

/* True when some profile of c lets who in (allow_uids, allow_gids), or who is a trusted
 * forwarder: a caller no profile allows can get nothing but refusals, so it is given only a
 * few connection slots. */
bool policy_conf_allows(const struct signer_conf *c, const struct peer *who);

/* The "on behalf of" fields of a request, as sent ("" when absent). */
struct policy_obo {
    const char *uid, *gid, *pid, *exe;
};

/* The caller a request is decided for. Without OBO fields that is the peer itself (*end =
 * *peer, *forwarded false). With them, from a peer in trusted_forwarders, it is the end caller
 * they name (*forwarded true): the profile's allow_uids/allow_gids then apply to it alone.
 * MP_ERR_POLICY when the peer is not a trusted forwarder, MP_ERR_INVALID when the fields are
 * malformed (uid and gid are required); why says which. */
enum mp_err policy_end_caller(const struct signer_conf *c, const struct peer *peer,
    const struct policy_obo *obo, struct peer *end, bool *forwarded, struct mp_errmsg *why);

/* True when word is one of the whitespace-separated words of list (NULL list: false). */
int policy_list_has(const char *list, const char *word, size_t wlen);

#endif
