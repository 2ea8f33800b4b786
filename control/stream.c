/*
 * Lines over TCP and TLS (control/stream.h): the dataplane's registration client driven
 * by a libuv timer, each line's flow on a connection of its own.
 */
#include "control/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "dataplane/call.h"
#include "dataplane/lineset.h"
#include "sip/builder.h"
#include "sip/response.h"

#define CTL__TICK_MS 5
#define CTL__WHEEL_SLOTS 65536
#define CTL__EVQ 65536 /* events waiting for control's tick; a power of two */
#define CTL__RBUF_MIN 4096
#define CTL__RBUF_MAX (SIP_STREAM_MAX + 4096)
#define CTL__HDRS 64
#define CTL__PROBE_LINE UINT32_MAX

enum ctl__conn_state { CTL__C_CONNECTING = 1, CTL__C_HANDSHAKE, CTL__C_UP, CTL__C_CLOSING };

struct ctl__flow;

struct ctl__conn {
	uv_tcp_t tcp;
	uv_connect_t req;
	struct ctl__flow *f;
	struct ctl_stream *s;
	uint32_t line; /* index, or CTL__PROBE_LINE */
	uint32_t call; /* a call's connection: its slot + 1; 0: the line's flow's */
	uint8_t slot;  /* the server it is connected to, at that address: */
	uint8_t state;
	uint32_t ip; /* host order; a DNS change of the slot's address ends the connection */
	uint16_t port;
	SSL *ssl;
	BIO *rbio; /* TLS: what came off the network for OpenSSL to read */
	BIO *wbio; /* TLS: what OpenSSL wrote for the network */
	char *rbuf;
	uint32_t rlen;
	uint32_t rcap;
	char *pending; /* a call's request made while connecting: sent once it is up */
	uint32_t pending_len;
};

struct ctl__flow {
	struct ctl_stream *s;
	bool on;
	struct dp_lines L;
	struct ctl__conn **conn; /* per line, NULL: none */
	uint8_t *held;		 /* per line: a request out (the in_flight gauge) */
	uint32_t *slots;
	struct dp_wheel_link *links;
	char (*hostport)[DP_HOSTPORT_MAX + 1];
	/* lines whose request could not go out (no connection could be made, a write
	 * failed): told at the next tick, never from inside the client's own call */
	uint32_t *lost;
	uint32_t nlost;
	uint8_t *lost_queued;
	struct dp_stats stats;
};

struct ctl__probe {
	struct ctl__conn *conn;
	uint64_t deadline_us;
	uint32_t cseq;
	bool out;
};

struct ctl_stream {
	uv_loop_t *loop;
	uv_timer_t timer;
	struct dp_lineset ls;
	struct ctl__flow fl[DP_FLOW__COUNT];
	int transport;
	SSL_CTX *tls;
	bool tls_verify;
	const char *(*tls_name)(void *ctx, unsigned slot);
	void *tls_name_ctx;
	uint32_t source_ip;
	uint64_t seed;
	char tx[4096];
	struct dp_msg *evq;
	uint32_t ev_head, ev_tail;
	uint32_t start_next, unreg_next;
	bool unreg_all;
	uint64_t ramp_step_us, start_due_us, unreg_due_us;
	struct ctl__probe probe[DP_MAX_SERVERS];
	struct dp_calls calls;	      /* the lines' calls, when on: each on a connection */
	struct ctl__conn **call_conn; /* per call slot, NULL: none */
	struct ctl__conn *rx_conn;    /* the connection a message being handled came over */
	unsigned handles;	      /* the timer and connections not yet closed */
	bool destroyed;
	char desc[96];
};

static uint64_t ctl__now_us(void)
{
	return uv_hrtime() / 1000;
}

static void ctl__ev_put(struct ctl_stream *s, struct dp_stats *st, const struct dp_msg *m)
{
	if (s->ev_head - s->ev_tail == CTL__EVQ) {
		st->events_lost++;
		return;
	}
	s->evq[s->ev_head++ & (CTL__EVQ - 1)] = *m;
}

/* --- connections --- */

static void ctl__flows_free(struct ctl_stream *s);

/* A handle of s closed: the last one after ctl_stream_destroy() takes s with it. */
static void ctl__handle_gone(struct ctl_stream *s)
{
	if (--s->handles || !s->destroyed)
		return;
	ctl__flows_free(s);
	dp_lineset_free(&s->ls);
	SSL_CTX_free(s->tls);
	free(s->evq);
	free(s);
}

static void ctl__conn_free(uv_handle_t *h)
{
	struct ctl__conn *c = h->data;
	struct ctl_stream *s = c->s;

	if (c->ssl)
		SSL_free(c->ssl); /* frees both BIOs */
	free(c->rbuf);
	free(c->pending);
	free(c);
	ctl__handle_gone(s);
}

/* Forget the connection (its line has none any more) and close it. */
static void ctl__conn_close(struct ctl__conn *c)
{
	if (c->state == CTL__C_CLOSING)
		return;
	if (c->line == CTL__PROBE_LINE)
		c->s->probe[c->slot].conn = NULL;
	else if (c->call) {
		if (c->s->call_conn[c->call - 1] == c)
			c->s->call_conn[c->call - 1] = NULL;
	} else if (c->f->conn[c->line] == c)
		c->f->conn[c->line] = NULL;
	c->state = CTL__C_CLOSING;
	uv_close((uv_handle_t *)&c->tcp, ctl__conn_free);
}

static void ctl__probe_event(struct ctl_stream *s, unsigned slot, enum dp_fail_reason why,
			     uint32_t status)
{
	struct dp_msg m = {.type = DP_EV_PROBE,
			   .reason = why,
			   .value = status,
			   .target = DP_TARGET(slot, 0, slot),
			   .t_us = ctl__now_us()};

	s->probe[slot].out = false;
	if (why == DP_FAIL_NONE)
		s->fl[0].stats.probes_answered++;
	ctl__ev_put(s, &s->fl[0].stats, &m);
	if (s->probe[slot].conn)
		ctl__conn_close(s->probe[slot].conn);
}

/* The connection is gone: its line's transaction or flow has failed. */
static void ctl__conn_lost(struct ctl__conn *c, bool connected)
{
	struct ctl_stream *s = c->s;
	uint32_t line = c->line;
	struct ctl__flow *f = c->f;

	if (c->state == CTL__C_CLOSING)
		return;
	if (connected)
		f->stats.conn_lost++;
	else
		f->stats.conn_failed++;
	ctl__conn_close(c);
	if (line == CTL__PROBE_LINE) {
		if (s->probe[c->slot].out)
			ctl__probe_event(s, c->slot, DP_FAIL_TRANSPORT, 0);
		return;
	}
	if (c->call)
		return dp_calls_transport_lost(&s->calls, c->call - 1, ctl__now_us());
	dp_line_transport_lost(&f->L, line, ctl__now_us());
}

struct ctl__write {
	uv_write_t req;
	char data[];
};

static void ctl__written(uv_write_t *req, int status)
{
	(void)status; /* a failed write shows as a read error or EOF */
	free(req);
}

/* Octets onto the socket: a copy goes with the write request, so buf may be reused. */
static int ctl__sock_write(struct ctl__conn *c, const char *buf, size_t len)
{
	struct ctl__write *w;
	uv_buf_t b;
	int n = uv_try_write((uv_stream_t *)&c->tcp, &(uv_buf_t){.base = (char *)buf, .len = len},
			     1);

	if (n == (int)len)
		return 0;
	if (n < 0 && n != UV_EAGAIN)
		return n;
	if (n < 0)
		n = 0;
	w = malloc(sizeof(*w) + len - (size_t)n);
	if (!w)
		return UV_ENOMEM;
	memcpy(w->data, buf + n, len - (size_t)n);
	b = uv_buf_init(w->data, (unsigned)(len - (size_t)n));
	if ((n = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, ctl__written)) != 0)
		free(w);
	return n;
}

/* TLS: send what OpenSSL has written for the network. */
static int ctl__tls_flush(struct ctl__conn *c)
{
	char buf[4096];
	int n, rc = 0;

	while (rc == 0 && (n = BIO_read(c->wbio, buf, sizeof(buf))) > 0)
		rc = ctl__sock_write(c, buf, (size_t)n);
	return rc;
}

static int ctl__send(struct ctl__conn *c, const char *buf, size_t len)
{
	if (!c->ssl)
		return ctl__sock_write(c, buf, len);
	ERR_clear_error(); /* SSL_get_error reads the thread's queue: only this call's */
	if (SSL_write(c->ssl, buf, (int)len) != (int)len) {
		c->f->stats.tls_failures++;
		ERR_clear_error();
		return UV_EPROTO;
	}
	return ctl__tls_flush(c);
}

/* A request to one of the line's flows: what a phone answers (dataplane/line.h). */
static void ctl__answer(struct ctl__conn *c, const struct sip_msg *req)
{
	static const struct sip_str allow = SIP_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY");
	struct dp_stats *st = &c->s->fl[DP_FLOW_REGISTER].stats; /* as a worker counts them */
	enum dp_method_stat ms = dp_method_stat_of(req->method);
	char tag[20], out[2048];
	struct sip_response_opts o = {.allow = allow, .server = SIP_STR("sipedge")};
	ssize_t n;

	st->rx_requests[ms]++;
	if (ms == DP_M_ACK)
		return;
	snprintf(tag, sizeof(tag), "se%x", c->line);
	o.to_tag = sip_str_cstr(tag);
	o.status = (uint16_t)dp_phone_answer(req->method);
	n = sip_build_response(req, &o, out, sizeof(out));
	if (n < 0) {
		st->sip_drops[DP_SIP_DROP_NO_BUFFER]++;
		return;
	}
	st->tx_responses[o.status / 100]++;
	if (ctl__send(c, out, (size_t)n) != 0)
		ctl__conn_lost(c, true);
	/* a notifier that ends the subscription: the line subscribes anew (RFC 6665 §4.1.3) */
	if (ms == DP_M_NOTIFY && c->s->fl[DP_FLOW_SUBSCRIBE].on &&
	    c->line < c->s->fl[DP_FLOW_SUBSCRIBE].L.n)
		dp_line_notify(&c->s->fl[DP_FLOW_SUBSCRIBE].L, c->line, req, ctl__now_us());
	/* the other side hung up: after the answer, as the call's end closes its connection */
	if (ms == DP_M_BYE && c->s->calls.on)
		dp_calls_remote_bye(&c->s->calls, c->line, req);
}

/* One message (or keep-alive) off the connection; false when the connection went. */
static bool ctl__message(struct ctl__conn *c, const struct sip_msg *m)
{
	struct ctl_stream *s = c->s;
	const struct dp_server_addr *sv;
	uint64_t now = ctl__now_us();

	if (m->keepalive) {
		/* RFC 5626 §4.4.1: a pong is one CRLF, a ping two; a run may hold both. The pong
		 * we wait for is taken first; each ping left gets a pong. */
		uint32_t pairs = (uint32_t)m->len / 2;

		if (pairs && c->line != CTL__PROBE_LINE && !c->call &&
		    c->f->L.line[c->line].state == DP_LINE_REGISTERED &&
		    c->f->L.line[c->line].ka_sent_us) {
			dp_line_pong(&c->f->L, c->line, now);
			pairs--;
		}
		for (; pairs >= 2; pairs -= 2) {
			if (ctl__send(c, "\r\n", 2) != 0)
				return ctl__conn_lost(c, true), false;
		}
		return true;
	}
	if (!m->status) {
		if (c->line == CTL__PROBE_LINE)
			return true;
		ctl__answer(c, m);
		return c->state != CTL__C_CLOSING;
	}
	if (c->call) {
		/* an answer to one of the line's calls (or to a request of a call gone) */
		sv = &c->f->L.cfg.server[c->slot];
		s->rx_conn = c;
		if (!dp_calls_response(&s->calls, c->line, m, sv->ip, sv->port, now))
			c->f->stats.sip_drops[DP_SIP_DROP_STALE]++;
		s->rx_conn = NULL;
		return c->state != CTL__C_CLOSING;
	}
	if (c->line == CTL__PROBE_LINE) {
		if (s->probe[c->slot].out && m->status >= 200 &&
		    sip_str_eq(m->cseq.method, SIP_STR("OPTIONS")) &&
		    m->cseq.seq == s->probe[c->slot].cseq)
			ctl__probe_event(s, c->slot, DP_FAIL_NONE, m->status);
		return true;
	}
	/* the answer came over the line's connection to this server: it is the server's */
	sv = &c->f->L.cfg.server[c->slot];
	dp_line_response(&c->f->L, c->line, m, sv->ip, sv->port, now);
	return true;
}

/* Plain text in c->rbuf: take every whole message off its front. */
static void ctl__parse(struct ctl__conn *c)
{
	struct sip_header hdrs[CTL__HDRS];
	struct sip_msg m;
	struct sip_parse_error pe;
	uint32_t off = 0;

	while (off < c->rlen) {
		long n = sip_parse(c->rbuf + off, c->rlen - off, SIP_FRAMING_STREAM, &m, hdrs,
				   CTL__HDRS, &pe);

		if (n == -EAGAIN)
			break;
		if (n < 0) {
			/* the framing is lost with the message: the connection cannot go on */
			c->f->stats.sip_drops[DP_SIP_DROP_PARSE]++;
			ctl__conn_lost(c, true);
			return;
		}
		if (!m.keepalive)
			c->f->stats.rx_frames++;
		if (!ctl__message(c, &m) || c->state == CTL__C_CLOSING)
			return; /* the line's flow ended with this message: the rest is moot */
		off += (uint32_t)n;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

/* Room for n more octets in c->rbuf, growing it up to the largest message a stream may
 * carry; false when a message would be larger. */
static bool ctl__rbuf_room(struct ctl__conn *c, uint32_t n)
{
	uint32_t cap = c->rcap ? c->rcap : CTL__RBUF_MIN;
	char *p;

	while (cap - c->rlen < n && cap < CTL__RBUF_MAX)
		cap *= 2;
	if (cap - c->rlen < n)
		return false;
	if (cap == c->rcap)
		return true;
	if (!(p = realloc(c->rbuf, cap)))
		return false;
	c->rbuf = p;
	c->rcap = cap;
	return true;
}

static void ctl__alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char scratch[16384]; /* one loop thread: one read at a time */

	(void)h;
	(void)hint;
	*buf = uv_buf_init(scratch, sizeof(scratch));
}

static void ctl__send_pending(struct ctl__conn *c);

/* TLS: the handshake is done when SSL_do_handshake says so; then the line sends. */
static bool ctl__tls_progress(struct ctl__conn *c)
{
	int rc;

	ERR_clear_error();
	rc = SSL_do_handshake(c->ssl);

	if (ctl__tls_flush(c) != 0)
		return ctl__conn_lost(c, false), false;
	if (rc == 1) {
		c->state = CTL__C_UP;
		ctl__send_pending(c);
		return c->state == CTL__C_UP;
	}
	if (SSL_get_error(c->ssl, rc) == SSL_ERROR_WANT_READ)
		return true;
	c->f->stats.tls_failures++;
	ERR_clear_error();
	ctl__conn_lost(c, false);
	return false;
}

static void ctl__read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct ctl__conn *c = st->data;

	if (nread == 0 || c->state == CTL__C_CLOSING)
		return;
	if (nread < 0)
		return ctl__conn_lost(c, c->state == CTL__C_UP);
	if (!c->ssl) {
		if (!ctl__rbuf_room(c, (uint32_t)nread)) {
			c->f->stats.sip_drops[DP_SIP_DROP_PARSE]++; /* a message past 64 KB */
			return ctl__conn_lost(c, true);
		}
		memcpy(c->rbuf + c->rlen, buf->base, (size_t)nread);
		c->rlen += (uint32_t)nread;
		return ctl__parse(c);
	}
	BIO_write(c->rbio, buf->base, (int)nread);
	if (c->state == CTL__C_HANDSHAKE && !ctl__tls_progress(c))
		return;
	for (;;) {
		int n;

		if (!ctl__rbuf_room(c, 4096)) {
			c->f->stats.sip_drops[DP_SIP_DROP_PARSE]++;
			return ctl__conn_lost(c, true);
		}
		ERR_clear_error();
		n = SSL_read(c->ssl, c->rbuf + c->rlen, 4096);
		if (n <= 0) {
			int e = SSL_get_error(c->ssl, n);

			if (e == SSL_ERROR_WANT_READ)
				break;
			if (e != SSL_ERROR_ZERO_RETURN) /* close_notify is a clean close */
				c->f->stats.tls_failures++;
			ERR_clear_error();
			return ctl__conn_lost(c, true);
		}
		c->rlen += (uint32_t)n;
	}
	/* what OpenSSL wrote while reading (a key update, the handshake's end) goes now */
	if (ctl__tls_flush(c) != 0)
		return ctl__conn_lost(c, true);
	ctl__parse(c);
}

/* The probe's OPTIONS: rare, so formatted here. */
static void ctl__probe_send(struct ctl__conn *c)
{
	struct ctl_stream *s = c->s;
	const struct dp_server_addr *to = &s->fl[0].L.cfg.server[c->slot];
	static const char *const tp[] = {"UDP", "TCP", "TLS"};
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char src[32] = "0.0.0.0:0", dst[24];
	int n;

	if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
		char ip[16];

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(src, sizeof(src), "%s:%u", ip, ntohs(a->sin_port));
	}
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u:%u", to->ip >> 24, (to->ip >> 16) & 255,
		 (to->ip >> 8) & 255, to->ip & 255, to->port);
	n = snprintf(s->tx, sizeof(s->tx),
		     "OPTIONS sip:%s;transport=%s SIP/2.0\r\n"
		     "Via: SIP/2.0/%s %s;branch=z9hG4bKps%08x%08x;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:probe@%s>;tag=ps%x\r\n"
		     "To: <sip:%s>\r\n"
		     "Call-ID: probe%u-%llx@%s\r\n"
		     "CSeq: %u OPTIONS\r\n"
		     "Accept: application/sdp\r\n"
		     "Content-Length: 0\r\n\r\n",
		     dst, s->transport == SIP_TPL_TLS ? "tls" : "tcp", tp[s->transport], src,
		     c->slot, s->probe[c->slot].cseq, src, c->slot, dst, c->slot,
		     (unsigned long long)s->seed, src, s->probe[c->slot].cseq);
	s->fl[0].stats.tx_probes++;
	if (ctl__send(c, s->tx, (size_t)n) != 0)
		ctl__conn_lost(c, true);
}

/* The connection is up: the line's request (built anew, with the connection's own
 * address in Via and Contact), or the probe's OPTIONS. */
static void ctl__send_pending(struct ctl__conn *c)
{
	struct ctl__flow *f = c->f;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	if (c->line == CTL__PROBE_LINE)
		return ctl__probe_send(c);
	if (c->call) {
		if (c->pending_len && ctl__send(c, c->pending, c->pending_len) != 0)
			return ctl__conn_lost(c, true);
		free(c->pending);
		c->pending = NULL;
		c->pending_len = 0;
		return;
	}
	if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		/*
		 * The connection's own address with the line's own port of the range: a line
		 * keeps one Contact over all its connections (as a phone advertises its
		 * listening port, not an ephemeral one), so a registration from a new
		 * connection replaces the binding an old one left behind (RFC 3261 §10.3)
		 * instead of adding one beside it. The registrar reaches the line over the
		 * connection, not at that port. All connections share the kernel's source
		 * address, so the port is the line's own, first port + line id, not the
		 * port of its place in the range (40 lines shared each): a proxy takes the
		 * Via's port as the connection's alias (RFC 5923), and a NOTIFY to one
		 * line went over another's connection. Unique for 60,476 lines from port
		 * 5060, and below the kernel's ephemeral ports for 27,708 of them.
		 */
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
		char ip[16], t[32], *hp = f->hostport[c->line];
		uint16_t lport = (uint16_t)(f->L.first_port +
					    (f->L.first_id + c->line) % (65536u - f->L.first_port));
		int n;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		n = snprintf(t, sizeof(t), "%s:%u", ip, lport);
		if (n > 0 && n <= DP_HOSTPORT_MAX) {
			memcpy(hp + 1, t, (size_t)n);
			hp[0] = (char)n;
		}
	}
	dp_line_resend(&f->L, c->line, ctl__now_us());
}

static void ctl__connected(uv_connect_t *req, int status)
{
	struct ctl__conn *c = req->data;

	if (c->state == CTL__C_CLOSING)
		return;
	if (status < 0)
		return ctl__conn_lost(c, false);
	c->f->stats.conn_opened++;
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_read_start((uv_stream_t *)&c->tcp, ctl__alloc, ctl__read) != 0)
		return ctl__conn_lost(c, false);
	if (!c->ssl) {
		c->state = CTL__C_UP;
		return ctl__send_pending(c);
	}
	c->state = CTL__C_HANDSHAKE;
	ctl__tls_progress(c);
}

/* A new connection for line (or a probe) to server slot; NULL when none can be made
 * (counted as a failed connection; the caller fails what it wanted to send). */
static struct ctl__conn *ctl__conn_open(struct ctl__flow *f, uint32_t line, unsigned slot)
{
	struct ctl_stream *s = f->s;
	const struct dp_server_addr *sv = &f->L.cfg.server[slot];
	struct ctl__conn *c = calloc(1, sizeof(*c));
	const char *name;
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(sv->port),
				 .sin_addr.s_addr = htonl(sv->ip)};

	if (!c)
		return NULL;
	c->f = f;
	c->s = s;
	c->line = line;
	c->slot = (uint8_t)slot;
	c->state = CTL__C_CONNECTING;
	c->ip = sv->ip;
	c->port = sv->port;
	uv_tcp_init_ex(s->loop, &c->tcp, AF_INET);
	c->tcp.data = c;
	c->req.data = c;
	s->handles++;
	if (s->tls) {
		c->ssl = SSL_new(s->tls);
		c->rbio = BIO_new(BIO_s_mem());
		c->wbio = BIO_new(BIO_s_mem());
		if (!c->ssl || !c->rbio || !c->wbio) {
			BIO_free(c->rbio);
			BIO_free(c->wbio);
			goto fail;
		}
		SSL_set_bio(c->ssl, c->rbio, c->wbio);
		SSL_set_connect_state(c->ssl);
		if (s->tls_name && (name = s->tls_name(s->tls_name_ctx, slot)) && name[0]) {
			/* a server found through DNS: its certificate must name the domain asked
			 * for, not an address DNS gave (RFC 5922 §7.2); SNI names it too */
			SSL_set_tlsext_host_name(c->ssl, name);
			if (s->tls_verify && !SSL_set1_host(c->ssl, name))
				goto fail;
		} else if (s->tls_verify) { /* the certificate must name the address we dialled */
			uint32_t a = htonl(sv->ip);

			X509_VERIFY_PARAM_set1_ip(SSL_get0_param(c->ssl), (const unsigned char *)&a,
						  4);
		}
	}
	if (s->source_ip) {
		struct sockaddr_in from = {.sin_family = AF_INET,
					   .sin_addr.s_addr = htonl(s->source_ip)};
		uv_os_fd_t fd;
		int one = 1;

		/* the port is picked at connect, per destination: one source address then
		 * serves more than the ephemeral range's 28,000 connections */
		if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (uv_tcp_bind(&c->tcp, (const struct sockaddr *)&from, 0) != 0)
			goto fail;
	}
	if (uv_tcp_connect(&c->req, &c->tcp, (const struct sockaddr *)&to, ctl__connected) != 0)
		goto fail;
	return c;
fail:
	f->stats.conn_failed++;
	c->state = CTL__C_CONNECTING;
	ctl__conn_close(c);
	return NULL;
}

/* --- the registration client's io over connections --- */

/* Line id's request cannot go out: it fails as a transport error at the next tick. */
static void ctl__lost_later(struct ctl__flow *f, uint32_t id)
{
	if (f->lost_queued[id])
		return;
	f->lost_queued[id] = 1;
	f->lost[f->nlost++] = id; /* at most one entry per line: room for all */
}

static void ctl__lost_now(struct ctl__flow *f, uint64_t now)
{
	while (f->nlost) {
		uint32_t id = f->lost[--f->nlost];

		f->lost_queued[id] = 0;
		dp_line_transport_lost(&f->L, id, now);
	}
}

static char *ctl__io_alloc(void *ctx, size_t *cap)
{
	struct ctl__flow *f = ctx;

	*cap = sizeof(f->s->tx);
	return f->s->tx;
}

static void ctl__io_send(void *ctx, uint32_t id, size_t len, bool keep, uint32_t sum)
{
	struct ctl__flow *f = ctx;
	struct ctl__conn *c = f->conn[id];
	unsigned via = f->L.line[id].via;

	(void)sum; /* a stream has no UDP checksum to take it */
	if (keep && !f->held[id]) {
		f->held[id] = 1;
		f->stats.in_flight++;
	}
	if (c && (c->slot != via || c->ip != f->L.cfg.server[via].ip ||
		  c->port != f->L.cfg.server[via].port)) {
		/* the line moved, or DNS moved its server: its flow to the old one ends */
		ctl__conn_close(c);
		c = NULL;
	}
	if (c && c->state == CTL__C_UP) {
		f->stats.tx_frames++;
		if (ctl__send(c, f->s->tx, len) != 0) {
			f->stats.conn_lost++;
			ctl__conn_close(c);
			ctl__lost_later(f, id);
		}
		return;
	}
	if (c)
		return; /* connecting: the request is built anew once it is up */
	if (!keep)
		return; /* a keep-alive of a flow that has no connection: the flow has failed */
	f->hostport[id][0] = 0;
	if (!(f->conn[id] = ctl__conn_open(f, id, via)))
		ctl__lost_later(f, id);
}

static void ctl__io_abort(void *ctx)
{
	(void)ctx;
}

static void ctl__io_resend(void *ctx, uint32_t id)
{
	/* reliable transports do not retransmit (RFC 3261 §17.1.2.2); the line's cfg says
	 * reliable, so this is not called */
	(void)ctx;
	(void)id;
}

static void ctl__io_release(void *ctx, uint32_t id)
{
	struct ctl__flow *f = ctx;

	if (f->held[id]) {
		f->held[id] = 0;
		f->stats.in_flight--;
	}
}

static void ctl__io_event(void *ctx, const struct dp_msg *m)
{
	struct ctl__flow *f = ctx;

	/* a flow that failed keeps no connection: a silent one may be half-dead (a partition
	 * leaves both ends open), so the next request opens a new one (RFC 5626 §4.4: a
	 * failed flow is replaced, not reused). One that ended well (un-registered) keeps
	 * it: a line changing its AOR registers again at once over it; a line moving to
	 * another server leaves it at its next send */
	if (m->type == DP_EV_FAILED || m->type == DP_EV_FLOW_FAILED) {
		if (f->conn[m->line])
			ctl__conn_close(f->conn[m->line]);
	}
	ctl__ev_put(f->s, &f->stats, m);
}

/* --- the calls' io: a connection per call, to its next hop --- */

/* The server slot at ip:port (the first, as the lines' own targets come first). */
static int ctl__slot_at(const struct ctl__flow *f, uint32_t ip, uint16_t port)
{
	for (int k = 0; k < DP_MAX_SERVERS; k++) {
		if (f->L.cfg.server[k].ip == ip && f->L.cfg.server[k].port == port)
			return k;
	}
	return -1;
}

static bool ctl__call_send(void *ctx, uint32_t k, uint32_t i, uint32_t ip, uint16_t port,
			   const char *text, size_t n, bool keep)
{
	struct ctl_stream *s = ctx;
	struct ctl__flow *f = &s->fl[DP_FLOW_REGISTER];
	struct ctl__conn *c;
	int slot;

	(void)keep; /* a connection does not lose it: nothing is sent again */
	if (k == DP_CALL_NONE) {
		/* an ACK or BYE no call keeps: over the connection its response came by */
		c = s->rx_conn;
		if (!c || c->state != CTL__C_UP || c->line != i)
			return false;
	} else {
		c = s->call_conn[k];
		if (c && (c->ip != ip || c->port != port)) {
			ctl__conn_close(c); /* DNS moved the next hop */
			c = NULL;
		}
		if (!c) {
			if ((slot = ctl__slot_at(f, ip, port)) < 0 ||
			    !(c = ctl__conn_open(f, i, (unsigned)slot)))
				return false;
			c->call = k + 1;
			s->call_conn[k] = c;
		}
	}
	if (c->state != CTL__C_UP) {
		char *p = realloc(c->pending, n);

		if (!p)
			return false;
		memcpy(p, text, n);
		c->pending = p;
		c->pending_len = (uint32_t)n;
		return true;
	}
	f->stats.tx_frames++;
	if (ctl__send(c, text, n) != 0) {
		f->stats.conn_lost++;
		ctl__conn_close(c);
		return false;
	}
	return true;
}

static void ctl__call_noop(void *ctx, uint32_t k)
{
	(void)ctx;
	(void)k;
}

/* Call k is over: so is its connection. */
static void ctl__call_end(void *ctx, uint32_t k)
{
	struct ctl_stream *s = ctx;

	if (s->call_conn[k])
		ctl__conn_close(s->call_conn[k]);
}

static void ctl__call_event(void *ctx, const struct dp_msg *m)
{
	struct ctl_stream *s = ctx;

	ctl__ev_put(s, &s->fl[DP_FLOW_REGISTER].stats, m);
}

static int ctl__calls_init(struct ctl_stream *s, const struct dp_config *c)
{
	struct dp_call_io io = {.ctx = s,
				.send = ctl__call_send,
				.resend = ctl__call_noop,
				.release = ctl__call_noop,
				.end = ctl__call_end,
				.event = ctl__call_event};
	uint32_t max = c->call_max ? c->call_max : 4096;
	int rc;

	if (!(s->call_conn = calloc(max, sizeof(*s->call_conn))))
		return -ENOMEM;
	if ((rc = dp_calls_init(&s->calls, max, &s->fl[DP_FLOW_REGISTER].L, c->call_to, &io,
				ctl__now_us() / 1000)) != 0)
		return rc;
	s->calls.reliable = true;
	s->calls.transport = s->transport;
	return 0;
}

/* --- the loop: timers, ramps, probes --- */

static void ctl__ramps(struct ctl_stream *s, uint64_t now)
{
	struct ctl__flow *reg = &s->fl[DP_FLOW_REGISTER], *reg2 = &s->fl[DP_FLOW_REGISTER2];
	struct ctl__flow *sub = &s->fl[DP_FLOW_SUBSCRIBE];
	uint32_t n = reg->L.n;

	while (s->start_next < n && now >= s->start_due_us) {
		if (reg2->on) /* the second outbound flow starts with the first */
			dp_line_start(&reg2->L, s->start_next, now);
		dp_line_start(&reg->L, s->start_next++, now);
		s->start_due_us += s->ramp_step_us;
	}
	if (s->start_next >= n && s->start_due_us < now)
		s->start_due_us = now;
	while (s->unreg_all && s->unreg_next < n && now >= s->unreg_due_us) {
		uint32_t i = s->unreg_next++;

		if (reg->L.line[i].state == DP_LINE_IDLE &&
		    (!sub->on || sub->L.line[i].state == DP_LINE_IDLE) &&
		    (!reg2->on || reg2->L.line[i].state == DP_LINE_IDLE))
			continue; /* holds no binding: not worth the rate */
		if (sub->on)
			dp_line_unregister(&sub->L, i, now);
		if (reg2->on)
			dp_line_unregister(&reg2->L, i, now);
		dp_line_unregister(&reg->L, i, now);
		s->unreg_due_us += s->ramp_step_us;
	}
	reg->stats.unreg_pending = s->unreg_all ? n - s->unreg_next : 0;
	sub->stats.unreg_pending = sub->on ? reg->stats.unreg_pending : 0;
	reg2->stats.unreg_pending = reg2->on ? reg->stats.unreg_pending : 0;
}

static void ctl__tick(uv_timer_t *t)
{
	struct ctl_stream *s = t->data;
	uint64_t now = ctl__now_us();
	uint32_t due[256];
	size_t n;

	ctl__ramps(s, now);
	for (int k = 0; k < DP_FLOW__COUNT; k++) {
		struct ctl__flow *f = &s->fl[k];

		if (!f->on)
			continue;
		ctl__lost_now(f, now);
		while ((n = dp_wheel_expire(&f->L.wheel, now / 1000, due, 256)) > 0) {
			for (size_t j = 0; j < n; j++)
				dp_line_timer(&f->L, due[j], now);
		}
	}
	for (unsigned k = 0; k < DP_MAX_SERVERS; k++) {
		if (s->probe[k].out && now >= s->probe[k].deadline_us)
			ctl__probe_event(s, k, DP_FAIL_TIMEOUT, 0);
	}
	/* a poll does a burst: a tick may owe several */
	for (int k = 0; s->calls.on && k < 16 && dp_calls_poll(&s->calls, now); k++)
		;
}

static int ctl__probe_start(struct ctl_stream *s, unsigned slot, uint32_t timeout_ms)
{
	struct ctl__probe *p = &s->probe[slot];
	struct ctl__flow *f = &s->fl[DP_FLOW_REGISTER];

	if (slot >= DP_MAX_SERVERS || !f->L.cfg.server[slot].port || !timeout_ms)
		return -EINVAL;
	if (p->conn) /* one probe at a time: a new one starts on a new connection */
		ctl__conn_close(p->conn);
	p->cseq++;
	p->out = true;
	p->deadline_us = ctl__now_us() + timeout_ms * 1000ull;
	p->conn = ctl__conn_open(f, CTL__PROBE_LINE, slot);
	return 0;
}

static struct ctl__flow *ctl__flow_of(struct ctl_stream *s, unsigned flow)
{
	return flow < DP_FLOW__COUNT && s->fl[flow].on ? &s->fl[flow] : NULL;
}

int ctl_stream_command(struct ctl_stream *s, const struct dp_msg *cmd)
{
	struct ctl__flow *f = ctl__flow_of(s, cmd->flow);
	uint64_t now = ctl__now_us();
	bool line_ok = f && cmd->line < f->L.n;
	int rc = 0;

	switch (cmd->type) {
	case DP_CMD_REGISTER:
		if (!line_ok)
			rc = -EINVAL;
		else
			dp_line_register(&f->L, cmd->line, cmd->target & DP_TARGET_SET,
					 cmd->target & ~DP_TARGET_SET, (uint64_t)cmd->value * 1000,
					 now);
		break;
	case DP_CMD_UNREGISTER:
		if (!line_ok)
			rc = -EINVAL;
		else
			dp_line_unregister(&f->L, cmd->line, now);
		break;
	case DP_CMD_PROBE:
		rc = ctl__probe_start(s, DP_TARGET_VIA(cmd->target), cmd->value);
		break;
	case DP_CMD_SERVER:
		if (DP_TARGET_VIA(cmd->target) >= DP_MAX_SERVERS || !cmd->value2 ||
		    cmd->value2 > 65535) {
			rc = -EINVAL;
			break;
		}
		for (int k = 0; k < DP_FLOW__COUNT; k++)
			s->fl[k].L.cfg.server[DP_TARGET_VIA(cmd->target)] =
				(struct dp_server_addr){cmd->value, (uint16_t)cmd->value2};
		/* connections to the old address end at their line's next send; a probe's
		 * ends now, and its probe times out (the next one dials the new address) */
		if (s->probe[DP_TARGET_VIA(cmd->target)].conn)
			ctl__conn_close(s->probe[DP_TARGET_VIA(cmd->target)].conn);
		break;
	case DP_CMD_KEEPALIVE:
		/* over a connection a keep-alive is a ping whose pong is awaited */
		rc = f ? dp_lines_keepalive(&f->L, cmd->reason ? DP_KA_PING : DP_KA_NONE,
					    cmd->value, cmd->value2)
		       : -EINVAL;
		break;
	case DP_CMD_CALLS:
		if (s->calls.on)
			dp_calls_set(&s->calls, cmd->value, cmd->value2, cmd->target, now);
		else
			rc = -EINVAL;
		break;
	case DP_CMD_UNREGISTER_ALL:
		if (s->calls.on)
			dp_calls_stop(&s->calls, now);
		s->start_next = s->fl[0].L.n;
		s->unreg_all = true;
		s->unreg_next = 0;
		s->unreg_due_us = now;
		break;
	default:
		rc = -EINVAL;
	}
	if (rc)
		s->fl[0].stats.bad_commands++;
	return rc;
}

unsigned ctl_stream_events(struct ctl_stream *s, struct dp_msg *out, unsigned max)
{
	unsigned n = 0;

	while (n < max && s->ev_tail != s->ev_head)
		out[n++] = s->evq[s->ev_tail++ & (CTL__EVQ - 1)];
	return n;
}

void ctl_stream_stats(const struct ctl_stream *s, int flow, struct dp_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (flow >= 0 && flow < DP_FLOW__COUNT && s->fl[flow].on)
		*out = s->fl[flow].stats;
}

const char *ctl_stream_desc(const struct ctl_stream *s)
{
	return s->desc;
}

/* --- set-up --- */

static int ctl__fail(char *err, size_t errlen, int rc, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return rc;
}

/* A descriptor per connection: up to three flows per line, and a few for the rest, with
 * room for up to 1,024 calls at once (more, when the limit allows; a call that finds no
 * descriptor is counted as not placed). */
static int ctl__fd_room(const struct dp_config *c, char *err, size_t errlen)
{
	uint32_t calls = c->call_to ? (c->call_max ? c->call_max : 4096) : 0;
	uint64_t need = (uint64_t)c->lines * (1 + c->subscribe + c->reg2) + 256 +
			(calls < 1024 ? calls : 1024);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < need) {
		struct rlimit more = {need, rl.rlim_max > need ? rl.rlim_max : need};

		/* root may raise the hard limit too (up to fs.nr_open) */
		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			rl = more;
		else if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (rl.rlim_cur >= need)
		return 0;
	snprintf(err, errlen,
		 "%u lines%s need %llu connections, but this process may open %llu files "
		 "(ulimit -n; raise the hard limit)",
		 c->lines, c->call_to ? " and their calls" : "", (unsigned long long)need,
		 (unsigned long long)rl.rlim_cur);
	return -EMFILE;
}

static int ctl__tls_ctx(struct ctl_stream *s, const char *ca, char *err, size_t errlen)
{
	s->tls = SSL_CTX_new(TLS_client_method());
	if (!s->tls)
		return ctl__fail(err, errlen, -ENOMEM, "TLS: no context from OpenSSL");
	SSL_CTX_set_min_proto_version(s->tls, TLS1_2_VERSION);
	if (!ca) {
		SSL_CTX_set_verify(s->tls, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	if (SSL_CTX_load_verify_locations(s->tls, ca, NULL) != 1) {
		snprintf(err, errlen, "TLS: cannot read CA certificates from %s", ca);
		ERR_clear_error();
		return -EINVAL;
	}
	SSL_CTX_set_verify(s->tls, SSL_VERIFY_PEER, NULL);
	s->tls_verify = true;
	return 0;
}

static int ctl__flow_init(struct ctl_stream *s, const struct dp_config *c, int k)
{
	struct ctl__flow *f = &s->fl[k];
	uint32_t n = c->lines;

	f->s = s;
	f->on = true;
	dp_lineset_view(&s->ls, c, k, 0, n, &f->L);
	f->conn = calloc(n, sizeof(*f->conn));
	f->held = calloc(n, 1);
	f->slots = calloc(DP_WHEEL_HEADS(CTL__WHEEL_SLOTS), sizeof(*f->slots));
	f->links = calloc(n, sizeof(*f->links));
	f->hostport = calloc(n, sizeof(*f->hostport));
	f->lost = calloc(n, sizeof(*f->lost));
	f->lost_queued = calloc(n, 1);
	if (!f->conn || !f->held || !f->slots || !f->links || !f->hostport || !f->lost ||
	    !f->lost_queued)
		return -ENOMEM;
	f->L.hostport = f->hostport;
	f->L.cfg.reliable = true;
	if (f->L.cfg.keepalive != DP_KA_NONE)
		f->L.cfg.keepalive = DP_KA_PING; /* RFC 5626 §4.4.1: CRLF ping, CRLF pong */
	f->L.stats = &f->stats;
	f->L.rng = (s->seed + (uint64_t)k * 0x9e3779b97f4a7c15ull) | 1;
	f->L.io = (struct dp_line_io){.ctx = f,
				      .tx_alloc = ctl__io_alloc,
				      .tx_send = ctl__io_send,
				      .tx_abort = ctl__io_abort,
				      .tx_resend = ctl__io_resend,
				      .tx_release = ctl__io_release,
				      .event = ctl__io_event};
	if (sip_digest_ctx_create(&f->L.dctx) != 0)
		return -EIO;
	return dp_wheel_init(&f->L.wheel, f->slots, CTL__WHEEL_SLOTS, f->links, n,
			     ctl__now_us() / 1000);
}

static void ctl__flows_free(struct ctl_stream *s)
{
	dp_calls_free(&s->calls);
	free(s->call_conn);
	s->call_conn = NULL;
	for (int k = 0; k < DP_FLOW__COUNT; k++) {
		struct ctl__flow *f = &s->fl[k];

		if (f->L.dctx.md[0]) /* made */
			sip_digest_ctx_destroy(&f->L.dctx);
		free(f->conn);
		free(f->held);
		free(f->slots);
		free(f->links);
		free(f->hostport);
		free(f->lost);
		free(f->lost_queued);
		memset(f, 0, sizeof(*f));
	}
}

int ctl_stream_create(uv_loop_t *loop, const struct dp_config *c, const struct ctl_stream_cfg *sc,
		      struct ctl_stream **out, char *err, size_t errlen)
{
	struct ctl_stream *s;
	int rc;

	*out = NULL;
	if (sc->transport != SIP_TPL_TCP && sc->transport != SIP_TPL_TLS)
		return ctl__fail(err, errlen, -EINVAL, "streams carry TCP or TLS only");
	if ((rc = dp_lineset_check(c, err, errlen)) || (rc = ctl__fd_room(c, err, errlen)))
		return rc;
	if (!(s = calloc(1, sizeof(*s))) || !(s->evq = calloc(CTL__EVQ, sizeof(*s->evq)))) {
		free(s);
		return ctl__fail(err, errlen, -ENOMEM, "no memory for the stream transport");
	}
	s->loop = loop;
	s->transport = sc->transport;
	s->source_ip = sc->source_ip;
	s->tls_name = sc->tls_name;
	s->tls_name_ctx = sc->tls_name_ctx;
	s->seed = c->seed ? c->seed : uv_hrtime();
	if ((rc = dp_lineset_load(&s->ls, c, sc->transport, s->seed, err, errlen)) ||
	    (sc->transport == SIP_TPL_TLS && (rc = ctl__tls_ctx(s, sc->tls_ca, err, errlen))))
		goto fail;
	for (int k = 0; k < DP_FLOW__COUNT && rc == 0; k++) {
		if (k == DP_FLOW_REGISTER || (k == DP_FLOW_SUBSCRIBE && c->subscribe) ||
		    (k == DP_FLOW_REGISTER2 && c->reg2))
			rc = ctl__flow_init(s, c, k);
	}
	if (rc) {
		ctl__fail(err, errlen, rc, "no memory for the lines' connections");
		goto fail;
	}
	if (c->call_to && (rc = ctl__calls_init(s, c))) {
		snprintf(err, errlen,
			 "calls: no memory for %u at once, or a Request-URI longer than 127: %s",
			 c->call_max ? c->call_max : 4096, c->call_to);
		goto fail;
	}
	s->ramp_step_us = c->rate ? 1000000ull / c->rate : 0;
	s->start_due_us = ctl__now_us();
	snprintf(s->desc, sizeof(s->desc), "%s through the kernel, %s",
		 sc->transport == SIP_TPL_TLS ? "TLS" : "TCP",
		 sc->transport == SIP_TPL_TLS && !sc->tls_ca ? "server certificates not verified"
							     : "one connection per flow");
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	s->handles = 1;
	uv_timer_start(&s->timer, ctl__tick, CTL__TICK_MS, CTL__TICK_MS);
	*out = s;
	return 0;
fail:
	ctl__flows_free(s);
	dp_lineset_free(&s->ls);
	SSL_CTX_free(s->tls);
	free(s->evq);
	free(s);
	return rc;
}

static void ctl__timer_closed(uv_handle_t *h)
{
	ctl__handle_gone(h->data);
}

void ctl_stream_destroy(struct ctl_stream *s)
{
	if (!s || s->destroyed)
		return;
	s->destroyed = true;
	for (int k = 0; k < DP_FLOW__COUNT; k++) {
		for (uint32_t i = 0; s->fl[k].on && i < s->fl[k].L.n; i++) {
			if (s->fl[k].conn[i])
				ctl__conn_close(s->fl[k].conn[i]);
		}
	}
	for (unsigned k = 0; k < DP_MAX_SERVERS; k++) {
		if (s->probe[k].conn)
			ctl__conn_close(s->probe[k].conn);
	}
	for (uint32_t k = 0; s->call_conn && k < s->calls.max; k++) {
		if (s->call_conn[k])
			ctl__conn_close(s->call_conn[k]);
	}
	uv_timer_stop(&s->timer);
	uv_close((uv_handle_t *)&s->timer, ctl__timer_closed);
}
