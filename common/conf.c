#include "common/conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

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
