/* The configuration file syntax shared by mp-signer and mp-exchange:
 *
 *     # comment (whole lines only)
 *     key = value
 *     [profile NAME]
 *     key = value
 *
 * Values run to the end of the line, trimmed. The tokenizer knows no keywords: it hands each
 * (section, name, key, value) to a callback holding the caller's keyword table, and prefixes
 * any error with "file:line: ". */
#ifndef MP_CONF_H
#define MP_CONF_H

#include <stddef.h>

#include "common/err.h"

#define MP_CONF_MAX_FILE (1024 * 1024)
#define MP_CONF_MAX_LINE 4096

/* section and name are "" before the first [section] header. A header line itself comes with
 * key and value NULL, so the callback can refuse an unknown section at its line. */
typedef enum mp_err (*mp_conf_cb)(void *arg, const char *section, const char *name, const char *key,
    const char *value, struct mp_errmsg *e);

enum mp_err mp_conf_parse_file(const char *path, mp_conf_cb cb, void *arg, struct mp_errmsg *e);
enum mp_err mp_conf_parse_text(const char *text, size_t len, const char *label, mp_conf_cb cb,
    void *arg, struct mp_errmsg *e);

#endif
