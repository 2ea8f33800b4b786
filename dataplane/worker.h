/*
 * One worker lcore's state (the l2fwd shape): cache-line aligned, owned by exactly one
 * core, its main loop in worker.c. Internal to dataplane/.
 */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_spinlock.h>
#include <pcap/pcap.h>

#include "dataplane/call.h"
#include "dataplane/line.h"
#include "dataplane/net.h"
#include "dataplane/stats.h"

#define DP_BURST 32
#define DP_TX_MAX 128
#define DP_TX_STUCK_US 100000 /* a port that takes no frame this long loses those waiting */

/* An OPTIONS probe of a server that control asked for (DP_CMD_PROBE): UDP non-INVITE
 * retransmissions (RFC 3261 §17.1.2.2) until any answer or the deadline. */
struct dp_probe {
	uint64_t branch; /* 0: none out */
	uint64_t next_us;
	uint64_t deadline_us;
	uint32_t interval_ms;
	uint32_t cseq;
};

struct dp_worker;

/* One of a worker's two clients (registration, subscription) as the line logic's I/O
 * context: where its requests are held for retransmission. */
struct dp_flow_io {
	struct dp_worker *w;
	struct dp_lines *L;
	struct rte_mbuf **held;
};

struct dp_worker {
	uint16_t id;
	unsigned lcore;
	uint16_t port;
	uint16_t queue;		  /* its own tx queue, and rx queue when rx_queue */
	bool rx_queue;		  /* the port gave it an rx queue (else frames come by rx_ring) */
	struct rte_ring *rx_ring; /* frames other workers received for its lines */
	/* every worker, for handing frames over: a line's owner is id / shard */
	struct dp_worker *all;
	uint16_t nworkers;
	uint32_t shard;
	struct dp_net net;
	struct dp_lines lines;
	struct dp_lines subs; /* the lines' subscriptions, when subs_on */
	bool subs_on;
	struct dp_lines reg2; /* the lines' second outbound flow (reg-id 2), when reg2_on */
	bool reg2_on;
	struct dp_flow_io flow[DP_FLOW__COUNT]; /* indexed by enum dp_flow */
	struct rte_mempool *pool;
	struct rte_mbuf **held;	   /* per line: the request kept for retransmission */
	struct rte_mbuf *building; /* from tx_alloc until tx_send */
	struct rte_mbuf *tx[DP_TX_MAX];
	uint16_t ntx;
	uint64_t tx_stuck_us; /* since when the port has taken none of them; 0: it takes them */
	struct rte_ring *cmd; /* control -> worker */
	struct rte_ring *ev;  /* worker -> control */
	uint64_t hz;	      /* TSC ticks per second */
	uint64_t start_us;
	/* start-up and un-register ramps: one line every ramp_step_us */
	uint64_t ramp_step_us;
	uint32_t start_next;
	uint64_t start_due_us;
	bool unreg_all;
	uint32_t unreg_next;
	uint64_t unreg_due_us;
	uint64_t arp_due_us;
	bool stop;
	bool invite_answer;	     /* INVITE: 180 then 200 with SDP instead of 486 */
	pcap_dumper_t *pcap;	     /* --pcap: every frame in and out, NULL when off */
	rte_spinlock_t *pcap_lock;   /* the workers share one pcap file */
	struct dp_calls calls;	     /* calls the lines place, when on */
	struct rte_mbuf **call_held; /* per call slot: its request kept for retransmission */
	struct dp_probe probe[DP_MAX_SERVERS];
	unsigned probes_out;
	struct dp_stats stats;
	struct dp_stats sub_stats;  /* the subscription client's counters */
	struct dp_stats reg2_stats; /* the second registration flow's */
} __rte_cache_aligned;

/*
 * Microseconds of the TSC. cycles * 10^6 overflows 64 bits after 1.8e13 cycles (about
 * two hours of uptime at 2.5 GHz), so whole seconds and the remainder go separately.
 */
static inline uint64_t dp_tsc_us(uint64_t cycles, uint64_t hz)
{
	return cycles / hz * 1000000ull + cycles % hz * 1000000ull / hz;
}

/* Queue frame m for the port (the worker sends its queue each loop). */
void dp_worker_tx(struct dp_worker *w, struct rte_mbuf *m);
/* An event for control; a full ring is a counted loss. */
void dp_worker_event(struct dp_worker *w, const struct dp_msg *m);
/* The worker's main loop; arg is its struct dp_worker. */
int dp_worker_main(void *arg);
/* The line logic's view of this worker's port. */
void dp_worker_bind_io(struct dp_worker *w);
/* Calls by this worker's lines (dataplane/call.h) over its port: 0, -EINVAL, -ENOMEM. */
int dp_worker_calls_init(struct dp_worker *w, uint32_t max, const char *to, uint64_t now_ms);
/* Frees what dp_worker_calls_init made (also after it failed). */
void dp_worker_calls_free(struct dp_worker *w);

#endif
