/* The ring of issued-token digests (issued.h). */
#include "exchange/issued.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

struct issued {
    pthread_mutex_t mu;
    unsigned char ring[ISSUED_MAX][32];
    size_t next, n;
};

struct issued *
issued_new(void)
{
    struct issued *s = calloc(1, sizeof(*s));

    if (s != NULL)
        pthread_mutex_init(&s->mu, NULL);
    return s;
}

void
issued_free(struct issued *s)
{
    if (s == NULL)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int
digest(const char *token, unsigned char out[32])
{
    unsigned int len = 0;

    return EVP_Digest(token, strlen(token), out, &len, EVP_sha256(), NULL) == 1 && len == 32;
}

void
issued_add(struct issued *s, const char *token)
{
    unsigned char d[32];

    if (!digest(token, d))
        return;
    pthread_mutex_lock(&s->mu);
    memcpy(s->ring[s->next], d, 32);
    s->next = (s->next + 1) % ISSUED_MAX;
    if (s->n < ISSUED_MAX)
        s->n++;
    pthread_mutex_unlock(&s->mu);
}

int
issued_known(struct issued *s, const char *token)
{
    unsigned char d[32];
    size_t i;
    int found = 0;

    if (!digest(token, d))
        return 0;
    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->n && !found; i++)
        found = CRYPTO_memcmp(s->ring[i], d, 32) == 0;
    pthread_mutex_unlock(&s->mu);
    return found;
}
