/* jansson wrappers that discard results made while an allocation failed (json.h). */
#include "common/json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local unsigned long json_oom; /* jansson allocations that failed, this thread */
static pthread_once_t json_once = PTHREAD_ONCE_INIT;

static void *
json_alloc(size_t n)
{
    void *p = malloc(n);

    if (p == NULL)
        json_oom++;
    return p;
}

static void
json_release(void *p)
{
    free(p);
}

static void
json_setup(void)
{
    json_set_alloc_funcs(json_alloc, json_release);
}

void
mp_json_init(void)
{
    pthread_once(&json_once, json_setup);
}

json_t *
mp_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err)
{
    unsigned long before;
    json_t *j;

    mp_json_init();
    before = json_oom;
    j = json_loadb(buf, len, flags, err);
    if (json_oom == before)
        return j;
    json_decref(j);
    if (err != NULL)
        snprintf(err->text, sizeof(err->text), "out of memory");
    return NULL;
}

char *
mp_json_dumps(const json_t *j, size_t flags)
{
    unsigned long before;
    char *s;

    mp_json_init();
    before = json_oom;
    s = json_dumps(j, flags);
    if (json_oom == before)
        return s;
    free(s);
    return NULL;
}
