/* The parts of a running mp-exchange, shared by the HTTP API and the daemon glue. */
#ifndef MP_EXCH_H
#define MP_EXCH_H

#include "exchange/cache.h"
#include "exchange/fetch.h"
#include "exchange/metrics.h"
#include "exchange/xconf.h"

struct exch {
    struct xconf *conf;
    struct metrics *metrics;
    struct fetcher fetcher;
    struct cache *cache;
};

#endif
