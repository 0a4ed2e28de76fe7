/* A PKCS#11 module that forwards to a real one (SoftHSM) and injects faults, for tests of
 * recovery paths real tokens only show on a bad day: a removed device, a lost session, a
 * wrong or locked PIN, a hung C_Sign.
 *
 *   P11FAULT_MODULE   the real module (required)
 *   P11FAULT_CONTROL  a file of rules, re-read whenever it changes; empty or absent = no faults
 *   P11FAULT_LOG      optional: one line per intercepted call ("C_Login CKR_OK")
 *
 * A rule is one line:  FUNCTION|*  CKR_NAME|0xHEX|OK  [after=N] [times=M] [hang=SECONDS]
 * "after=N" lets the first N matching calls through; "times=M" fails M calls then stops (0 or
 * absent: until the rule is removed); "hang=S" sleeps S seconds before answering (with OK, the
 * real call follows the sleep); "escape=1" makes the module try what a hostile module would,
 * fork(2) and execve(2) of /bin/true, and log how each ended ("escape fork=EPERM execve=EPERM"):
 * the signer's seccomp filter must refuse both. "corrupt=1" on C_Sign with OK flips one bit of
 * the real signature, as a faulty token would: the signer must not release it. "*" matches every intercepted function except C_Initialize,
 * C_Finalize and C_GetFunctionList, so a "token gone" rule leaves the library loadable. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define MAX_RULES 16

struct rule {
    char fn[48];
    CK_RV rv;
    unsigned long after, times, seen, fired;
    unsigned int hang, escape, corrupt;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static CK_FUNCTION_LIST_PTR real;
static CK_FUNCTION_LIST ours;
static struct rule rules[MAX_RULES];
static size_t nrules;
static struct timespec rules_mtime;
static off_t rules_size;

static const struct {
    const char *name;
    CK_RV rv;
} names[] = {
    {"OK", CKR_OK},
    {"CKR_OK", CKR_OK},
    {"CKR_GENERAL_ERROR", CKR_GENERAL_ERROR},
    {"CKR_FUNCTION_FAILED", CKR_FUNCTION_FAILED},
    {"CKR_DEVICE_ERROR", CKR_DEVICE_ERROR},
    {"CKR_DEVICE_MEMORY", CKR_DEVICE_MEMORY},
    {"CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED},
    {"CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT},
    {"CKR_SESSION_HANDLE_INVALID", CKR_SESSION_HANDLE_INVALID},
    {"CKR_SESSION_CLOSED", CKR_SESSION_CLOSED},
    {"CKR_SESSION_COUNT", CKR_SESSION_COUNT},
    {"CKR_PIN_INCORRECT", CKR_PIN_INCORRECT},
    {"CKR_PIN_LOCKED", CKR_PIN_LOCKED},
    {"CKR_PIN_EXPIRED", CKR_PIN_EXPIRED},
    {"CKR_USER_NOT_LOGGED_IN", CKR_USER_NOT_LOGGED_IN},
    {"CKR_KEY_HANDLE_INVALID", CKR_KEY_HANDLE_INVALID},
    {"CKR_OBJECT_HANDLE_INVALID", CKR_OBJECT_HANDLE_INVALID},
    {"CKR_MECHANISM_INVALID", CKR_MECHANISM_INVALID},
};

static int
parse_rv(const char *s, CK_RV *rv)
{
    size_t i;
    char *end = NULL;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *rv = names[i].rv;
            return 1;
        }
    if (strncmp(s, "0x", 2) == 0) {
        *rv = strtoul(s, &end, 16);
        return end != NULL && *end == '\0';
    }
    return 0;
}

static void
parse_opt(struct rule *r, const char *tok)
{
    unsigned long v = strtoul(strchr(tok, '=') + 1, NULL, 10);

    if (strncmp(tok, "after=", 6) == 0)
        r->after = v;
    else if (strncmp(tok, "times=", 6) == 0)
        r->times = v;
    else if (strncmp(tok, "hang=", 5) == 0)
        r->hang = (unsigned int)v;
    else if (strncmp(tok, "escape=", 7) == 0)
        r->escape = (unsigned int)v;
    else if (strncmp(tok, "corrupt=", 8) == 0)
        r->corrupt = (unsigned int)v;
}

static void
parse_line(char *line)
{
    struct rule r;
    char *tok, *save = NULL;

    memset(&r, 0, sizeof(r));
    if ((tok = strtok_r(line, " \t\n", &save)) == NULL || *tok == '#' || nrules == MAX_RULES)
        return;
    snprintf(r.fn, sizeof(r.fn), "%s", tok);
    if ((tok = strtok_r(NULL, " \t\n", &save)) == NULL || !parse_rv(tok, &r.rv))
        return;
    while ((tok = strtok_r(NULL, " \t\n", &save)) != NULL)
        if (strchr(tok, '=') != NULL)
            parse_opt(&r, tok);
    rules[nrules++] = r;
}

/* Re-reads the control file when its size or mtime changed (called with mu held). */
static void
rules_refresh(void)
{
    const char *path = getenv("P11FAULT_CONTROL");
    struct stat st;
    char line[256];
    FILE *f;

    if (path == NULL || stat(path, &st) != 0) {
        nrules = 0;
        return;
    }
    if (st.st_mtim.tv_sec == rules_mtime.tv_sec && st.st_mtim.tv_nsec == rules_mtime.tv_nsec &&
        st.st_size == rules_size)
        return;
    rules_mtime = st.st_mtim;
    rules_size = st.st_size;
    nrules = 0;
    if ((f = fopen(path, "re")) == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL)
        parse_line(line);
    fclose(f);
}

static void
log_call(const char *fn, CK_RV rv)
{
    const char *path = getenv("P11FAULT_LOG");
    FILE *f;

    if (path != NULL && (f = fopen(path, "ae")) != NULL) {
        fprintf(f, "%s 0x%lx\n", fn, (unsigned long)rv);
        fclose(f);
    }
}

static const char *
errno_name(int err)
{
    return err == 0 ? "ALLOWED" : err == EPERM ? "EPERM" : err == EACCES ? "EACCES" : "OTHER";
}

/* What a hostile module would do: start a process. Both attempts must be refused. */
static void
escape_attempt(void)
{
    static char prog[] = "/bin/true";
    char *argv[] = {prog, NULL}, *envp[] = {NULL};
    const char *path = getenv("P11FAULT_LOG");
    int fork_err = 0, exec_err;
    pid_t pid = fork();
    FILE *f;

    if (pid == 0)
        _exit(0);
    if (pid < 0)
        fork_err = errno;
    else
        waitpid(pid, NULL, 0);
    execve(argv[0], argv, envp); /* returns only when refused */
    exec_err = errno;
    if (path != NULL && (f = fopen(path, "ae")) != NULL) {
        fprintf(f, "escape fork=%s execve=%s\n", errno_name(fork_err), errno_name(exec_err));
        fclose(f);
    }
}

/* 1 with *rv set when a rule fires for fn; sleeps first when the rule says hang; *corrupt
 * (when asked for) says whether the real call's output is to be damaged. */
static int
fault(const char *fn, CK_RV *rv, unsigned int *corrupt)
{
    struct rule *r = NULL;
    unsigned int hang = 0, escape = 0;
    int fire = 0;
    size_t i;

    pthread_mutex_lock(&mu);
    rules_refresh();
    for (i = 0; i < nrules && r == NULL; i++)
        if (strcmp(rules[i].fn, fn) == 0 || strcmp(rules[i].fn, "*") == 0)
            r = &rules[i];
    if (r != NULL && r->seen++ >= r->after && (r->times == 0 || r->fired < r->times)) {
        r->fired++;
        hang = r->hang;
        escape = r->escape;
        if (corrupt != NULL)
            *corrupt = r->corrupt;
        *rv = r->rv;
        fire = r->rv != CKR_OK;
    }
    pthread_mutex_unlock(&mu);
    if (hang > 0)
        sleep(hang);
    if (escape)
        escape_attempt();
    return fire;
}

#define FWD(NAME, PARAMS, ARGS)       \
    static CK_RV w_##NAME PARAMS      \
    {                                 \
        CK_RV rv = CKR_OK;            \
        if (!fault(#NAME, &rv, NULL)) \
            rv = real->NAME ARGS;     \
        log_call(#NAME, rv);          \
        return rv;                    \
    }

FWD(C_GetSlotList, (CK_BBOOL p, CK_SLOT_ID_PTR l, CK_ULONG_PTR n), (p, l, n))
FWD(C_GetTokenInfo, (CK_SLOT_ID s, CK_TOKEN_INFO_PTR i), (s, i))
FWD(C_OpenSession, (CK_SLOT_ID s, CK_FLAGS f, CK_VOID_PTR a, CK_NOTIFY n, CK_SESSION_HANDLE_PTR h),
    (s, f, a, n, h))
FWD(C_Login, (CK_SESSION_HANDLE h, CK_USER_TYPE u, CK_UTF8CHAR_PTR p, CK_ULONG l), (h, u, p, l))
FWD(C_FindObjectsInit, (CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG n), (h, t, n))
FWD(C_GetAttributeValue, (CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n),
    (h, o, t, n))
FWD(C_SignInit, (CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k), (h, m, k))

static CK_RV
w_C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR s, CK_ULONG_PTR sl)
{
    CK_RV rv = CKR_OK;
    unsigned int corrupt = 0;

    if (!fault("C_Sign", &rv, &corrupt)) {
        rv = real->C_Sign(h, d, dl, s, sl);
        if (rv == CKR_OK && corrupt && s != NULL && *sl > 0)
            s[*sl / 2] ^= 0x01;
    }
    log_call("C_Sign", rv);
    return rv;
}
FWD(C_GetMechanismList, (CK_SLOT_ID s, CK_MECHANISM_TYPE_PTR l, CK_ULONG_PTR n), (s, l, n))

static CK_RV
w_C_Initialize(CK_VOID_PTR args)
{
    CK_RV rv = real->C_Initialize(args);

    log_call("C_Initialize", rv);
    return rv;
}

static CK_RV
w_C_Finalize(CK_VOID_PTR r)
{
    CK_RV rv = real->C_Finalize(r);

    log_call("C_Finalize", rv);
    return rv;
}

static CK_RV
load_real(void)
{
    const char *path = getenv("P11FAULT_MODULE");
    CK_C_GetFunctionList get;
    void *dl;

    if (real != NULL)
        return CKR_OK;
    if (path == NULL || (dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
        return CKR_GENERAL_ERROR;
    *(void **)(&get) = dlsym(dl, "C_GetFunctionList");
    if (get == NULL || get(&real) != CKR_OK)
        return CKR_GENERAL_ERROR;
    ours = *real;
    ours.C_Initialize = w_C_Initialize;
    ours.C_Finalize = w_C_Finalize;
    ours.C_GetSlotList = w_C_GetSlotList;
    ours.C_GetTokenInfo = w_C_GetTokenInfo;
    ours.C_OpenSession = w_C_OpenSession;
    ours.C_Login = w_C_Login;
    ours.C_FindObjectsInit = w_C_FindObjectsInit;
    ours.C_GetAttributeValue = w_C_GetAttributeValue;
    ours.C_SignInit = w_C_SignInit;
    ours.C_Sign = w_C_Sign;
    ours.C_GetMechanismList = w_C_GetMechanismList;
    return CKR_OK;
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
    CK_RV rv;

    pthread_mutex_lock(&mu);
    rv = load_real();
    pthread_mutex_unlock(&mu);
    if (rv == CKR_OK)
        *out = &ours;
    return rv;
}
