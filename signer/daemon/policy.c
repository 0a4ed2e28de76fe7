/* Per-profile policy: which caller may ask for which scopes, resources and orgs (policy.h). */
#include "signer/daemon/policy.h"

#include <string.h>

int
policy_list_has(const char *list, const char *word, size_t wlen)
{
    const char *p = list, *start;

    if (list == NULL)
        return 0;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t')
            p++;
        for (start = p; *p != '\0' && *p != ' ' && *p != '\t'; p++)
            ;
        if ((size_t)(p - start) == wlen && wlen > 0 && memcmp(start, word, wlen) == 0)
            return 1;
    }
    return 0;
}

static int
caller_allowed(const struct signer_conf_profile *p, const struct peer *who)
{
    size_t i;

    for (i = 0; i < p->nuids; i++)
        if (p->uids[i] == who->uid)
            return 1;
    for (i = 0; i < p->ngids; i++)
        if (p->gids[i] == who->gid)
            return 1;
    return 0;
}

bool
policy_conf_allows(const struct signer_conf *c, const struct peer *who)
{
    size_t i;

    for (i = 0; i < c->nprofiles; i++)
        if (caller_allowed(c->profiles[i], who))
            return true;
    return false;
}

/* Every space-separated scope asked for must be one the profile allows. */
static enum mp_err
scopes_allowed(const struct signer_conf_profile *p, const char *scope, struct mp_errmsg *why)
{
    const char *s = scope, *start;

    while (*s != '\0') {
        while (*s == ' ' || *s == '\t')
            s++;
        for (start = s; *s != '\0' && *s != ' ' && *s != '\t'; s++)
            ;
        if (s > start && !policy_list_has(p->scopes, start, (size_t)(s - start)))
            return mp_errf(why, MP_ERR_POLICY, "scope %.*s is not allowed for profile %s",
                (int)(s - start > 128 ? 128 : s - start), start, p->name);
    }
    return MP_OK;
}

enum mp_err
policy_check(const struct signer_conf_profile *p, const struct peer *who,
    const struct grant_request *g, struct mp_errmsg *why)
{
    size_t i;

    if (!caller_allowed(p, who))
        return mp_errf(why, MP_ERR_POLICY, "uid %u gid %u may not use profile %s",
            (unsigned int)who->uid, (unsigned int)who->gid, p->name);
    if (g->scope == NULL || *g->scope == '\0')
        return mp_errf(why, MP_ERR_POLICY, "no scope asked for");
    if (scopes_allowed(p, g->scope, why) != MP_OK)
        return MP_ERR_POLICY;
    for (i = 0; i < g->nresources; i++)
        if (!policy_list_has(p->resources, g->resources[i], strlen(g->resources[i])))
            return mp_errf(why, MP_ERR_POLICY, "resource %.128s is not allowed for profile %s",
                g->resources[i], p->name);
    if (g->consumer_org != NULL &&
        !policy_list_has(p->consumer_orgs, g->consumer_org, strlen(g->consumer_org)))
        return mp_errf(why, MP_ERR_POLICY, "consumer_org %.16s is not allowed for profile %s",
            g->consumer_org, p->name);
    if (g->systemuser_org != NULL &&
        !policy_list_has(p->systemuser_orgs, g->systemuser_org, strlen(g->systemuser_org)))
        return mp_errf(why, MP_ERR_POLICY, "system-user org %.16s is not allowed for profile %s",
            g->systemuser_org, p->name);
    if (g->lifetime > p->max_lifetime)
        return mp_errf(why, MP_ERR_POLICY, "lifetime %u s exceeds max_lifetime %u s of profile %s",
            g->lifetime, p->max_lifetime, p->name);
    return MP_OK;
}
