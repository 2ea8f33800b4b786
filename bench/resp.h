/*
 * The registrar and STUN server of bench_responder (bench/responder.c) and of
 * bench_ringagent (bench/ringagent.c): REGISTER without credentials -> 401, with
 * credentials -> digest checked (every one, or one in N) -> 200; STUN Binding -> success;
 * ARP for its address. See bench/responder.c for the options.
 */
#ifndef BENCH_RESP_H
#define BENCH_RESP_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/net.h"
#include "sip/digest.h"

#define BURST 32

struct rte_mempool;
struct rte_mbuf;

struct resp {
	struct dp_net net;
	uint16_t port;
	struct rte_mempool *pool;
	const char *password;
	uint32_t expires; /* granted; 0: what the request asked */
	uint32_t verify_every;
	struct sip_digest_ctx dctx;
	struct rte_mbuf **tx;
	unsigned ntx, txcap;
	unsigned batch; /* answers held before sending (0: each burst's at once) */
	/* counters */
	uint64_t rx, challenges, oks, verified, verify_failed, not_verified, stun, other, tx_full;
};

/* The pool, port's queues, start and MAC; r's ip (net.ip_first), password, expires,
 * verify_every and batch set first. Returns 0, or -1 with the reason on stderr. */
int resp_setup(struct resp *r, uint16_t port);
/* Serve r's port until go(ctx) says no or the TSC passes t_end; the figures go to
 * stats (stdout when NULL) when the traffic goes quiet and when it returns. */
void resp_serve(struct resp *r, uint64_t t_end, const char *stats, bool (*go)(void *ctx),
		void *ctx);

#endif
