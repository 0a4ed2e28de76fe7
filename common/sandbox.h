/* Confinement for the daemons once they are initialised: drop root, no_new_privs, and a seccomp
 * allowlist of the system calls serving needs. What is left out is what an attacker who got
 * code running inside the signer (a hostile PKCS#11 module, a parser bug) would reach for:
 * execve, fork, ptrace, mount, namespaces, kernel modules, bpf, setuid. */
#ifndef MP_SANDBOX_H
#define MP_SANDBOX_H

#include <stddef.h>
#include <stdio.h>

#include "common/conf.h"
#include "common/err.h"

enum mp_sandbox_mode {
    MP_SANDBOX_ENFORCE = 0, /* calls outside the list fail with EPERM */
    MP_SANDBOX_LOG = 1, /* allowed, and logged by the kernel: for bringing up a new HSM module */
    MP_SANDBOX_OFF = 2,
};

/* "enforce", "log" or "off" (a config's `sandbox =`) into *out, an enum mp_sandbox_mode. */
enum mp_err mp_sandbox_mode_parse(const char *s, int *out, struct mp_errmsg *e);
/* The config word for a mode: "enforce", "log", "off" (or "?"). */
const char *mp_sandbox_mode_name(int mode);

/* The sandbox = keyword of a config table (common/conf.h), on an int field f of struct st. */
#define MP_SANDBOX_KW(st, f)                                                \
    {                                                                       \
        .name = "sandbox", .type = MP_CONF_FUNC, .offset = offsetof(st, f), \
        .parse = mp_sandbox_kw_parse, .print = mp_sandbox_kw_print          \
    }
enum mp_err mp_sandbox_kw_parse(void *obj, const struct mp_conf_kw *kw, const char *value,
    struct mp_errmsg *e);
void mp_sandbox_kw_print(FILE *f, const void *obj, const struct mp_conf_kw *kw);

/* Running as root: become user (its primary group, no supplementary groups) for good, and check
 * root cannot be regained. No user is an error that names service_user as the fix: serving as
 * uid 0 must be asked for with user = root. Not root: nothing to do. */
enum mp_err mp_sandbox_drop_root(const char *user, const char *service_user, struct mp_errmsg *e);

/* Sets no_new_privs and loads the allowlist on every thread of the process (TSYNC). */
enum mp_err mp_sandbox_enter(enum mp_sandbox_mode mode, struct mp_errmsg *e);

#endif
