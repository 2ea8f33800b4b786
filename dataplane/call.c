/*
 * The calls of dataplane/call.h: a UAC INVITE transaction per call (RFC 3261 §17.1.1 on
 * UDP: timer A doubling, timer B), its ACK (the same transaction's for a failure, a new
 * one along the dialog for a 2xx), and the dialog's BYE (§15.1.1, a non-INVITE
 * transaction: timer E up to T2, timer F).
 *
 * Every request names its call in its Via branch, "z9hG4bKc" + slot (4 hex) + call number
 * (8 hex) + kind, and in its Call-ID, "c" + slot + "." + call number + "." + run seed, so
 * a response or a BYE finds its call without a search.
 */
#include "dataplane/call.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane/worker.h"
#include "sip/digest.h"
#include "sip/hdr.h"

#define DP_CALL_WHEEL_SLOTS 4096   /* 1 ms ticks */
#define DP_CALL_NO_ANSWER_MS 60000 /* ringing longer than this: the call is given up */
#define DP_CALL_BRANCH_LEN 21	   /* "z9hG4bKc" + 4 + 8 + 1 */
#define DP_CALL_TEXT_MAX 1400	   /* under the path MTU (RFC 3261 §18.1.1) */

enum { DP_CALL_K_INVITE = 'i', DP_CALL_K_ACK = 'a', DP_CALL_K_BYE = 'b' };

int dp_calls_init(struct dp_calls *c, uint32_t max, uint32_t n, const char *to, uint64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	if (max == 0 || max > 0xffff || !to || strlen(to) >= sizeof(c->to))
		return -EINVAL;
	c->call = calloc(max, sizeof(*c->call));
	c->free = calloc(max, sizeof(*c->free));
	c->wheel_slots = calloc(DP_CALL_WHEEL_SLOTS, sizeof(*c->wheel_slots));
	c->links = calloc(max, sizeof(*c->links));
	c->busy = calloc(n ? n : 1, 1);
	if (!c->call || !c->free || !c->wheel_slots || !c->links || !c->busy) {
		dp_calls_free(c);
		return -ENOMEM;
	}
	c->max = max;
	for (uint32_t k = 0; k < max; k++)
		c->free[c->nfree++] = max - 1 - k;
	snprintf(c->to, sizeof(c->to), "%s", to);
	c->on = true;
	return dp_wheel_init(&c->wheel, c->wheel_slots, DP_CALL_WHEEL_SLOTS, c->links, max, now_ms);
}

void dp_calls_release(struct dp_calls *c)
{
	for (uint32_t k = 0; c->call && k < c->max; k++) {
		rte_pktmbuf_free(c->call[k].held);
		c->call[k].held = NULL;
	}
}

void dp_calls_free(struct dp_calls *c)
{
	free(c->call);
	free(c->free);
	free(c->wheel_slots);
	free(c->links);
	free(c->busy);
	memset(c, 0, sizeof(*c));
}

void dp_calls_set(struct dp_worker *w, uint32_t rate_milli, uint32_t hold_ms, uint32_t target,
		  uint64_t now_us)
{
	struct dp_calls *c = &w->calls;
	unsigned via = DP_TARGET_VIA(target), aor = DP_TARGET_AOR(target);

	if (!c->on || via >= DP_MAX_SERVERS || !w->lines.cfg.server[via].port ||
	    aor >= DP_MAX_AORS || !w->lines.cfg.aor_domain[aor].len) {
		w->stats.bad_commands++;
		return;
	}
	if (rate_milli && !c->step_us)
		c->due_us = now_us;
	c->step_us = rate_milli ? 1000000000ull / rate_milli : 0;
	c->hold_ms = hold_ms;
	c->target = target;
}

static void dp__call_arm(struct dp_calls *c, uint32_t k, uint64_t due_us)
{
	dp_wheel_arm(&c->wheel, k, (due_us + 999) / 1000);
}

static void dp__call_end(struct dp_worker *w, uint32_t k)
{
	struct dp_calls *c = &w->calls;
	struct dp_call *call = &c->call[k];

	rte_pktmbuf_free(call->held);
	call->held = NULL;
	dp_wheel_cancel(&c->wheel, k);
	c->busy[call->line] = 0;
	call->state = DP_CALL_FREE;
	c->free[c->nfree++] = k;
	w->stats.calls_active--;
}

/* Tell control how the next hop did: it answered (reason NONE, value its status), or not. */
static void dp__call_event(struct dp_worker *w, const struct dp_call *call, enum dp_fail_reason why,
			   uint32_t status, uint64_t now_us)
{
	struct dp_msg m = {
		.type = DP_EV_CALL,
		.reason = (uint16_t)why,
		.line = w->lines.first_id + call->line,
		.value = status,
		.target = call->target,
		.worker = w->id,
		.t_us = now_us,
	};

	dp_worker_event(w, &m);
}

/* Send n octets of text for call k to its next hop; hold them for retransmission when
 * keep. False when no buffer (or no next-hop MAC) was there: counted. */
static bool dp__call_send(struct dp_worker *w, struct dp_call *call, const char *text, int n,
			  bool keep)
{
	const struct dp_server_addr *to = &w->lines.cfg.server[DP_TARGET_VIA(call->target)];
	struct rte_mbuf *m;
	uint32_t ip;
	uint16_t port;
	size_t flen;

	if (n <= 0 || n > DP_CALL_TEXT_MAX || !w->net.next_hop_known ||
	    !(m = rte_pktmbuf_alloc(w->pool))) {
		w->stats.sip_drops[DP_SIP_DROP_NO_BUFFER]++;
		return false;
	}
	memcpy(rte_pktmbuf_mtod(m, char *) + DP_NET_UDP_HDRS_LEN, text, (size_t)n);
	dp_lines_addr(&w->lines, call->line, &ip, &port);
	flen = dp_net_udp_finish(&w->net, rte_pktmbuf_mtod(m, uint8_t *), &w->net.next_hop_mac, ip,
				 port, to->ip, to->port, (size_t)n);
	m->data_len = (uint16_t)flen;
	m->pkt_len = (uint32_t)flen;
	if (keep) {
		rte_pktmbuf_free(call->held);
		rte_mbuf_refcnt_update(m, 1);
		call->held = m;
	}
	dp_worker_tx(w, m);
	return true;
}

/* What every request of call k starts with: the start line is the caller's; then Via,
 * Max-Forwards, From, Call-ID. Returns the length written, or -1. */
static int dp__call_head(const struct dp_worker *w, uint32_t k, char kind, char *b, size_t cap)
{
	const struct dp_call *call = &w->calls.call[k];
	struct sip_str dom = w->lines.cfg.aor_domain[DP_TARGET_AOR(call->target)];
	uint32_t ip;
	uint16_t port;
	int n;

	dp_lines_addr(&w->lines, call->line, &ip, &port);
	n = snprintf(b, cap,
		     "Via: SIP/2.0/UDP %u.%u.%u.%u:%u;branch=z9hG4bKc%04x%08x%c;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:%.31s@%.*s>;tag=c%08x%04x\r\n"
		     "Call-ID: c%04x.%08x.%08x@%u.%u.%u.%u\r\n",
		     ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, port, k, call->seq,
		     kind, w->lines.auth_user[call->line], (int)dom.len, dom.p, call->seq, k, k,
		     call->seq, (uint32_t)w->lines.id_seed, ip >> 24, (ip >> 16) & 255,
		     (ip >> 8) & 255, ip & 255);
	return n > 0 && (size_t)n < cap ? n : -1;
}

/* The INVITE of call k (CSeq call->cseq), with credentials for challenge ch when given. */
static int dp__call_invite(struct dp_worker *w, uint32_t k, const struct sip_challenge *ch,
			   bool proxy, char *b, size_t cap)
{
	struct dp_calls *c = &w->calls;
	struct dp_call *call = &c->call[k];
	char auth[768] = "", sdp[256], ip_s[16];
	uint32_t ip;
	uint16_t port;
	int h, n, sl;

	dp_lines_addr(&w->lines, call->line, &ip, &port);
	snprintf(ip_s, sizeof(ip_s), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255);
	if (ch) {
		/* the realm is an AOR domain: its HA1 was made at load */
		bool sha = sip_digest_hex_len(ch->algorithm) == 64;
		int a = -1;
		char cn[SIP_DIGEST_CNONCE_LEN];
		struct sip_digest_req req = {
			.method = SIP_STR("INVITE"),
			.uri = sip_str_cstr(c->to),
			.username = sip_str_make(w->lines.auth_user[call->line],
						 strnlen(w->lines.auth_user[call->line], 32)),
			.nc = 1,
		};
		ssize_t an;

		for (int d = 0; d < DP_MAX_AORS && a < 0; d++) {
			if (w->lines.cfg.aor_domain[d].len &&
			    sip_str_eq(w->lines.cfg.aor_domain[d], ch->realm))
				a = d;
		}
		if (a < 0)
			return -1;
		req.ha1 = sha ? sip_str_make(w->lines.ha1_sha256[a][call->line], 64)
			      : sip_str_make(w->lines.ha1_md5[a][call->line], 32);
		req.cnonce = sip_digest_cnonce(w->lines.rng++ * 0x9e3779b97f4a7c15ull, cn);
		an = sip_digest_authorization(&w->lines.dctx, ch, &req, NULL, auth, sizeof(auth));
		if (an <= 0)
			return -1;
	}
	sl = snprintf(sdp, sizeof(sdp),
		      "v=0\r\no=- %u %u IN IP4 %s\r\ns=sipedge\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		      "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
		      w->lines.first_id + call->line, call->seq, ip_s, ip_s,
		      20000u + 2 * (port % 20000));
	n = snprintf(b, cap, "INVITE %s SIP/2.0\r\n", c->to);
	if (n <= 0 || (size_t)n >= cap ||
	    (h = dp__call_head(w, k, DP_CALL_K_INVITE + call->cseq - 1, b + n, cap - (size_t)n)) <
		    0)
		return -1;
	n += h;
	h = snprintf(b + n, cap - (size_t)n,
		     "To: <%s>\r\n"
		     "CSeq: %u INVITE\r\n"
		     "Contact: <sip:%.31s@%s:%u>\r\n"
		     "%s%s%s"
		     "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY\r\n"
		     "Content-Type: application/sdp\r\n"
		     "Content-Length: %d\r\n\r\n%s",
		     c->to, call->cseq, w->lines.auth_user[call->line], ip_s, port,
		     ch ? (proxy ? "Proxy-Authorization: " : "Authorization: ") : "", auth,
		     ch ? "\r\n" : "", sl, sdp);
	return h > 0 && (size_t)h < cap - (size_t)n ? n + h : -1;
}

/* ACK of call k: for a 2xx a request of the dialog (to the remote target, along the route
 * set); for a failure the INVITE transaction's own (its branch and Request-URI, §17.1.1.3). */
static void dp__call_ack(struct dp_worker *w, uint32_t k, bool ok, const struct sip_str to_tag)
{
	struct dp_call *call = &w->calls.call[k];
	char b[DP_CALL_TEXT_MAX + 1];
	int n, h;

	if (ok)
		n = snprintf(b, sizeof(b), "ACK %.*s SIP/2.0\r\n", (int)call->rtarget_len,
			     call->rtarget);
	else
		n = snprintf(b, sizeof(b), "ACK %s SIP/2.0\r\n", w->calls.to);
	h = dp__call_head(w, k, ok ? DP_CALL_K_ACK : DP_CALL_K_INVITE + call->cseq - 1, b + n,
			  sizeof(b) - (size_t)n);
	if (h < 0)
		return;
	n += h;
	h = snprintf(b + n, sizeof(b) - (size_t)n,
		     "To: <%s>;tag=%.*s\r\nCSeq: %u ACK\r\n%s%.*s%sContent-Length: 0\r\n\r\n",
		     w->calls.to, (int)to_tag.len, to_tag.p, call->cseq,
		     ok && call->route_len ? "Route: " : "", ok ? (int)call->route_len : 0,
		     call->route, ok && call->route_len ? "\r\n" : "");
	if (h > 0 && (size_t)h < sizeof(b) - (size_t)n && dp__call_send(w, call, b, n + h, false))
		w->stats.tx_requests[DP_M_ACK]++;
}

static void dp__call_bye(struct dp_worker *w, uint32_t k, uint64_t now_us)
{
	struct dp_call *call = &w->calls.call[k];
	char b[DP_CALL_TEXT_MAX + 1];
	int n, h;

	call->state = DP_CALL_BYE;
	call->interval_ms = w->lines.cfg.t1_ms;
	call->deadline_us = now_us + w->lines.cfg.tf_ms * 1000ull;
	dp__call_arm(&w->calls, k, now_us + call->interval_ms * 1000ull);
	n = snprintf(b, sizeof(b), "BYE %.*s SIP/2.0\r\n", (int)call->rtarget_len, call->rtarget);
	if ((h = dp__call_head(w, k, DP_CALL_K_BYE, b + n, sizeof(b) - (size_t)n)) < 0)
		return;
	n += h;
	h = snprintf(b + n, sizeof(b) - (size_t)n,
		     "To: <%s>;tag=%.*s\r\nCSeq: %u BYE\r\n%s%.*s%sContent-Length: 0\r\n\r\n",
		     w->calls.to, (int)call->to_tag_len, call->to_tag, call->cseq + 1,
		     call->route_len ? "Route: " : "", (int)call->route_len, call->route,
		     call->route_len ? "\r\n" : "");
	if (h > 0 && (size_t)h < sizeof(b) - (size_t)n && dp__call_send(w, call, b, n + h, true))
		w->stats.tx_requests[DP_M_BYE]++;
	/* else: nothing held; timer E finds nothing to resend and timer F ends the call */
}

/* (Re)send the INVITE of call k, with credentials for ch when given; arms timers A/B.
 * False when it could not be built or sent (no buffer, a realm we hold no HA1 for). */
static bool dp__call_send_invite(struct dp_worker *w, uint32_t k, const struct sip_challenge *ch,
				 bool proxy, uint64_t now_us)
{
	struct dp_call *call = &w->calls.call[k];
	char b[DP_CALL_TEXT_MAX + 1];
	int n = dp__call_invite(w, k, ch, proxy, b, sizeof(b));

	call->state = DP_CALL_CALLING;
	call->interval_ms = w->lines.cfg.t1_ms;
	call->deadline_us = now_us + w->lines.cfg.tf_ms * 1000ull; /* timer B = 64*T1 */
	dp__call_arm(&w->calls, k, now_us + call->interval_ms * 1000ull);
	if (n <= 0 || !dp__call_send(w, call, b, n, true))
		return false;
	w->stats.tx_requests[DP_M_INVITE]++;
	return true;
}

/* A registered line without a call, from the cursor on; -1 when none of a few is. */
static int64_t dp__call_line(struct dp_worker *w)
{
	struct dp_calls *c = &w->calls;

	for (unsigned tries = 0; tries < 64 && w->lines.n; tries++) {
		uint32_t i = c->cursor++;

		if (c->cursor >= w->lines.n)
			c->cursor = 0;
		if (!c->busy[i] && w->lines.line[i].state == DP_LINE_REGISTERED)
			return i;
	}
	return -1;
}

static void dp__call_place(struct dp_worker *w, uint64_t now_us)
{
	struct dp_calls *c = &w->calls;
	struct dp_call *call;
	int64_t i = c->nfree ? dp__call_line(w) : -1;
	uint32_t k;

	if (i < 0) {
		w->stats.calls_not_placed++;
		return;
	}
	k = c->free[--c->nfree];
	call = &c->call[k];
	*call = (struct dp_call){
		.line = (uint32_t)i,
		.seq = ++c->seq,
		.cseq = 1,
		.target = c->target,
		.t_invite_us = now_us,
	};
	c->busy[i] = 1;
	w->stats.calls_active++;
	if (!dp__call_send_invite(w, k, NULL, false, now_us)) {
		/* nothing went out: not the next hop's failure */
		w->stats.calls_not_placed++;
		dp__call_end(w, k);
		return;
	}
	w->stats.calls_attempted++;
	w->stats.calls_by_server[DP_TARGET_VIA(c->target)]++;
}

static void dp__call_timer(struct dp_worker *w, uint32_t k, uint64_t now_us)
{
	struct dp_call *call = &w->calls.call[k];

	switch (call->state) {
	case DP_CALL_CALLING:
	case DP_CALL_BYE:
		if (now_us >= call->deadline_us) {
			/* timer B or F: the next hop is silent, a failure signal for it */
			dp__call_event(w, call, DP_FAIL_TIMEOUT, 0, now_us);
			if (call->state == DP_CALL_CALLING)
				w->stats.calls_failed[DP_FAIL_TIMEOUT]++;
			else
				w->stats.calls_bye_failed++;
			dp__call_end(w, k);
			return;
		}
		if (call->held) {
			rte_mbuf_refcnt_update(call->held, 1);
			dp_worker_tx(w, call->held);
			w->stats.tx_retransmissions++;
		}
		/* timer A doubles without bound, timer E up to T2 (§17.1.1.2, §17.1.2.2) */
		call->interval_ms *= 2;
		if (call->state == DP_CALL_BYE && call->interval_ms > w->lines.cfg.t2_ms)
			call->interval_ms = w->lines.cfg.t2_ms;
		dp__call_arm(&w->calls, k,
			     now_us + call->interval_ms * 1000ull < call->deadline_us
				     ? now_us + call->interval_ms * 1000ull
				     : call->deadline_us);
		return;
	case DP_CALL_PROCEEDING:
		w->stats.calls_no_answer++;
		dp__call_end(w, k);
		return;
	case DP_CALL_UP:
		dp__call_bye(w, k, now_us);
		return;
	default:
		return;
	}
}

unsigned dp_calls_poll(struct dp_worker *w, uint64_t now_us)
{
	struct dp_calls *c = &w->calls;
	uint32_t due[DP_BURST];
	unsigned work = 0;
	size_t n;

	if (!c->on)
		return 0;
	/* a backlog (no line was ready for a while) is not made up in a burst */
	if (c->step_us && now_us > c->due_us + 1000000)
		c->due_us = now_us;
	while (c->step_us && now_us >= c->due_us && work < DP_BURST) {
		dp__call_place(w, now_us);
		c->due_us += c->step_us;
		work++;
	}
	n = dp_wheel_expire(&c->wheel, now_us / 1000, due, DP_BURST);
	for (size_t k = 0; k < n; k++)
		dp__call_timer(w, due[k], now_us);
	return work + (unsigned)n;
}

static int dp__hex(const char *p, size_t n, uint32_t *out)
{
	uint32_t v = 0;

	for (size_t k = 0; k < n; k++) {
		char ch = p[k];
		unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
			     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
						      : 16u;

		if (d == 16)
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* The call a branch or Call-ID names: p holds slot (4 hex) then call number (8 hex),
 * sep between them (0: none). NULL when it names no call that is out. */
static struct dp_call *dp__call_named(struct dp_calls *c, const char *p, char sep, uint32_t *kp)
{
	uint32_t k, seq;
	size_t off = sep ? 5 : 4;

	if (dp__hex(p, 4, &k) != 0 || (sep && p[4] != sep) || dp__hex(p + off, 8, &seq) != 0 ||
	    k >= c->max || c->call[k].state == DP_CALL_FREE || c->call[k].seq != seq)
		return NULL;
	*kp = k;
	return &c->call[k];
}

/* The dialog's remote target and route set from its 2xx (RFC 3261 §12.1.2): the Contact
 * URI, and the Record-Route entries in reverse order. */
static void dp__call_dialog(struct dp_call *call, const struct sip_msg *m)
{
	const struct sip_header *h = sip_msg_header(m, SIP_HDR_CONTACT, 0);
	struct sip_str rr[8];
	unsigned nrr = 0;
	struct sip_contact ct;
	size_t off;
	const char *why;
	int n = 0;

	call->rtarget_len = 0;
	if (h && sip_contact_parse(h->value, &ct, &off, &why) == 0 && !ct.addr.star &&
	    ct.addr.uri_str.len < sizeof(call->rtarget)) {
		memcpy(call->rtarget, ct.addr.uri_str.p, ct.addr.uri_str.len);
		call->rtarget_len = (uint16_t)ct.addr.uri_str.len;
	}
	for (size_t k = 0; (h = sip_msg_header(m, SIP_HDR_RECORD_ROUTE, k)); k++) {
		struct sip_str cur = h->value, item;

		while (sip_list_next(&cur, &item) && nrr < 8)
			rr[nrr++] = item;
	}
	call->route_len = 0;
	for (unsigned k = nrr; k-- > 0;) {
		int len = snprintf(call->route + n, sizeof(call->route) - (size_t)n, "%s%.*s",
				   n ? ", " : "", (int)rr[k].len, rr[k].p);

		if (len < 0 || (size_t)len >= sizeof(call->route) - (size_t)n)
			return; /* too long to keep: the BYE goes without (and likely fails) */
		n += len;
	}
	call->route_len = (uint16_t)n;
}

bool dp_calls_response(struct dp_worker *w, uint32_t i, const struct sip_msg *m, uint64_t now_us)
{
	struct dp_calls *c = &w->calls;
	const struct sip_str *b = &m->via.branch;
	struct dp_call *call;
	uint32_t k;
	char kind;

	if (!c->on || b->len != DP_CALL_BRANCH_LEN || memcmp(b->p, "z9hG4bKc", 8) != 0)
		return false;
	kind = b->p[DP_CALL_BRANCH_LEN - 1];
	if (!(call = dp__call_named(c, b->p + 8, 0, &k)) || call->line != i) {
		w->stats.sip_drops[DP_SIP_DROP_STALE]++;
		return true;
	}
	w->stats.rx_responses[m->status / 100]++;
	if (kind == DP_CALL_K_BYE) {
		if (call->state != DP_CALL_BYE || m->status < 200)
			return true;
		if (m->status < 300)
			w->stats.calls_completed++;
		else
			w->stats.calls_bye_failed++;
		dp__call_end(w, k);
		return true;
	}
	if (kind != DP_CALL_K_INVITE + call->cseq - 1)
		return true; /* an answer to the INVITE before the challenge: stale */
	if (m->status < 200) {
		if (call->state == DP_CALL_CALLING) {
			call->state = DP_CALL_PROCEEDING;
			rte_pktmbuf_free(call->held);
			call->held = NULL;
			dp__call_arm(c, k, now_us + DP_CALL_NO_ANSWER_MS * 1000ull);
		}
		return true;
	}
	if (m->status < 300) {
		uint64_t ms;

		if (call->state == DP_CALL_UP) { /* the 2xx again: our ACK was lost */
			dp__call_ack(w, k, true, sip_str_make(call->to_tag, call->to_tag_len));
			return true;
		}
		if (call->state != DP_CALL_CALLING && call->state != DP_CALL_PROCEEDING)
			return true;
		call->to_tag_len = 0;
		if (m->to.tag.len < sizeof(call->to_tag)) {
			memcpy(call->to_tag, m->to.tag.p, m->to.tag.len);
			call->to_tag_len = (uint8_t)m->to.tag.len;
		}
		dp__call_dialog(call, m);
		if (!call->rtarget_len) { /* no Contact: the dialog's requests go to the AOR */
			call->rtarget_len = (uint16_t)strlen(c->to);
			memcpy(call->rtarget, c->to, call->rtarget_len);
		}
		rte_pktmbuf_free(call->held);
		call->held = NULL;
		dp__call_ack(w, k, true, sip_str_make(call->to_tag, call->to_tag_len));
		call->state = DP_CALL_UP;
		dp__call_arm(c, k, now_us + c->hold_ms * 1000ull);
		ms = (now_us - call->t_invite_us) / 10000;
		w->stats.call_setup_hist[ms < DP_CALL_LAT_BUCKETS ? ms : DP_CALL_LAT_BUCKETS - 1]++;
		w->stats.calls_answered++;
		dp__call_event(w, call, DP_FAIL_NONE, m->status, now_us);
		return true;
	}
	if (call->state != DP_CALL_CALLING && call->state != DP_CALL_PROCEEDING)
		return true;
	/* a failure: ACK it in its transaction, then answer a first challenge */
	dp__call_ack(w, k, false, m->to.tag);
	rte_pktmbuf_free(call->held);
	call->held = NULL;
	if ((m->status == 401 || m->status == 407) && !call->auth_sent) {
		struct sip_challenge ch[DP_CHALLENGES];
		int pick = dp_line_challenge(m, ch);

		if (pick >= 0) {
			call->auth_sent = 1;
			call->cseq = 2;
			if (dp__call_send_invite(w, k, &ch[pick], m->status == 407, now_us))
				return true;
		}
	}
	if (m->status == 401 || m->status == 407)
		w->stats.calls_failed[DP_FAIL_AUTH]++;
	else
		w->stats.calls_failed[m->status < 500	? DP_FAIL_4XX
				      : m->status < 600 ? DP_FAIL_5XX
							: DP_FAIL_6XX]++;
	dp__call_event(w, call, DP_FAIL_NONE, m->status, now_us);
	dp__call_end(w, k);
	return true;
}

void dp_calls_stop(struct dp_worker *w, uint64_t now_us)
{
	struct dp_calls *c = &w->calls;

	c->step_us = 0;
	c->hold_ms = 0; /* a call answered from now on ends at once */
	for (uint32_t k = 0; c->on && k < c->max; k++) {
		if (c->call[k].state == DP_CALL_UP)
			dp__call_bye(w, k, now_us);
	}
}

void dp_calls_remote_bye(struct dp_worker *w, const struct sip_msg *m)
{
	struct dp_calls *c = &w->calls;
	struct dp_call *call;
	uint32_t k;

	if (!c->on || m->call_id.len < 14 || m->call_id.p[0] != 'c' ||
	    !(call = dp__call_named(c, m->call_id.p + 1, '.', &k)) || call->state != DP_CALL_UP)
		return;
	w->stats.calls_remote_bye++;
	dp__call_end(w, k);
}
