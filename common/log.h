/* One logger for every binary: stderr, one line per event, printf-checked. Under systemd
 * (JOURNAL_STREAM set) lines carry the "<N>" priority prefix journald understands. Never log a
 * PIN, a grant or a token: log their SHA-256 if anything. */
#ifndef MP_LOG_H
#define MP_LOG_H

#include <stddef.h>

enum mp_log_level {
    MP_LOG_ERR = 3,
    MP_LOG_WARN = 4,
    MP_LOG_INFO = 6,
    MP_LOG_DEBUG = 7,
};

void mp_log_init(const char *progname, enum mp_log_level max_level);
void mp_log_set_level(enum mp_log_level max_level);
int mp_log_enabled(enum mp_log_level level);
/* Copies in to out (outlen bytes, NUL included) with each C0 control byte, DEL and backslash
 * written as \xNN, so one event stays one line and the escape is unambiguous; cut at a whole
 * character. Returns the length written. mp_log applies it to every line. */
size_t mp_log_escape(char *out, size_t outlen, const char *in);
void mp_log(enum mp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define mp_error(...) mp_log(MP_LOG_ERR, __VA_ARGS__)
#define mp_warn(...) mp_log(MP_LOG_WARN, __VA_ARGS__)
#define mp_info(...) mp_log(MP_LOG_INFO, __VA_ARGS__)
#define mp_debug(...) mp_log(MP_LOG_DEBUG, __VA_ARGS__)

#endif
