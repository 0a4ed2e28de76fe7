/* The logger: level filter, journald prefix, and escaping of every byte that could forge a line. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *log_prog = "mp";
static enum mp_log_level log_max = MP_LOG_INFO;
static int log_journal;

void
mp_log_init(const char *progname, enum mp_log_level max_level)
{
    log_prog = progname;
    log_max = max_level;
    log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
mp_log_set_level(enum mp_log_level max_level)
{
    log_max = max_level;
}

int
mp_log_enabled(enum mp_log_level level)
{
    return level <= log_max;
}

static const char *
level_name(enum mp_log_level level)
{
    switch (level) {
    case MP_LOG_ERR: return "error";
    case MP_LOG_WARN: return "warning";
    case MP_LOG_INFO: return "info";
    case MP_LOG_DEBUG: return "debug";
    }
    return "log";
}

size_t
mp_log_escape(char *out, size_t outlen, const char *in)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    const unsigned char *p;

    if (outlen == 0)
        return 0;
    for (p = (const unsigned char *)in; *p != '\0'; p++) {
        if (*p >= 0x20 && *p != 0x7f && *p != '\\') {
            if (n + 1 >= outlen)
                break;
            out[n++] = (char)*p;
            continue;
        }
        if (n + 4 >= outlen) /* never half an escape */
            break;
        out[n++] = '\\';
        out[n++] = 'x';
        out[n++] = hex[*p >> 4];
        out[n++] = hex[*p & 0xf];
    }
    out[n] = '\0';
    return n;
}

void
mp_log(enum mp_log_level level, const char *fmt, ...)
{
    char line[1024], safe[4 * sizeof(line)];
    va_list ap;

    if (level > log_max)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* Arguments come from requests and upstream answers: a newline in one would start a line
     * of its own, and "<2>" after it a forged journal priority. */
    mp_log_escape(safe, sizeof(safe), line);
    /* One fprintf per line so concurrent threads never interleave inside a line. */
    if (log_journal)
        fprintf(stderr, "<%d>%s\n", (int)level, safe);
    else
        fprintf(stderr, "%s: %s: %s\n", log_prog, level_name(level), safe);
}
