/*
 * The worker's main loop: rx burst, classify, hand SIP to the line logic or answer it,
 * expire timers, start or un-register lines at the ramp's rate, tx burst. When idle it
 * backs off (pause, then short sleeps) so an idle emulator does not burn a core.
 */
#include "dataplane/worker.h"

#include <sys/time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_pause.h>

#include "sip/response.h"
#include "sip/stun.h"

#define DP_IDLE_PAUSE 64     /* idle loops before pausing */
#define DP_IDLE_SLEEP 4096   /* idle loops before sleeping */
#define DP_IDLE_SLEEP_US 200 /* worst added latency when idle */

static inline uint64_t dp__now_us(const struct dp_worker *w)
{
	return dp_tsc_us(rte_get_tsc_cycles(), w->hz);
}

/* Hand the frames waiting to the port; returns how many it took. Those it would not take
 * yet (its ring full: the peer is slower than us for a moment) wait for the next pass, so
 * a burst of timers is sent late rather than lost; the loop expires no more timers while
 * they wait. A port that takes nothing for DP_TX_STUCK_US (a dead link, a peer gone)
 * loses them, counted. */
static unsigned dp__tx_flush(struct dp_worker *w, uint64_t now_us)
{
	uint16_t sent = 0;

	while (sent < w->ntx) {
		uint16_t k = rte_eth_tx_burst(w->port, w->queue, w->tx + sent, w->ntx - sent);

		if (k == 0)
			break;
		sent += k;
	}
	w->stats.tx_frames += sent;
	if (sent == w->ntx) {
		w->ntx = 0;
		return sent;
	}
	if (sent) {
		w->tx_stuck_us = now_us;
		memmove(w->tx, w->tx + sent, (size_t)(w->ntx - sent) * sizeof(w->tx[0]));
		w->ntx -= sent;
		return sent;
	}
	if (!w->tx_stuck_us)
		w->tx_stuck_us = now_us;
	if (now_us - w->tx_stuck_us >= DP_TX_STUCK_US) {
		w->stats.tx_full += w->ntx;
		rte_pktmbuf_free_bulk(w->tx, w->ntx);
		w->ntx = 0;
		w->tx_stuck_us = 0;
	}
	return 0;
}

/* --pcap: what crossed the port, for Wireshark and sngrep. Costs a copy and stdio
 * buffering per frame, so it is off unless asked for. */
static void dp__pcap(struct dp_worker *w, const struct rte_mbuf *m)
{
	struct pcap_pkthdr h;
	struct timeval tv;

	gettimeofday(&tv, NULL);
	h.ts = tv;
	h.caplen = h.len = rte_pktmbuf_data_len(m);
	rte_spinlock_lock(w->pcap_lock);
	pcap_dump((u_char *)w->pcap, &h, rte_pktmbuf_mtod(m, const u_char *));
	rte_spinlock_unlock(w->pcap_lock);
}

/* Queue frame m for the port; with DP_TX_MAX frames already waiting it is lost, counted. */
static void dp__tx(struct dp_worker *w, struct rte_mbuf *m)
{
	if (w->ntx == DP_TX_MAX)
		dp__tx_flush(w, dp__now_us(w));
	if (w->ntx == DP_TX_MAX) {
		w->stats.tx_full++;
		rte_pktmbuf_free(m);
		return;
	}
	if (unlikely(w->pcap != NULL))
		dp__pcap(w, m);
	w->tx[w->ntx++] = m;
}

/* The client of flow (enum dp_flow), or NULL when that flow is off. */
static struct dp_lines *dp__flow_lines(struct dp_worker *w, unsigned flow)
{
	switch (flow) {
	case DP_FLOW_REGISTER:
		return &w->lines;
	case DP_FLOW_SUBSCRIBE:
		return w->subs_on ? &w->subs : NULL;
	case DP_FLOW_REGISTER2:
		return w->reg2_on ? &w->reg2 : NULL;
	default:
		return NULL;
	}
}

/* --- the line logic's I/O (struct dp_line_io) --- */

static char *dp__io_alloc(void *ctx, size_t *cap)
{
	struct dp_worker *w = ((struct dp_flow_io *)ctx)->w;
	struct rte_mbuf *m;

	if (!w->net.next_hop_known)
		return NULL;
	m = rte_pktmbuf_alloc(w->pool);
	if (!m)
		return NULL;
	w->building = m;
	*cap = rte_pktmbuf_tailroom(m) - DP_NET_UDP_HDRS_LEN;
	return rte_pktmbuf_mtod(m, char *) + DP_NET_UDP_HDRS_LEN;
}

static void dp__io_send(void *ctx, uint32_t id, size_t len, bool keep, uint32_t sum)
{
	struct dp_flow_io *fl = ctx;
	struct dp_worker *w = fl->w;
	struct rte_mbuf *m = w->building;
	const struct dp_server_addr *to = &fl->L->cfg.server[fl->L->line[id].via];
	uint32_t ip;
	uint16_t port;
	size_t flen;

	w->building = NULL;
	dp_lines_addr(&w->lines, id, &ip, &port);
	if (sum == DP_SUM_NONE)
		sum = dp_net_sum(rte_pktmbuf_mtod(m, uint8_t *) + DP_NET_UDP_HDRS_LEN, len);
	flen = dp_net_udp_finish_sum(&w->net, rte_pktmbuf_mtod(m, uint8_t *), &w->net.next_hop_mac,
				     ip, port, to->ip, to->port, len, sum);
	m->data_len = (uint16_t)flen;
	m->pkt_len = (uint32_t)flen;
	if (keep) {
		if (fl->held[id])
			rte_pktmbuf_free(fl->held[id]);
		else
			fl->L->stats->in_flight++;
		rte_mbuf_refcnt_update(m, 1);
		fl->held[id] = m;
	}
	dp__tx(w, m);
}

static void dp__io_abort(void *ctx)
{
	struct dp_worker *w = ((struct dp_flow_io *)ctx)->w;

	rte_pktmbuf_free(w->building);
	w->building = NULL;
}

static void dp__io_resend(void *ctx, uint32_t id)
{
	struct dp_flow_io *fl = ctx;
	struct rte_mbuf *m = fl->held[id];

	if (!m)
		return;
	rte_mbuf_refcnt_update(m, 1);
	dp__tx(fl->w, m);
}

static void dp__io_release(void *ctx, uint32_t id)
{
	struct dp_flow_io *fl = ctx;

	if (fl->held[id]) {
		rte_pktmbuf_free(fl->held[id]);
		fl->held[id] = NULL;
		fl->L->stats->in_flight--;
	}
}

static void dp__event_put(struct dp_worker *w, const struct dp_msg *m)
{
	struct dp_msg copy = *m; /* the ring API takes a non-const pointer */

	if (rte_ring_enqueue_elem(w->ev, &copy, sizeof(copy)) != 0)
		w->stats.events_lost++;
}

static void dp__io_event(void *ctx, const struct dp_msg *m)
{
	dp__event_put(((struct dp_flow_io *)ctx)->w, m);
}

void dp_worker_bind_io(struct dp_worker *w)
{
	struct dp_lines *L[DP_FLOW__COUNT] = {&w->lines, &w->subs, &w->reg2};

	for (int k = 0; k < DP_FLOW__COUNT; k++) {
		w->flow[k].w = w;
		w->flow[k].L = L[k];
		L[k]->io = (struct dp_line_io){
			.ctx = &w->flow[k],
			.tx_alloc = dp__io_alloc,
			.tx_send = dp__io_send,
			.tx_abort = dp__io_abort,
			.tx_resend = dp__io_resend,
			.tx_release = dp__io_release,
			.event = dp__io_event,
		};
	}
	w->flow[0].held = w->held;
}

void dp_worker_tx(struct dp_worker *w, struct rte_mbuf *m)
{
	dp__tx(w, m);
}

/* --- the calls' io: datagrams from the line's own address, held for retransmission --- */

static bool dp__call_io_send(void *ctx, uint32_t k, uint32_t i, uint32_t ip, uint16_t port,
			     const char *text, size_t n, bool keep)
{
	struct dp_worker *w = ctx;
	struct rte_mbuf *m;
	uint32_t src_ip;
	uint16_t src_port;
	size_t flen;

	/* call.c keeps a request under 1,400 octets: it fits one buffer */
	if (!w->net.next_hop_known || !(m = rte_pktmbuf_alloc(w->pool))) {
		w->stats.sip_drops[DP_SIP_DROP_NO_BUFFER]++;
		return false;
	}
	memcpy(rte_pktmbuf_mtod(m, char *) + DP_NET_UDP_HDRS_LEN, text, n);
	dp_lines_addr(&w->lines, i, &src_ip, &src_port);
	flen = dp_net_udp_finish(&w->net, rte_pktmbuf_mtod(m, uint8_t *), &w->net.next_hop_mac,
				 src_ip, src_port, ip, port, n);
	m->data_len = (uint16_t)flen;
	m->pkt_len = (uint32_t)flen;
	if (keep && k < w->calls.max) {
		rte_pktmbuf_free(w->call_held[k]);
		rte_mbuf_refcnt_update(m, 1);
		w->call_held[k] = m;
	}
	dp__tx(w, m);
	return true;
}

static void dp__call_io_resend(void *ctx, uint32_t k)
{
	struct dp_worker *w = ctx;

	if (!w->call_held[k])
		return;
	rte_mbuf_refcnt_update(w->call_held[k], 1);
	dp__tx(w, w->call_held[k]);
}

static void dp__call_io_release(void *ctx, uint32_t k)
{
	struct dp_worker *w = ctx;

	rte_pktmbuf_free(w->call_held[k]);
	w->call_held[k] = NULL;
}

static void dp__call_io_end(void *ctx, uint32_t k)
{
	(void)ctx;
	(void)k;
}

static void dp__call_io_event(void *ctx, const struct dp_msg *m)
{
	dp__event_put(ctx, m);
}

int dp_worker_calls_init(struct dp_worker *w, uint32_t max, const char *to, uint64_t now_ms)
{
	static const struct dp_call_io io = {.send = dp__call_io_send,
					     .resend = dp__call_io_resend,
					     .release = dp__call_io_release,
					     .end = dp__call_io_end,
					     .event = dp__call_io_event};
	struct dp_call_io mine = io;
	int rc;

	mine.ctx = w;
	if (max > 0xffff)
		return -EINVAL;
	if (!(w->call_held = calloc(max ? max : 1, sizeof(*w->call_held))))
		return -ENOMEM;
	if ((rc = dp_calls_init(&w->calls, max, &w->lines, to, &mine, now_ms)) != 0)
		return rc;
	w->calls.worker = w->id;
	w->calls.transport = SIP_TPL_UDP;
	return 0;
}

void dp_worker_calls_free(struct dp_worker *w)
{
	if (w->calls.on)
		dp_calls_release(&w->calls);
	dp_calls_free(&w->calls);
	free(w->call_held);
	w->call_held = NULL;
}

void dp_worker_event(struct dp_worker *w, const struct dp_msg *m)
{
	dp__event_put(w, m);
}

/* --- requests to our lines: what a phone answers --- */

/* Build one response to req into a fresh mbuf and queue it back to where req came from,
 * as rport asks (RFC 3581 §4). */
static void dp__respond(struct dp_worker *w, const struct dp_pkt *p, const struct sip_msg *req,
			const struct sip_response_opts *o)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	size_t cap;
	ssize_t n;

	if (!m) {
		w->stats.sip_drops[DP_SIP_DROP_NO_BUFFER]++;
		return;
	}
	cap = rte_pktmbuf_tailroom(m) - DP_NET_UDP_HDRS_LEN;
	n = sip_build_response(req, o, rte_pktmbuf_mtod(m, char *) + DP_NET_UDP_HDRS_LEN, cap);
	if (n < 0) {
		rte_pktmbuf_free(m);
		w->stats.sip_drops[DP_SIP_DROP_NO_BUFFER]++;
		return;
	}
	n = (ssize_t)dp_net_udp_finish(&w->net, rte_pktmbuf_mtod(m, uint8_t *), &p->src_mac,
				       p->dst_ip, p->dst_port, p->src_ip, p->src_port, (size_t)n);
	m->data_len = (uint16_t)n;
	m->pkt_len = (uint32_t)n;
	w->stats.tx_responses[o->status / 100]++;
	dp__tx(w, m);
}

/*
 * --invite answer: 180 Ringing, then 200 OK with an SDP offer-answer of PCMU on the
 * line's address (RFC 3264), and a Contact. Calls are rare next to registrations, so the
 * SDP is formatted here rather than prepared per line.
 */
static void dp__answer_call(struct dp_worker *w, const struct dp_pkt *p, const struct sip_msg *req,
			    uint32_t i, struct sip_response_opts *o)
{
	uint32_t ip;
	uint16_t port;
	char ip_s[16], contact[96], sdp[256];
	int n;

	dp_lines_addr(&w->lines, i, &ip, &port);
	snprintf(ip_s, sizeof(ip_s), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255);
	o->status = 180;
	dp__respond(w, p, req, o);
	snprintf(contact, sizeof(contact), "sip:%.31s@%s:%u", w->lines.auth_user[i], ip_s, port);
	n = snprintf(sdp, sizeof(sdp),
		     "v=0\r\no=- %u 1 IN IP4 %s\r\ns=sipedge\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		     "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
		     w->lines.first_id + i, ip_s, ip_s, 20000u + 2 * (port % 20000));
	o->status = 200;
	o->contact = sip_str_cstr(contact);
	o->content_type = SIP_STR("application/sdp");
	o->body = sip_str_make(sdp, n > 0 ? (size_t)n : 0);
	dp__respond(w, p, req, o);
}

static void dp__answer(struct dp_worker *w, const struct dp_pkt *p, const struct sip_msg *req,
		       int64_t line, uint64_t now_us)
{
	static const struct sip_str allow = SIP_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY");
	enum dp_method_stat ms = dp_method_stat_of(req->method);
	struct sip_response_opts o = {.allow = allow, .server = SIP_STR("sipedge")};
	char tag[20];

	w->stats.rx_requests[ms]++;
	if (ms == DP_M_ACK)
		return; /* ACK gets no response (RFC 3261 §17.1.1.3) */
	snprintf(tag, sizeof(tag), "se%x", (unsigned)(line < 0 ? 0 : w->lines.first_id + line));
	o.to_tag = sip_str_cstr(tag);
	if (ms == DP_M_BYE && line >= 0)
		dp_calls_remote_bye(&w->calls, (uint32_t)line, req); /* the other side hung up */
	if (line >= 0 && ms == DP_M_INVITE && w->invite_answer)
		return dp__answer_call(w, p, req, (uint32_t)line, &o);
	o.status = line < 0 ? 404 : dp_phone_answer(req->method);
	dp__respond(w, p, req, &o);
	/* a notifier that ends the subscription: the line subscribes anew (RFC 6665 §4.1.3) */
	if (ms == DP_M_NOTIFY && line >= 0 && w->subs_on)
		dp_line_notify(&w->subs, (uint32_t)line, req, now_us);
}

/* --- OPTIONS probes of servers (DP_CMD_PROBE): rare, so formatted here --- */

static void dp__probe_event(struct dp_worker *w, unsigned s, enum dp_fail_reason why,
			    uint32_t status, uint64_t now_us)
{
	struct dp_msg m = {
		.type = DP_EV_PROBE,
		.reason = why,
		.value = status,
		.target = DP_TARGET(s, 0, s),
		.worker = w->id,
		.t_us = now_us,
	};

	w->probe[s].branch = 0;
	w->probes_out--;
	if (why == DP_FAIL_NONE)
		w->stats.probes_answered++;
	dp__event_put(w, &m);
}

/* Send (or send again) the probe of server s from line 0's address. */
static void dp__probe_send(struct dp_worker *w, unsigned s)
{
	const struct dp_server_addr *to = &w->lines.cfg.server[s];
	const struct dp_probe *pr = &w->probe[s];
	struct rte_mbuf *m;
	char *text, dst[24], src[24];
	uint32_t ip;
	uint16_t port;
	int n;

	if (!w->net.next_hop_known || !(m = rte_pktmbuf_alloc(w->pool)))
		return; /* the next retransmission tries again */
	dp_lines_addr(&w->lines, 0, &ip, &port);
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u:%u", to->ip >> 24, (to->ip >> 16) & 255,
		 (to->ip >> 8) & 255, to->ip & 255, to->port);
	snprintf(src, sizeof(src), "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255, port);
	text = rte_pktmbuf_mtod(m, char *) + DP_NET_UDP_HDRS_LEN;
	n = snprintf(text, rte_pktmbuf_tailroom(m) - DP_NET_UDP_HDRS_LEN,
		     "OPTIONS sip:%s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s;branch=z9hG4bKpr%016llx;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:probe@%s>;tag=pr%x\r\n"
		     "To: <sip:%s>\r\n"
		     "Call-ID: probe%u-%llx@%s\r\n"
		     "CSeq: %u OPTIONS\r\n"
		     "Accept: application/sdp\r\n"
		     "Content-Length: 0\r\n\r\n",
		     dst, src, (unsigned long long)pr->branch, src, s, dst, s,
		     (unsigned long long)w->lines.id_seed, src, pr->cseq);
	n = (int)dp_net_udp_finish(&w->net, rte_pktmbuf_mtod(m, uint8_t *), &w->net.next_hop_mac,
				   ip, port, to->ip, to->port, (size_t)n);
	m->data_len = (uint16_t)n;
	m->pkt_len = (uint32_t)n;
	dp__tx(w, m);
}

static void dp__probe_start(struct dp_worker *w, unsigned s, uint32_t timeout_ms, uint64_t now_us)
{
	struct dp_probe *pr = &w->probe[s];

	if (s >= DP_MAX_SERVERS || !w->lines.cfg.server[s].port || timeout_ms == 0) {
		w->stats.bad_commands++;
		return;
	}
	if (!pr->branch)
		w->probes_out++;
	/* xorshift of the seed and the clock: a fresh branch, never 0 */
	pr->branch = (w->lines.id_seed ^ now_us ^ ((uint64_t)s << 56)) | 1;
	pr->cseq++;
	pr->interval_ms = w->lines.cfg.t1_ms;
	pr->next_us = now_us + pr->interval_ms * 1000ull;
	pr->deadline_us = now_us + timeout_ms * 1000ull;
	w->stats.tx_probes++;
	dp__probe_send(w, s);
}

static void dp__probe_timers(struct dp_worker *w, uint64_t now_us)
{
	for (unsigned s = 0; s < DP_MAX_SERVERS && w->probes_out; s++) {
		struct dp_probe *pr = &w->probe[s];

		if (!pr->branch || now_us < pr->next_us)
			continue;
		if (now_us >= pr->deadline_us) {
			dp__probe_event(w, s, DP_FAIL_TIMEOUT, 0, now_us);
			continue;
		}
		pr->interval_ms = pr->interval_ms * 2 < w->lines.cfg.t2_ms ? pr->interval_ms * 2
									   : w->lines.cfg.t2_ms;
		pr->next_us = now_us + pr->interval_ms * 1000ull;
		w->stats.tx_retransmissions++;
		dp__probe_send(w, s);
	}
}

/* A response with CSeq method OPTIONS: any final answer shows the server is alive. */
static void dp__probe_response(struct dp_worker *w, const struct sip_msg *m, uint64_t now_us)
{
	char b[26];

	for (unsigned s = 0; s < DP_MAX_SERVERS; s++) {
		const struct dp_probe *pr = &w->probe[s];

		if (!pr->branch)
			continue;
		snprintf(b, sizeof(b), "z9hG4bKpr%016llx", (unsigned long long)pr->branch);
		if (m->via.branch.len == 25 && memcmp(m->via.branch.p, b, 25) == 0) {
			if (m->status >= 200)
				dp__probe_event(w, s, DP_FAIL_NONE, m->status, now_us);
			return;
		}
	}
	w->stats.sip_drops[DP_SIP_DROP_STALE]++;
}

static void dp__probe_unreachable(struct dp_worker *w, uint32_t ip, uint16_t port, uint64_t now_us)
{
	for (unsigned s = 0; s < DP_MAX_SERVERS && w->probes_out; s++) {
		if (w->probe[s].branch && w->lines.cfg.server[s].ip == ip &&
		    w->lines.cfg.server[s].port == port)
			dp__probe_event(w, s, DP_FAIL_TRANSPORT, 0, now_us);
	}
}

static void dp__sip(struct dp_worker *w, const struct dp_pkt *p, const char *payload,
		    uint64_t now_us)
{
	struct sip_header hdrs[48];
	struct sip_parse_error err;
	struct sip_msg msg;
	int64_t line = dp_lines_index(&w->lines, p->dst_ip, p->dst_port);

	if (sip_stun_is_stun((const uint8_t *)payload, p->payload_len)) {
		struct sip_stun_msg st;

		struct dp_lines *L;

		/* our keep-alives name their flow in the transaction id (line.c) */
		if (line >= 0 &&
		    sip_stun_parse((const uint8_t *)payload, p->payload_len, &st) == 0 &&
		    st.type == SIP_STUN_BINDING_SUCCESS && (L = dp__flow_lines(w, st.txid[2])))
			dp_line_stun_answer(L, (uint32_t)line, st.txid, now_us);
		else
			w->stats.rx_stun_other++;
		return;
	}
	if (sip_parse(payload, p->payload_len, SIP_FRAMING_DATAGRAM, &msg, hdrs, 48, &err) < 0) {
		w->stats.sip_drops[DP_SIP_DROP_PARSE]++;
		return;
	}
	if (msg.keepalive) {
		w->stats.rx_keepalive_crlf++; /* RFC 5626 §3.5.1 ping or pong: nothing to do */
		return;
	}
	if (msg.is_request)
		return dp__answer(w, p, &msg, line, now_us);
	if (line < 0) {
		w->stats.sip_drops[DP_SIP_DROP_UNKNOWN_LINE]++;
		return;
	}
	if (unlikely(w->probes_out && sip_str_eq(msg.cseq.method, SIP_STR("OPTIONS"))))
		return dp__probe_response(w, &msg, now_us);
	if (w->calls.on &&
	    (sip_str_eq(msg.cseq.method, SIP_STR("INVITE")) ||
	     sip_str_eq(msg.cseq.method, SIP_STR("BYE")) ||
	     sip_str_eq(msg.cseq.method, SIP_STR("CANCEL"))) &&
	    dp_calls_response(&w->calls, (uint32_t)line, &msg, p->src_ip, p->src_port, now_us))
		return;
	if (w->subs_on && sip_str_eq(msg.cseq.method, SIP_STR("SUBSCRIBE")))
		return dp_line_response(&w->subs, (uint32_t)line, &msg, p->src_ip, p->src_port,
					now_us);
	/* two registrations of one line: the Via branch tells whose answer it is */
	if (w->reg2_on && dp_line_owns(&w->reg2, (uint32_t)line, &msg))
		return dp_line_response(&w->reg2, (uint32_t)line, &msg, p->src_ip, p->src_port,
					now_us);
	dp_line_response(&w->lines, (uint32_t)line, &msg, p->src_ip, p->src_port, now_us);
}

/* Hand frame m to worker k (it frees it); a full ring is a counted drop. */
static void dp__hand_over(struct dp_worker *w, unsigned k, struct rte_mbuf *m)
{
	if (rte_ring_enqueue(w->all[k].rx_ring, m) != 0) {
		w->stats.drops[DP_DROP_DISPATCH_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	w->stats.dispatched++;
}

/*
 * Software dispatch, where the port's queues do not split traffic by line (af_packet's
 * fan-out hashes flows, a single-queue port delivers everything to worker 0): a datagram
 * for a line, or an ICMP error about one of its datagrams, goes to the line's worker; an
 * ARP reply teaches every worker the next hop. Returns true when m was handed over.
 */
static bool dp__dispatch(struct dp_worker *w, struct rte_mbuf *m, const struct dp_pkt *p)
{
	uint64_t g;
	unsigned k;

	if (p->kind == DP_PKT_ARP_OTHER) {
		for (k = 0; k < w->nworkers; k++) {
			if (k == w->id)
				continue;
			rte_mbuf_refcnt_update(m, 1);
			dp__hand_over(w, k, m);
		}
		return false; /* and learned from here too */
	}
	if ((p->kind != DP_PKT_UDP && p->kind != DP_PKT_ICMP_UNREACH) ||
	    p->dst_ip < w->lines.first_ip || p->dst_port < w->lines.first_port ||
	    p->dst_port >= w->lines.first_port + w->lines.nports)
		return false;
	g = (uint64_t)(p->dst_ip - w->lines.first_ip) * w->lines.nports +
	    (p->dst_port - w->lines.first_port);
	k = (unsigned)(g / w->shard);
	if (k >= w->nworkers || k == w->id)
		return false; /* no line's, or ours */
	dp__hand_over(w, k, m);
	return true;
}

/* A frame from the port (from_port), or one another worker handed over. */
static void dp__rx_one(struct dp_worker *w, struct rte_mbuf *m, uint64_t now_us, bool from_port)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct dp_pkt p;
	size_t len;

	if (unlikely(w->pcap != NULL) && from_port)
		dp__pcap(w, m);
	if (m->nb_segs != 1) {
		w->stats.drops[DP_DROP_RUNT]++;
		rte_pktmbuf_free(m);
		return;
	}
	dp_net_classify(&w->net, f, m->data_len, &p);
	if (w->nworkers > 1 && from_port && dp__dispatch(w, m, &p))
		return;
	switch (p.kind) {
	case DP_PKT_ARP_REQUEST:
		len = dp_net_arp_reply(&w->net, f, m->data_len);
		m->data_len = (uint16_t)len;
		m->pkt_len = (uint32_t)len;
		w->stats.arp_replies++;
		dp__tx(w, m);
		return;
	case DP_PKT_ICMP_ECHO:
		len = dp_net_icmp_echo_reply(&w->net, f, &p);
		m->data_len = (uint16_t)len;
		m->pkt_len = (uint32_t)len;
		w->stats.icmp_echo_replies++;
		dp__tx(w, m);
		return;
	case DP_PKT_UDP:
		dp__sip(w, &p, (const char *)f + p.payload_off, now_us);
		break;
	case DP_PKT_ICMP_UNREACH: {
		int64_t line = dp_lines_index(&w->lines, p.dst_ip, p.dst_port);

		w->stats.icmp_unreachable++;
		if (w->probes_out)
			dp__probe_unreachable(w, p.src_ip, p.src_port, now_us);
		if (w->calls.on && line >= 0)
			dp_calls_unreachable(&w->calls, (uint32_t)line, p.src_ip, p.src_port,
					     now_us);
		for (unsigned fl = 0; line >= 0 && fl < DP_FLOW__COUNT; fl++) {
			struct dp_lines *L = dp__flow_lines(w, fl);

			if (L)
				dp_line_unreachable(L, (uint32_t)line, p.src_ip, p.src_port,
						    now_us);
		}
		break;
	}
	case DP_PKT_DROP:
		w->stats.drops[p.drop]++;
		break;
	case DP_PKT_ARP_OTHER:
		break;
	}
	rte_pktmbuf_free(m);
}

/* ARP for the next hop: every second until known, then every minute to follow changes. */
static void dp__arp(struct dp_worker *w, uint64_t now_us)
{
	struct rte_mbuf *m;
	size_t len;

	if (now_us < w->arp_due_us)
		return;
	w->arp_due_us = now_us + (w->net.next_hop_known ? 60000000ull : 1000000ull);
	m = rte_pktmbuf_alloc(w->pool);
	if (!m)
		return;
	len = dp_net_arp_request(&w->net, w->net.ip_first, w->net.next_hop,
				 rte_pktmbuf_mtod(m, uint8_t *));
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	w->stats.arp_requests++;
	dp__tx(w, m);
}

/* Start and un-register ramps: at most one line per ramp step, bounded per loop. */
static unsigned dp__ramps(struct dp_worker *w, uint64_t now_us)
{
	unsigned done = 0;

	while (w->net.next_hop_known && w->start_next < w->lines.n && now_us >= w->start_due_us &&
	       done < DP_BURST) {
		if (w->reg2_on) /* the second outbound flow starts with the first */
			dp_line_start(&w->reg2, w->start_next, now_us);
		dp_line_start(&w->lines, w->start_next++, now_us);
		w->start_due_us += w->ramp_step_us;
		done++;
	}
	while (w->unreg_all && w->unreg_next < w->lines.n && now_us >= w->unreg_due_us &&
	       done < DP_BURST) {
		/* idle lines hold no binding: pass over them without spending the rate */
		unsigned skipped = 0;

		while (w->unreg_next < w->lines.n && skipped < 4096 &&
		       w->lines.line[w->unreg_next].state == DP_LINE_IDLE &&
		       (!w->subs_on || w->subs.line[w->unreg_next].state == DP_LINE_IDLE) &&
		       (!w->reg2_on || w->reg2.line[w->unreg_next].state == DP_LINE_IDLE)) {
			w->unreg_next++;
			skipped++;
		}
		if (w->unreg_next == w->lines.n || skipped == 4096)
			break;
		if (w->subs_on)
			dp_line_unregister(&w->subs, w->unreg_next, now_us);
		if (w->reg2_on)
			dp_line_unregister(&w->reg2, w->unreg_next, now_us);
		dp_line_unregister(&w->lines, w->unreg_next++, now_us);
		w->unreg_due_us += w->ramp_step_us;
		done++;
	}
	w->stats.unreg_pending = w->unreg_all ? w->lines.n - w->unreg_next : 0;
	w->sub_stats.unreg_pending = w->subs_on ? w->stats.unreg_pending : 0;
	w->reg2_stats.unreg_pending = w->reg2_on ? w->stats.unreg_pending : 0;
	if (w->start_due_us < now_us && w->start_next >= w->lines.n)
		w->start_due_us = now_us;
	return done;
}

/* A server slot's new address, for every client of the lines (requests out keep theirs:
 * their answers come from the old one, and are taken as stale). */
static void dp__set_server(struct dp_worker *w, unsigned slot, uint32_t ip, uint32_t port)
{
	if (slot >= DP_MAX_SERVERS || !port || port > 65535) {
		w->stats.bad_commands++;
		return;
	}
	for (unsigned f = 0; f < DP_FLOW__COUNT; f++) {
		struct dp_lines *L = dp__flow_lines(w, f);

		if (L)
			L->cfg.server[slot] = (struct dp_server_addr){ip, (uint16_t)port};
	}
}

static unsigned dp__commands(struct dp_worker *w, uint64_t now_us)
{
	struct dp_msg c[DP_BURST];
	unsigned n = rte_ring_dequeue_burst_elem(w->cmd, c, sizeof(c[0]), DP_BURST, NULL);

	for (unsigned k = 0; k < n; k++) {
		uint32_t i = c[k].line - w->lines.first_id;
		struct dp_lines *L = dp__flow_lines(w, c[k].flow);

		if (!L && (c[k].type == DP_CMD_REGISTER || c[k].type == DP_CMD_UNREGISTER)) {
			w->stats.bad_commands++;
			continue;
		}
		switch (c[k].type) {
		case DP_CMD_REGISTER:
			if (i < w->lines.n)
				dp_line_register(L, i, c[k].target & DP_TARGET_SET,
						 c[k].target & ~DP_TARGET_SET,
						 (uint64_t)c[k].value * 1000, now_us);
			break;
		case DP_CMD_PROBE:
			dp__probe_start(w, DP_TARGET_VIA(c[k].target), c[k].value, now_us);
			break;
		case DP_CMD_SERVER:
			dp__set_server(w, DP_TARGET_VIA(c[k].target), c[k].value, c[k].value2);
			break;
		case DP_CMD_KEEPALIVE:
			if (!L || dp_lines_keepalive(L, (uint8_t)c[k].reason, c[k].value,
						     c[k].value2) != 0)
				w->stats.bad_commands++;
			break;
		case DP_CMD_UNREGISTER:
			if (i < w->lines.n)
				dp_line_unregister(L, i, now_us);
			break;
		case DP_CMD_CALLS:
			dp_calls_set(&w->calls, c[k].value, c[k].value2, c[k].target, now_us);
			break;
		case DP_CMD_UNREGISTER_ALL:
			if (w->calls.on)
				dp_calls_stop(&w->calls, now_us);
			w->start_next = w->lines.n; /* no more starts */
			w->unreg_all = true;
			w->unreg_next = 0;
			w->stats.unreg_pending = w->lines.n;
			w->unreg_due_us = now_us;
			break;
		case DP_CMD_STOP:
			w->stop = true;
			break;
		}
	}
	return n;
}

/* Frame octets loaded ahead of a burst's handling (a STUN answer, an ARP or ICMP frame
 * in full; the head of a SIP message): classify sums and reads them all. */
#define DP_RX_FETCH_OCTETS 256

/* The frames of a burst and the lines they are for, loaded ahead (IPv4 without options,
 * UDP): the frames were written by another core or a device, and their misses, and the
 * lines', then overlap instead of queueing one behind the other. */
static void dp__rx_fetch(const struct dp_worker *w, struct rte_mbuf **rx, unsigned n)
{
	uint32_t ids[DP_BURST], ip, acc = 0;
	uint16_t port;
	size_t nids = 0;

	for (unsigned k = 0; k < n; k++) {
		const volatile uint8_t *f = rte_pktmbuf_mtod(rx[k], const volatile uint8_t *);
		size_t len =
			rx[k]->data_len < DP_RX_FETCH_OCTETS ? rx[k]->data_len : DP_RX_FETCH_OCTETS;
		int64_t i;

		for (size_t o = RTE_CACHE_LINE_SIZE; o < len; o += RTE_CACHE_LINE_SIZE)
			acc += f[o];

		if (dp_net_udp_dst_peek(rte_pktmbuf_mtod(rx[k], const uint8_t *), rx[k]->data_len,
					&ip, &port) &&
		    (i = dp_lines_index(&w->lines, ip, port)) >= 0)
			ids[nids++] = (uint32_t)i;
	}
	__asm__ volatile("" : : "r"(acc));
	dp_lines_fetch(&w->lines, ids, nids);
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_mbuf *rx[DP_BURST];
	uint32_t due[DP_BURST];
	unsigned idle = 0;
	struct dp_msg stopped = {.type = DP_EV_STOPPED};

	uint64_t t_start = rte_get_tsc_cycles();

	w->start_due_us = dp_tsc_us(t_start, w->hz);
	while (!w->stop) {
		uint64_t t0 = rte_get_tsc_cycles(), now_us = dp_tsc_us(t0, w->hz);
		uint16_t nrx = w->rx_queue ? rte_eth_rx_burst(w->port, w->queue, rx, DP_BURST) : 0;
		/* frames of the last pass still wait for the port: no timer fires until
		 * they are out */
		bool backlog = w->ntx != 0;
		size_t ndue;
		unsigned work = nrx, sent = 0, n;

		w->stats.rx_frames += nrx;
		/* The due lines are taken and fetched before the frames are handled, so
		 * that their misses (DRAM at a million lines) overlap that work. A frame
		 * that arms a line's timer again (a response) makes it no longer due: its
		 * timer is skipped below, as it would not have expired after the frame. */
		ndue = backlog ? 0 : dp_wheel_expire(&w->lines.wheel, now_us / 1000, due, DP_BURST);
		if (ndue > 1)
			dp_lines_fetch(&w->lines, due, ndue);
		if (nrx > 1)
			dp__rx_fetch(w, rx, nrx);
		for (uint16_t k = 0; k < nrx; k++)
			dp__rx_one(w, rx[k], now_us, true);
		if (w->nworkers > 1) {
			n = rte_ring_dequeue_burst(w->rx_ring, (void **)rx, DP_BURST, NULL);
			for (unsigned k = 0; k < n; k++)
				dp__rx_one(w, rx[k], now_us, false);
			work += n;
		}
		for (size_t k = 0; k < ndue; k++) {
			if (!dp_wheel_armed(&w->lines.wheel, due[k]))
				dp_line_timer(&w->lines, due[k], now_us);
		}
		for (unsigned f = 1; f < DP_FLOW__COUNT; f++) {
			struct dp_lines *L = dp__flow_lines(w, f);
			size_t nf = L && !backlog ? dp_wheel_expire(&L->wheel, now_us / 1000, due,
								    DP_BURST)
						  : 0;

			for (size_t k = 0; k < nf; k++)
				dp_line_timer(L, due[k], now_us);
			ndue += nf;
		}
		work += (unsigned)ndue + (backlog ? 0 : dp__ramps(w, now_us));
		if (w->calls.on && !backlog)
			work += dp_calls_poll(&w->calls, now_us);
		dp__arp(w, now_us);
		n = dp__commands(w, now_us);
		work += n;
		if (unlikely(w->probes_out))
			dp__probe_timers(w, now_us);
		if (w->ntx)
			sent = dp__tx_flush(w, now_us);
		/* Busy: a pass that took frames in, fired timers, took commands or got frames
		 * out. One that only found the port's ring still full waits on the peer, not
		 * on this core, so it is not counted busy (nor does it sleep). */
		if (work || sent) {
			uint64_t t1 = rte_get_tsc_cycles();

			w->stats.busy_cycles += t1 - t0;
			w->stats.run_cycles = t1 - t_start;
			idle = 0;
			continue;
		}
		w->stats.run_cycles = t0 - t_start;
		if (backlog) { /* poll the port until it takes them, no sleep */
			idle = 0;
			continue;
		}
		if (++idle > DP_IDLE_SLEEP) {
			w->stats.idle_sleeps++;
			rte_delay_us_sleep(DP_IDLE_SLEEP_US);
		} else if (idle > DP_IDLE_PAUSE) {
			rte_pause();
		}
	}
	dp__tx_flush(w, dp__now_us(w));
	w->stats.tx_full += w->ntx; /* the port would not take them as we stopped */
	rte_pktmbuf_free_bulk(w->tx, w->ntx);
	w->ntx = 0;
	stopped.worker = w->id;
	stopped.t_us = dp__now_us(w);
	dp__event_put(w, &stopped);
	return 0;
}
