/* Dropping root, no_new_privs and the seccomp allowlist of the daemons (sandbox.h). */
#include "common/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/log.h"

enum mp_err
mp_sandbox_mode_parse(const char *s, int *out, struct mp_errmsg *e)
{
    if (strcmp(s, "enforce") == 0)
        *out = MP_SANDBOX_ENFORCE;
    else if (strcmp(s, "log") == 0)
        *out = MP_SANDBOX_LOG;
    else if (strcmp(s, "off") == 0)
        *out = MP_SANDBOX_OFF;
    else
        return mp_errf(e, MP_ERR_INVALID, "sandbox must be enforce, log or off");
    return MP_OK;
}

const char *
mp_sandbox_mode_name(int mode)
{
    return mode == MP_SANDBOX_ENFORCE ? "enforce"
        : mode == MP_SANDBOX_LOG      ? "log"
        : mode == MP_SANDBOX_OFF      ? "off"
                                      : "?";
}

enum mp_err
mp_sandbox_kw_parse(void *obj, const struct mp_conf_kw *kw, const char *value, struct mp_errmsg *e)
{
    return mp_sandbox_mode_parse(value, mp_conf_field(obj, kw), e);
}

void
mp_sandbox_kw_print(FILE *f, const void *obj, const struct mp_conf_kw *kw)
{
    const int *mode = mp_conf_cfield(obj, kw);

    mp_conf_print_value(f, kw->name, mp_sandbox_mode_name(*mode));
}

enum mp_err
mp_sandbox_drop_root(const char *user, const char *service_user, struct mp_errmsg *e)
{
    struct passwd *pw;

    if (geteuid() != 0 && getuid() != 0)
        return MP_OK;
    /* Serving as uid 0 by accident is the worst default there is: it must be asked for. */
    if (user == NULL || *user == '\0')
        return mp_errf(e, MP_ERR_INVALID,
            "started as root without `user`: set `user = %s` to drop root, or `user = root` "
            "to run as root on purpose",
            service_user);
    if ((pw = getpwnam(user)) == NULL)
        return mp_errf(e, MP_ERR_INVALID, "user %.64s does not exist", user);
    if (pw->pw_uid == 0) {
        if (strcmp(user, "root") != 0)
            return mp_errf(e, MP_ERR_INVALID, "user %.64s has uid 0: say `user = root`", user);
        return MP_OK; /* mp_sandbox_enter warns, once start-up has worked */
    }
    if (setgroups(0, NULL) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
        setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
        return mp_errf(e, MP_ERR_PERM, "cannot become user %.64s: %s", user, strerror(errno));
    if (setresuid(0, 0, 0) == 0)
        return mp_errf(e, MP_ERR_PERM, "root could be regained after dropping it");
    mp_info("dropped root: running as %s (uid %u)", user, (unsigned int)pw->pw_uid);
    return MP_OK;
}

/* What serving needs: I/O on descriptors and files (the token's store, the audit log, the PIN
 * file on reload, CA files), sockets (a network HSM, upstream HTTPS, the callers), memory,
 * threads, time, signals and randomness. */
static const char *const allowed[] = {"read", "write", "readv", "writev", "pread64", "pwrite64",
    "preadv", "pwritev", "lseek", "close", "openat", "open", "newfstatat", "fstat", "stat", "lstat",
    "statx", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "fcntl",
    "dup", "dup2", "dup3", "pipe2", "flock", "fsync", "fdatasync", "ftruncate", "link", "linkat",
    "rename", "renameat", "renameat2", "unlink", "unlinkat", "mkdir", "mkdirat", "fchmod", "umask",
    "statfs", "fstatfs", "getcwd", "ioctl", "mmap", "munmap", "mprotect", "mremap", "brk",
    "madvise", "mlock", "munlock", "mincore", "futex", "set_robust_list", "get_robust_list", "rseq",
    "set_tid_address", "exit", "exit_group", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
    "rt_sigtimedwait", "sigaltstack", "tgkill", "tkill", "getpid", "gettid", "clock_gettime",
    "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep", "sched_yield",
    "sched_getaffinity", "getrandom", "poll", "ppoll", "select", "pselect6", "epoll_create1",
    "epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2", "socket", "socketpair", "connect",
    "accept", "accept4", "bind", "listen", "getsockname", "getpeername", "getsockopt", "setsockopt",
    "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getuid",
    "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "uname", "prlimit64",
    "getrlimit", "sysinfo", "restart_syscall", "membarrier"};

#ifdef __SANITIZE_ADDRESS__
/* Sanitizer builds (scripts/test.sh) only: at exit LeakSanitizer stops the world from a task it
 * clones with CLONE_VM|CLONE_UNTRACED (not a thread, not a fork) and ptraces every thread.
 * The list is what `sandbox = log` showed in dmesg for an ASan signer's exit. */
static enum mp_err
sanitizer_rules(scmp_filter_ctx ctx, struct mp_errmsg *e)
{
    const scmp_datum_t lsan = CLONE_VM | CLONE_UNTRACED;

    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
            SCMP_A0(SCMP_CMP_MASKED_EQ, lsan, lsan)) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ptrace), 0) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(wait4), 0) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getppid), 0) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getdents), 0) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 0) != 0)
        return mp_errf(e, MP_ERR_INVALID, "seccomp: cannot add the sanitizer rules");
    return MP_OK;
}
#else
static enum mp_err
sanitizer_rules(scmp_filter_ctx ctx, struct mp_errmsg *e)
{
    (void)ctx;
    (void)e;
    return MP_OK;
}
#endif

static enum mp_err
add_rules(scmp_filter_ctx ctx, struct mp_errmsg *e)
{
    size_t i;
    int nr;
    enum mp_err r;

    for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        /* A name this architecture lacks (open, stat on arm64) is simply not there to allow. */
        if ((nr = seccomp_syscall_resolve_name(allowed[i])) == __NR_SCMP_ERROR)
            continue;
        if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
            return mp_errf(e, MP_ERR_INVALID, "seccomp: cannot allow %s", allowed[i]);
    }
    /* Threads only: clone without CLONE_THREAD would be a new process. clone3 hides its flags
     * in memory a filter cannot read, so it answers ENOSYS and glibc falls back to clone. */
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
            SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0)
        return mp_errf(e, MP_ERR_INVALID, "seccomp: cannot add the clone rules");
    if ((r = sanitizer_rules(ctx, e)) != MP_OK)
        return r;
    /* Thread names only: prctl could otherwise make the process dumpable again. */
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
            SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)) != 0)
        return mp_errf(e, MP_ERR_INVALID, "seccomp: cannot add the prctl rule");
    return MP_OK;
}

enum mp_err
mp_sandbox_enter(enum mp_sandbox_mode mode, struct mp_errmsg *e)
{
    scmp_filter_ctx ctx = NULL;
    enum mp_err r = MP_OK;

    if (geteuid() == 0)
        mp_warn("running as root (user = root): every bug is root's; set `user` to drop it");
    if (mode == MP_SANDBOX_OFF) {
        mp_warn("sandbox = off: no seccomp filter");
        return MP_OK;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return mp_errf(e, MP_ERR_PERM, "cannot set no_new_privs: %s", strerror(errno));
    if ((ctx = seccomp_init(mode == MP_SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM))) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "seccomp: cannot create a filter");
    if ((r = add_rules(ctx, e)) != MP_OK)
        goto out;
    /* Every thread already running (signing workers, the audit ticker) gets the same filter. */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 || seccomp_load(ctx) != 0) {
        r = mp_errf(e, MP_ERR_PERM, "seccomp: the kernel refused the filter");
        goto out;
    }
    mp_info("sandbox: no_new_privs and a seccomp allowlist of %zu system calls (%s)",
        sizeof(allowed) / sizeof(allowed[0]) + 2, mode == MP_SANDBOX_LOG ? "log" : "enforce");
out:
    seccomp_release(ctx);
    return r;
}
