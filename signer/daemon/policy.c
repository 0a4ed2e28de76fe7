/* Per-profile policy: which caller may ask for which scopes, resources and orgs (policy.h). */
#include "signer/daemon/policy.h"

#include <stdio.h>
#include <string.h>

#include "common/num.h"

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

static bool
forwarder_trusted(const struct signer_conf *c, uid_t uid)
{
    size_t i;

    for (i = 0; i < c->nforwarders; i++)
        if (c->forwarders[i] == uid)
            return true;
    return false;
}

bool
policy_conf_allows(const struct signer_conf *c, const struct peer *who)
{
    size_t i;

    if (forwarder_trusted(c, who->uid))
        return true;
    for (i = 0; i < c->nprofiles; i++)
        if (caller_allowed(c->profiles[i], who))
            return true;
    return false;
}

static enum mp_err
obo_id(const char *field, const char *v, uint64_t max, uint64_t *out, struct mp_errmsg *why)
{
    if (mp_parse_u64(v, 0, max, out) != MP_OK)
        return mp_errf(why, MP_ERR_INVALID, "on-behalf-of %s must be a number 0..%llu", field,
            (unsigned long long)max);
    return MP_OK;
}

enum mp_err
policy_end_caller(const struct signer_conf *c, const struct peer *peer,
    const struct policy_obo *obo, struct peer *end, bool *forwarded, struct mp_errmsg *why)
{
    uint64_t uid, gid, pid = 0;

    *end = *peer;
    *forwarded = false;
    if (!obo->uid[0] && !obo->gid[0] && !obo->pid[0] && !obo->exe[0])
        return MP_OK;
    if (!forwarder_trusted(c, peer->uid))
        return mp_errf(why, MP_ERR_POLICY,
            "uid %u is not a trusted forwarder: refused to sign on behalf of uid %.11s",
            (unsigned int)peer->uid, obo->uid[0] ? obo->uid : "(none)");
    if (!obo->uid[0] || !obo->gid[0])
        return mp_errf(why, MP_ERR_INVALID, "on-behalf-of needs both uid and gid");
    /* 0xfffffffe at most: (uid_t)-1 means "no user" to the kernel. */
    if (obo_id("uid", obo->uid, 0xfffffffeu, &uid, why) != MP_OK ||
        obo_id("gid", obo->gid, 0xfffffffeu, &gid, why) != MP_OK ||
        (obo->pid[0] && obo_id("pid", obo->pid, 0x7fffffff, &pid, why) != MP_OK))
        return MP_ERR_INVALID;
    end->uid = (uid_t)uid;
    end->gid = (gid_t)gid;
    end->pid = (pid_t)pid;
    snprintf(end->exe, sizeof(end->exe), "%s", obo->exe[0] ? obo->exe : "?");
    *forwarded = true;
    return MP_OK;
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
        return mp_errf(why, MP_ERR_PERM, "uid %u gid %u may not use profile %s",
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
    if (g->person != NULL && !p->allow_pid)
        return mp_errf(why, MP_ERR_POLICY, "profile %s does not allow pid (allow_pid)", p->name);
    if (g->consent_id != NULL && !p->allow_consent)
        return mp_errf(why, MP_ERR_POLICY, "profile %s does not allow consents (allow_consent)",
            p->name);
    if (g->lifetime > p->max_lifetime)
        return mp_errf(why, MP_ERR_POLICY, "lifetime %u s exceeds max_lifetime %u s of profile %s",
            g->lifetime, p->max_lifetime, p->name);
    return MP_OK;
}
