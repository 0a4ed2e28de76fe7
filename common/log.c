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

void
mp_log(enum mp_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (level > log_max)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One fprintf per line so concurrent threads never interleave inside a line. */
    if (log_journal)
        fprintf(stderr, "<%d>%s\n", (int)level, line);
    else
        fprintf(stderr, "%s: %s: %s\n", log_prog, level_name(level), line);
}
