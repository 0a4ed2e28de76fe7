/* The anchor relay process and its pipe (audit_relay.h). */
#include "signer/audit/audit_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

/* A frame is a 4-byte length and the note; pipes write at most PIPE_BUF bytes whole. */
#define FRAME_MAX PIPE_BUF
#define RELAY_FD 3

struct audit_relay {
    int fd; /* write end, O_NONBLOCK */
    pid_t pid;
    unsigned long dropped;
};

static long long
now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* In the program's child: the note on stdin, stdout to the journal like stderr. */
static void
program_exec(const char *command, int in)
{
    sigset_t none;
    char path[PATH_MAX];
    char *argv[2];

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* a blocked mask would outlive execve */
    if (dup2(in, STDIN_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        _exit(126);
    close_range(3, ~0U, 0);
    snprintf(path, sizeof(path), "%s", command); /* execv's argv is not const */
    argv[0] = path;
    argv[1] = NULL;
    execv(path, argv);
    _exit(127);
}

/* Writes the note, then waits for the program until the deadline; kills it after. */
static void
program_run(const char *command, unsigned int timeout_s, const char *note, size_t len)
{
    long long deadline = now_ms() + (long long)timeout_s * 1000;
    int p[2], status = 0;
    pid_t pid, w = 0;

    if (pipe2(p, O_CLOEXEC) != 0)
        return;
    if ((pid = fork()) == 0)
        program_exec(command, p[0]);
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        mp_error("anchor_command %s: cannot fork: %s", command, strerror(errno));
        return;
    }
    signal(SIGPIPE, SIG_IGN);
    if (write(p[1], note, len) != (ssize_t)len)
        mp_warn("anchor_command %s did not read the whole checkpoint", command);
    close(p[1]);
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
        poll(NULL, 0, 20);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        mp_warn("anchor_command %s killed after %u s: a checkpoint was not shipped", command,
            timeout_s);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        mp_warn("anchor_command %s failed (%s %d): a checkpoint was not shipped", command,
            WIFEXITED(status) ? "exit status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static int
read_full(int fd, void *buf, size_t len)
{
    unsigned char *p = buf;
    ssize_t k;

    while (len > 0) {
        if ((k = read(fd, p, len)) < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

/* The relay: one note at a time until the signer closes the pipe. */
static void __attribute__((noreturn)) relay_main(const char *command, unsigned int timeout_s)
{
    char note[FRAME_MAX];
    uint32_t len;

    for (;;) {
        if (read_full(RELAY_FD, &len, sizeof(len)) != 0 || len == 0 || len >= sizeof(note) ||
            read_full(RELAY_FD, note, len) != 0)
            _exit(0);
        program_run(command, timeout_s, note, len);
    }
}

enum mp_err
audit_relay_start(const char *command, unsigned int timeout_s, struct audit_relay **out,
    struct mp_errmsg *e)
{
    struct audit_relay *r = calloc(1, sizeof(*r));
    int p[2];

    if (r == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if (access(command, X_OK) != 0) {
        free(r);
        return mp_errf(e, MP_ERR_INVALID, "anchor_command %s: %s", command, strerror(errno));
    }
    if (pipe2(p, O_CLOEXEC) != 0 || (r->pid = fork()) < 0) {
        free(r);
        return mp_errf(e, MP_ERR_IO, "anchor_command: cannot start its relay: %s", strerror(errno));
    }
    if (r->pid == 0) {
        if (dup2(p[0], RELAY_FD) < 0)
            _exit(1);
        close_range(RELAY_FD + 1, ~0U, 0);
        relay_main(command, timeout_s);
    }
    close(p[0]);
    r->fd = p[1];
    fcntl(r->fd, F_SETFL, O_NONBLOCK);
    *out = r;
    return MP_OK;
}

void
audit_relay_send(struct audit_relay *r, const char *note)
{
    char frame[FRAME_MAX];
    uint32_t len = (uint32_t)strlen(note);

    if (len + sizeof(len) > sizeof(frame)) {
        mp_warn("anchor_command: a checkpoint of %u bytes is too long to relay", len);
        return;
    }
    memcpy(frame, &len, sizeof(len));
    memcpy(frame + sizeof(len), note, len);
    if (write(r->fd, frame, len + sizeof(len)) != (ssize_t)(len + sizeof(len)))
        mp_warn("anchor_command: checkpoint not relayed (%s; %lu so far): the program is "
                "slower than checkpoints come, or its relay is gone",
            errno == EAGAIN ? "its queue is full" : strerror(errno), ++r->dropped);
}

void
audit_relay_stop(struct audit_relay *r)
{
    if (r == NULL)
        return;
    close(r->fd);
    waitpid(r->pid, NULL, 0);
    free(r);
}
