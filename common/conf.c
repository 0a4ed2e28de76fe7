/* The config tokenizer and the keyword tables that read, check and print each key (conf.h). */
#include "common/conf.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/num.h"

struct conf_state {
    char section[64];
    char name[128];
};

static char *
trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

static int
is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
        c == '-' || c == '.';
}

static int
is_word(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!is_word_char(*s))
            return 0;
    return 1;
}

/* "[kind name]" or "[kind]"; both words restricted to [A-Za-z0-9_.-]. */
static enum mp_err
conf_section(struct conf_state *st, char *line, struct mp_errmsg *e)
{
    char *end = strchr(line, ']');
    char *kind, *sp;
    const char *name;

    if (end == NULL || trim(end + 1)[0] != '\0')
        return mp_errf(e, MP_ERR_PARSE, "section header must look like [profile NAME]");
    *end = '\0';
    kind = trim(line + 1);
    name = "";
    if ((sp = strpbrk(kind, " \t")) != NULL) {
        *sp = '\0';
        name = trim(sp + 1);
    }
    if (!is_word(kind) || (*name != '\0' && !is_word(name)))
        return mp_errf(e, MP_ERR_PARSE, "section header must look like [profile NAME]");
    if (strlen(kind) >= sizeof(st->section) || strlen(name) >= sizeof(st->name))
        return mp_errf(e, MP_ERR_PARSE, "section name too long");
    snprintf(st->section, sizeof(st->section), "%s", kind);
    snprintf(st->name, sizeof(st->name), "%s", name);
    return MP_OK;
}

static enum mp_err
conf_line(struct conf_state *st, char *line, mp_conf_cb cb, void *arg, struct mp_errmsg *e)
{
    char *eq, *key, *value;

    line = trim(line);
    if (*line == '\0' || *line == '#')
        return MP_OK;
    if (*line == '[') {
        enum mp_err r = conf_section(st, line, e);

        /* The keyword table sees the header too, so an unknown section fails at its line. */
        return r != MP_OK ? r : cb(arg, st->section, st->name, NULL, NULL, e);
    }
    if ((eq = strchr(line, '=')) == NULL)
        return mp_errf(e, MP_ERR_PARSE, "expected \"key = value\"");
    *eq = '\0';
    key = trim(line);
    value = trim(eq + 1);
    if (!is_word(key))
        return mp_errf(e, MP_ERR_PARSE, "bad key \"%.64s\"", key);
    return cb(arg, st->section, st->name, key, value, e);
}

enum mp_err
mp_conf_parse_text(const char *text, size_t len, const char *label, mp_conf_cb cb, void *arg,
    struct mp_errmsg *e)
{
    struct conf_state st = {{0}, {0}};
    char line[MP_CONF_MAX_LINE + 1];
    size_t pos = 0, n;
    const char *nl;
    unsigned long lineno = 0;
    enum mp_err r;

    while (pos < len) {
        lineno++;
        nl = memchr(text + pos, '\n', len - pos);
        n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        if (n > MP_CONF_MAX_LINE)
            return mp_errf(e, MP_ERR_PARSE, "%s:%lu: line longer than %d bytes", label, lineno,
                MP_CONF_MAX_LINE);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        if (memchr(line, '\0', n) != NULL)
            return mp_errf(e, MP_ERR_PARSE, "%s:%lu: NUL byte in line", label, lineno);
        if ((r = conf_line(&st, line, cb, arg, e)) != MP_OK) {
            mp_err_prefix(e, "%s:%lu", label, lineno);
            return r;
        }
        pos += n + (nl != NULL ? 1 : 0);
    }
    return MP_OK;
}

enum mp_err
mp_conf_parse_file(const char *path, mp_conf_cb cb, void *arg, struct mp_errmsg *e)
{
    struct mp_buf *b = NULL;
    char why[MP_ERRMSG_MAX];
    enum mp_err r;

    if ((r = mp_buf_read_file(path, MP_CONF_MAX_FILE, &b, NULL, e)) != MP_OK) {
        if (r != MP_ERR_NOMEM && e != NULL) { /* "config PATH: why", as before */
            snprintf(why, sizeof(why), "%s", e->text);
            mp_errf(e, r, "config %s", why);
        }
        return r;
    }
    r = mp_conf_parse_text(mp_buf_str(b), mp_buf_len(b), path, cb, arg, e);
    mp_buf_free(b);
    return r;
}

/* The keyword tables. */

enum mp_err
mp_conf_set_str(char **slot, const char *value)
{
    char *v = strdup(value);

    if (v == NULL)
        return MP_ERR_NOMEM;
    free(*slot);
    *slot = v;
    return MP_OK;
}

void *
mp_conf_field(void *obj, const struct mp_conf_kw *kw)
{
    return (char *)obj + kw->offset;
}

const void *
mp_conf_cfield(const void *obj, const struct mp_conf_kw *kw)
{
    return (const char *)obj + kw->offset;
}

static const struct mp_conf_kw *
kw_find(const struct mp_conf_kw *t, const char *key)
{
    for (; t->name != NULL; t++)
        if (strcmp(t->name, key) == 0)
            return t;
    return NULL;
}

/* "scopes = a, b" would otherwise reach the policy as the scope "a," and fail there, far from
 * the line that caused it. */
static enum mp_err
kw_list(const struct mp_conf_kw *kw, void *obj, const char *value, struct mp_errmsg *e)
{
    if (strchr(value, ',') != NULL)
        return mp_errf(e, MP_ERR_INVALID, "%s is a space-separated list: no commas", kw->name);
    return mp_conf_set_str(mp_conf_field(obj, kw), value);
}

static enum mp_err
kw_uint(const struct mp_conf_kw *kw, void *obj, const char *value, struct mp_errmsg *e)
{
    unsigned int *slot = mp_conf_field(obj, kw);
    uint64_t v;

    if (mp_parse_u64(value, kw->min, kw->max, &v) != MP_OK)
        return mp_errf(e, MP_ERR_INVALID, "%s must be %u..%u%s", kw->name, kw->min, kw->max,
            kw->unit != NULL ? kw->unit : "");
    *slot = (unsigned int)v;
    return MP_OK;
}

static enum mp_err
kw_apply(const struct mp_conf_kw *kw, void *obj, const char *value, struct mp_errmsg *e)
{
    switch (kw->type) {
    case MP_CONF_STR:
        if (kw->max != 0 && strlen(value) > kw->max)
            return mp_errf(e, MP_ERR_INVALID, "%s is longer than %u bytes", kw->name, kw->max);
        return mp_conf_set_str(mp_conf_field(obj, kw), value);
    case MP_CONF_LIST: return kw_list(kw, obj, value, e);
    case MP_CONF_UINT: return kw_uint(kw, obj, value, e);
    case MP_CONF_MODE:
        return mp_parse_mode(value, mp_conf_field(obj, kw)) == MP_OK
            ? MP_OK
            : mp_errf(e, MP_ERR_INVALID, "%s must be octal such as 0660", kw->name);
    case MP_CONF_FUNC: return kw->parse(obj, kw, value, e);
    }
    return mp_errf(e, MP_ERR_INVALID, "%s: bad keyword table", kw->name);
}

/* kind is "" for the global keys, else the section kind: "unknown profile setting". */
static enum mp_err
kw_set(const struct mp_conf_kw *t, void *obj, const char *kind, const char *key, const char *value,
    struct mp_errmsg *e)
{
    const struct mp_conf_kw *kw = kw_find(t, key);
    enum mp_err r;

    if (kw == NULL)
        return mp_errf(e, MP_ERR_PARSE, "unknown %s%ssetting \"%.64s\"", kind, *kind ? " " : "",
            key);
    if ((r = kw_apply(kw, obj, value, e)) == MP_ERR_NOMEM)
        mp_errf(e, r, "out of memory");
    return r;
}

enum mp_err
mp_conf_set(const struct mp_conf_kw *table, void *obj, const char *key, const char *value,
    struct mp_errmsg *e)
{
    return kw_set(table, obj, "", key, value, e);
}

/* One file or text being read: the section open now and those opened so far. */
struct conf_load {
    const struct mp_conf_schema *s;
    void *obj;
    void *cur;
    const void *opened[MP_CONF_MAX_SECTIONS];
    size_t nopened;
    /* Which keys each section (and, last, the global part) has set, by table index. */
    uint64_t seen[MP_CONF_MAX_SECTIONS + 1];
};

/* A second "key =" in one section would silently override the first (two allow_uids lines,
 * the second one an edit meant to replace nothing): refused, unless the key repeats by design. */
static enum mp_err
load_once(struct conf_load *l, const struct mp_conf_kw *t, const char *key, struct mp_errmsg *e)
{
    const struct mp_conf_kw *kw = kw_find(t, key);
    uint64_t *seen =
        &l->seen[l->nopened == 0 || t == l->s->global ? MP_CONF_MAX_SECTIONS : l->nopened - 1];
    size_t i = kw != NULL ? (size_t)(kw - t) : 64;

    if (i >= 64 || kw->repeat)
        return MP_OK;
    if (*seen & ((uint64_t)1 << i))
        return mp_errf(e, MP_ERR_PARSE,
            "%s is set twice here; one line a setting (the second "
            "would silently override the first)",
            key);
    *seen |= (uint64_t)1 << i;
    return MP_OK;
}

/* A second header for the same name would silently merge into, and override, the first. */
static enum mp_err
load_section(struct conf_load *l, const char *section, const char *name, struct mp_errmsg *e)
{
    const struct mp_conf_schema *s = l->s;
    void *sec = NULL;
    enum mp_err r;
    size_t i;

    if (s->kind == NULL || strcmp(section, s->kind) != 0 || *name == '\0')
        return mp_errf(e, MP_ERR_PARSE, "unknown section [%.32s%s%.64s]%s%s", section,
            *name ? " " : "", name, s->hint != NULL ? ": " : "", s->hint != NULL ? s->hint : "");
    if ((r = s->open(l->obj, name, &sec, e)) != MP_OK)
        return r;
    for (i = 0; i < l->nopened; i++)
        if (l->opened[i] == sec)
            return mp_errf(e, MP_ERR_PARSE, "duplicate [%s %s]", s->kind, name);
    if (l->nopened == MP_CONF_MAX_SECTIONS)
        return mp_errf(e, MP_ERR_INVALID, "at most %d [%s] sections", MP_CONF_MAX_SECTIONS,
            s->kind);
    l->opened[l->nopened++] = sec;
    l->cur = sec;
    return MP_OK;
}

static enum mp_err
load_cb(void *arg, const char *section, const char *name, const char *key, const char *value,
    struct mp_errmsg *e)
{
    struct conf_load *l = arg;

    const struct mp_conf_kw *t = *section == '\0' ? l->s->global : l->s->section;
    enum mp_err r;

    if (key == NULL)
        return load_section(l, section, name, e);
    if ((r = load_once(l, t, key, e)) != MP_OK)
        return r;
    if (*section == '\0')
        return kw_set(t, l->obj, "", key, value, e);
    return kw_set(t, l->cur, l->s->kind, key, value, e);
}

enum mp_err
mp_conf_load_text(const char *text, size_t len, const char *label, const struct mp_conf_schema *s,
    void *obj, struct mp_errmsg *e)
{
    struct conf_load l = {.s = s, .obj = obj};

    return mp_conf_parse_text(text, len, label, load_cb, &l, e);
}

enum mp_err
mp_conf_load_file(const char *path, const struct mp_conf_schema *s, void *obj, struct mp_errmsg *e)
{
    struct conf_load l = {.s = s, .obj = obj};

    return mp_conf_parse_file(path, load_cb, &l, e);
}

void
mp_conf_print_value(FILE *f, const char *name, const char *value)
{
    if (value == NULL)
        fprintf(f, "# %s =\n", name);
    else
        fprintf(f, "%s = %s\n", name, value);
}

static void
kw_print(FILE *f, const struct mp_conf_kw *kw, const void *obj)
{
    const void *field = mp_conf_cfield(obj, kw);
    const char *const *str = field;
    const unsigned int *u = field;

    switch (kw->type) {
    case MP_CONF_STR:
    case MP_CONF_LIST: mp_conf_print_value(f, kw->name, *str); break;
    case MP_CONF_UINT: fprintf(f, "%s = %u\n", kw->name, *u); break;
    case MP_CONF_MODE: fprintf(f, "%s = %04o\n", kw->name, *u); break;
    case MP_CONF_FUNC:
        if (kw->print != NULL)
            kw->print(f, obj, kw);
        break;
    }
}

void
mp_conf_print(FILE *f, const struct mp_conf_schema *s, const void *obj)
{
    const struct mp_conf_kw *kw;
    const char *name;
    const void *sec;
    size_t i;

    for (kw = s->global; kw->name != NULL; kw++)
        kw_print(f, kw, obj);
    for (i = 0; s->at != NULL && (sec = s->at(obj, i, &name)) != NULL; i++) {
        fprintf(f, "\n[%s %s]\n", s->kind, name);
        for (kw = s->section; kw->name != NULL; kw++)
            kw_print(f, kw, sec);
    }
}

static const struct option check_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum mp_err
check_args(const char *prog, const char *usage, int argc, char **argv, const char **path)
{
    int o;

    *path = NULL;
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return MP_ERR_HELP;
    }
    if (argc < 2 || strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "%s config: expected \"check\"\n%s", prog, usage);
        return MP_ERR_USAGE;
    }
    opterr = 0;
    optind = 0; /* a fresh scan: getopt may have run before in this process */
    while ((o = getopt_long(argc - 1, argv + 1, ":c:h", check_opts, NULL)) != -1) {
        if (o == 'c')
            *path = optarg;
        else if (o == 'h') {
            fputs(usage, stdout);
            return MP_ERR_HELP;
        } else {
            fprintf(stderr, "%s config check: %s %s\n%s", prog,
                o == ':' ? "missing value for" : "unknown option", argv[optind], usage);
            return MP_ERR_USAGE;
        }
    }
    if (optind != argc - 1 || *path == NULL) {
        fprintf(stderr, "%s config check: --config FILE is required, nothing else\n%s", prog,
            usage);
        return MP_ERR_USAGE;
    }
    return MP_OK;
}

int
mp_conf_check_cmd(const char *prog, const char *usage, int argc, char **argv,
    const struct mp_conf_schema *s, void *obj,
    enum mp_err (*check)(const void *obj, struct mp_errmsg *e))
{
    struct mp_errmsg e = {{0}};
    const char *path;
    enum mp_err r;

    if ((r = check_args(prog, usage, argc, argv, &path)) != MP_OK)
        return r == MP_ERR_HELP ? 0 : 2;
    if (obj == NULL)
        r = mp_errf(&e, MP_ERR_NOMEM, "out of memory");
    else if ((r = mp_conf_load_file(path, s, obj, &e)) == MP_OK && check != NULL &&
        (r = check(obj, &e)) != MP_OK)
        mp_err_prefix(&e, "%s", path); /* a combination has no line of its own */
    if (r != MP_OK) {
        fprintf(stderr, "%s: error: %s\n", prog, e.text);
        return 1;
    }
    mp_conf_print(stdout, s, obj);
    return fflush(stdout) == 0 ? 0 : 1;
}

enum mp_err
mp_conf_yesno(void *obj, const struct mp_conf_kw *kw, const char *v, struct mp_errmsg *e)
{
    int *f = mp_conf_field(obj, kw);

    if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
        return mp_errf(e, MP_ERR_INVALID, "%s must be yes or no", kw->name);
    *f = strcmp(v, "yes") == 0;
    return MP_OK;
}

void
mp_conf_yesno_print(FILE *f, const void *obj, const struct mp_conf_kw *kw)
{
    mp_conf_print_value(f, kw->name, *(const int *)mp_conf_cfield(obj, kw) ? "yes" : "no");
}
