/*
 * The worker's STUN keep-alive path with no port under it: what bench/run dataplane's
 * memif runs cannot separate from the PMD, the responder's pace and the idle loop (their
 * per-busy-second figures moved by a quarter between runs of one binary). N registered
 * lines keep alive at the wheel's pace; the worker's own functions run in the order
 * dp_worker_main and dp__rx_one call them: wheel expiry and line fetch; for each
 * answer classify, STUN parse and dp_line_stun_answer; dp_line_timer for the lines
 * still due (the Binding request and its UDP/IP/Ethernet headers). The answers are
 * written between the timed parts, as the responder would, and come back 1,000 frames
 * late, as from bench_responder --batch. Not counted: mbuf alloc/free and the PMD's
 * rx/tx. Prints ns per keep-alive (the best of several rounds) and what that is per
 * second of one core.
 * Usage: bench_kapath [--lines N] [--seconds S] [--json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "dataplane/line.h"
#include "dataplane/net.h"
#include "dataplane/wheel.h"
#include "sip/stun.h"

#define BURST 32    /* DP_BURST */
#define SLOTS 65536 /* DP_WHEEL_SLOTS */
#define FRAMES 4096 /* frames in flight: requests and the answers held back */
#define HOLD 1000   /* answers held back, as bench_responder --batch 1000 */
#define FRAME_ROOM 256
#define ROUNDS 5
#define LINE_IP 0xc6120a00u   /* 198.18.10.0 */
#define SERVER_IP 0xc6120001u /* 198.18.0.1 */

struct bench {
	struct dp_lines L;
	struct dp_stats stats;
	struct dp_net net, far; /* the worker's, the responder's */
	uint8_t (*frame)[FRAME_ROOM];
	uint16_t len[FRAMES];
	uint32_t next_frame;
	uint32_t q[FRAMES]; /* answers in order: frame indexes */
	uint32_t q_head, q_tail;
	uint32_t txb[BURST], ntx; /* requests of this pass */
	uint32_t building;
};

static char *io_alloc(void *ctx, size_t *cap)
{
	struct bench *b = ctx;

	b->building = b->next_frame++ % FRAMES;
	*cap = FRAME_ROOM - DP_NET_UDP_HDRS_LEN;
	return (char *)b->frame[b->building] + DP_NET_UDP_HDRS_LEN;
}

/* dp__io_send's work: the line's address, the headers, the checksums */
static void io_send(void *ctx, uint32_t id, size_t len, bool keep, uint32_t sum)
{
	struct bench *b = ctx;
	const struct dp_server_addr *to = &b->L.cfg.server[b->L.line[id].via];
	uint8_t *f = b->frame[b->building];
	uint32_t ip;
	uint16_t port;

	(void)keep;
	dp_lines_addr(&b->L, id, &ip, &port);
	if (sum == DP_SUM_NONE)
		sum = dp_net_sum(f + DP_NET_UDP_HDRS_LEN, len);
	b->len[b->building] = (uint16_t)dp_net_udp_finish_sum(&b->net, f, &b->net.next_hop_mac, ip,
							      port, to->ip, to->port, len, sum);
	b->txb[b->ntx++] = b->building;
}

static void io_abort(void *ctx)
{
	(void)ctx;
}

static void io_line(void *ctx, uint32_t id)
{
	(void)ctx;
	(void)id;
}

static void io_event(void *ctx, const struct dp_msg *m)
{
	(void)ctx;
	(void)m;
}

/* bench_responder's answer, written in place of the request (untimed) */
static void answer(struct bench *b, uint32_t k)
{
	uint8_t *f = b->frame[k];
	struct dp_pkt p;
	struct sip_stun_msg st;
	struct sip_stun_addr mapped = {.family = SIP_STUN_FAMILY_IPV4};
	uint8_t txid[SIP_STUN_TXID_LEN];
	int n;

	dp_net_classify(&b->far, f, b->len[k], &p);
	if (p.kind != DP_PKT_UDP || sip_stun_parse(f + p.payload_off, p.payload_len, &st) != 0) {
		fprintf(stderr, "bench_kapath: the worker sent no Binding request\n");
		exit(1);
	}
	memcpy(txid, st.txid, sizeof(txid)); /* the answer is written over the request */
	mapped.port = p.src_port;
	memcpy(mapped.addr, (uint8_t[]){p.src_ip >> 24, p.src_ip >> 16, p.src_ip >> 8, p.src_ip},
	       4);
	n = sip_stun_build_response(f + DP_NET_UDP_HDRS_LEN, FRAME_ROOM - DP_NET_UDP_HDRS_LEN, txid,
				    &mapped, true);
	b->len[k] = (uint16_t)dp_net_udp_finish(&b->far, f, &p.src_mac, SERVER_IP, 5060, p.src_ip,
						p.src_port, (size_t)n);
}

/* dp__rx_prefetch, then dp__rx_one and dp__sip for a STUN answer */
static void rx_burst(struct bench *b, const uint32_t *ks, unsigned n, uint64_t now_us)
{
	uint32_t ids[BURST], ip;
	uint16_t port;
	size_t nids = 0;

	for (unsigned j = 0; j < n; j++) {
		int64_t i;

		if (dp_net_udp_dst_peek(b->frame[ks[j]], b->len[ks[j]], &ip, &port) &&
		    (i = dp_lines_index(&b->L, ip, port)) >= 0)
			ids[nids++] = (uint32_t)i;
	}
	if (n > 1)
		dp_lines_fetch(&b->L, ids, nids);
	for (unsigned j = 0; j < n; j++) {
		const uint8_t *f = b->frame[ks[j]];
		struct dp_pkt p;
		struct sip_stun_msg st;
		int64_t line;

		dp_net_classify(&b->net, f, b->len[ks[j]], &p);
		line = dp_lines_index(&b->L, p.dst_ip, p.dst_port);
		if (p.kind == DP_PKT_UDP && line >= 0 &&
		    sip_stun_is_stun(f + p.payload_off, p.payload_len) &&
		    sip_stun_parse(f + p.payload_off, p.payload_len, &st) == 0 &&
		    st.type == SIP_STUN_BINDING_SUCCESS)
			dp_line_stun_answer(&b->L, (uint32_t)line, st.txid, now_us);
		else
			b->stats.rx_stun_other++;
	}
}

static struct bench *bench_make(uint32_t n, uint32_t *slots, struct dp_wheel_link *links)
{
	struct bench *b = calloc(1, sizeof(*b));
	struct dp_mac far_mac = {{0x02, 0, 0, 0, 0, 0x01}};

	b->frame = calloc(FRAMES, FRAME_ROOM);
	b->L.line = aligned_alloc(64, (size_t)n * sizeof(*b->L.line)); /* as dp_lineset_load */
	if (!b->frame || !b->L.line) {
		fprintf(stderr, "bench_kapath: out of memory\n");
		exit(1);
	}
	memset(b->L.line, 0, (size_t)n * sizeof(*b->L.line));
	b->L.n = n;
	b->L.first_ip = LINE_IP;
	b->L.first_port = 5060;
	b->L.nports = 1000;
	b->L.cfg = (struct dp_line_cfg){
		.t1_ms = 500,
		.t2_ms = 4000,
		.tf_ms = 32000,
		.expires = 3600,
		.refresh_min_pct = 50,
		.refresh_max_pct = 90,
		.retry_ms = 30000,
		.server = {{SERVER_IP, 5060}},
		.keepalive = DP_KA_STUN,
		.ka_interval_ms = 20,
		.ka_timeout_ms = 10000,
	};
	b->L.rng = 0x9e3779b97f4a7c15ull;
	b->L.stats = &b->stats;
	b->L.io = (struct dp_line_io){.ctx = b,
				      .tx_alloc = io_alloc,
				      .tx_send = io_send,
				      .tx_abort = io_abort,
				      .tx_resend = io_line,
				      .tx_release = io_line,
				      .event = io_event};
	dp_lines_set_flow(&b->L, DP_FLOW_REGISTER);
	b->net = (struct dp_net){.mac = {{0x02, 0, 0, 0, 0, 0x02}},
				 .ip_first = LINE_IP,
				 .ip_last = LINE_IP + n / 1000 + 1,
				 .next_hop = SERVER_IP,
				 .next_hop_mac = far_mac,
				 .next_hop_known = true};
	b->far = (struct dp_net){.mac = far_mac, .ip_first = SERVER_IP, .ip_last = SERVER_IP};
	dp_wheel_init(&b->L.wheel, slots, SLOTS, links, n, 0);
	for (uint32_t i = 0; i < n; i++) {
		struct dp_line *l = &b->L.line[i];

		l->state = DP_LINE_REGISTERED;
		l->granted = 3600;
		l->refresh_due_us = 3000ull * 1000 * 1000;
		l->ka_next_us = 1000 + (uint64_t)i * 20000 / n;
		dp_wheel_arm(&b->L.wheel, i, l->ka_next_us / 1000);
	}
	return b;
}

/* One round of simulated seconds; returns the worker's TSC cycles per keep-alive. */
static double round_cycles(struct bench *b, double seconds, uint64_t *kas)
{
	uint64_t cycles = 0, t_end_ms = b->L.wheel.now + (uint64_t)(seconds * 1000);
	uint64_t answered0 = b->stats.rx_keepalive_ok;
	uint32_t due[BURST];

	for (uint64_t ms = b->L.wheel.now + 1; ms <= t_end_ms; ms++) {
		uint64_t now_us = ms * 1000;
		size_t n;

		do {
			uint64_t t0 = rte_rdtsc_precise(), t1;
			unsigned nrx = 0;
			uint32_t rxb[BURST];

			/* as in dp_worker_main: the due lines taken and fetched, the pass's
			 * frames handled, then the timers still due */
			b->ntx = 0;
			n = dp_wheel_expire(&b->L.wheel, ms, due, BURST);
			if (n > 1)
				dp_lines_fetch(&b->L, due, n);
			while (nrx < BURST && b->q_tail - b->q_head > HOLD)
				rxb[nrx++] = b->q[b->q_head++ % FRAMES];
			if (nrx)
				rx_burst(b, rxb, nrx, now_us);
			for (size_t k = 0; k < n; k++) {
				if (!dp_wheel_armed(&b->L.wheel, due[k]))
					dp_line_timer(&b->L, due[k], now_us);
			}
			t1 = rte_rdtsc_precise();
			cycles += t1 - t0;
			for (unsigned k = 0; k < b->ntx; k++) {
				answer(b, b->txb[k]);
				b->q[b->q_tail++ % FRAMES] = b->txb[k];
			}
		} while (n == BURST || b->q_tail - b->q_head > HOLD + BURST);
	}
	*kas = b->stats.rx_keepalive_ok - answered0;
	return *kas ? (double)cycles / (double)*kas : 0;
}

int main(int argc, char **argv)
{
	uint32_t n = 20000;
	double seconds = 2;
	int json = 0;
	uint32_t *slots;
	struct dp_wheel_link *links;
	struct bench *b;
	double best = 0, hz;
	uint64_t kas = 0, tsc0;
	struct timespec ts0, ts1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--lines") && i + 1 < argc)
			n = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else {
			fprintf(stderr, "usage: bench_kapath [--lines N] [--seconds S] [--json]\n");
			return 2;
		}
	}
	if (n < 2 * HOLD || n > 1000000) {
		fprintf(stderr, "bench_kapath: --lines must be 2,000 to 1,000,000\n");
		return 2;
	}
	slots = calloc(DP_WHEEL_HEADS(SLOTS), sizeof(*slots));
	links = calloc(n, sizeof(*links));
	if (!slots || !links)
		return 1;
	b = bench_make(n, slots, links);
	/* the TSC's rate, over a round of work */
	clock_gettime(CLOCK_MONOTONIC, &ts0);
	tsc0 = rte_rdtsc();
	round_cycles(b, 0.5, &kas); /* warm-up */
	clock_gettime(CLOCK_MONOTONIC, &ts1);
	hz = (double)(rte_rdtsc() - tsc0) /
	     ((double)(ts1.tv_sec - ts0.tv_sec) + (double)(ts1.tv_nsec - ts0.tv_nsec) / 1e9);
	for (int r = 0; r < ROUNDS; r++) {
		double c = round_cycles(b, seconds, &kas);

		if (b->stats.flow_failures || b->stats.rx_stun_other || !kas) {
			fprintf(stderr,
				"bench_kapath: %llu flow failures, %llu stray answers, %llu answered\n",
				(unsigned long long)b->stats.flow_failures,
				(unsigned long long)b->stats.rx_stun_other,
				(unsigned long long)kas);
			return 1;
		}
		if (best == 0 || c < best)
			best = c;
	}
	if (json) {
		printf("{\"keepalive_path_ns\":%.1f,\"keepalive_path_per_s\":%.0f,\"lines\":%u}\n",
		       best * 1e9 / hz, hz / best, n);
		return 0;
	}
	printf("| keep-alive path, no port (%u lines) | ns per keep-alive | per second of a core |\n"
	       "|---|---:|---:|\n| timer, request, headers; classify, parse, answer | %.1f | %.0f |\n",
	       n, best * 1e9 / hz, hz / best);
	return 0;
}
