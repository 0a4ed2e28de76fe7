/* Watches the keys registered at Digdir behind kid grants: a key lives one year after upload
 * (PROTOCOL.md §6), and a key that lapses turns every grant into MP-121. With
 * key_watch_profile set, a thread of mp-exchange serve reads each watched client's key set
 * through the self-service API (an admin token from its own cache, for that profile with
 * idporten:dcr.read) every key_watch_interval_s, and feeds the expiry to /metrics. */
#ifndef MP_KEYWATCH_H
#define MP_KEYWATCH_H

#include "common/err.h"
#include "exchange/exchange.h"

struct keywatch;

/* *out NULL (and MP_OK) when key_watch_profile is not set. */
enum mp_err keywatch_start(struct exchange *x, struct keywatch **out, struct mp_errmsg *e);
/* Stops and joins the thread (after its current call, bounded by the upstream timeouts). */
void keywatch_stop(struct keywatch *k);

#endif
