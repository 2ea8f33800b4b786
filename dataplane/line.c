/*
 * Registration client of each line (dataplane/line.h). A line runs one REGISTER
 * transaction at a time; its single wheel timer is whichever comes next of timer E
 * (retransmit), timer F (give up), the refresh, or the retry after a failure.
 */
#include "dataplane/line.h"

#include <errno.h>
#include <string.h>

#include "sip/stun.h"

#define DP__MS 1000ull

static uint64_t dp__rand(struct dp_lines *L)
{
	/* xorshift64*: branches, jitter; no syscall, no lock, good enough spread */
	L->rng ^= L->rng >> 12;
	L->rng ^= L->rng << 25;
	L->rng ^= L->rng >> 27;
	return L->rng * 0x2545f4914f6cdd1dull;
}

/*
 * The branch of line i's request cseq (RFC 3261 §8.1.1.7: unique in space and time): the
 * run's seed, the flow, the line and the CSeq through a bijective mixer (splitmix64's
 * finalizer), so distinct requests of a flow get distinct branches and the line keeps 8
 * octets fewer. Every new request takes the next CSeq.
 */
static uint64_t dp__branch(const struct dp_lines *L, uint32_t i, uint32_t cseq)
{
	uint64_t z = (L->id_seed + 0x9e3779b97f4a7c15ull * (L->flow + 1u)) ^
		     ((uint64_t)(L->first_id + i) << 32 | cseq);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Microseconds since a 32-bit stamp of the same clock (dp_line's tx_first_us, attempt_us);
 * an attempt's stamp is kept within DP__STAMP_MAX_US (36 minutes) of now. */
#define DP__STAMP_MAX_US (UINT32_C(1) << 31)
static inline uint32_t dp__since_us(uint64_t now_us, uint32_t stamp)
{
	return (uint32_t)now_us - stamp;
}

static void dp__arm(struct dp_lines *L, uint32_t i, uint64_t due_us)
{
	dp_wheel_arm(&L->wheel, i, (due_us + DP__MS - 1) / DP__MS);
}

static void dp__event(struct dp_lines *L, uint16_t type, uint32_t i, uint16_t reason,
		      uint32_t value, uint32_t value2, uint64_t now_us)
{
	const struct dp_line *l = &L->line[i];
	struct dp_msg m = {
		.type = type,
		.reason = reason,
		.line = L->first_id + i,
		.value = value,
		.value2 = value2,
		.target = DP_TARGET(l->reg, l->aor, l->via),
		.worker = L->worker,
		.flow = L->flow,
		.t_us = now_us,
	};

	L->io.event(L->io.ctx, &m);
}

/* The registered gauge counts bindings: a refresh in flight keeps its line counted. */
static void dp__set_registered(struct dp_lines *L, struct dp_line *l, bool on)
{
	if (l->bound && !on)
		L->stats->registered--;
	else if (!l->bound && on)
		L->stats->registered++;
	l->bound = on;
}

static size_t dp__dec(char *o, uint32_t v)
{
	char t[10];
	size_t n = 0, k = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		o[k++] = t[--n];
	return k;
}

static size_t dp__hex(char *o, uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	for (int k = 0; k < digits; k++)
		o[k] = hex[(v >> (4 * (digits - 1 - k))) & 0xf];
	return (size_t)digits;
}

/* The line's own values for the shared template; buf holds at least 112 octets. */
static void dp__line_vars(const struct dp_lines *L, uint32_t i, struct sip_line_vars *v, char *buf)
{
	uint32_t ip, g = L->first_id + i;
	uint16_t port;
	char *hp = buf, *tag, *cid; /* at most 21 + 16 + 44 + 12 octets */
	size_t n = 0, ipn;

	if (L->hostport && L->hostport[i][0]) {
		/* a connection's own address: the kernel chose it */
		n = (uint8_t)L->hostport[i][0];
		memcpy(hp, L->hostport[i] + 1, n);
		ipn = (size_t)((const char *)memchr(hp, ':', n) - hp);
	} else {
		dp_lines_addr(L, i, &ip, &port);
		for (int k = 3; k >= 0; k--) {
			n += dp__dec(hp + n, (ip >> (8 * k)) & 255);
			hp[n++] = k ? '.' : ':';
		}
		ipn = n - 1;
		n += dp__dec(hp + n, port);
	}
	v->hostport = sip_str_make(hp, n);
	tag = hp + n;
	n = dp__hex(tag, g, 8) + dp__hex(tag + 8, L->id_seed >> 32, 8);
	v->tag = sip_str_make(tag, n);
	cid = tag + n; /* "<line>-<seed>@<ip>": one Call-ID per line and run (RFC 3261 §10.2) */
	n = dp__hex(cid, g, 8);
	cid[n++] = '-';
	n += dp__hex(cid + n, L->id_seed, 16);
	if (L->dlg) { /* a subscription: one Call-ID per dialog */
		cid[n++] = '-';
		n += dp__hex(cid + n, L->dlg[i][2], 2);
	}
	cid[n++] = '@';
	memcpy(cid + n, hp, ipn);
	v->callid = sip_str_make(cid, n + ipn);
	/* the last group of its +sip.instance UUID: the line's id, the same in every run */
	v->uuid = sip_str_make(cid + v->callid.len, dp__hex(cid + v->callid.len, g, 12));
	v->user = sip_str_make(L->auth_user[i], strnlen(L->auth_user[i], 32));
	v->to_tag = L->to_tag && L->to_tag[i][0]
			    ? sip_str_make(L->to_tag[i] + 1, (uint8_t)L->to_tag[i][0])
			    : SIP_STR_NULL;
	v->target = SIP_STR_NULL;
	v->routes = SIP_STR_NULL;
	if (L->dlg && L->dlg[i][0]) {
		v->target = sip_str_make((const char *)L->dlg[i] + DP_DLG_HDR, L->dlg[i][0]);
		v->routes = sip_str_make((const char *)L->dlg[i] + DP_DLG_HDR + L->dlg[i][0],
					 L->dlg[i][1]);
	}
}

/* The subscription's dialog is over (ended, refused, or left for another server), or its
 * SUBSCRIBE failed before one was made: its tag, target and route set are forgotten, and
 * the next SUBSCRIBE gets a Call-ID of its own, so a notifier never takes it for the old
 * dialog (RFC 3261 §8.1.1.4, §12). That holds for a SUBSCRIBE that timed out too: the
 * notifier may have made the dialog, its 2xx late or lost (a proxy catching up after a
 * freeze), and would take a new SUBSCRIBE under that Call-ID as a misaddressed request
 * in it. */
static void dp__dialog_end(struct dp_lines *L, uint32_t i)
{
	if (L->dlg) {
		L->dlg[i][2]++;
		L->dlg[i][0] = L->dlg[i][1] = 0;
	}
	L->to_tag[i][0] = 0;
}

/* The SUBSCRIBE dialog's remote tag: kept when it is a plain token that fits, so the next
 * request is in the dialog; else (and on every end of the dialog) forgotten. */
static void dp__to_tag(struct dp_lines *L, uint32_t i, struct sip_str tag)
{
	if (!L->to_tag)
		return;
	if (!tag.len || tag.len > DP_TO_TAG_MAX)
		return dp__dialog_end(L, i);
	for (size_t k = 0; k < tag.len; k++) {
		unsigned char c = (unsigned char)tag.p[k];

		if (c <= ' ' || c >= 127 || strchr(";,<>\"\\", c))
			return dp__dialog_end(L, i);
	}
	memcpy(L->to_tag[i] + 1, tag.p, tag.len);
	L->to_tag[i][0] = (char)tag.len;
}

/* A URI fit to send between '<' and '>': visible ASCII without brackets or quotes. */
static bool dp__uri_ok(struct sip_str u)
{
	for (size_t k = 0; k < u.len; k++) {
		unsigned char c = (unsigned char)u.p[k];

		if (c <= ' ' || c >= 127 || c == '<' || c == '>' || c == '"')
			return false;
	}
	return u.len > 0;
}

/*
 * A subscription's 2xx: the dialog's remote target is its Contact (a target refresh,
 * RFC 6665 §4.1.2.1) and, when the dialog is new, its route set the Record-Route URIs in
 * reverse order (RFC 3261 §12.1.2); a route set is never changed later (§12.2.1.2). A
 * pair that does not fit DP_DLG_MAX, or a 2xx without a usable Contact, leaves the
 * requests addressed as outside a dialog, as before.
 */
static void dp__dialog(struct dp_lines *L, uint32_t i, const struct sip_msg *m)
{
	uint8_t *d;
	struct sip_str target = SIP_STR_NULL, rr[8], cur, item;
	const struct sip_header *h;
	struct sip_contact c;
	struct sip_naddr na;
	size_t off, nrr = 0, rlen = 0;
	const char *why;
	bool fresh;

	if (!L->dlg || !L->to_tag[i][0])
		return;
	d = L->dlg[i];
	fresh = !d[0];
	if ((h = sip_msg_header(m, SIP_HDR_CONTACT, 0))) {
		cur = h->value;
		if (sip_list_next(&cur, &item) && !sip_contact_parse(item, &c, &off, &why) &&
		    !c.addr.star && dp__uri_ok(c.addr.uri_str))
			target = c.addr.uri_str;
	}
	if (!target.len)
		return;
	if (!fresh) {
		/* keep the route set, take the new target when the pair still fits */
		if (DP_DLG_HDR + target.len + d[1] > DP_DLG_MAX)
			return;
		memmove(d + DP_DLG_HDR + target.len, d + DP_DLG_HDR + d[0], d[1]);
		memcpy(d + DP_DLG_HDR, target.p, target.len);
		d[0] = (uint8_t)target.len;
		return;
	}
	for (size_t k = 0; (h = sip_msg_header(m, SIP_HDR_RECORD_ROUTE, k)); k++) {
		cur = h->value;
		while (sip_list_next(&cur, &item)) {
			if (nrr == sizeof(rr) / sizeof(rr[0]) ||
			    sip_route_parse(item, &na, &off, &why) || !dp__uri_ok(na.uri_str))
				return; /* a route set we cannot follow: outside a dialog */
			rr[nrr++] = na.uri_str;
			rlen += na.uri_str.len + 3; /* "<" uri ">" and a comma */
		}
	}
	if (DP_DLG_HDR + target.len + rlen > DP_DLG_MAX + 1u) /* the last comma is not written */
		return;
	memcpy(d + DP_DLG_HDR, target.p, target.len);
	off = DP_DLG_HDR + target.len;
	while (nrr--) {
		d[off++] = '<';
		memcpy(d + off, rr[nrr].p, rr[nrr].len);
		off += rr[nrr].len;
		d[off++] = '>';
		if (nrr)
			d[off++] = ',';
	}
	d[0] = (uint8_t)target.len;
	d[1] = (uint8_t)(off - DP_DLG_HDR - target.len);
}

/* "sip:<user>@<AOR domain>": what a line subscribes to (its own mailbox, RFC 3842); in a
 * dialog, the remote target the request is addressed to (§12.2.1.1). */
static struct sip_str dp__sub_uri(const struct dp_lines *L, uint32_t i, char *buf)
{
	const struct sip_str d = L->cfg.aor_domain[L->line[i].aor];
	size_t u = strnlen(L->auth_user[i], 32), n;

	if (L->dlg && L->dlg[i][0])
		return sip_str_make((const char *)L->dlg[i] + DP_DLG_HDR, L->dlg[i][0]);

	if (4 + u + 1 + d.len > 96)
		return SIP_STR_NULL;
	memcpy(buf, "sip:", 4);
	n = 4;
	memcpy(buf + n, L->auth_user[i], u);
	n += u;
	buf[n++] = '@';
	memcpy(buf + n, d.p, d.len);
	return sip_str_make(buf, n + d.len);
}

/*
 * Send a new REGISTER (new branch, next CSeq) for line i, answering ch when given.
 * Hot path: the text comes from the line's template, nothing is formatted from scratch.
 */
static void dp__send_register(struct dp_lines *L, uint32_t i, uint64_t now_us, uint32_t expires,
			      const struct sip_challenge *ch, bool proxy)
{
	struct dp_line *l = &L->line[i];
	struct sip_line_vars v;
	char vbuf[112];
	struct sip_req_fields f = {.expires = expires, .proxy_auth = proxy};
	char auth[768];
	size_t cap;
	char *buf = L->io.tx_alloc(L->io.ctx, &cap);
	bool sub = L->flow == DP_FLOW_SUBSCRIBE;
	char suri[96];
	ssize_t n;

	l->cseq++;
	l->retx = 0;
	l->interval_ms = L->cfg.t1_ms;
	l->tx_first_us = (uint32_t)now_us;
	/* a registration older than the 32-bit stamp's half range (held back, say, by a
	 * next hop that ARP never found): pinned there, so it counts as slow, not wraps */
	if (dp__since_us(now_us, l->attempt_us) > DP__STAMP_MAX_US)
		l->attempt_us = (uint32_t)(now_us - DP__STAMP_MAX_US);
	if (ch && buf) {
		bool sha = sip_digest_hex_len(ch->algorithm) == 64;
		struct sip_digest_req req = {
			.method = sub ? SIP_STR("SUBSCRIBE") : SIP_STR("REGISTER"),
			.uri = sub ? dp__sub_uri(L, i, suri) : L->cfg.ruri[l->reg],
			.username = sip_str_make(L->auth_user[i], strnlen(L->auth_user[i], 32)),
			.ha1 = sha ? sip_str_make(L->ha1_sha256[l->aor][i], 64)
				   : sip_str_make(L->ha1_md5[l->aor][i], 32),
			.nc = 1,
		};
		char cn[SIP_DIGEST_CNONCE_LEN];

		req.cnonce = sip_digest_cnonce(dp__rand(L), cn);
		/* a SUBSCRIBE's URI is the line's own: no HA2 shared between lines */
		n = sip_digest_authorization(&L->dctx, ch, &req, sub ? NULL : &L->ha2[l->reg], auth,
					     sizeof(auth));
		if (n > 0)
			f.auth = sip_str_make(auth, (size_t)n);
	}
	f.branch = dp__branch(L, i, l->cseq);
	f.cseq = l->cseq;
	dp__line_vars(L, i, &v, vbuf);
	n = !buf  ? -ENOBUFS
	    : sub ? sip_build_subscribe_vars(L->tpl[l->reg][l->aor], &v, &f, buf, cap)
		  : sip_build_register_vars(L->tpl[l->reg][l->aor], &v, &f, buf, cap);
	if (n < 0) {
		/* no buffer, no next-hop MAC yet, or no room: build it anew at the next
		 * timer, without the credentials (the challenge is gone; the server asks
		 * again) */
		if (buf)
			L->io.tx_abort(L->io.ctx);
		L->stats->sip_drops[DP_SIP_DROP_NO_BUFFER]++;
		l->unsent = 1;
		l->auth_sent = 0;
		dp__arm(L, i, now_us + L->cfg.t1_ms * DP__MS);
		return;
	}
	l->unsent = 0;
	L->io.tx_send(L->io.ctx, i, (size_t)n, true, DP_SUM_NONE);
	L->stats->tx_requests[sub ? DP_M_SUBSCRIBE : DP_M_REGISTER]++;
	L->stats->tx_by_server[l->via]++;
	if (f.auth.len)
		L->stats->tx_register_auth++;
	if (expires == 0)
		L->stats->tx_unregister++;
	dp__arm(L, i, now_us + (L->cfg.reliable ? L->cfg.tf_ms : l->interval_ms) * DP__MS);
}

/* 80-100 % of the keep-alive interval, jittered per send (RFC 5626 §4.4.1). */
static uint64_t dp__ka_gap_us(struct dp_lines *L, const struct dp_line *l)
{
	uint64_t base_ms = l->ka_base_s ? 1000ull * l->ka_base_s : L->cfg.ka_interval_ms;

	return (base_ms * 80 + dp__rand(L) % (base_ms * 20 + 1)) / 100 * DP__MS;
}

/* While registered the line's timer is the first of: refresh, the keep-alive answer's
 * deadline, the next keep-alive (once its time has not yet come: while an answer is
 * awaited past it, the deadline is what is left to wait for). */
static uint64_t dp__registered_due(const struct dp_lines *L, const struct dp_line *l,
				   uint64_t now_us)
{
	uint64_t due = l->refresh_due_us;

	if (l->ka_sent_us && l->ka_sent_us + L->cfg.ka_timeout_ms * DP__MS < due)
		due = l->ka_sent_us + L->cfg.ka_timeout_ms * DP__MS;
	if (l->ka_next_us && (!l->ka_sent_us || l->ka_next_us > now_us) && l->ka_next_us < due)
		due = l->ka_next_us;
	return due;
}

static void dp__arm_registered(struct dp_lines *L, uint32_t i, uint64_t now_us)
{
	dp__arm(L, i, dp__registered_due(L, &L->line[i], now_us));
}

/* The keep-alive's answer came: the timer set when it went out (at the next keep-alive, or
 * at the deadline when that comes first) is left alone when it fires no later than now
 * needed; firing early, it re-arms for what is due then. Saves a wheel unlink and link
 * per keep-alive, whose neighbours are random lines: misses at a million lines. */
static void dp__answered(struct dp_lines *L, uint32_t i, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];
	uint64_t due = dp__registered_due(L, l, now_us);

	if (dp_wheel_due(&L->wheel, i) > (due + DP__MS - 1) / DP__MS)
		dp__arm(L, i, due);
}

/* Hot path: a 28-octet Binding request (FINGERPRINT on) or four octets of CRLF. */
static void dp__send_keepalive(struct dp_lines *L, uint32_t i, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];
	size_t cap;
	char *buf = L->io.tx_alloc(L->io.ctx, &cap);
	uint8_t tail[SIP_STUN_KA_TAIL_LEN];
	uint32_t g = L->first_id + i, sum;

	l->ka_next_us = now_us + dp__ka_gap_us(L, l);
	if (!buf) {
		L->stats->sip_drops[DP_SIP_DROP_NO_BUFFER]++;
		return;
	}
	if (L->cfg.keepalive != DP_KA_STUN) {
		memcpy(buf, "\r\n\r\n", 4);
		L->io.tx_send(L->io.ctx, i, 4, false, DP_SUM_NONE);
		L->stats->tx_keepalive_crlf++;
		if (L->cfg.keepalive == DP_KA_PING)
			l->ka_sent_us = now_us; /* its pong is due within the timeout */
		return;
	}
	if (cap < SIP_STUN_KA_LEN) {
		L->io.tx_abort(L->io.ctx);
		L->stats->sip_drops[DP_SIP_DROP_NO_BUFFER]++;
		return;
	}
	l->ka_txid++;
	memcpy(tail, &g, 4);
	memcpy(tail + 4, &l->ka_txid, 4);
	sum = sip_stun_ka_build(&L->ka_tpl, (uint8_t *)buf, tail);
	L->io.tx_send(L->io.ctx, i, SIP_STUN_KA_LEN, false, sum);
	l->ka_sent_us = now_us;
	L->stats->tx_keepalive_stun++;
}

void dp_line_stun_answer(struct dp_lines *L, uint32_t i, const uint8_t *txid, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];
	uint32_t g = L->first_id + i;

	if (l->state != DP_LINE_REGISTERED || !l->ka_sent_us || memcmp(txid, "se", 2) != 0 ||
	    txid[2] != L->flow || memcmp(txid + 4, &g, 4) != 0 ||
	    memcmp(txid + 8, &l->ka_txid, 4) != 0) {
		L->stats->rx_stun_other++;
		return;
	}
	l->ka_sent_us = 0;
	L->stats->rx_keepalive_ok++;
	dp__answered(L, i, now_us);
}

void dp_line_pong(struct dp_lines *L, uint32_t i, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];

	if (l->state != DP_LINE_REGISTERED || !l->ka_sent_us) {
		L->stats->rx_stun_other++; /* a pong no ping of ours asked for */
		return;
	}
	l->ka_sent_us = 0;
	L->stats->rx_keepalive_ok++;
	dp__answered(L, i, now_us);
}

/* The keep-alive went unanswered: the flow failed; register again at once (RFC 5626
 * §4.4.2: a failed flow is re-established by a new registration). */
static void dp__flow_failed(struct dp_lines *L, uint32_t i, enum dp_fail_reason why,
			    uint64_t now_us)
{
	L->line[i].ka_sent_us = 0;
	dp__set_registered(L, &L->line[i], false);
	L->stats->flow_failures++;
	dp__event(L, DP_EV_FLOW_FAILED, i, why, 0, 0, now_us);
	dp_line_start(L, i, now_us);
}

void dp_line_start(struct dp_lines *L, uint32_t i, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];

	if (l->state == DP_LINE_REGISTERING || l->state == DP_LINE_UNREGISTERING)
		L->io.tx_release(L->io.ctx, i);
	l->state = DP_LINE_REGISTERING;
	l->auth_sent = 0;
	l->unreg_after = 0;
	l->attempt_us = (uint32_t)now_us;
	dp__send_register(L, i, now_us, l->req_expires, NULL, false);
}

void dp_line_register(struct dp_lines *L, uint32_t i, bool set, uint32_t target, uint64_t delay_us,
		      uint64_t now_us)
{
	struct dp_line *l = &L->line[i];
	uint8_t reg = DP_TARGET_REG(target), aor = DP_TARGET_AOR(target),
		via = DP_TARGET_VIA(target);

	if (set && (reg >= DP_MAX_SERVERS || aor >= DP_MAX_AORS || via >= DP_MAX_SERVERS ||
		    !L->tpl[reg][aor] || !L->cfg.server[via].port)) {
		/* told, not dropped: control would wait forever on a silent line */
		struct dp_msg m = {.type = DP_EV_FAILED,
				   .reason = DP_FAIL_TRANSPORT,
				   .line = L->first_id + i,
				   .target = target,
				   .worker = L->worker,
				   .flow = L->flow,
				   .t_us = now_us};

		L->stats->bad_commands++;
		L->io.event(L->io.ctx, &m);
		return;
	}
	if (set && (reg != l->reg || aor != l->aor || via != l->via)) {
		/* the binding at the old target is left behind, not counted as ours */
		dp__set_registered(L, l, false);
		dp__to_tag(L, i, SIP_STR_NULL); /* a new server: a new dialog */
		l->reg = reg;
		l->aor = aor;
		l->via = via;
	}
	if (!delay_us)
		return dp_line_start(L, i, now_us);
	if (l->state == DP_LINE_REGISTERING || l->state == DP_LINE_UNREGISTERING)
		L->io.tx_release(L->io.ctx, i);
	l->state = DP_LINE_RETRY_WAIT;
	dp__arm(L, i, now_us + delay_us);
}

void dp_line_unregister(struct dp_lines *L, uint32_t i, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];

	switch (l->state) {
	case DP_LINE_REGISTERING:
		l->unreg_after = 1; /* let the transaction end; a binding may be made */
		return;
	case DP_LINE_REGISTERED:
		dp__set_registered(L, l, false);
		l->state = DP_LINE_UNREGISTERING;
		l->auth_sent = 0;
		dp__send_register(L, i, now_us, 0, NULL, false);
		return;
	case DP_LINE_RETRY_WAIT:
		dp_wheel_cancel(&L->wheel, i);
		l->state = DP_LINE_IDLE;
		return;
	default:
		return;
	}
}

/* The transaction failed: report, and try again after delay_ms unless un-registering. */
static void dp__fail(struct dp_lines *L, uint32_t i, enum dp_fail_reason why, uint32_t status,
		     uint32_t delay_ms, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];
	bool unreg = l->state == DP_LINE_UNREGISTERING || l->unreg_after;

	L->io.tx_release(L->io.ctx, i);
	dp__set_registered(L, l, false);
	dp__to_tag(L, i, SIP_STR_NULL);
	L->stats->reg_fail[why]++;
	dp__event(L, DP_EV_FAILED, i, why, status, delay_ms / 1000, now_us);
	if (unreg || L->cfg.managed) {
		/* managed: control decides where and when to try again */
		l->state = DP_LINE_IDLE;
		dp_wheel_cancel(&L->wheel, i);
		return;
	}
	l->state = DP_LINE_RETRY_WAIT;
	dp__arm(L, i, now_us + (uint64_t)delay_ms * DP__MS);
}

void dp_line_timer(struct dp_lines *L, uint32_t i, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];
	uint64_t deadline = now_us - dp__since_us(now_us, l->tx_first_us) + L->cfg.tf_ms * DP__MS;
	uint64_t next;

	switch (l->state) {
	case DP_LINE_REGISTERING:
	case DP_LINE_UNREGISTERING:
		if (l->unsent) {
			dp__send_register(L, i, now_us,
					  l->state == DP_LINE_UNREGISTERING ? 0 : l->req_expires,
					  NULL, false);
			return;
		}
		if (now_us >= deadline) {
			dp__fail(L, i, DP_FAIL_TIMEOUT, 0, L->cfg.retry_ms, now_us);
			return;
		}
		if (L->cfg.reliable) { /* woken early (a 1xx): only timer F is left */
			dp__arm(L, i, deadline);
			return;
		}
		/* RFC 3261 §17.1.2.2: timer E doubles up to T2 */
		L->io.tx_resend(L->io.ctx, i);
		L->stats->tx_retransmissions++;
		l->retx++;
		l->interval_ms =
			l->interval_ms * 2 < L->cfg.t2_ms ? l->interval_ms * 2 : L->cfg.t2_ms;
		next = now_us + (uint64_t)l->interval_ms * DP__MS;
		dp__arm(L, i, next < deadline ? next : deadline);
		return;
	case DP_LINE_REGISTERED:
		if (now_us >= l->refresh_due_us)
			return dp_line_start(L, i, now_us);
		if (l->ka_sent_us && now_us >= l->ka_sent_us + L->cfg.ka_timeout_ms * DP__MS)
			return dp__flow_failed(L, i, DP_FAIL_TIMEOUT, now_us);
		if (!l->ka_sent_us && l->ka_next_us && now_us >= l->ka_next_us)
			dp__send_keepalive(L, i, now_us);
		dp__arm_registered(L, i, now_us);
		return;
	case DP_LINE_RETRY_WAIT:
		dp_line_start(L, i, now_us);
		return;
	default:
		return;
	}
}

void dp_line_resend(struct dp_lines *L, uint32_t i, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];

	if (l->state != DP_LINE_REGISTERING && l->state != DP_LINE_UNREGISTERING)
		return;
	l->unsent = 1;
	l->auth_sent = 0;
	dp_line_timer(L, i, now_us);
}

void dp_line_transport_lost(struct dp_lines *L, uint32_t i, uint64_t now_us)
{
	switch (L->line[i].state) {
	case DP_LINE_REGISTERING:
	case DP_LINE_UNREGISTERING:
		return dp__fail(L, i, DP_FAIL_TRANSPORT, 0, L->cfg.retry_ms, now_us);
	case DP_LINE_REGISTERED:
		return dp__flow_failed(L, i, DP_FAIL_TRANSPORT, now_us);
	default:
		return;
	}
}

/* A transport error fails the transaction at once instead of waiting for timer F
 * (RFC 3261 §8.1.3.1, DESIGN.md §4: ICMP unreachable is a failure). */
void dp_line_unreachable(struct dp_lines *L, uint32_t i, uint32_t server_ip, uint16_t server_port,
			 uint64_t now_us)
{
	const struct dp_line *l = &L->line[i];

	if ((l->state != DP_LINE_REGISTERING && l->state != DP_LINE_UNREGISTERING) ||
	    server_ip != L->cfg.server[l->via].ip || server_port != L->cfg.server[l->via].port)
		return;
	dp__fail(L, i, DP_FAIL_TRANSPORT, 0, L->cfg.retry_ms, now_us);
}

static bool dp__ipv4(struct sip_str s, uint32_t *out)
{
	uint32_t v = 0, part = 0;
	int dots = 0, digits = 0;

	for (size_t k = 0; k < s.len; k++) {
		if (s.p[k] == '.') {
			if (!digits || ++dots > 3)
				return false;
			v = v << 8 | part;
			part = 0;
			digits = 0;
		} else if (s.p[k] >= '0' && s.p[k] <= '9' && digits < 3) {
			part = part * 10 + (uint32_t)(s.p[k] - '0');
			digits++;
			if (part > 255)
				return false;
		} else {
			return false;
		}
	}
	if (dots != 3 || !digits)
		return false;
	*out = v << 8 | part;
	return true;
}

/* The expiry the registrar granted our binding (RFC 3261 §10.2.4): our Contact's expires
 * parameter, else the Expires header, else what we asked for. */
static uint32_t dp__granted(const struct dp_lines *L, uint32_t i, const struct sip_msg *m)
{
	const struct sip_header *h;
	uint32_t ip, cip;
	uint16_t port;

	dp_lines_addr(L, i, &ip, &port);
	if (L->hostport && L->hostport[i][0]) {
		/* the address the line registered: its connection's, with its own port */
		struct sip_str hp = sip_str_make(L->hostport[i] + 1, (uint8_t)L->hostport[i][0]);
		const char *colon = memchr(hp.p, ':', hp.len);
		uint32_t v;

		if (!colon || !dp__ipv4(sip_str_make(hp.p, (size_t)(colon - hp.p)), &ip) ||
		    sip_u32_parse(sip_str_make(colon + 1, hp.len - (size_t)(colon - hp.p) - 1),
				  65535, &v) != 0)
			return L->line[i].req_expires;
		port = (uint16_t)v;
	}
	for (size_t k = 0; (h = sip_msg_header(m, SIP_HDR_CONTACT, k)); k++) {
		struct sip_str cur = h->value, item;
		struct sip_contact c;
		size_t off;
		const char *why;

		while (sip_list_next(&cur, &item)) {
			if (sip_contact_parse(item, &c, &off, &why) || !c.has_expires)
				continue;
			if (dp__ipv4(c.addr.uri.host, &cip) && cip == ip &&
			    (c.addr.uri.port ? c.addr.uri.port : 5060) == port)
				return c.expires;
		}
	}
	if ((h = sip_msg_header(m, SIP_HDR_EXPIRES, 0))) {
		uint32_t v;

		if (sip_u32_parse(h->value, UINT32_MAX, &v) == 0)
			return v;
	}
	return L->line[i].req_expires;
}

/* The usable challenge we hold a HA1 for: SHA-256 over MD5 (no SHA-512-256 HA1 is kept). */
static int dp__pick_challenge(const struct sip_challenge *ch, size_t n)
{
	int best = -1;

	for (size_t k = 0; k < n; k++) {
		size_t hl = sip_digest_hex_len(ch[k].algorithm);

		if (ch[k].algorithm == SIP_DIGEST_SHA512_256 ||
		    ch[k].algorithm == SIP_DIGEST_SHA512_256_SESS || hl == 0)
			continue;
		if (sip_digest_pick(&ch[k], 1) != 0)
			continue;
		if (best < 0 || hl > sip_digest_hex_len(ch[best].algorithm))
			best = (int)k;
	}
	return best;
}

int dp_line_challenge(const struct sip_msg *m, struct sip_challenge ch[DP_CHALLENGES])
{
	bool proxy = m->status == 407;
	const struct sip_header *h;
	size_t n = 0, off;
	int pick = -1;

	for (size_t k = 0;
	     (h = sip_msg_header(m, proxy ? SIP_HDR_PROXY_AUTHENTICATE : SIP_HDR_WWW_AUTHENTICATE,
				 k)) &&
	     pick < 0;
	     k++) {
		int rc = sip_digest_challenges_parse(h->value, ch, DP_CHALLENGES, &n, &off);

		if (rc == 0 || rc == -ENOSPC)
			pick = dp__pick_challenge(ch, n);
	}
	return pick;
}

static void dp__on_challenge(struct dp_lines *L, uint32_t i, const struct sip_msg *m,
			     uint64_t now_us)
{
	struct dp_line *l = &L->line[i];
	bool proxy = m->status == 407;
	struct sip_challenge ch[DP_CHALLENGES];
	int pick = dp_line_challenge(m, ch);
	/* credentials already sent and refused without stale=true: wrong password */
	if (pick < 0 || (l->auth_sent && !ch[pick].stale)) {
		dp__fail(L, i, DP_FAIL_AUTH, m->status, L->cfg.retry_ms, now_us);
		return;
	}
	l->auth_sent = 1;
	L->io.tx_release(L->io.ctx, i);
	dp__send_register(L, i, now_us, l->state == DP_LINE_UNREGISTERING ? 0 : l->req_expires,
			  &ch[pick], proxy);
}

static void dp__on_success(struct dp_lines *L, uint32_t i, const struct sip_msg *m, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];
	const struct sip_header *h;
	uint64_t lat, refresh_ms;
	uint32_t span, ft;

	L->io.tx_release(L->io.ctx, i);
	dp__to_tag(L, i, l->state == DP_LINE_UNREGISTERING ? SIP_STR_NULL : m->to.tag);
	dp__dialog(L, i, m);
	if (l->state == DP_LINE_UNREGISTERING) {
		l->state = DP_LINE_IDLE;
		dp_wheel_cancel(&L->wheel, i);
		L->stats->unreg_ok++;
		dp__event(L, DP_EV_UNREGISTERED, i, 0, 0, 0, now_us);
		return;
	}
	l->granted = dp__granted(L, i, m);
	lat = dp__since_us(now_us, l->attempt_us) / DP_LAT_BUCKET_US;
	L->stats->lat_hist[lat < DP_LAT_BUCKETS ? lat : DP_LAT_BUCKETS - 1]++;
	L->stats->reg_ok++;
	L->stats->reg_ok_by_server[l->via]++;
	dp__set_registered(L, l, true);
	l->state = DP_LINE_REGISTERED;
	dp__event(L, DP_EV_REGISTERED, i, 0, l->granted, 0, now_us);
	if (l->unreg_after) {
		dp_line_unregister(L, i, now_us);
		return;
	}
	span = (uint32_t)(L->cfg.refresh_max_pct - L->cfg.refresh_min_pct) + 1;
	refresh_ms = (uint64_t)l->granted * 10 * (L->cfg.refresh_min_pct + dp__rand(L) % span);
	l->refresh_due_us = now_us + (refresh_ms ? refresh_ms : 1) * DP__MS;
	/* RFC 5626 §4.4.1: keep-alives at 80-100 % of the server's Flow-Timer when it gave one */
	h = sip_msg_header(m, SIP_HDR_FLOW_TIMER, 0);
	l->ka_base_s = h && sip_u32_parse(h->value, UINT16_MAX, &ft) == 0 ? (uint16_t)ft : 0;
	l->ka_sent_us = 0;
	l->ka_next_us = L->flow != DP_FLOW_SUBSCRIBE && L->cfg.keepalive &&
					(l->ka_base_s || L->cfg.ka_interval_ms)
				? now_us + dp__ka_gap_us(L, l)
				: 0;
	dp__arm_registered(L, i, now_us);
}

static bool dp__ours(const struct dp_lines *L, uint32_t i, const struct sip_msg *m)
{
	static const char hex[] = "0123456789abcdef";
	const struct dp_line *l = &L->line[i];
	char b[23] = "z9hG4bK";
	uint64_t branch;

	if (m->cseq.seq != l->cseq ||
	    !sip_str_eq(m->cseq.method, L->flow == DP_FLOW_SUBSCRIBE ? SIP_STR("SUBSCRIBE")
								     : SIP_STR("REGISTER")) ||
	    !m->via.branch.p || m->via.branch.len != sizeof(b))
		return false;
	branch = dp__branch(L, i, l->cseq);
	for (int k = 0; k < 16; k++)
		b[7 + k] = hex[(branch >> (60 - 4 * k)) & 0xf];
	return memcmp(b, m->via.branch.p, sizeof(b)) == 0;
}

void dp_lines_set_flow(struct dp_lines *L, uint8_t flow)
{
	L->flow = flow;
	sip_stun_ka_init(&L->ka_tpl, (const uint8_t[SIP_STUN_KA_HEAD_LEN]){'s', 'e', flow, 0});
}

int dp_lines_keepalive(struct dp_lines *L, uint8_t kind, uint32_t interval_ms, uint32_t timeout_ms)
{
	if (kind > DP_KA_PING || (kind != DP_KA_NONE && !interval_ms) ||
	    (kind >= DP_KA_STUN && kind != DP_KA_CRLF && !timeout_ms) ||
	    L->flow == DP_FLOW_SUBSCRIBE)
		return -EINVAL;
	L->cfg.keepalive = kind;
	L->cfg.ka_interval_ms = interval_ms;
	L->cfg.ka_timeout_ms = timeout_ms;
	return 0;
}

bool dp_line_owns(const struct dp_lines *L, uint32_t i, const struct sip_msg *m)
{
	return i < L->n && dp__ours(L, i, m);
}

void dp_line_response(struct dp_lines *L, uint32_t i, const struct sip_msg *m, uint32_t src_ip,
		      uint16_t src_port, uint64_t now_us)
{
	struct dp_line *l = &L->line[i];
	unsigned cls = m->status / 100;
	const struct sip_header *h;
	uint32_t v;

	L->stats->rx_responses[cls]++;
	if ((l->state != DP_LINE_REGISTERING && l->state != DP_LINE_UNREGISTERING) ||
	    !dp__ours(L, i, m)) {
		L->stats->sip_drops[DP_SIP_DROP_STALE]++;
		return;
	}
	if (src_ip != L->cfg.server[l->via].ip || src_port != L->cfg.server[l->via].port) {
		L->stats->sip_drops[DP_SIP_DROP_NOT_FROM_SERVER]++;
		return;
	}
	if (cls == 1) {
		l->interval_ms = L->cfg.t2_ms; /* §17.1.2.2: provisional, retransmit at T2 */
		return;
	}
	if (cls == 2)
		return dp__on_success(L, i, m, now_us);
	switch (m->status) {
	case 401:
	case 407:
		L->stats->rx_401 += m->status == 401;
		L->stats->rx_407 += m->status == 407;
		return dp__on_challenge(L, i, m, now_us);
	case 423:
		L->stats->rx_423++;
		h = sip_msg_header(m, SIP_HDR_MIN_EXPIRES, 0);
		if (h && sip_u32_parse(h->value, UINT32_MAX, &v) == 0 && v > l->req_expires &&
		    l->state == DP_LINE_REGISTERING) {
			/* RFC 3261 §10.2.8: ask again with at least Min-Expires */
			l->req_expires = v;
			l->auth_sent = 0;
			L->io.tx_release(L->io.ctx, i);
			dp__send_register(L, i, now_us, v, NULL, false);
			return;
		}
		return dp__fail(L, i, DP_FAIL_4XX, m->status, L->cfg.retry_ms, now_us);
	case 481:
		/* RFC 6665 §4.1.2.1: the notifier no longer knows the subscription. An
		 * un-SUBSCRIBE has nothing left to end; a refresh starts a new one at once. */
		if (L->to_tag && L->to_tag[i][0]) {
			dp__to_tag(L, i, SIP_STR_NULL);
			if (l->state == DP_LINE_UNREGISTERING)
				return dp__on_success(L, i, m, now_us);
			L->io.tx_release(L->io.ctx, i);
			dp__send_register(L, i, now_us, l->req_expires, NULL, false);
			return;
		}
		return dp__fail(L, i, DP_FAIL_4XX, m->status, L->cfg.retry_ms, now_us);
	case 503: {
		struct sip_retry_after ra;
		size_t off;
		const char *why;
		uint32_t delay = L->cfg.retry_ms;

		L->stats->rx_503++;
		h = sip_msg_header(m, SIP_HDR_RETRY_AFTER, 0);
		if (h && sip_retry_after_parse(h->value, &ra, &off, &why) == 0)
			delay = ra.seconds > 86400 ? 86400000u : ra.seconds * 1000u;
		return dp__fail(L, i, DP_FAIL_5XX, m->status, delay, now_us);
	}
	default:
		return dp__fail(L, i,
				cls == 4   ? DP_FAIL_4XX
				: cls == 5 ? DP_FAIL_5XX
					   : DP_FAIL_6XX,
				m->status, L->cfg.retry_ms, now_us);
	}
}

/* Whether got is prefix then s. */
static bool dp__prefixed_eq(struct sip_str got, const char *prefix, struct sip_str s)
{
	size_t n = strlen(prefix);

	return got.len == n + s.len &&
	       (!got.len || (memcmp(got.p, prefix, n) == 0 && memcmp(got.p + n, s.p, s.len) == 0));
}

bool dp_line_notify(struct dp_lines *L, uint32_t i, const struct sip_msg *m, uint64_t now_us)
{
	const struct dp_line *l = &L->line[i];
	const struct sip_header *h;
	struct sip_sub_state_hdr st;
	struct sip_line_vars v;
	char buf[128];
	size_t off;
	const char *why;
	uint32_t delay_ms = L->cfg.retry_ms;
	const char *pre = dp_flow_id_prefix(L->flow);

	if (L->flow != DP_FLOW_SUBSCRIBE || i >= L->n || l->state != DP_LINE_REGISTERED ||
	    !L->to_tag[i][0] || !(h = sip_msg_header(m, SIP_HDR_SUBSCRIPTION_STATE, 0)) ||
	    sip_sub_state_parse(h->value, &st, &off, &why) || st.state != SIP_SUB_TERMINATED)
		return false;
	/* in the dialog: our Call-ID, the notifier's tag as From, ours as To (§12.2.2) */
	dp__line_vars(L, i, &v, buf);
	if (!dp__prefixed_eq(m->call_id, pre, v.callid) || !sip_str_eq(m->from.tag, v.to_tag) ||
	    !dp__prefixed_eq(m->to.tag, pre, v.tag))
		return false;
	if (st.has_retry_after)
		delay_ms = st.retry_after > 86400 ? 86400000u : st.retry_after * 1000u;
	else if (!st.reason.len || sip_str_ieq_cstr(st.reason, "deactivated") ||
		 sip_str_ieq_cstr(st.reason, "timeout"))
		delay_ms = 0; /* "SHOULD retry immediately with a new subscription" */
	/* probation and giveup without retry-after, rejected, noresource, invariant and
	 * reasons not known: the retry timer, as for a SUBSCRIBE refused */
	dp__fail(L, i, DP_FAIL_TERMINATED, 0, delay_ms, now_us);
	return true;
}

enum dp_method_stat dp_method_stat_of(struct sip_str m)
{
	static const char *const names[] = {"REGISTER", "OPTIONS", "NOTIFY",
					    "INVITE",	"BYE",	   "ACK"};

	/* a SUBSCRIBE to a line is counted with the other methods, as ever */
	for (int k = 0; k < (int)(sizeof(names) / sizeof(names[0])); k++) {
		if (sip_str_eq(m, sip_str_cstr(names[k])))
			return (enum dp_method_stat)k;
	}
	return DP_M_OTHER;
}

/* Methods RFC 3261 and its extensions define that a phone may refuse with 405. */
static bool dp__known_method(struct sip_str m)
{
	static const char *const known[] = {"SUBSCRIBE", "REFER",   "MESSAGE", "INFO",	  "UPDATE",
					    "PRACK",	 "PUBLISH", "CANCEL",  "REGISTER"};

	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
		if (sip_str_eq(m, sip_str_cstr(known[k])))
			return true;
	}
	return false;
}

unsigned dp_phone_answer(struct sip_str method)
{
	switch (dp_method_stat_of(method)) {
	case DP_M_OPTIONS:
	case DP_M_NOTIFY:
	case DP_M_BYE:
		return 200;
	case DP_M_INVITE:
		return 486; /* busy: the default of a line that takes no calls */
	default:
		return dp__known_method(method) ? 405 : 501;
	}
}
