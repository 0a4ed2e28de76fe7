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
#include <stdio.h>

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

/* The keyword tables on top of the tokenizer (sshd's servconf keyword table, `sshd -T`): one
 * entry per key says where its value lands in the caller's struct and how it is checked, so
 * reading, range errors and --print-config-style output all come from the same table. */
enum mp_conf_type {
    MP_CONF_STR = 1, /* char *, replaced by each line (mp_conf_set_str); max: length, 0 any */
    MP_CONF_LIST, /* char *, space-separated words: a comma is refused */
    MP_CONF_UINT, /* unsigned int in min..max: "key must be MIN..MAX[unit]" */
    MP_CONF_MODE, /* unsigned int, an octal file mode such as 0660 */
    MP_CONF_FUNC, /* parse and print callbacks: enums, repeatable and multi-field keys */
};

struct mp_conf_kw;

/* obj is the struct the table describes (its field at kw->offset for one-field keys). */
typedef enum mp_err (*mp_conf_parse_fn)(void *obj, const struct mp_conf_kw *kw, const char *value,
    struct mp_errmsg *e);
/* Writes this key's "key = value" lines (none, one, or one per repeated value); NULL as a
 * keyword's print means an alias that another key prints (env = sets aud =). */
typedef void (*mp_conf_print_fn)(FILE *f, const void *obj, const struct mp_conf_kw *kw);

struct mp_conf_kw {
    const char *name;
    enum mp_conf_type type;
    size_t offset;
    unsigned int min, max; /* MP_CONF_UINT; max also bounds an MP_CONF_STR's length */
    const char *unit; /* appended to the range message: " seconds"; NULL: none */
    mp_conf_parse_fn parse; /* MP_CONF_FUNC only */
    mp_conf_print_fn print; /* MP_CONF_FUNC only */
    int repeat; /* may appear more than once in a section (module_env); else a repeat is an error */
};

/* Entries for the field f of struct st, the key spelled like the field; a table ends with
 * MP_CONF_END. Other entries are written out with designated initializers. */
#define MP_CONF_KW(st, f, kind)                               \
    {                                                         \
        .name = #f, .type = (kind), .offset = offsetof(st, f) \
    }
#define MP_CONF_UINT_KW(st, f, lo, hi, unit_)                                                  \
    {                                                                                          \
        .name = #f, .type = MP_CONF_UINT, .offset = offsetof(st, f), .min = (lo), .max = (hi), \
        .unit = (unit_)                                                                        \
    }
#define MP_CONF_STR_KW(st, f, maxlen)                                               \
    {                                                                               \
        .name = #f, .type = MP_CONF_STR, .offset = offsetof(st, f), .max = (maxlen) \
    }
/* yes|no into an int field (1|0). */
enum mp_err mp_conf_yesno(void *obj, const struct mp_conf_kw *kw, const char *v,
    struct mp_errmsg *e);
void mp_conf_yesno_print(FILE *f, const void *obj, const struct mp_conf_kw *kw);
#define MP_CONF_YESNO_KW(st, f)                                                              \
    {                                                                                        \
        .name = #f, .type = MP_CONF_FUNC, .offset = offsetof(st, f), .parse = mp_conf_yesno, \
        .print = mp_conf_yesno_print                                                         \
    }
#define MP_CONF_END  \
    {                \
        .name = NULL \
    }

/* A file's layout: global keys, then optional [KIND NAME] sections of one kind. */
struct mp_conf_schema {
    const struct mp_conf_kw *global;
    const char *kind; /* "profile", "client"; NULL: the file takes no sections */
    const struct mp_conf_kw *section;
    /* Finds or adds the section object called name in obj; an error with e set if it cannot. A
     * second [KIND NAME] header for the same name is refused before it is called. */
    enum mp_err (*open)(void *obj, const char *name, void **section, struct mp_errmsg *e);
    /* The i-th section object and its name, NULL past the last: for mp_conf_print. */
    const void *(*at)(const void *obj, size_t i, const char **name);
    const char *hint; /* appended to "unknown section [x]: "; NULL: none */
};

#define MP_CONF_MAX_SECTIONS 64

/* Reads a file or text into obj by the schema. Errors are "label:LINE: ..." and include
 * unknown setting "x", "x must be MIN..MAX", duplicate [KIND NAME] and a comma in a list. */
enum mp_err mp_conf_load_file(const char *path, const struct mp_conf_schema *s, void *obj,
    struct mp_errmsg *e);
enum mp_err mp_conf_load_text(const char *text, size_t len, const char *label,
    const struct mp_conf_schema *s, void *obj, struct mp_errmsg *e);
/* Sets one global key as a line of the file would (command-line flags use it too). */
enum mp_err mp_conf_set(const struct mp_conf_kw *table, void *obj, const char *key,
    const char *value, struct mp_errmsg *e);
/* Prints obj as a config file: every keyword of the tables in order, one "key = value" a line,
 * unset ones as "# key =", then one [KIND NAME] block per section. Secrets are never in a
 * table's values (a pin_file is a path), so nothing is redacted here. */
void mp_conf_print(FILE *f, const struct mp_conf_schema *s, const void *obj);
/* The field of obj that kw describes (for MP_CONF_FUNC callbacks). */
void *mp_conf_field(void *obj, const struct mp_conf_kw *kw);
const void *mp_conf_cfield(const void *obj, const struct mp_conf_kw *kw);
/* "name = value", or "# name =" for NULL: how an unset key prints. */
void mp_conf_print_value(FILE *f, const char *name, const char *value);
/* "PROG config check --config FILE" (argv[0] is "config"), sshd -T for both daemons: reads
 * FILE into obj (a fresh object with its defaults; NULL: out of memory) by s, runs check if
 * not NULL (errors without a line get "FILE: "), prints obj with mp_conf_print. Returns the
 * exit code: 0 valid and printed, 1 "PROG: error: FILE:LINE: ..." on stderr, 2 usage. */
int mp_conf_check_cmd(const char *prog, const char *usage, int argc, char **argv,
    const struct mp_conf_schema *s, void *obj,
    enum mp_err (*check)(const void *obj, struct mp_errmsg *e));
/* Replaces *slot with a copy of value; MP_ERR_NOMEM (*slot unchanged) if out of memory. */
enum mp_err mp_conf_set_str(char **slot, const char *value);

#endif
