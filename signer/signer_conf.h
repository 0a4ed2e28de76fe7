/* mp-signer configuration: global settings and [profile NAME] sections. Like sshd's
 * ServerOptions this is a public data model: the parser fills it, the rest reads it.
 *
 *     module      = /usr/lib/softhsm/libsofthsm2.so
 *     module_env  = SOFTHSM2_CONF=/var/lib/mp/softhsm2.conf   (repeatable)
 *     pin_file    = /etc/mp-signer/pin
 *     [profile default]
 *     key         = pkcs11:token=mp-dev;object=virksomhetssertifikat;type=private
 *     client_id   = 2b6c…
 *     env         = test            (or aud = https://…/)
 *     scopes      = altinn:serviceowner/instances.read
 */
#ifndef MP_SIGNER_CONF_H
#define MP_SIGNER_CONF_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/conf.h"
#include "common/err.h"
#include "common/secret.h"
#include "signer/grant/grant_claims.h"
#include "signer/grant/jws.h"

#define SIGNER_CONF_MAX_PROFILES 64
#define SIGNER_CONF_MAX_ENV 8
#define SIGNER_CONF_MAX_IDS 32
/* key, client_id and aud go into every audit line: bounded so the longest line fits. */
#define SIGNER_CONF_STR_MAX 2048

struct signer_conf_profile {
    char name[64];
    char *key; /* PKCS#11 URI of the signing key */
    char *client_id;
    char *aud; /* from env= or aud= */
    char *scopes; /* allowed scopes; the default scope of a one-shot grant */
    char *kid; /* header kid instead of x5c */
    char *chain; /* PEM intermediates appended to x5c */
    enum jws_alg alg;
    unsigned int lifetime; /* default grant lifetime */
    unsigned int max_lifetime; /* the most a caller may ask for */
    char *resources; /* allowed resources, space-separated */
    char *consumer_orgs; /* allowed consumer_org values, space-separated */
    char *systemuser_orgs; /* allowed system-user orgs, space-separated */
    int allow_pid; /* a caller may put a person's number in the grant (pid) */
    int allow_consent; /* a caller may name an Altinn consent (authorization_details) */
    uid_t uids[SIGNER_CONF_MAX_IDS];
    size_t nuids;
    gid_t gids[SIGNER_CONF_MAX_IDS];
    size_t ngids;
};

struct signer_conf {
    char *module;
    char *module_init_args;
    char *module_env[SIGNER_CONF_MAX_ENV];
    size_t nmodule_env;
    char *pin_file;
    char *socket;
    unsigned int socket_mode;
    char *socket_group;
    char *audit_log;
    char *audit_key;
    char *audit_origin; /* checkpoint notes' origin for a new log (audit_format.h) */
    unsigned int audit_rotate_bytes; /* 0: no rotation by size */
    unsigned int audit_rotate_interval; /* seconds; 0: no rotation by age */
    char *anchor_command; /* run with each checkpoint note on stdin (audit_relay.h) */
    unsigned int anchor_timeout; /* seconds */
    unsigned int workers; /* signing workers, one session each; default: online CPUs */
    char *user; /* started as root: become this user before touching the token */
    int sandbox; /* enum mp_sandbox_mode: enforce (default), log, off */
    /* Peers whose "on behalf of" fields are believed (mp-exchange's uid); default none. */
    uid_t forwarders[SIGNER_CONF_MAX_IDS];
    size_t nforwarders;
    /* The secret the audit log's marks of personal numbers are keyed with (audit_person.h),
     * read when the file is loaded; required by allow_pid and allow_consent. */
    char *audit_person_key_file;
    struct mp_secret *person_key;
    struct signer_conf_profile *profiles[SIGNER_CONF_MAX_PROFILES];
    size_t nprofiles;
};

struct signer_conf *signer_conf_new(void);
void signer_conf_free(struct signer_conf *c);
/* Parses a file into c; unknown keys, bad values and duplicate profiles are errors with
 * file:line. */
enum mp_err signer_conf_load(struct signer_conf *c, const char *path, struct mp_errmsg *e);
enum mp_err signer_conf_load_text(struct signer_conf *c, const char *text, const char *label,
    struct mp_errmsg *e);
/* What load checks beyond the file's syntax, for config check (mp_conf_check_cmd): a profile
 * with allow_pid or allow_consent has a readable audit_person_key_file. */
enum mp_err signer_conf_check(const void *obj, struct mp_errmsg *e);
/* The profile with this name, or NULL. */
struct signer_conf_profile *signer_conf_profile(struct signer_conf *c, const char *name);
/* Adds an empty profile with defaults; NULL if full or out of memory. */
struct signer_conf_profile *signer_conf_profile_add(struct signer_conf *c, const char *name);

/* "test" → https://test.maskinporten.no/, "prod" → https://maskinporten.no/, else NULL. */
const char *signer_conf_env_aud(const char *env);
/* Writes the effective configuration (defaults filled in) in the file's own syntax, one
 * "key = value" a line, profiles as [profile NAME] blocks (mp-signer config check). */
void signer_conf_print(FILE *f, const struct signer_conf *c);
/* The keyword tables behind load and print (common/conf.h), for mp-signer config check. */
extern const struct mp_conf_schema signer_conf_schema;
/* Applies module_env entries with setenv(3) before the module is loaded. */
enum mp_err signer_conf_apply_module_env(const struct signer_conf *c, struct mp_errmsg *e);

#endif
