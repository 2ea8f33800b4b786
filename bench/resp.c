/*
 * bench/resp.h's registrar and STUN server: what bench_responder and bench_ringagent
 * run on their lcore (see bench/responder.c).
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "bench/resp.h"
#include "dataplane/net.h"
#include "sip/digest.h"
#include "sip/parser.h"
#include "sip/response.h"
#include "sip/stun.h"

/* The memif peer is connected: only then may a burst touch the port's rings. */
static bool peer_up(uint16_t port)
{
	struct rte_eth_link link;

	return rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

static void flush(struct resp *r)
{
	unsigned sent = 0;
	uint64_t give_up = rte_get_tsc_cycles() + rte_get_tsc_hz() / 100;

	/* a held batch may be larger than the ring: wait (10 ms at most) while the agent
	 * drains it */
	while (sent < r->ntx && peer_up(r->port)) {
		unsigned want = r->ntx - sent < BURST ? r->ntx - sent : BURST;
		uint16_t k = rte_eth_tx_burst(r->port, 0, r->tx + sent, (uint16_t)want);

		if (!k && (!r->batch || rte_get_tsc_cycles() > give_up))
			break;
		sent += k;
	}
	if (sent < r->ntx) {
		r->tx_full += r->ntx - sent;
		rte_pktmbuf_free_bulk(r->tx + sent, r->ntx - sent);
	}
	r->ntx = 0;
}

static void send_udp(struct resp *r, const struct dp_pkt *p, struct rte_mbuf *m, size_t len)
{
	size_t flen = dp_net_udp_finish(&r->net, rte_pktmbuf_mtod(m, uint8_t *), &p->src_mac,
					p->dst_ip, p->dst_port, p->src_ip, p->src_port, len);

	m->data_len = (uint16_t)flen;
	m->pkt_len = (uint32_t)flen;
	if (r->ntx == r->txcap)
		flush(r);
	r->tx[r->ntx++] = m;
}

/* Value of one Authorization parameter (quotes stripped); empty when absent. */
static struct sip_str auth_param(struct sip_str v, const char *name)
{
	struct sip_str item, cur;
	size_t n = strlen(name);

	if (v.len > 7 && strncasecmp(v.p, "Digest ", 7) == 0)
		v = sip_str_make(v.p + 7, v.len - 7);
	cur = v;
	while (sip_list_next(&cur, &item)) {
		if (item.len > n && strncasecmp(item.p, name, n) == 0 && item.p[n] == '=') {
			struct sip_str val =
				sip_trim(sip_str_make(item.p + n + 1, item.len - n - 1));

			if (val.len >= 2 && val.p[0] == '"')
				val = sip_str_make(val.p + 1, val.len - 2);
			return val;
		}
	}
	return SIP_STR_NULL;
}

/* Check the response parameter the way a registrar does: HA1 from the password. */
static bool verify(struct resp *r, const struct sip_msg *m, struct sip_str auth)
{
	struct sip_str user = auth_param(auth, "username"), realm = auth_param(auth, "realm");
	struct sip_str nonce = auth_param(auth, "nonce"), uri = auth_param(auth, "uri");
	struct sip_str resp = auth_param(auth, "response"), cnonce = auth_param(auth, "cnonce");
	struct sip_str nc = auth_param(auth, "nc"), qop = auth_param(auth, "qop");
	char ha1[SIP_DIGEST_HEX_MAX], out[SIP_DIGEST_HEX_MAX];
	struct sip_challenge ch = {0};
	struct sip_digest_req req = {0};
	int hl;

	hl = sip_digest_ha1(&r->dctx, SIP_DIGEST_MD5, user, realm, sip_str_cstr(r->password), ha1);
	if (hl <= 0 || !nonce.len || !resp.len)
		return false;
	ch.scheme = SIP_STR("Digest");
	ch.realm = realm;
	ch.nonce = nonce;
	ch.algorithm = SIP_DIGEST_MD5;
	if (qop.len) {
		ch.qop = SIP_DIGEST_QOP_AUTH;
		ch.qop_raw = qop;
	}
	req.method = m->method;
	req.uri = uri;
	req.username = user;
	req.ha1 = sip_str_make(ha1, (size_t)hl);
	req.cnonce = cnonce;
	req.nc = (uint32_t)strtoul(nc.p ? nc.p : "1", NULL, 16);
	hl = sip_digest_response(&r->dctx, &ch, &req, NULL, out);
	return hl > 0 && (size_t)hl == resp.len && memcmp(out, resp.p, resp.len) == 0;
}

static void on_register(struct resp *r, const struct dp_pkt *p, const struct sip_msg *m)
{
	const struct sip_header *auth = sip_msg_header(m, SIP_HDR_AUTHORIZATION, 0);
	const struct sip_header *contact = sip_msg_header(m, SIP_HDR_CONTACT, 0);
	const struct sip_header *exp = sip_msg_header(m, SIP_HDR_EXPIRES, 0);
	struct sip_response_opts o = {.to_tag = SIP_STR("bench")};
	char extra[512];
	struct rte_mbuf *out = rte_pktmbuf_alloc(r->pool);
	ssize_t n;
	int k;

	if (!out)
		return;
	if (!auth) {
		o.status = 401;
		k = snprintf(extra, sizeof(extra),
			     "WWW-Authenticate: Digest realm=\"%.*s\", nonce=\"bench%08lx\", "
			     "qop=\"auth\", algorithm=MD5\r\n",
			     (int)m->to.uri.host.len, m->to.uri.host.p,
			     (unsigned long)r->challenges);
		r->challenges++;
	} else {
		bool check = r->verify_every && (r->oks + r->verify_failed) % r->verify_every == 0;

		if (check && !verify(r, m, auth->value)) {
			r->verify_failed++;
			o.status = 403;
			k = 0;
		} else {
			uint32_t e = r->expires;

			r->verified += check;
			r->not_verified += !check;
			if (!e && exp)
				sip_u32_parse(exp->value, UINT32_MAX, &e);
			o.status = 200;
			k = contact ? snprintf(extra, sizeof(extra), "Contact: %.*s;expires=%u\r\n",
					       (int)contact->value.len, contact->value.p, e)
				    : 0;
			r->oks++;
		}
	}
	o.extra = sip_str_make(extra, k > 0 ? (size_t)k : 0);
	n = sip_build_response(m, &o, rte_pktmbuf_mtod(out, char *) + DP_NET_UDP_HDRS_LEN,
			       rte_pktmbuf_tailroom(out) - DP_NET_UDP_HDRS_LEN);
	if (n < 0) {
		rte_pktmbuf_free(out);
		return;
	}
	send_udp(r, p, out, (size_t)n);
}

/* A Binding request in m -> its success answer. Written over m and sent back when no one
 * else holds m, so the agent gets its own buffer again, as a NIC's sender frees its frames
 * on its own core (over net_ring the agent may still hold m for a retransmission: then
 * a buffer of our own). Returns true when m was taken. */
static bool on_stun(struct resp *r, const struct dp_pkt *p, struct rte_mbuf *m)
{
	struct sip_stun_msg st;
	struct sip_stun_addr mapped = {.family = SIP_STUN_FAMILY_IPV4, .port = p->src_port};
	bool reuse = rte_mbuf_refcnt_read(m) == 1 && RTE_MBUF_DIRECT(m) && m->nb_segs == 1;
	struct rte_mbuf *out;
	uint32_t ip = htonl(p->src_ip);
	int n;

	/* st keeps its own copy of the transaction id, so the answer may overwrite it */
	if (sip_stun_parse(rte_pktmbuf_mtod(m, uint8_t *) + p->payload_off, p->payload_len, &st) !=
		    0 ||
	    st.type != SIP_STUN_BINDING_REQUEST)
		return false;
	out = reuse ? m : rte_pktmbuf_alloc(r->pool);
	if (!out)
		return false;
	memcpy(mapped.addr, &ip, 4);
	n = sip_stun_build_response(rte_pktmbuf_mtod(out, uint8_t *) + DP_NET_UDP_HDRS_LEN,
				    rte_pktmbuf_tailroom(out) + rte_pktmbuf_data_len(out) -
					    DP_NET_UDP_HDRS_LEN,
				    st.txid, &mapped, true);
	if (n < 0) {
		if (!reuse)
			rte_pktmbuf_free(out);
		return false;
	}
	r->stun++;
	send_udp(r, p, out, (size_t)n);
	return reuse;
}

static void on_frame(struct resp *r, struct rte_mbuf *m)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct dp_pkt p;

	dp_net_classify(&r->net, f, m->data_len, &p);
	if (p.kind == DP_PKT_ARP_REQUEST) {
		size_t len = dp_net_arp_reply(&r->net, f, m->data_len);

		m->data_len = (uint16_t)len;
		m->pkt_len = (uint32_t)len;
		if (r->ntx == r->txcap)
			flush(r);
		r->tx[r->ntx++] = m;
		return;
	}
	if (p.kind == DP_PKT_UDP) {
		const char *payload = (const char *)f + p.payload_off;
		struct sip_header hdrs[32];
		struct sip_parse_error err;
		struct sip_msg msg;

		if (sip_stun_is_stun((const uint8_t *)payload, p.payload_len)) {
			if (on_stun(r, &p, m))
				return;
		} else if (sip_parse(payload, p.payload_len, SIP_FRAMING_DATAGRAM, &msg, hdrs, 32,
				     &err) > 0 &&
			   msg.is_request && sip_str_eq(msg.method, SIP_STR("REGISTER")))
			on_register(r, &p, &msg);
		else
			r->other++;
	} else {
		r->other++;
	}
	rte_pktmbuf_free(m);
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru); /* its lcore's: bench_ringagent shares the process */
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* The figures so far, to path (stdout when NULL), replacing what an earlier call wrote. */
static void write_stats(const struct resp *r, const char *path, uint64_t t0, double c0)
{
	double wall = (double)(rte_get_tsc_cycles() - t0) / (double)rte_get_tsc_hz();
	FILE *out = path ? fopen(path, "w") : stdout;

	if (!out)
		out = stdout;
	fprintf(out,
		"{\"rx\":%llu,\"challenges\":%llu,\"oks\":%llu,\"verified\":%llu,"
		"\"verify_failed\":%llu,\"not_verified\":%llu,\"stun\":%llu,\"other\":%llu,"
		"\"tx_full\":%llu,\"verify_every\":%u,\"batch\":%u,\"wall_s\":%.3f,"
		"\"cpu_share\":%.3f}\n",
		(unsigned long long)r->rx, (unsigned long long)r->challenges,
		(unsigned long long)r->oks, (unsigned long long)r->verified,
		(unsigned long long)r->verify_failed, (unsigned long long)r->not_verified,
		(unsigned long long)r->stun, (unsigned long long)r->other,
		(unsigned long long)r->tx_full, r->verify_every, r->batch, wall,
		(cpu_s() - c0) / wall);
	if (out != stdout)
		fclose(out);
}

int resp_setup(struct resp *r, uint16_t port)
{
	struct rte_eth_conf conf = {0};
	struct rte_ether_addr mac;

	r->port = port;
	r->txcap = r->batch > BURST * 2 ? r->batch : BURST * 2;
	if (!(r->tx = calloc(r->txcap, sizeof(*r->tx))))
		return fprintf(stderr, "responder: no memory\n"), -1;
	r->pool = rte_pktmbuf_pool_create("resp_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (!r->pool || rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), NULL, r->pool) !=
		    0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), NULL) != 0 ||
	    rte_eth_dev_start(port) != 0 || sip_digest_ctx_create(&r->dctx) != 0)
		return fprintf(stderr, "responder: port %u set-up failed\n", port), -1;
	rte_eth_promiscuous_enable(port);
	rte_eth_macaddr_get(port, &mac);
	memcpy(r->net.mac.b, mac.addr_bytes, 6);
	return 0;
}

void resp_serve(struct resp *r, uint64_t t_end, const char *stats, bool (*go)(void *ctx), void *ctx)
{
	uint64_t t0 = rte_get_tsc_cycles(), last_rx = t0, hz_2ms = rte_get_tsc_hz() / 500,
		 hz_10ms = rte_get_tsc_hz() / 100;
	double c0 = cpu_s();
	bool quiet = false;

	while (go(ctx) && rte_get_tsc_cycles() < t_end) {
		struct rte_mbuf *rx[BURST];
		uint16_t k = peer_up(r->port) ? rte_eth_rx_burst(r->port, 0, rx, BURST) : 0;
		uint64_t now = rte_get_tsc_cycles();

		r->rx += k;
		for (uint16_t j = 0; j < k; j++)
			on_frame(r, rx[j]);
		if (k)
			last_rx = now;
		if (r->ntx && (!r->batch || r->ntx >= r->batch || now - last_rx > hz_2ms))
			flush(r);
		if (!k && !r->ntx && now - last_rx > hz_10ms) {
			/* Quiet: write the figures now. DPDK 22.11's memif (server side) can
			 * still unmap the rings under a poll when the agent leaves (a crash in
			 * 1 of 16 runs after the link check of 60ede73); the figures survive it. */
			if (!quiet && stats)
				write_stats(r, stats, t0, c0);
			quiet = true;
			rte_delay_us_sleep(100);
		} else {
			quiet = false;
		}
	}
	flush(r); /* answers a batch still held */
	write_stats(r, stats, t0, c0);
}
