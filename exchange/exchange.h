/* The parts of a running mp-exchange, shared by the HTTP API and the daemon glue. */
#ifndef MP_EXCHANGE_H
#define MP_EXCHANGE_H

#include "exchange/cache.h"
#include "exchange/pipeline.h"
#include "exchange/metrics.h"
#include "exchange/exchange_conf.h"

struct exchange {
    struct exchange_conf *conf;
    struct metrics *metrics;
    struct pipeline pipeline;
    struct cache *cache;
};

#endif
