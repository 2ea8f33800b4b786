/*
 * Bringing the dataplane up and down (dataplane/dataplane.h): EAL, the port, the mbuf
 * pool, the rings, and each line's load-time work (template, HA1s) so that nothing is
 * formatted or hashed from a password on the fast path.
 */
#include "dataplane/dataplane.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_spinlock.h>

#include "dataplane/lineset.h"
#include "dataplane/worker.h"

#define DP_WHEEL_SLOTS 65536 /* 1 ms ticks: 65 s before a timer is skipped once */
#define DP_RING_SIZE 65536
#define DP_RXD 1024
#define DP_DISPATCH_RING 4096 /* frames in hand-over to a worker */
#define DP_TXD 1024

struct dp {
	struct dp_worker *w; /* nworkers, worker k owning lines k*shard .. k*shard+shard-1 */
	unsigned nworkers;
	uint32_t shard;
	uint32_t lines;
	uint16_t port;
	bool eal_up;
	bool port_up;
	bool running;
	char desc[128];
	struct rte_mempool *pool;
	pcap_dumper_t *pcap;
	rte_spinlock_t pcap_lock;
	/* line tables, indexed by line id; each worker reads and writes its shard only */
	struct dp_lineset ls;
	struct rte_mbuf **held;
	uint32_t *slots; /* DP_WHEEL_SLOTS x DP_WHEEL_CHAINS per worker */
	struct dp_wheel_link *links;
	/* the timers and held requests of the other clients (enum dp_flow): the
	 * subscription, when cfg.subscribe, and the second outbound registration, when
	 * cfg.reg2 */
	struct dp__flow_tables {
		struct rte_mbuf **held;
		uint32_t *slots;
		struct dp_wheel_link *links;
	} fx[DP_FLOW__COUNT]; /* [DP_FLOW_REGISTER] unused: the tables above */
};

static int dp__fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* The port with a tx queue per worker and as many rx queues as it has (up to one per
 * worker); one mbuf pool for all. */
static int dp__port_up(struct dp *d, uint32_t nmbufs, char *err, size_t errlen)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	uint16_t nrx;
	int rc;

	if (rte_eth_dev_count_avail() == 0)
		return dp__fail(
			err, errlen, -ENODEV,
			"no DPDK port: give a device, e.g. --vdev=net_af_packet0,iface=se-dp");
	d->port = (uint16_t)rte_eth_find_next_owned_by(0, RTE_ETH_DEV_NO_OWNER);
	if ((rc = rte_eth_dev_info_get(d->port, &info)) != 0)
		return dp__fail(err, errlen, rc, "port %u: no device info", d->port);
	if (info.max_tx_queues < d->nworkers)
		return dp__fail(err, errlen, -EINVAL,
				"port %u (%s) has %u tx queue(s) but %u workers need one each "
				"(af_packet: add qpairs=%u to the --vdev)",
				d->port, info.driver_name, info.max_tx_queues, d->nworkers,
				d->nworkers);
	nrx = (uint16_t)(info.max_rx_queues < d->nworkers ? info.max_rx_queues : d->nworkers);
	d->pool = rte_pktmbuf_pool_create("dp_pool0", nmbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (!d->pool)
		return dp__fail(err, errlen, -ENOMEM, "mbuf pool of %u: %s", nmbufs,
				rte_strerror(rte_errno));
	if ((rc = rte_eth_dev_configure(d->port, nrx, (uint16_t)d->nworkers, &conf)) != 0)
		return dp__fail(err, errlen, rc < 0 ? rc : -EIO, "port %u configure failed: %s",
				d->port, rte_strerror(-rc));
	for (uint16_t q = 0; q < d->nworkers; q++) {
		if ((q < nrx && (rc = rte_eth_rx_queue_setup(d->port, q, DP_RXD,
							     rte_eth_dev_socket_id(d->port), NULL,
							     d->pool)) != 0) ||
		    (rc = rte_eth_tx_queue_setup(d->port, q, DP_TXD, rte_eth_dev_socket_id(d->port),
						 NULL)) != 0)
			return dp__fail(err, errlen, rc < 0 ? rc : -EIO,
					"port %u queue %u set-up failed: %s", d->port, q,
					rte_strerror(-rc));
	}
	if ((rc = rte_eth_dev_start(d->port)) != 0)
		return dp__fail(err, errlen, rc < 0 ? rc : -EIO, "port %u start failed: %s",
				d->port, rte_strerror(-rc));
	d->port_up = true;
	/* af_packet's MAC is its own, not the veth's: take every frame on the wire */
	rte_eth_promiscuous_enable(d->port);
	rte_eth_macaddr_get(d->port, &mac);
	for (unsigned k = 0; k < d->nworkers; k++) {
		struct dp_worker *w = &d->w[k];

		memcpy(w->net.mac.b, mac.addr_bytes, 6);
		w->port = d->port;
		w->queue = (uint16_t)k;
		w->rx_queue = k < nrx;
		w->pool = d->pool;
	}
	snprintf(d->desc, sizeof(d->desc), "port %u (%s) " RTE_ETHER_ADDR_PRT_FMT ", %u worker%s",
		 d->port, info.driver_name, RTE_ETHER_ADDR_BYTES(&mac), d->nworkers,
		 d->nworkers == 1 ? "" : "s");
	return 0;
}

/* Another client of the same lines (the subscription, or the second outbound flow): its
 * own timers and held requests for every line; its line state is the lineset's. */
static int dp__flow_alloc(struct dp *d, const struct dp_config *c, int flow, char *err,
			  size_t errlen)
{
	struct dp__flow_tables *x = &d->fx[flow];

	x->held = calloc(c->lines, sizeof(*x->held));
	x->slots = calloc(DP_WHEEL_HEADS(DP_WHEEL_SLOTS) * d->nworkers, sizeof(*x->slots));
	x->links = calloc(c->lines, sizeof(*x->links));
	if (!x->held || !x->slots || !x->links)
		return dp__fail(err, errlen, -ENOMEM, "no memory for %u %s", c->lines,
				flow == DP_FLOW_SUBSCRIBE ? "subscriptions" : "second flows");
	return 0;
}

/* Worker w's view of another client: the registration client's shape and shared tables
 * (users, HA1s, servers, addressing), the flow's own tables from w's first line on. */
static int dp__flow_worker(struct dp *d, const struct dp_config *c, struct dp_worker *w, int flow,
			   uint64_t seed, char *err, size_t errlen)
{
	bool sub = flow == DP_FLOW_SUBSCRIBE;
	struct dp_lines *S = sub ? &w->subs : &w->reg2;
	struct dp__flow_tables *x = &d->fx[flow];
	uint32_t first = w->lines.first_id;
	int rc;

	dp_lineset_view(&d->ls, c, flow, first, w->lines.n, S);
	S->stats = sub ? &w->sub_stats : &w->reg2_stats;
	S->worker = w->id;
	S->rng = ((seed + w->id) * (sub ? 0x9e3779b97f4a7c15ull : 0xc2b2ae3d27d4eb4full)) | 1;
	if ((rc = sip_digest_ctx_create(&S->dctx)) != 0)
		return dp__fail(err, errlen, rc, "digest: no usable hash in libcrypto");
	w->flow[flow].held = x->held + first;
	if (sub)
		w->subs_on = true;
	else
		w->reg2_on = true;
	return dp_wheel_init(&S->wheel, x->slots + w->id * DP_WHEEL_HEADS(DP_WHEEL_SLOTS),
			     DP_WHEEL_SLOTS, x->links + first, S->n,
			     dp_tsc_us(rte_get_tsc_cycles(), rte_get_tsc_hz()) / 1000);
}

/* Worker w's shard of the lines: it takes its slice of every line's client. */
static int dp__worker_lines(struct dp *d, const struct dp_config *c, struct dp_worker *w,
			    uint64_t seed, char *err, size_t errlen)
{
	uint32_t first = w->id * d->shard;
	int rc;

	dp_lineset_view(&d->ls, c, DP_FLOW_REGISTER, first,
			c->lines - first < d->shard ? c->lines - first : d->shard, &w->lines);
	w->lines.rng = (seed + w->id * 0x2545f4914f6cdd1dull) | 1;
	w->lines.stats = &w->stats;
	w->lines.worker = w->id;
	if ((rc = sip_digest_ctx_create(&w->lines.dctx)) != 0)
		return dp__fail(err, errlen, rc, "digest: no usable hash in libcrypto");
	w->held = d->held + first;
	if ((rc = dp_wheel_init(&w->lines.wheel, d->slots + w->id * DP_WHEEL_HEADS(DP_WHEEL_SLOTS),
				DP_WHEEL_SLOTS, d->links + first, w->lines.n,
				dp_tsc_us(rte_get_tsc_cycles(), rte_get_tsc_hz()) / 1000)) != 0)
		return rc;
	if (c->subscribe && (rc = dp__flow_worker(d, c, w, DP_FLOW_SUBSCRIBE, seed, err, errlen)))
		return rc;
	return c->reg2 ? dp__flow_worker(d, c, w, DP_FLOW_REGISTER2, seed, err, errlen) : 0;
}

static int dp__tables(struct dp *d, const struct dp_config *c, char *err, size_t errlen)
{
	uint64_t seed = c->seed ? c->seed : rte_get_tsc_cycles();
	int rc;

	d->held = calloc(c->lines, sizeof(*d->held));
	d->slots = calloc(DP_WHEEL_HEADS(DP_WHEEL_SLOTS) * d->nworkers, sizeof(*d->slots));
	d->links = calloc(c->lines, sizeof(*d->links));
	if (!d->held || !d->slots || !d->links)
		return dp__fail(err, errlen, -ENOMEM, "no memory for %u lines", c->lines);
	if ((rc = dp_lineset_load(&d->ls, c, SIP_TPL_UDP, seed, err, errlen)))
		return rc;
	if ((c->subscribe && (rc = dp__flow_alloc(d, c, DP_FLOW_SUBSCRIBE, err, errlen))) ||
	    (c->reg2 && (rc = dp__flow_alloc(d, c, DP_FLOW_REGISTER2, err, errlen))))
		return rc;
	for (unsigned k = 0; k < d->nworkers && rc == 0; k++)
		rc = dp__worker_lines(d, c, &d->w[k], seed, err, errlen);
	return rc;
}

static int dp__check(const struct dp_config *c, char *err, size_t errlen)
{
	int rc = dp_lineset_check(c, err, errlen);

	if (rc == 0 && c->keepalive == DP_KA_PING)
		return dp__fail(err, errlen, -EINVAL,
				"a keep-alive ping waiting for its pong is for TCP and TLS; over "
				"UDP use stun");
	return rc;
}

/* Each worker's rings: commands down, events up, frames handed over by the others. */
static int dp__worker_rings(struct dp_worker *w, char *err, size_t errlen)
{
	char name[32];

	snprintf(name, sizeof(name), "dp_cmd%u", w->id);
	w->cmd = rte_ring_create_elem(name, sizeof(struct dp_msg), DP_RING_SIZE, rte_socket_id(),
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "dp_ev%u", w->id);
	w->ev = rte_ring_create_elem(name, sizeof(struct dp_msg), DP_RING_SIZE, rte_socket_id(),
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "dp_rx%u", w->id);
	w->rx_ring = rte_ring_create(name, DP_DISPATCH_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (!w->cmd || !w->ev || !w->rx_ring)
		return dp__fail(err, errlen, -ENOMEM, "rings: %s", rte_strerror(rte_errno));
	return 0;
}

/* How many workers, on which lcores: every worker lcore of the EAL unless fewer are asked
 * for, and never more than lines. */
static int dp__workers(struct dp *d, const struct dp_config *c, char *err, size_t errlen)
{
	unsigned avail = 0, k = 0, lcore;

	/* the worker lcores still free: an embedding program's dp_eal_up_hook may have
	 * launched its own on some */
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		avail += rte_eal_get_lcore_state(lcore) == WAIT;
	}
	if (avail == 0)
		return dp__fail(err, errlen, -EINVAL,
				"no worker lcore: give EAL two cores or more, e.g. -l 0-1");
	if (c->workers > avail)
		return dp__fail(err, errlen, -EINVAL,
				"%u workers asked for, but the EAL gives %u worker lcore(s): give "
				"it more, e.g. -l 0-%u, or --lcores 0@0,1@1,2@1 to put two on one "
				"core",
				c->workers, avail, c->workers);
	d->nworkers = c->workers ? c->workers : avail;
	if (d->nworkers > c->lines)
		d->nworkers = c->lines;
	d->shard = (c->lines + d->nworkers - 1) / d->nworkers;
	d->nworkers = (c->lines + d->shard - 1) / d->shard; /* none left without lines */
	d->w = rte_zmalloc("dp_worker", sizeof(*d->w) * d->nworkers, RTE_CACHE_LINE_SIZE);
	if (!d->w)
		return dp__fail(err, errlen, -ENOMEM, "no memory for the workers");
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (k == d->nworkers)
			break;
		if (rte_eal_get_lcore_state(lcore) != WAIT)
			continue;
		d->w[k].id = (uint16_t)k;
		d->w[k].lcore = lcore;
		k++;
	}
	return 0;
}

int (*dp_eal_up_hook)(void);
void (*dp_eal_down_hook)(void);

int dp_create(const struct dp_config *c, struct dp **out, char *err, size_t errlen)
{
	struct dp *d;
	int rc;

	*out = NULL;
	if ((rc = dp__check(c, err, errlen)))
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d)
		return dp__fail(err, errlen, -ENOMEM, "out of memory");
	*out = d;
	d->lines = c->lines;
	if (rte_eal_init(c->eal_argc, c->eal_argv) < 0)
		return dp__fail(err, errlen, -rte_errno, "DPDK EAL init failed: %s",
				rte_strerror(rte_errno));
	d->eal_up = true;
	if (dp_eal_up_hook && dp_eal_up_hook() != 0)
		return dp__fail(err, errlen, -EIO, "the embedding program's set-up failed");
	if ((rc = dp__workers(d, c, err, errlen)))
		return rc;
	/*
	 * A request in flight holds its mbuf for retransmission, so the pool bounds the
	 * transactions out at once; when it runs dry a line waits T1 and builds anew. It is
	 * a fixed cost, not a per-line one: 1 M lines must not cost 2 GB of mbufs.
	 */
	if ((rc = dp__port_up(d, 32767, err, errlen)))
		return rc;
	rte_spinlock_init(&d->pcap_lock);
	for (unsigned k = 0; k < d->nworkers; k++) {
		struct dp_worker *w = &d->w[k];

		if ((rc = dp__worker_rings(w, err, errlen)))
			return rc;
		w->all = d->w;
		w->nworkers = (uint16_t)d->nworkers;
		w->shard = d->shard;
		w->hz = rte_get_tsc_hz();
		w->net.ip_first = c->first_ip;
		w->net.ip_last = c->first_ip + (c->lines - 1) / c->nports;
		w->net.next_hop =
			c->next_hop ? c->next_hop : c->server[DP_TARGET_VIA(c->target)].ip;
		/* the rate cap is the process's: each worker takes its share */
		w->ramp_step_us = c->rate ? 1000000ull * d->nworkers / c->rate : 0;
		w->invite_answer = c->invite_answer;
		w->pcap_lock = &d->pcap_lock;
	}
	if ((rc = dp__tables(d, c, err, errlen)))
		return rc;
	if (c->pcap_path) {
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);

		d->pcap = dead ? pcap_dump_open(dead, c->pcap_path) : NULL;
		if (!d->pcap)
			return dp__fail(err, errlen, -EIO, "cannot write pcap %s: %s", c->pcap_path,
					dead ? pcap_geterr(dead) : "no memory");
	}
	for (unsigned k = 0; k < d->nworkers; k++) {
		struct dp_worker *w = &d->w[k];

		w->pcap = d->pcap;
		dp_worker_bind_io(w);
		if (c->call_to &&
		    (rc = dp_worker_calls_init(w, c->call_max ? c->call_max : 4096, c->call_to,
					       dp_tsc_us(rte_get_tsc_cycles(), rte_get_tsc_hz()) /
						       1000)))
			return dp__fail(err, errlen, rc,
					"calls: no memory for %u at once, or a Request-URI longer "
					"than 127: %s",
					c->call_max ? c->call_max : 4096, c->call_to);
	}
	return 0;
}

int dp_start(struct dp *d)
{
	for (unsigned k = 0; k < d->nworkers; k++) {
		int rc = rte_eal_remote_launch(dp_worker_main, &d->w[k], d->w[k].lcore);

		if (rc != 0)
			return rc; /* those launched are stopped by dp_destroy */
		d->running = true;
	}
	return 0;
}

unsigned dp_line_worker(const struct dp *d, uint32_t line)
{
	unsigned k = line / d->shard;

	return k < d->nworkers ? k : d->nworkers - 1;
}

int dp_worker_lines(const struct dp *d, unsigned w, uint32_t *first, uint32_t *n)
{
	if (w >= d->nworkers)
		return -EINVAL;
	*first = d->w[w].lines.first_id;
	*n = d->w[w].lines.n;
	return 0;
}

unsigned dp_workers(const struct dp *d)
{
	return d->nworkers;
}

int dp_command(struct dp *d, unsigned w, const struct dp_msg *cmd)
{
	struct dp_msg copy = *cmd;

	if (w >= d->nworkers)
		return -EINVAL;
	return rte_ring_enqueue_elem(d->w[w].cmd, &copy, sizeof(copy)) == 0 ? 0 : -ENOBUFS;
}

unsigned dp_events(struct dp *d, struct dp_msg *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned k = 0; k < d->nworkers && n < max; k++)
		n += rte_ring_dequeue_burst_elem(d->w[k].ev, out + n, sizeof(*out), max - n, NULL);
	return n;
}

/* Sum the counters at offset off of every worker (its registrations' or subscriptions'). */
static void dp__stats_sum(const struct dp *d, size_t off, struct dp_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned k = 0; k < d->nworkers; k++)
		dp_stats_add(out, (const struct dp_stats *)((const char *)&d->w[k] + off));
}

void dp_stats_sum(const struct dp *d, struct dp_stats *out)
{
	dp__stats_sum(d, offsetof(struct dp_worker, stats), out);
}

void dp_sub_stats_sum(const struct dp *d, struct dp_stats *out)
{
	dp__stats_sum(d, offsetof(struct dp_worker, sub_stats), out);
}

static const size_t dp__flow_stats_off[DP_FLOW__COUNT] = {offsetof(struct dp_worker, stats),
							  offsetof(struct dp_worker, sub_stats),
							  offsetof(struct dp_worker, reg2_stats)};

int dp_worker_stats(const struct dp *d, unsigned w, int flow, struct dp_stats *out)
{
	if (w >= d->nworkers || flow < 0 || flow >= DP_FLOW__COUNT)
		return -EINVAL;
	memcpy(out, (const char *)&d->w[w] + dp__flow_stats_off[flow], sizeof(*out));
	return 0;
}

int dp_worker_lcore(const struct dp *d, unsigned w)
{
	return w < d->nworkers ? (int)d->w[w].lcore : -1;
}

void dp_flow_stats_sum(const struct dp *d, int flow, struct dp_stats *out)
{
	const size_t *off = dp__flow_stats_off;

	if (flow < 0 || flow >= DP_FLOW__COUNT) {
		memset(out, 0, sizeof(*out));
		return;
	}
	dp__stats_sum(d, off[flow], out);
}

const char *dp_port_desc(const struct dp *d)
{
	return d->desc;
}

void dp_destroy(struct dp *d)
{
	if (!d)
		return;
	if (d->running) {
		struct dp_msg stop = {.type = DP_CMD_STOP};

		for (unsigned k = 0; k < d->nworkers; k++) {
			while (dp_command(d, k, &stop) != 0)
				rte_delay_us_sleep(1000);
		}
		rte_eal_mp_wait_lcore();
	}
	if (d->eal_up && dp_eal_down_hook)
		dp_eal_down_hook();
	for (uint32_t i = 0; d->held && i < d->lines; i++)
		rte_pktmbuf_free(d->held[i]);
	for (int f = 1; f < DP_FLOW__COUNT; f++) {
		for (uint32_t i = 0; d->fx[f].held && i < d->lines; i++)
			rte_pktmbuf_free(d->fx[f].held[i]);
	}
	for (unsigned k = 0; d->w && k < d->nworkers; k++) {
		struct dp_worker *w = &d->w[k];
		struct rte_mbuf *m;

		if (w->subs_on)
			sip_digest_ctx_destroy(&w->subs.dctx);
		if (w->reg2_on)
			sip_digest_ctx_destroy(&w->reg2.dctx);
		sip_digest_ctx_destroy(&w->lines.dctx);
		while (w->rx_ring && rte_ring_dequeue(w->rx_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		dp_worker_calls_free(w);
	}
	if (d->port_up) {
		rte_eth_dev_stop(d->port);
		rte_eth_dev_close(d->port);
	}
	if (d->pcap)
		pcap_dump_close(d->pcap);
	for (unsigned k = 0; d->w && k < d->nworkers; k++) {
		rte_ring_free(d->w[k].cmd);
		rte_ring_free(d->w[k].ev);
		rte_ring_free(d->w[k].rx_ring);
	}
	rte_mempool_free(d->pool);
	rte_free(d->w);
	dp_lineset_free(&d->ls);
	free(d->held);
	free(d->slots);
	free(d->links);
	for (int f = 1; f < DP_FLOW__COUNT; f++) {
		free(d->fx[f].held);
		free(d->fx[f].slots);
		free(d->fx[f].links);
	}
	if (d->eal_up)
		rte_eal_cleanup();
	free(d);
}
