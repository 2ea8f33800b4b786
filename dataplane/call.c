/*
 * The calls of dataplane/call.h: a UAC INVITE transaction per call (RFC 3261 §17.1.1 on
 * UDP: timer A doubling, timer B), the ACK of a failure in its transaction (§17.1.1.3) and
 * of a 2xx along the dialog (§13.2.2.4), CANCEL of a call that rings too long (§9.1), and
 * the dialog's BYE (§15.1.1, a non-INVITE transaction: timer E up to T2, timer F).
 *
 * Every request names its call in its Via branch, "z9hG4bKc" + slot (4 hex) + call number
 * (8 hex) + kind, and in its Call-ID, "c" + slot + "." + call number + "." + worker + "."
 * + run seed, so a response or a BYE finds its call without a search.
 */
#include "dataplane/call.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/line.h"
#include "sip/builder.h"
#include "sip/digest.h"
#include "sip/hdr.h"

#define DP_CALL_WHEEL_SLOTS 4096   /* 1 ms ticks */
#define DP_CALL_NO_ANSWER_MS 60000 /* ringing longer than this: the call is cancelled */
#define DP_CALL_BRANCH_LEN 21	   /* "z9hG4bKc" + 4 + 8 + 1 */
#define DP_CALL_TEXT_MAX 1400	   /* under the path MTU (RFC 3261 §18.1.1) */
#define DP_CALL_RR_MAX 16	   /* Record-Route entries kept */
#define DP_CALL_BURST 32	   /* calls placed and timers run per poll, at most */

/* Branch kinds: the INVITE and its CANCEL (i, j after a challenge), the ACK of a 2xx (a),
 * the BYE (b, e after a challenge), and the requests of a dialog no call keeps (s). */
enum { DP_CALL_K_INVITE = 'i', DP_CALL_K_ACK = 'a', DP_CALL_K_BYE = 'b', DP_CALL_K_STRAY = 's' };

int dp_calls_init(struct dp_calls *c, uint32_t max, struct dp_lines *L, const char *to,
		  const struct dp_call_io *io, uint64_t now_ms)
{
	uint32_t n = L->n;

	memset(c, 0, sizeof(*c));
	if (max == 0 || max > 0xffff || !to || strlen(to) >= sizeof(c->to))
		return -EINVAL;
	c->call = calloc(max, sizeof(*c->call));
	c->free = calloc(max, sizeof(*c->free));
	c->wheel_slots = calloc(DP_WHEEL_HEADS(DP_CALL_WHEEL_SLOTS), sizeof(*c->wheel_slots));
	c->links = calloc(max, sizeof(*c->links));
	c->slot_of = calloc(n ? n : 1, sizeof(*c->slot_of));
	if (!c->call || !c->free || !c->wheel_slots || !c->links || !c->slot_of) {
		dp_calls_free(c);
		return -ENOMEM;
	}
	c->max = max;
	c->L = L;
	c->io = *io;
	for (uint32_t k = 0; k < max; k++)
		c->free[c->nfree++] = max - 1 - k;
	snprintf(c->to, sizeof(c->to), "%s", to);
	c->on = true;
	return dp_wheel_init(&c->wheel, c->wheel_slots, DP_CALL_WHEEL_SLOTS, c->links, max, now_ms);
}

/* Call k's request is no longer wanted for retransmission. */
static void dp__call_release(struct dp_calls *c, uint32_t k)
{
	if (c->call[k].held) {
		c->call[k].held = 0;
		c->io.release(c->io.ctx, k);
	}
}

void dp_calls_release(struct dp_calls *c)
{
	for (uint32_t k = 0; c->call && k < c->max; k++)
		dp__call_release(c, k);
}

void dp_calls_free(struct dp_calls *c)
{
	free(c->call);
	free(c->free);
	free(c->wheel_slots);
	free(c->links);
	free(c->slot_of);
	memset(c, 0, sizeof(*c));
}

void dp_calls_set(struct dp_calls *c, uint32_t rate_milli, uint32_t hold_ms, uint32_t target,
		  uint64_t now_us)
{
	/* a slot whose address DNS has not given yet is taken: calls wait for it */
	if (!c->on || DP_TARGET_VIA(target) >= DP_MAX_SERVERS ||
	    DP_TARGET_AOR(target) >= DP_MAX_AORS ||
	    !c->L->cfg.aor_domain[DP_TARGET_AOR(target)].len) {
		c->L->stats->bad_commands++;
		return;
	}
	if (rate_milli && !c->step_us)
		c->due_us = now_us;
	c->step_us = rate_milli ? 1000000000ull / rate_milli : 0;
	c->hold_ms = c->stopping ? 0 : hold_ms;
	c->target = target;
	if (c->stopping)
		c->step_us = 0;
}

static void dp__call_arm(struct dp_calls *c, uint32_t k, uint64_t due_us)
{
	dp_wheel_arm(&c->wheel, k, (due_us + 999) / 1000);
}

/* Timer E (or A when unbounded) after interval: the next retransmission, or the
 * deadline when that comes first; over a connection the deadline alone. */
static void dp__call_arm_retx(struct dp_calls *c, uint32_t k, uint64_t now_us)
{
	const struct dp_call *call = &c->call[k];
	uint64_t next = now_us + call->interval_ms * 1000ull;

	dp__call_arm(c, k, next < call->deadline_us && !c->reliable ? next : call->deadline_us);
}

/* Call k's next transaction begins in state: its request goes out now (not held yet),
 * retransmitted from T1 on until timer B or F, 64*T1. */
static void dp__call_begin(struct dp_calls *c, uint32_t k, uint8_t state,
			   const struct dp_line_cfg *cfg, uint64_t now_us)
{
	struct dp_call *call = &c->call[k];

	call->state = state;
	call->sent = 0;
	call->interval_ms = cfg->t1_ms;
	call->deadline_us = now_us + cfg->tf_ms * 1000ull;
	dp__call_release(c, k);
	dp__call_arm_retx(c, k, now_us);
}

static void dp__call_end(struct dp_calls *c, uint32_t k)
{
	struct dp_call *call = &c->call[k];

	dp__call_release(c, k);
	c->io.end(c->io.ctx, k);
	dp_wheel_cancel(&c->wheel, k);
	c->slot_of[call->line] = 0;
	call->state = DP_CALL_FREE;
	c->free[c->nfree++] = k;
	c->L->stats->calls_active--;
}

/* Tell control how the next hop did: it answered (reason NONE, value its status), or not. */
static void dp__call_event(struct dp_calls *c, const struct dp_call *call, enum dp_fail_reason why,
			   uint32_t status, uint64_t now_us)
{
	struct dp_msg m = {
		.type = DP_EV_CALL,
		.reason = (uint16_t)why,
		.line = c->L->first_id + call->line,
		.value = status,
		.target = call->target,
		.worker = c->worker,
		.t_us = now_us,
	};

	c->io.event(c->io.ctx, &m);
}

/* Send n octets of text from line i to ip:port for call k (or DP_CALL_NONE), held for
 * retransmission when keep. False when nothing went out (too big: counted here; no buffer,
 * no next-hop MAC, no connection: by the io). */
static bool dp__call_tx(struct dp_calls *c, uint32_t k, uint32_t i, uint32_t ip, uint16_t port,
			const char *text, int n, bool keep)
{
	if (n <= 0 || n > DP_CALL_TEXT_MAX) {
		c->L->stats->calls_too_big++;
		return false;
	}
	if (!c->io.send(c->io.ctx, k, i, ip, port, text, (size_t)n, keep))
		return false;
	if (keep)
		c->call[k].held = 1;
	return true;
}

/* To the call's next hop, the request held for retransmission when keep. */
static bool dp__call_send(struct dp_calls *c, struct dp_call *call, const char *text, int n,
			  bool keep)
{
	const struct dp_server_addr *to = &c->L->cfg.server[DP_TARGET_VIA(call->target)];

	return dp__call_tx(c, (uint32_t)(call - c->call), call->line, to->ip, to->port, text, n,
			   keep);
}

/* The parts of one request: everything but the start line's method and the Via branch
 * comes in as text; extra is more header lines (each ending CRLF), body the body. */
struct dp__req {
	const char *method;
	struct sip_str ruri;
	struct sip_str branch;
	struct sip_str from; /* header values */
	struct sip_str to;
	struct sip_str call_id;
	uint32_t cseq;
	struct sip_str route; /* empty: no Route */
	struct sip_str extra;
	struct sip_str body;
};

/* Line i's address as the network sees it: its own, or over a connection the kernel's
 * address with the line's own port (dataplane/line.h's hostport). */
struct dp__addr {
	char host[16];
	uint16_t port;
};

static void dp__call_addr(const struct dp_calls *c, uint32_t i, struct dp__addr *a)
{
	const char *hp = c->L->hostport ? c->L->hostport[i] : NULL;
	uint32_t ip;
	const char *colon;

	dp_lines_addr(c->L, i, &ip, &a->port);
	if (hp && hp[0] && (colon = memchr(hp + 1, ':', (uint8_t)hp[0])) &&
	    (size_t)(colon - hp - 1) < sizeof(a->host)) {
		memcpy(a->host, hp + 1, (size_t)(colon - hp - 1));
		a->host[colon - hp - 1] = 0;
		return;
	}
	snprintf(a->host, sizeof(a->host), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
		 (ip >> 8) & 255, ip & 255);
}

/* Via's transport, and what a Contact URI adds for it. */
static const char *const dp__via_tp[] = {"UDP", "TCP", "TLS"};
static const char *const dp__uri_tp[] = {"", ";transport=tcp", ";transport=tls"};

/* Format r as sent by line i into b; its length, or -1 when it does not fit. Over a
 * connection the Via says ;alias (RFC 5923): the next hop sends the dialog's requests back
 * over it. */
static int dp__call_fmt(const struct dp_calls *c, uint32_t i, const struct dp__req *r, char *b,
			size_t cap)
{
	struct dp__addr a;
	int n;

	dp__call_addr(c, i, &a);
	n = snprintf(b, cap,
		     "%s %.*s SIP/2.0\r\n"
		     "Via: SIP/2.0/%s %s:%u;branch=%.*s;rport%s\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: %.*s\r\n"
		     "To: %.*s\r\n"
		     "Call-ID: %.*s\r\n"
		     "CSeq: %u %s\r\n"
		     "%s%.*s%s"
		     "%.*s"
		     "Content-Length: %zu\r\n\r\n%.*s",
		     r->method, (int)r->ruri.len, r->ruri.p, dp__via_tp[c->transport], a.host,
		     a.port, (int)r->branch.len, r->branch.p, c->reliable ? ";alias" : "",
		     (int)r->from.len, r->from.p, (int)r->to.len, r->to.p, (int)r->call_id.len,
		     r->call_id.p, r->cseq, r->method, r->route.len ? "Route: " : "",
		     (int)r->route.len, r->route.p, r->route.len ? "\r\n" : "", (int)r->extra.len,
		     r->extra.p, r->body.len, (int)r->body.len, r->body.p);
	return n > 0 && (size_t)n < cap ? n : -1;
}

/* Our side of call k: its branch of kind, From (with our tag), To (with the remote tag
 * once known), Call-ID; into the caller's buffers. */
struct dp__ids {
	char branch[DP_CALL_BRANCH_LEN + 1];
	char from[48 + 256]; /* <sip:user@domain>;tag=...: a domain may take 255 */
	char to[DP_CALL_URI_MAX + DP_CALL_TAG_MAX + 8];
	char call_id[64];
};

static void dp__call_ids(const struct dp_calls *c, uint32_t k, char kind, bool to_tag,
			 struct dp__ids *id, struct dp__req *r)
{
	const struct dp_call *call = &c->call[k];
	struct sip_str dom = c->L->cfg.aor_domain[DP_TARGET_AOR(call->target)];
	uint32_t ip;
	uint16_t port;
	int n;

	dp_lines_addr(c->L, call->line, &ip, &port);
	snprintf(id->branch, sizeof(id->branch), "z9hG4bKc%04x%08x%c", k, call->seq, kind);
	n = snprintf(id->from, sizeof(id->from), "<sip:%.32s@%.*s>;tag=c%08x%04xw%x",
		     c->L->auth_user[call->line], (int)dom.len, dom.p, call->seq, k, c->worker);
	r->from = sip_str_make(id->from, n > 0 && (size_t)n < sizeof(id->from) ? (size_t)n : 0);
	n = snprintf(id->to, sizeof(id->to), "<%s>%s%.*s", c->to, to_tag ? ";tag=" : "",
		     to_tag ? (int)call->to_tag_len : 0, call->to_tag);
	r->to = sip_str_make(id->to, n > 0 && (size_t)n < sizeof(id->to) ? (size_t)n : 0);
	n = snprintf(id->call_id, sizeof(id->call_id), "c%04x.%08x.%x.%08x@%u.%u.%u.%u", k,
		     call->seq, c->worker, (uint32_t)c->L->id_seed, ip >> 24, (ip >> 16) & 255,
		     (ip >> 8) & 255, ip & 255);
	r->call_id = sip_str_make(id->call_id, (size_t)n);
	r->branch = sip_str_make(id->branch, DP_CALL_BRANCH_LEN);
}

/* The credentials line for method to uri answering ch, as line i, into b; its length, or
 * -1 when the realm is no AOR domain of ours (no HA1 was made for it). */
static int dp__call_auth(struct dp_calls *c, uint32_t i, const struct sip_challenge *ch, bool proxy,
			 const char *method, struct sip_str uri, char *b, size_t cap)
{
	bool sha = sip_digest_hex_len(ch->algorithm) == 64;
	char cn[SIP_DIGEST_CNONCE_LEN];
	struct sip_digest_req req = {
		.method = sip_str_cstr(method),
		.uri = uri,
		.username = sip_str_make(c->L->auth_user[i], strnlen(c->L->auth_user[i], 32)),
		.nc = 1,
	};
	const char *name = proxy ? "Proxy-Authorization: " : "Authorization: ";
	size_t nl = strlen(name);
	ssize_t an;
	int a = -1;

	for (int d = 0; d < DP_MAX_AORS && a < 0; d++) {
		if (c->L->cfg.aor_domain[d].len && sip_str_eq(c->L->cfg.aor_domain[d], ch->realm))
			a = d;
	}
	if (a < 0 || cap < nl + 3)
		return -1;
	req.ha1 = sha ? sip_str_make(c->L->ha1_sha256[a][i], 64)
		      : sip_str_make(c->L->ha1_md5[a][i], 32);
	req.cnonce = sip_digest_cnonce(c->L->rng++ * 0x9e3779b97f4a7c15ull, cn);
	memcpy(b, name, nl);
	an = sip_digest_authorization(&c->L->dctx, ch, &req, NULL, b + nl, cap - nl - 2);
	if (an <= 0)
		return -1;
	memcpy(b + nl + an, "\r\n", 2);
	return (int)(nl + (size_t)an + 2);
}

/* (Re)send the INVITE of call k, with credentials for ch when given; arms timers A/B.
 * False when it could not be built or sent (no buffer, a realm we hold no HA1 for). */
static bool dp__call_invite(struct dp_calls *c, uint32_t k, const struct sip_challenge *ch,
			    bool proxy, uint64_t now_us)
{
	struct dp_call *call = &c->call[k];
	char b[DP_CALL_TEXT_MAX + 1], extra[DP_CALL_AUTH_MAX + 192], sdp[256];
	struct dp__ids id;
	struct dp__req r = {.method = "INVITE", .ruri = sip_str_cstr(c->to), .cseq = call->cseq};
	struct dp__addr ad;
	int n, a = 0;

	call->auth_len = 0;
	if (ch) {
		a = dp__call_auth(c, call->line, ch, proxy, "INVITE", r.ruri, call->auth,
				  sizeof(call->auth));
		if (a < 0)
			return false;
		call->auth_len = (uint16_t)a;
	}
	dp__call_ids(c, k, (char)(DP_CALL_K_INVITE + call->cseq - 1), false, &id, &r);
	dp__call_addr(c, call->line, &ad);
	n = snprintf(sdp, sizeof(sdp),
		     "v=0\r\no=- %u %u IN IP4 %s\r\ns=sipedge\r\nc=IN IP4 %s\r\n"
		     "t=0 0\r\nm=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
		     c->L->first_id + call->line, call->seq, ad.host, ad.host,
		     20000u + 2 * (ad.port % 20000));
	r.body = sip_str_make(sdp, (size_t)n);
	n = snprintf(extra, sizeof(extra),
		     "Contact: <sip:%.32s@%s:%u%s>\r\n%.*s"
		     "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY\r\n"
		     "Content-Type: application/sdp\r\n",
		     c->L->auth_user[call->line], ad.host, ad.port, dp__uri_tp[c->transport],
		     (int)call->auth_len, call->auth);
	r.extra = sip_str_make(extra, (size_t)n);
	dp__call_begin(c, k, DP_CALL_CALLING, &c->L->cfg, now_us);
	n = dp__call_fmt(c, call->line, &r, b, sizeof(b));
	if (!dp__call_send(c, call, b, n, true))
		return false;
	call->sent = 1;
	c->L->stats->tx_requests[DP_M_INVITE]++;
	return true;
}

/* The ACK of call k's 2xx, a request of the dialog: to the remote target, along the route
 * set, with the INVITE's credentials (RFC 3261 §13.2.2.4). */
static void dp__call_ack_2xx(struct dp_calls *c, uint32_t k)
{
	struct dp_call *call = &c->call[k];
	char b[DP_CALL_TEXT_MAX + 1];
	struct dp__ids id;
	struct dp__req r = {
		.method = "ACK",
		.ruri = sip_str_make(call->rtarget, call->rtarget_len),
		.cseq = call->cseq,
		.route = sip_str_make(call->route, call->route_len),
		.extra = sip_str_make(call->auth, call->auth_len),
	};

	dp__call_ids(c, k, DP_CALL_K_ACK, true, &id, &r);
	if (dp__call_send(c, call, b, dp__call_fmt(c, call->line, &r, b, sizeof(b)), false))
		c->L->stats->tx_requests[DP_M_ACK]++;
}

/* Build and send call k's BYE (kind b, or e with credentials for ch); held for timer E. */
static void dp__call_bye_send(struct dp_calls *c, uint32_t k, const struct sip_challenge *ch,
			      bool proxy)
{
	struct dp_call *call = &c->call[k];
	char b[DP_CALL_TEXT_MAX + 1], auth[DP_CALL_AUTH_MAX];
	struct dp__ids id;
	struct dp__req r = {
		.method = "BYE",
		.ruri = sip_str_make(call->rtarget, call->rtarget_len),
		.cseq = call->cseq + 1u + (ch != NULL),
		.route = sip_str_make(call->route, call->route_len),
	};
	int a;

	if (ch) {
		if ((a = dp__call_auth(c, call->line, ch, proxy, "BYE", r.ruri, auth,
				       sizeof(auth))) < 0)
			return;
		r.extra = sip_str_make(auth, (size_t)a);
	}
	dp__call_ids(c, k, ch ? DP_CALL_K_BYE + 3 : DP_CALL_K_BYE, true, &id, &r);
	if (dp__call_send(c, call, b, dp__call_fmt(c, call->line, &r, b, sizeof(b)), true)) {
		call->sent = 1;
		c->L->stats->tx_requests[DP_M_BYE]++;
	}
	/* else: nothing held; timer E builds it again */
}

static void dp__call_bye(struct dp_calls *c, uint32_t k, uint64_t now_us)
{
	dp__call_begin(c, k, DP_CALL_BYE, &c->L->cfg, now_us);
	dp__call_bye_send(c, k, NULL, false);
}

/* CANCEL of call k's INVITE (§9.1: its branch, Request-URI, From, To, Call-ID and CSeq
 * number), retransmitted on timer E until the INVITE's final answer or timer F. */
static void dp__call_cancel(struct dp_calls *c, uint32_t k, uint64_t now_us)
{
	struct dp_call *call = &c->call[k];
	char b[DP_CALL_TEXT_MAX + 1];
	struct dp__ids id;
	struct dp__req r = {.method = "CANCEL", .ruri = sip_str_cstr(c->to), .cseq = call->cseq};

	dp__call_begin(c, k, DP_CALL_CANCELLING, &c->L->cfg, now_us);
	dp__call_ids(c, k, (char)(DP_CALL_K_INVITE + call->cseq - 1), false, &id, &r);
	c->L->stats->calls_cancelled++;
	if (dp__call_send(c, call, b, dp__call_fmt(c, call->line, &r, b, sizeof(b)), true)) {
		call->sent = 1;
		c->L->stats->tx_requests[DP_M_OTHER]++;
	}
}

/* The ACK of a failure to one of our INVITEs, in the INVITE's transaction (§17.1.1.3):
 * its branch, Request-URI, From and Call-ID, the response's To; to where the response came
 * from (the INVITE's next hop). Built from the response alone, so a retransmission of it
 * after the call is gone is ACKed as well. */
static void dp__call_ack_failure(struct dp_calls *c, uint32_t i, const struct sip_msg *m,
				 uint32_t ip, uint16_t port)
{
	const struct sip_header *from = sip_msg_header(m, SIP_HDR_FROM, 0);
	const struct sip_header *to = sip_msg_header(m, SIP_HDR_TO, 0);
	char b[DP_CALL_TEXT_MAX + 1];
	struct dp__req r = {
		.method = "ACK",
		.ruri = sip_str_cstr(c->to),
		.branch = m->via.branch,
		.call_id = m->call_id,
		.cseq = m->cseq.seq,
	};

	if (!from || !to)
		return;
	r.from = from->value;
	r.to = to->value;
	if (dp__call_tx(c, DP_CALL_NONE, i, ip, port, b, dp__call_fmt(c, i, &r, b, sizeof(b)),
			false))
		c->L->stats->tx_requests[DP_M_ACK]++;
}

/* The Record-Route entries of m, reversed and joined: the route set of its dialog
 * (§12.1.2). False when there are more, or longer, than we keep. */
static bool dp__route_set(const struct sip_msg *m, char *b, size_t cap, size_t *len)
{
	const struct sip_header *h;
	struct sip_str rr[DP_CALL_RR_MAX];
	unsigned nrr = 0;
	size_t n = 0;

	for (size_t k = 0; (h = sip_msg_header(m, SIP_HDR_RECORD_ROUTE, k)); k++) {
		struct sip_str cur = h->value, item;

		while (sip_list_next(&cur, &item)) {
			if (nrr == DP_CALL_RR_MAX)
				return false;
			rr[nrr++] = item;
		}
	}
	for (unsigned k = nrr; k-- > 0;) {
		int l = snprintf(b + n, cap - n, "%s%.*s", n ? ", " : "", (int)rr[k].len, rr[k].p);

		if (l < 0 || (size_t)l >= cap - n)
			return false;
		n += (size_t)l;
	}
	*len = n;
	return true;
}

/* The remote target of m's dialog: its Contact URI, else fallback. */
static struct sip_str dp__remote_target(const struct sip_msg *m, struct sip_str fallback)
{
	const struct sip_header *h = sip_msg_header(m, SIP_HDR_CONTACT, 0);
	struct sip_contact ct;
	const char *why;
	size_t off;

	if (h && sip_contact_parse(h->value, &ct, &off, &why) == 0 && !ct.addr.star &&
	    ct.addr.uri_str.len)
		return ct.addr.uri_str;
	return fallback;
}

/* A 2xx to one of our INVITEs that no call keeps (a retransmission after the call ended,
 * a fork's, one after we gave up, or a dialog too big to keep): §13.2.2.4 wants it ACKed,
 * and the dialog is ended at once with a BYE; both sent once, to where the 2xx came from. */
static void dp__call_stray_2xx(struct dp_calls *c, uint32_t i, const struct sip_msg *m, uint32_t ip,
			       uint16_t port)
{
	const struct sip_header *from = sip_msg_header(m, SIP_HDR_FROM, 0);
	const struct sip_header *to = sip_msg_header(m, SIP_HDR_TO, 0);
	char b[DP_CALL_TEXT_MAX + 1], route[DP_CALL_TEXT_MAX / 2], branch[DP_CALL_BRANCH_LEN + 1];
	size_t rl = 0;
	struct dp__req r = {
		.method = "ACK",
		.ruri = dp__remote_target(m, sip_str_cstr(c->to)),
		.call_id = m->call_id,
		.cseq = m->cseq.seq,
	};

	c->L->stats->calls_stray_2xx++;
	if (!from || !to || !dp__route_set(m, route, sizeof(route), &rl))
		return;
	r.from = from->value;
	r.to = to->value;
	r.route = sip_str_make(route, rl);
	snprintf(branch, sizeof(branch), "z9hG4bKc%04x%08x%c", 0xffffu,
		 (uint32_t)(c->L->rng++ * 0x9e3779b97f4a7c15ull >> 32), DP_CALL_K_STRAY);
	r.branch = sip_str_make(branch, DP_CALL_BRANCH_LEN);
	if (dp__call_tx(c, DP_CALL_NONE, i, ip, port, b, dp__call_fmt(c, i, &r, b, sizeof(b)),
			false))
		c->L->stats->tx_requests[DP_M_ACK]++;
	r.method = "BYE";
	r.cseq++;
	branch[DP_CALL_BRANCH_LEN - 2] ^= 1; /* a transaction of its own */
	if (dp__call_tx(c, DP_CALL_NONE, i, ip, port, b, dp__call_fmt(c, i, &r, b, sizeof(b)),
			false))
		c->L->stats->tx_requests[DP_M_BYE]++;
}

/* A registered line without a call, from the cursor on; -1 when none of a few is. */
static int64_t dp__call_line(struct dp_calls *c)
{
	for (unsigned tries = 0; tries < 64 && c->L->n; tries++) {
		uint32_t i = c->cursor++;

		if (c->cursor >= c->L->n)
			c->cursor = 0;
		if (!c->slot_of[i] && c->L->line[i].state == DP_LINE_REGISTERED)
			return i;
	}
	return -1;
}

static void dp__call_place(struct dp_calls *c, uint64_t now_us)
{
	struct dp_call *call;
	int64_t i = -1;
	uint32_t k;

	if (c->nfree && c->L->cfg.server[DP_TARGET_VIA(c->target)].port)
		i = dp__call_line(c);
	if (i < 0) {
		c->L->stats->calls_not_placed++;
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
	c->slot_of[i] = (uint16_t)(k + 1);
	c->L->stats->calls_active++;
	if (!dp__call_invite(c, k, NULL, false, now_us)) {
		/* nothing went out: not the next hop's failure */
		c->L->stats->calls_not_placed++;
		dp__call_end(c, k);
		return;
	}
	c->L->stats->calls_attempted++;
	c->L->stats->calls_by_server[DP_TARGET_VIA(c->target)]++;
}

static void dp__call_retransmit(struct dp_calls *c, uint32_t k, uint64_t now_us, bool capped)
{
	struct dp_call *call = &c->call[k];

	if (c->reliable) { /* woken early: a connection has only timers B and F */
		dp__call_arm(c, k, call->deadline_us);
		return;
	}
	if (call->held) {
		c->io.resend(c->io.ctx, k);
		c->L->stats->tx_retransmissions++;
	} else if (call->state == DP_CALL_BYE) {
		dp__call_bye_send(c, k, NULL, false); /* it found no buffer before */
	}
	/* timer A doubles without bound, timer E up to T2 (§17.1.1.2, §17.1.2.2) */
	call->interval_ms *= 2;
	if (capped && call->interval_ms > c->L->cfg.t2_ms)
		call->interval_ms = c->L->cfg.t2_ms;
	dp__call_arm_retx(c, k, now_us);
}

static void dp__call_timer(struct dp_calls *c, uint32_t k, uint64_t now_us)
{
	struct dp_call *call = &c->call[k];

	switch (call->state) {
	case DP_CALL_CALLING:
	case DP_CALL_BYE:
		if (now_us < call->deadline_us)
			return dp__call_retransmit(c, k, now_us, call->state == DP_CALL_BYE);
		/* timer B or F: the next hop is silent, a failure signal for it (when anything
		 * went out to it) */
		if (call->sent)
			dp__call_event(c, call, DP_FAIL_TIMEOUT, 0, now_us);
		if (call->state == DP_CALL_CALLING)
			c->L->stats->calls_failed[DP_FAIL_TIMEOUT]++;
		else
			c->L->stats->calls_bye_failed++;
		return dp__call_end(c, k);
	case DP_CALL_CANCELLING:
		if (now_us < call->deadline_us)
			return dp__call_retransmit(c, k, now_us, true);
		return dp__call_end(c, k); /* no 487 came: the transaction is over (§9.1) */
	case DP_CALL_PROCEEDING:
		c->L->stats->calls_no_answer++;
		return dp__call_cancel(c, k, now_us);
	case DP_CALL_UP:
		return dp__call_bye(c, k, now_us);
	default:
		return;
	}
}

unsigned dp_calls_poll(struct dp_calls *c, uint64_t now_us)
{
	uint32_t due[DP_CALL_BURST];
	unsigned work = 0;
	size_t n;

	if (!c->on)
		return 0;
	/* a backlog (no line was ready for a while) is not made up in a burst */
	if (c->step_us && now_us > c->due_us + 1000000)
		c->due_us = now_us;
	while (c->step_us && now_us >= c->due_us && work < DP_CALL_BURST) {
		dp__call_place(c, now_us);
		c->due_us += c->step_us;
		work++;
	}
	n = dp_wheel_expire(&c->wheel, now_us / 1000, due, DP_CALL_BURST);
	for (size_t k = 0; k < n; k++)
		dp__call_timer(c, due[k], now_us);
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

/* The 2xx of call k: keep its dialog (remote tag, target, route set), ACK it, hold the
 * call; a dialog too big to keep is ACKed and ended at once, statelessly. */
static void dp__call_answered(struct dp_calls *c, uint32_t k, const struct sip_msg *m, uint32_t ip,
			      uint16_t port, uint64_t now_us)
{
	struct dp_call *call = &c->call[k];
	struct sip_str rt = dp__remote_target(m, sip_str_cstr(c->to));
	bool hang_up = call->state == DP_CALL_CANCELLING || c->stopping;
	size_t rl = 0;
	uint64_t ms = (now_us - call->t_invite_us) / 10000;

	c->L->stats->call_setup_hist[ms < DP_CALL_LAT_BUCKETS ? ms : DP_CALL_LAT_BUCKETS - 1]++;
	c->L->stats->calls_answered++;
	dp__call_event(c, call, DP_FAIL_NONE, m->status, now_us);
	if (!m->to.tag.len || m->to.tag.len >= sizeof(call->to_tag) ||
	    rt.len >= sizeof(call->rtarget) ||
	    !dp__route_set(m, call->route, sizeof(call->route), &rl)) {
		dp__call_stray_2xx(c, call->line, m, ip, port);
		return dp__call_end(c, k);
	}
	memcpy(call->to_tag, m->to.tag.p, m->to.tag.len);
	call->to_tag_len = (uint8_t)m->to.tag.len;
	memcpy(call->rtarget, rt.p, rt.len);
	call->rtarget_len = (uint16_t)rt.len;
	call->route_len = (uint16_t)rl;
	dp__call_release(c, k);
	dp__call_ack_2xx(c, k);
	/* answered while being cancelled, or as the run ends: hung up at once */
	call->state = DP_CALL_UP;
	dp__call_arm(c, k, now_us + (hang_up ? 0 : c->hold_ms * 1000ull));
}

/* A final failure to call k's INVITE (it is ACKed already): a first challenge is
 * answered, anything else ends the call. A challenge is answered as the run ends too: the
 * call is then ended as soon as it is answered or rings, not counted as refused. */
static void dp__call_refused(struct dp_calls *c, uint32_t k, const struct sip_msg *m,
			     uint64_t now_us)
{
	struct dp_call *call = &c->call[k];
	bool cancelling = call->state == DP_CALL_CANCELLING;

	dp__call_release(c, k);
	if ((m->status == 401 || m->status == 407) && !call->auth_sent && !cancelling) {
		struct sip_challenge ch[DP_CHALLENGES];
		int pick = dp_line_challenge(m, ch);

		call->auth_sent = 1;
		call->cseq = 2;
		if (pick >= 0 && dp__call_invite(c, k, &ch[pick], m->status == 407, now_us))
			return;
	}
	if (!cancelling) { /* a 487 to our CANCEL was counted as no answer */
		if (m->status == 401 || m->status == 407)
			c->L->stats->calls_failed[DP_FAIL_AUTH]++;
		else
			c->L->stats->calls_failed[m->status < 500   ? DP_FAIL_4XX
						  : m->status < 600 ? DP_FAIL_5XX
								    : DP_FAIL_6XX]++;
		dp__call_event(c, call, DP_FAIL_NONE, m->status, now_us);
	}
	dp__call_end(c, k);
}

/* The BYE's answer: 2xx completes the call, a first challenge is answered. */
static void dp__call_bye_answer(struct dp_calls *c, uint32_t k, const struct sip_msg *m)
{
	struct dp_call *call = &c->call[k];

	if (m->status < 200)
		return;
	if (m->status < 300) {
		c->L->stats->calls_completed++;
		return dp__call_end(c, k);
	}
	if ((m->status == 401 || m->status == 407) && !call->bye_auth_sent) {
		struct sip_challenge ch[DP_CHALLENGES];
		int pick = dp_line_challenge(m, ch);

		call->bye_auth_sent = 1;
		if (pick >= 0) {
			dp__call_release(c, k);
			dp__call_bye_send(c, k, &ch[pick], m->status == 407);
			if (call->held)
				return;
		}
	}
	c->L->stats->calls_bye_failed++;
	dp__call_end(c, k);
}

bool dp_calls_response(struct dp_calls *c, uint32_t i, const struct sip_msg *m, uint32_t ip,
		       uint16_t port, uint64_t now_us)
{
	const struct sip_str *b = &m->via.branch;
	bool invite = sip_str_eq(m->cseq.method, SIP_STR("INVITE"));
	struct dp_call *call;
	uint32_t k;
	char kind;

	if (!c->on || b->len != DP_CALL_BRANCH_LEN || memcmp(b->p, "z9hG4bKc", 8) != 0)
		return false;
	kind = b->p[DP_CALL_BRANCH_LEN - 1];
	c->L->stats->rx_responses[m->status / 100]++;
	call = dp__call_named(c, b->p + 8, 0, &k);
	if (call && call->line != i)
		call = NULL;
	if (invite && (kind == DP_CALL_K_INVITE || kind == DP_CALL_K_INVITE + 1)) {
		bool current = call && kind == DP_CALL_K_INVITE + call->cseq - 1;

		if (m->status >= 300)
			dp__call_ack_failure(c, i, m, ip, port);
		if (current && m->status >= 200 && m->status < 300 &&
		    (call->state == DP_CALL_UP || call->state == DP_CALL_BYE) &&
		    m->to.tag.len == call->to_tag_len &&
		    memcmp(m->to.tag.p, call->to_tag, call->to_tag_len) == 0) {
			if (call->state == DP_CALL_UP) /* the 2xx again: our ACK was lost */
				dp__call_ack_2xx(c, k);
			return true;
		}
		if (!current ||
		    (call->state != DP_CALL_CALLING && call->state != DP_CALL_PROCEEDING &&
		     call->state != DP_CALL_CANCELLING)) {
			/* for no live INVITE of ours: a retransmission, a fork's 2xx */
			if (m->status >= 200 && m->status < 300)
				dp__call_stray_2xx(c, i, m, ip, port);
			else if (m->status < 300)
				c->L->stats->sip_drops[DP_SIP_DROP_STALE]++;
			return true;
		}
		if (m->status < 200) {
			if (call->state == DP_CALL_CALLING) {
				call->state = DP_CALL_PROCEEDING;
				dp__call_release(c, k);
				if (c->stopping)
					dp__call_cancel(c, k, now_us);
				else
					dp__call_arm(c, k, now_us + DP_CALL_NO_ANSWER_MS * 1000ull);
			}
			return true;
		}
		if (m->status < 300)
			dp__call_answered(c, k, m, ip, port, now_us);
		else
			dp__call_refused(c, k, m, now_us);
		return true;
	}
	if (sip_str_eq(m->cseq.method, SIP_STR("CANCEL")) && call &&
	    call->state == DP_CALL_CANCELLING) {
		/* the CANCEL is answered: no more retransmissions; the 487 ends the call */
		dp__call_release(c, k);
		return true;
	}
	if (sip_str_eq(m->cseq.method, SIP_STR("BYE")) && call && call->state == DP_CALL_BYE &&
	    kind == (call->bye_auth_sent ? DP_CALL_K_BYE + 3 : DP_CALL_K_BYE)) {
		dp__call_bye_answer(c, k, m);
		return true;
	}
	c->L->stats->sip_drops[DP_SIP_DROP_STALE]++;
	return true;
}

void dp_calls_stop(struct dp_calls *c, uint64_t now_us)
{
	c->stopping = true;
	c->step_us = 0;
	c->hold_ms = 0;
	for (uint32_t k = 0; c->on && k < c->max; k++) {
		if (c->call[k].state == DP_CALL_UP)
			dp__call_bye(c, k, now_us);
		else if (c->call[k].state == DP_CALL_PROCEEDING)
			dp__call_cancel(c, k, now_us);
		/* a call still CALLING is cancelled at its first provisional answer */
	}
}

void dp_calls_remote_bye(struct dp_calls *c, uint32_t i, const struct sip_msg *m)
{
	struct dp_call *call;
	uint32_t k;

	if (!c->on || m->call_id.len < 14 || m->call_id.p[0] != 'c' ||
	    !(call = dp__call_named(c, m->call_id.p + 1, '.', &k)) || call->line != i ||
	    (call->state != DP_CALL_UP && call->state != DP_CALL_BYE) ||
	    m->from.tag.len != call->to_tag_len ||
	    memcmp(m->from.tag.p, call->to_tag, call->to_tag_len) != 0)
		return;
	c->L->stats->calls_remote_bye++;
	dp__call_end(c, k);
}

/* Call k's transaction out ends as a transport error: a failure signal of its next hop
 * (a CANCEL's is not: the INVITE's answer was the point). */
static void dp__call_transport_failed(struct dp_calls *c, uint32_t k, uint64_t now_us)
{
	struct dp_call *call = &c->call[k];

	if (call->state != DP_CALL_CANCELLING)
		dp__call_event(c, call, DP_FAIL_TRANSPORT, 0, now_us);
	if (call->state == DP_CALL_CALLING)
		c->L->stats->calls_failed[DP_FAIL_TRANSPORT]++;
	else if (call->state == DP_CALL_BYE)
		c->L->stats->calls_bye_failed++;
	dp__call_end(c, k);
}

void dp_calls_unreachable(struct dp_calls *c, uint32_t i, uint32_t ip, uint16_t port,
			  uint64_t now_us)
{
	const struct dp_server_addr *to;
	struct dp_call *call;
	uint32_t k;

	if (!c->on || i >= c->L->n || !c->slot_of[i])
		return;
	k = c->slot_of[i] - 1u;
	call = &c->call[k];
	to = &c->L->cfg.server[DP_TARGET_VIA(call->target)];
	if (to->ip != ip || to->port != port ||
	    (call->state != DP_CALL_CALLING && call->state != DP_CALL_BYE &&
	     call->state != DP_CALL_CANCELLING))
		return;
	dp__call_transport_failed(c, k, now_us);
}

void dp_calls_transport_lost(struct dp_calls *c, uint32_t k, uint64_t now_us)
{
	const struct dp_call *call;

	if (!c->on || k >= c->max)
		return;
	call = &c->call[k];
	/* a call up (or ringing: its final answer cannot come now either) */
	if (call->state == DP_CALL_CALLING || call->state == DP_CALL_BYE ||
	    call->state == DP_CALL_CANCELLING || call->state == DP_CALL_PROCEEDING)
		dp__call_transport_failed(c, k, now_us);
}
