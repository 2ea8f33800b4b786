/*
 * Promises of dataplane/line.c, the registration client of each line, driven as pure
 * logic: a fake struct dp_line_io captures what is sent and reported, a fake clock walks
 * the wheel a millisecond at a time, and responses are written here as a registrar would.
 * Digest answers are checked against hashes computed here with EVP, not with sip/digest.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "dataplane/line.h"
#include "sip/stun.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define NLINES 3
#define NSLOTS 1024 /* shorter than the refresh and retry delays: they wait laps */
#define MAX_SENT 64
#define MAX_EVENTS 32
#define MAX_HDRS 32
#define TEXT_MAX 2048

#define SERVER_IP IP(198, 18, 0, 1)
#define SERVER_PORT 5060
#define FIRST_IP IP(198, 18, 0, 10)
#define FIRST_PORT 5060
#define NPORTS 2 /* lines 0, 1 on .10:5060, .10:5061; line 2 on .11:5060 */
#define DIGEST_URI "sip:198.18.0.1"
#define REALM "sip.example.com"
/* the second target: server 1 (a backup registrar) with AOR 1 (the backup domain) */
#define SERVER2_IP IP(198, 18, 0, 2)
#define DIGEST_URI2 "sip:198.18.0.2"
#define REALM2 "backup.example.com"
#define PASSWORD "s3cr3t"
#define T0_US 5000000ull /* the fake clock starts at 5 s */
#define S_US 1000000ull
#define MS_US 1000ull

struct sent {
	uint32_t id;
	uint64_t t_us;
	bool keep;
	size_t len;
	char text[TEXT_MAX];
};

struct fx {
	struct dp_stats stats; /* first: it wants 64-octet alignment */
	struct dp_lines L;
	struct dp_line line[NLINES];
	char ha1_md5[NLINES][32];
	char ha1_sha256[NLINES][64];
	const char *method; /* of the responses written here: REGISTER, or SUBSCRIBE */
	char to_tag[NLINES][DP_TO_TAG_MAX + 1];
	uint8_t dlg[NLINES][DP_DLG_MAX];
	struct sip_tpl *sub_tpl;
	char ha1_md5_2[NLINES][32];
	char ha1_sha256_2[NLINES][64];
	struct sip_tpl *tpl2;
	char auth_user[NLINES][32];
	char contact[NLINES][64];
	uint32_t slots[DP_WHEEL_HEADS(NSLOTS)];
	struct dp_wheel_link links[NLINES];
	uint8_t *arena;
	uint64_t now_us;
	unsigned aborted; /* tx_abort calls */
	/* the fake I/O */
	bool no_buffer;
	char txbuf[TEXT_MAX];
	struct sent sent[MAX_SENT];
	size_t nsent;
	uint64_t resent_us[MAX_SENT];
	size_t nresent;
	size_t nreleased;
	bool held[NLINES]; /* what a worker would hold for retransmission */
	size_t resent_nothing;
	struct dp_msg ev[MAX_EVENTS];
	size_t nev;
	/* the last response fed in, and a parsed request */
	char rx[TEXT_MAX];
	struct sip_header rx_hdrs[MAX_HDRS];
	struct sip_msg rx_msg;
};

/* ---- fake I/O ----------------------------------------------------------------------- */

static char *io_alloc(void *ctx, size_t *cap)
{
	struct fx *f = ctx;

	if (f->no_buffer)
		return NULL;
	*cap = sizeof(f->txbuf);
	return f->txbuf;
}

static void io_abort(void *ctx)
{
	struct fx *f = ctx;

	f->aborted++;
}

static void io_send(void *ctx, uint32_t id, size_t len, bool keep, uint32_t sum)
{
	struct fx *f = ctx;
	struct sent *s;

	assert_true(f->nsent < MAX_SENT);
	assert_true(len < TEXT_MAX);
	if (sum != DP_SUM_NONE) { /* a sum given must be the payload's (UDP checksums) */
		uint32_t want = 0;
		const uint8_t *t = (const uint8_t *)f->txbuf;

		for (size_t k = 0; k < len; k++)
			want += k & 1 ? t[k] : (uint32_t)t[k] << 8;
		assert_int_equal(sum, want);
	}
	s = &f->sent[f->nsent++];
	s->id = id;
	s->t_us = f->now_us;
	s->keep = keep;
	s->len = len;
	memcpy(s->text, f->txbuf, len);
	s->text[len] = '\0';
	if (keep)
		f->held[id] = true;
}

static void io_resend(void *ctx, uint32_t id)
{
	struct fx *f = ctx;

	if (!f->held[id]) {
		f->resent_nothing++;
		return;
	}
	assert_true(f->nresent < MAX_SENT);
	f->resent_us[f->nresent++] = f->now_us;
}

static void io_release(void *ctx, uint32_t id)
{
	struct fx *f = ctx;

	f->held[id] = false;
	f->nreleased++;
}

static void io_event(void *ctx, const struct dp_msg *m)
{
	struct fx *f = ctx;

	assert_true(f->nev < MAX_EVENTS);
	f->ev[f->nev++] = *m;
}

/* ---- the line table, built as dataplane.c builds it --------------------------------- */

static void ip_str(uint32_t ip, char *buf, size_t cap)
{
	snprintf(buf, cap, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

static int setup(void **state)
{
	struct fx *f = aligned_alloc(64, (sizeof(struct fx) + 63) & ~(size_t)63);
	struct sip_tpl *tpl = aligned_alloc(64, (sizeof(*tpl) + 63) & ~(size_t)63);

	assert_non_null(f);
	assert_non_null(tpl);
	memset(f, 0, sizeof(*f));
	assert_int_equal(sip_digest_ctx_create(&f->L.dctx), 0);
	f->L.line = f->line;
	f->L.n = NLINES;
	f->L.first_id = 0;
	f->L.first_ip = FIRST_IP;
	f->L.first_port = FIRST_PORT;
	f->L.nports = NPORTS;
	/* one template for every line, as dataplane.c prepares it */
	assert_int_equal(sip_tpl_prepare(tpl,
					 &(struct sip_tpl_params){
						 .method = SIP_TPL_REGISTER,
						 .request_uri = SIP_STR(DIGEST_URI),
						 .from_uri = SIP_STR("sip:{user}@" REALM),
						 .from_tag = SIP_STR("{tag}"),
						 .call_id = SIP_STR("{callid}"),
						 .contact_uri = SIP_STR("sip:{user}@{hostport}"),
						 .via_sent_by = SIP_STR("{hostport}"),
						 .transport = SIP_TPL_UDP,
					 }),
			 0);
	f->L.tpl[0][0] = tpl;
	f->tpl2 = aligned_alloc(64, (sizeof(*tpl) + 63) & ~(size_t)63);
	assert_non_null(f->tpl2);
	assert_int_equal(sip_tpl_prepare(f->tpl2,
					 &(struct sip_tpl_params){
						 .method = SIP_TPL_REGISTER,
						 .request_uri = SIP_STR(DIGEST_URI2),
						 .from_uri = SIP_STR("sip:{user}@" REALM2),
						 .from_tag = SIP_STR("{tag}"),
						 .call_id = SIP_STR("{callid}"),
						 .contact_uri = SIP_STR("sip:{user}@{hostport}"),
						 .via_sent_by = SIP_STR("{hostport}"),
						 .transport = SIP_TPL_UDP,
					 }),
			 0);
	f->L.tpl[1][1] = f->tpl2;
	f->arena = (uint8_t *)tpl; /* freed in teardown */
	f->L.id_seed = 0x0123456789abcdefull;
	for (uint32_t i = 0; i < NLINES; i++) {
		char user[16], ip_s[16];
		uint32_t ip;
		uint16_t port;

		dp_lines_addr(&f->L, i, &ip, &port);
		ip_str(ip, ip_s, sizeof(ip_s));
		snprintf(user, sizeof(user), "%u", 1000 + i);
		snprintf(f->contact[i], sizeof(f->contact[i]), "sip:%s@%s:%u", user, ip_s, port);
		memcpy(f->auth_user[i], user, strlen(user));
		assert_int_equal(sip_digest_ha1(&f->L.dctx, SIP_DIGEST_MD5, sip_str_cstr(user),
						SIP_STR(REALM), SIP_STR(PASSWORD), f->ha1_md5[i]),
				 32);
		assert_int_equal(sip_digest_ha1(&f->L.dctx, SIP_DIGEST_SHA256, sip_str_cstr(user),
						SIP_STR(REALM), SIP_STR(PASSWORD),
						f->ha1_sha256[i]),
				 64);
		assert_int_equal(sip_digest_ha1(&f->L.dctx, SIP_DIGEST_MD5, sip_str_cstr(user),
						SIP_STR(REALM2), SIP_STR(PASSWORD),
						f->ha1_md5_2[i]),
				 32);
		assert_int_equal(sip_digest_ha1(&f->L.dctx, SIP_DIGEST_SHA256, sip_str_cstr(user),
						SIP_STR(REALM2), SIP_STR(PASSWORD),
						f->ha1_sha256_2[i]),
				 64);
		f->line[i].req_expires = 60;
	}
	f->L.ha1_md5[0] = (const char(*)[32])f->ha1_md5;
	f->L.ha1_sha256[0] = (const char(*)[64])f->ha1_sha256;
	f->L.ha1_md5[1] = (const char(*)[32])f->ha1_md5_2;
	f->L.ha1_sha256[1] = (const char(*)[64])f->ha1_sha256_2;
	f->L.auth_user = (const char(*)[32])f->auth_user;
	f->L.cfg = (struct dp_line_cfg){
		.t1_ms = 500,
		.t2_ms = 4000,
		.tf_ms = 32000,
		.expires = 60,
		.refresh_min_pct = 50,
		.refresh_max_pct = 90,
		.retry_ms = 30000,
		.server = {{SERVER_IP, SERVER_PORT}, {SERVER2_IP, SERVER_PORT}},
		.ruri = {SIP_STR(DIGEST_URI), SIP_STR(DIGEST_URI2)},
	};
	f->L.rng = 0x9e3779b97f4a7c15ull;
	f->L.stats = &f->stats;
	f->L.io = (struct dp_line_io){
		.ctx = f,
		.tx_alloc = io_alloc,
		.tx_send = io_send,
		.tx_abort = io_abort,
		.tx_resend = io_resend,
		.tx_release = io_release,
		.event = io_event,
	};
	f->L.worker = 2;
	dp_lines_set_flow(&f->L, DP_FLOW_REGISTER);
	f->now_us = T0_US;
	assert_int_equal(
		dp_wheel_init(&f->L.wheel, f->slots, NSLOTS, f->links, NLINES, T0_US / MS_US), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sip_digest_ctx_destroy(&f->L.dctx);
	free(f->arena);
	free(f->tpl2);
	free(f->sub_tpl);
	free(f);
	return 0;
}

/* ---- driving ------------------------------------------------------------------------ */

/* Walk the clock a millisecond at a time to t_us, firing line timers as the worker does. */
static void advance_to(struct fx *f, uint64_t t_us)
{
	uint32_t due[NLINES];

	for (uint64_t ms = f->now_us / MS_US + 1; ms <= t_us / MS_US; ms++) {
		size_t n;

		f->now_us = ms * MS_US;
		n = dp_wheel_expire(&f->L.wheel, ms, due, NLINES);
		for (size_t k = 0; k < n; k++)
			dp_line_timer(&f->L, due[k], f->now_us);
	}
	f->now_us = t_us;
}

static void advance_by(struct fx *f, uint64_t us)
{
	advance_to(f, f->now_us + us);
}

static void parse_text(const char *text, size_t len, struct sip_msg *m, struct sip_header *hdrs)
{
	struct sip_parse_error err;

	assert_int_equal(sip_parse(text, len, SIP_FRAMING_DATAGRAM, m, hdrs, MAX_HDRS, &err),
			 (long)len);
}

static const struct sent *last_sent(const struct fx *f)
{
	assert_true(f->nsent > 0);
	return &f->sent[f->nsent - 1];
}

static void parse_sent(const struct sent *s, struct sip_msg *m, struct sip_header *hdrs)
{
	parse_text(s->text, s->len, m, hdrs);
	assert_true(m->is_request);
	assert_true(sip_str_eq(m->method, SIP_STR("REGISTER")) ||
		    sip_str_eq(m->method, SIP_STR("SUBSCRIBE")));
}

static struct sip_str header(const struct sip_msg *m, enum sip_hdr_id id)
{
	const struct sip_header *h = sip_msg_header(m, id, 0);

	return h ? h->value : SIP_STR_NULL;
}

static uint32_t expires_of(const struct sent *s)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;
	uint32_t v;

	parse_sent(s, &m, hdrs);
	assert_int_equal(sip_u32_parse(header(&m, SIP_HDR_EXPIRES), UINT32_MAX, &v), 0);
	return v;
}

static uint32_t cseq_of(const struct sent *s)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;

	parse_sent(s, &m, hdrs);
	return m.cseq.seq;
}

static const struct dp_msg *last_event(const struct fx *f)
{
	assert_true(f->nev > 0);
	return &f->ev[f->nev - 1];
}

/* How a response differs from a faithful answer to the line's last request. */
struct resp_twist {
	int cseq_delta;
	bool other_branch;
	uint32_t src_ip; /* 0: the server */
	uint16_t src_port;
};

/*
 * Answer the last request sent for line i as the registrar would: its Via, From, To (with
 * a tag), Call-ID and CSeq, then the extra header lines, and feed it to dp_line_response.
 */
static void respond_twisted(struct fx *f, uint32_t i, unsigned status, const char *extra,
			    struct resp_twist tw)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg req;
	const struct sent *s = NULL;
	char via[256];
	const char *method = f->method ? f->method : "REGISTER";
	char totag[24];
	int n;

	snprintf(totag, sizeof(totag), ";tag=srv%u", i);
	for (size_t k = f->nsent; k-- > 0;)
		if (f->sent[k].id == i) {
			s = &f->sent[k];
			break;
		}
	assert_non_null(s);
	parse_sent(s, &req, hdrs);
	assert_true(header(&req, SIP_HDR_VIA).len < sizeof(via));
	memcpy(via, header(&req, SIP_HDR_VIA).p, header(&req, SIP_HDR_VIA).len);
	via[header(&req, SIP_HDR_VIA).len] = '\0';
	if (tw.other_branch) {
		char *b = strstr(via, "branch=z9hG4bK");

		assert_non_null(b);
		b += strlen("branch=z9hG4bK");
		*b = *b == '0' ? '1' : '0';
	}
	n = snprintf(f->rx, sizeof(f->rx),
		     "SIP/2.0 %u Whatever\r\n"
		     "Via: %s;received=%s\r\n"
		     "From: %.*s\r\n"
		     "To: %.*s%s\r\n"
		     "Call-ID: %.*s\r\n"
		     "CSeq: %u %s\r\n"
		     "%s"
		     "Content-Length: 0\r\n"
		     "\r\n",
		     status, via, "198.18.0.10", (int)header(&req, SIP_HDR_FROM).len,
		     header(&req, SIP_HDR_FROM).p, (int)header(&req, SIP_HDR_TO).len,
		     header(&req, SIP_HDR_TO).p,
		     /* in a dialog the To of the request carries the tag already */
		     req.to.tag.len ? "" : totag, (int)req.call_id.len, req.call_id.p,
		     req.cseq.seq + tw.cseq_delta, method, extra ? extra : "");
	assert_true(n > 0 && (size_t)n < sizeof(f->rx));
	parse_text(f->rx, (size_t)n, &f->rx_msg, f->rx_hdrs);
	assert_int_equal(f->rx_msg.status, status);
	dp_line_response(&f->L, i, &f->rx_msg, tw.src_ip ? tw.src_ip : SERVER_IP,
			 tw.src_port ? tw.src_port : SERVER_PORT, f->now_us);
}

static void respond(struct fx *f, uint32_t i, unsigned status, const char *extra)
{
	respond_twisted(f, i, status, extra, (struct resp_twist){0});
}

static void challenge(struct fx *f, uint32_t i, const char *nonce, const char *more)
{
	char h[256];

	snprintf(h, sizeof(h),
		 "WWW-Authenticate: Digest realm=\"" REALM "\", nonce=\"%s\", qop=\"auth\"%s\r\n",
		 nonce, more ? more : "");
	respond(f, i, 401, h);
}

static void ok_with_contact_expires(struct fx *f, uint32_t i, unsigned expires)
{
	char h[160];

	snprintf(h, sizeof(h), "Contact: <%s>;expires=%u\r\n", f->contact[i], expires);
	respond(f, i, 200, h);
}

/* Start line i and take it through 401 and 200 to REGISTERED with a granted expiry. */
static void register_line(struct fx *f, uint32_t i, unsigned granted)
{
	dp_line_start(&f->L, i, f->now_us);
	advance_by(f, 20 * MS_US);
	challenge(f, i, "n0nce", NULL);
	advance_by(f, 20 * MS_US);
	ok_with_contact_expires(f, i, granted);
	assert_int_equal(f->line[i].state, DP_LINE_REGISTERED);
}

/* ---- Authorization: parsed and recomputed here -------------------------------------- */

/* Value of parameter name in a "Digest a="..", b=c" credentials value, into out. */
static bool auth_param(struct sip_str v, const char *name, char *out, size_t cap)
{
	size_t k = 0, nlen = strlen(name);

	if (v.len > 7 && memcmp(v.p, "Digest ", 7) == 0)
		k = 7;
	while (k < v.len) {
		size_t start, end;
		bool quoted;

		while (k < v.len && (v.p[k] == ' ' || v.p[k] == ','))
			k++;
		start = k;
		while (k < v.len && v.p[k] != '=')
			k++;
		if (k >= v.len)
			return false;
		end = k++;
		quoted = k < v.len && v.p[k] == '"';
		if (quoted)
			k++;
		size_t vs = k;

		while (k < v.len && (quoted ? v.p[k] != '"' : v.p[k] != ','))
			k++;
		if (end - start == nlen && memcmp(v.p + start, name, nlen) == 0) {
			if (k - vs >= cap)
				return false;
			memcpy(out, v.p + vs, k - vs);
			out[k - vs] = '\0';
			return true;
		}
		if (quoted)
			k++;
	}
	return false;
}

static void hex_hash(const EVP_MD *md, const char *text, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	assert_int_equal(EVP_Digest(text, strlen(text), d, &dlen, md, NULL), 1);
	for (unsigned int k = 0; k < dlen; k++)
		sprintf(hex + 2 * k, "%02x", d[k]);
}

/* RFC 7616 §3.4.1 with qop=auth, from the password and the request's own cnonce and nc. */
static void expected_response_at(const EVP_MD *md, const char *realm, const char *uri,
				 const char *user, const char *nonce, const char *nc,
				 const char *cnonce, char *hex)
{
	char ha1[129], ha2[129], text[512];

	snprintf(text, sizeof(text), "%s:%s:%s", user, realm, PASSWORD);
	hex_hash(md, text, ha1);
	snprintf(text, sizeof(text), "REGISTER:%s", uri);
	hex_hash(md, text, ha2);
	snprintf(text, sizeof(text), "%s:%s:%s:%s:auth:%s", ha1, nonce, nc, cnonce, ha2);
	hex_hash(md, text, hex);
}

static void expected_response(const EVP_MD *md, const char *user, const char *nonce, const char *nc,
			      const char *cnonce, char *hex)
{
	expected_response_at(md, REALM, DIGEST_URI, user, nonce, nc, cnonce, hex);
}

/* Check the credentials of the last REGISTER against the challenge's nonce. */
static void assert_digest_answers(const struct fx *f, const EVP_MD *md, const char *alg,
				  const char *user, const char *nonce)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;
	struct sip_str auth;
	char p[128], nc[16], cnonce[64], resp[128], want[129];

	parse_sent(last_sent(f), &m, hdrs);
	auth = header(&m, SIP_HDR_AUTHORIZATION);
	assert_non_null(auth.p);
	assert_true(auth_param(auth, "username", p, sizeof(p)));
	assert_string_equal(p, user);
	assert_true(auth_param(auth, "realm", p, sizeof(p)));
	assert_string_equal(p, REALM);
	assert_true(auth_param(auth, "nonce", p, sizeof(p)));
	assert_string_equal(p, nonce);
	assert_true(auth_param(auth, "uri", p, sizeof(p)));
	assert_string_equal(p, DIGEST_URI);
	assert_true(auth_param(auth, "algorithm", p, sizeof(p)));
	assert_string_equal(p, alg);
	assert_true(auth_param(auth, "qop", p, sizeof(p)));
	assert_string_equal(p, "auth");
	assert_true(auth_param(auth, "nc", nc, sizeof(nc)));
	assert_true(auth_param(auth, "cnonce", cnonce, sizeof(cnonce)));
	assert_true(strlen(cnonce) > 0);
	assert_true(auth_param(auth, "response", resp, sizeof(resp)));
	expected_response(md, user, nonce, nc, cnonce, want);
	assert_string_equal(resp, want);
}

/* ---- the first REGISTER ------------------------------------------------------------- */

static void start_sends_register_with_cseq_1_and_expires_60(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 1, f->now_us);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->sent[0].id, 1);
	assert_int_equal(cseq_of(&f->sent[0]), 1);
	assert_int_equal(expires_of(&f->sent[0]), 60);
	assert_int_equal(f->line[1].state, DP_LINE_REGISTERING);
}

static void start_sends_register_without_credentials(void **state)
{
	struct fx *f = *state;
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;

	dp_line_start(&f->L, 1, f->now_us);
	parse_sent(last_sent(f), &m, hdrs);
	assert_null(sip_msg_header(&m, SIP_HDR_AUTHORIZATION, 0));
	assert_null(sip_msg_header(&m, SIP_HDR_PROXY_AUTHORIZATION, 0));
	assert_int_equal(f->stats.tx_register_auth, 0);
}

static void start_sends_register_with_an_rfc3261_branch(void **state)
{
	struct fx *f = *state;
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;

	dp_line_start(&f->L, 1, f->now_us);
	parse_sent(last_sent(f), &m, hdrs);
	assert_int_equal(m.via.branch.len, 7 + 16);
	assert_memory_equal(m.via.branch.p, "z9hG4bK", 7);
	for (size_t k = 7; k < m.via.branch.len; k++)
		assert_non_null(strchr("0123456789abcdef", m.via.branch.p[k]));
}

static int cmp_branch(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* RFC 3261 §8.1.1.7: every request its own branch, across lines, requests and the two
 * outbound flows (the branch is derived from them, not drawn: dataplane/line.c). */
static void branches_differ_across_lines_requests_and_flows(void **state)
{
	struct fx *f = *state;
	static char seen[2 * NLINES * 20][16];
	size_t n = 0;

	for (int flow = 0; flow < 2; flow++) {
		dp_lines_set_flow(&f->L, flow ? DP_FLOW_REGISTER2 : DP_FLOW_REGISTER);
		for (uint32_t i = 0; i < NLINES; i++) {
			f->line[i].cseq = 0; /* each flow's table counts its own CSeqs */
			for (int k = 0; k < 20; k++) {
				struct sip_header hdrs[MAX_HDRS];
				struct sip_msg m;

				f->nsent = 0;
				dp_line_start(&f->L, i, f->now_us);
				parse_sent(last_sent(f), &m, hdrs);
				assert_int_equal(m.via.branch.len, 7 + 16);
				memcpy(seen[n++], m.via.branch.p + 7, 16);
			}
		}
	}
	qsort(seen, n, 16, cmp_branch);
	for (size_t k = 1; k < n; k++)
		assert_true(memcmp(seen[k - 1], seen[k], 16) != 0);
}

static void start_holds_the_register_for_retransmission(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 1, f->now_us);
	assert_true(last_sent(f)->keep);
	assert_int_equal(f->stats.tx_requests[DP_M_REGISTER], 1);
}

/* ---- digest ------------------------------------------------------------------------- */

static void challenge_401_is_answered_with_cseq_2_and_a_new_branch(void **state)
{
	struct fx *f = *state;
	struct sip_header h1[MAX_HDRS], h2[MAX_HDRS];
	struct sip_msg m1, m2;

	dp_line_start(&f->L, 0, f->now_us);
	advance_by(f, 30 * MS_US);
	challenge(f, 0, "abc123", NULL);
	assert_int_equal(f->nsent, 2);
	parse_sent(&f->sent[0], &m1, h1);
	parse_sent(&f->sent[1], &m2, h2);
	assert_int_equal(m2.cseq.seq, 2);
	assert_false(sip_str_eq(m1.via.branch, m2.via.branch));
	assert_true(sip_str_eq(m1.call_id, m2.call_id));
	assert_int_equal(f->stats.tx_register_auth, 1);
}

static void challenge_401_md5_is_answered_with_the_right_digest(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	advance_by(f, 30 * MS_US);
	challenge(f, 0, "abc123", NULL);
	assert_digest_answers(f, EVP_md5(), "MD5", "1000", "abc123");
}

static void challenge_401_sha256_is_answered_with_the_right_digest(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 2, f->now_us);
	advance_by(f, 30 * MS_US);
	challenge(f, 2, "d1g3st", ", algorithm=SHA-256");
	assert_digest_answers(f, EVP_sha256(), "SHA-256", "1002", "d1g3st");
}

static void second_401_without_stale_fails_auth(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	challenge(f, 0, "abc123", NULL);
	challenge(f, 0, "def456", NULL);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(last_event(f)->type, DP_EV_FAILED);
	assert_int_equal(last_event(f)->reason, DP_FAIL_AUTH);
	assert_int_equal(last_event(f)->value, 401);
	assert_int_equal(f->line[0].state, DP_LINE_RETRY_WAIT);
	assert_int_equal(f->stats.reg_fail[DP_FAIL_AUTH], 1);
}

static void stale_401_after_credentials_sends_credentials_again(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	challenge(f, 0, "abc123", NULL);
	challenge(f, 0, "fresh1", ", stale=true");
	assert_int_equal(f->nsent, 3);
	assert_int_equal(cseq_of(last_sent(f)), 3);
	assert_digest_answers(f, EVP_md5(), "MD5", "1000", "fresh1");
	assert_int_equal(f->nev, 0);
	assert_int_equal(f->stats.reg_fail[DP_FAIL_AUTH], 0);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
}

/* ---- success and refresh ------------------------------------------------------------ */

static void ok_200_reports_registered_with_the_contact_expiry(void **state)
{
	struct fx *f = *state;
	const struct dp_msg *e;

	dp_line_start(&f->L, 2, f->now_us);
	challenge(f, 2, "abc123", NULL);
	ok_with_contact_expires(f, 2, 40);
	assert_int_equal(f->nev, 1);
	e = last_event(f);
	assert_int_equal(e->type, DP_EV_REGISTERED);
	assert_int_equal(e->value, 40);
	assert_int_equal(e->line, 2);
	assert_int_equal(e->target, DP_TARGET(0, 0, 0));
	assert_int_equal(e->worker, 2);
}

static void ok_200_marks_the_line_registered_and_counts_it(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 2, f->now_us);
	challenge(f, 2, "abc123", NULL);
	ok_with_contact_expires(f, 2, 40);
	assert_int_equal(f->line[2].state, DP_LINE_REGISTERED);
	assert_int_equal(f->line[2].granted, 40);
	assert_int_equal(f->stats.registered, 1);
	assert_int_equal(f->stats.reg_ok, 1);
	assert_false(f->held[2]); /* the transaction's request is let go */
}

static void ok_200_without_our_contact_takes_the_expires_header(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 1, f->now_us);
	/* a binding of another line's contact must not be read as ours */
	respond(f, 1, 200,
		"Contact: <sip:9999@198.18.0.99:5060>;expires=3600\r\n"
		"Expires: 45\r\n");
	assert_int_equal(last_event(f)->type, DP_EV_REGISTERED);
	assert_int_equal(last_event(f)->value, 45);
}

static void refresh_is_sent_between_50_and_90_percent_of_the_granted_expiry(void **state)
{
	struct fx *f = *state;

	/* each line draws its own point in the window */
	for (uint32_t i = 0; i < NLINES; i++) {
		uint64_t t_ok;
		size_t before;

		register_line(f, i, 40);
		t_ok = f->now_us;
		before = f->nsent;
		advance_to(f, t_ok + 20 * S_US - MS_US);
		assert_int_equal(f->nsent, before);
		advance_to(f, t_ok + 36 * S_US);
		assert_int_equal(f->nsent, before + 1);
		assert_int_equal(last_sent(f)->id, i);
		assert_true(last_sent(f)->t_us >= t_ok + 20 * S_US);
		assert_true(last_sent(f)->t_us <= t_ok + 36 * S_US);
		assert_int_equal(expires_of(last_sent(f)), 60);
		ok_with_contact_expires(f, i, 3600); /* out of the way of the next line */
	}
}

/* A refresh in flight does not un-count the line: its binding still stands. */
static void refresh_in_flight_keeps_the_line_counted_registered(void **state)
{
	struct fx *f = *state;
	uint64_t t_ok;

	register_line(f, 0, 40);
	t_ok = f->now_us;
	assert_int_equal(f->stats.registered, 1);
	advance_to(f, t_ok + 36 * S_US);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
	assert_int_equal(f->stats.registered, 1);
	ok_with_contact_expires(f, 0, 40);
	assert_int_equal(f->stats.registered, 1);
}

/* RFC 5626 §4.4: a registered line sends STUN keep-alives at 80-100 % of the interval;
 * an answered one keeps the flow, an unanswered one fails it and the line re-registers. */
static void stun_keepalives_go_at_80_to_100_percent_and_a_missed_one_fails_the_flow(void **state)
{
	struct fx *f = *state;
	uint64_t t_ok;
	struct sip_stun_msg st;
	const struct sent *s;

	f->L.cfg.keepalive = DP_KA_STUN;
	f->L.cfg.ka_interval_ms = 1000;
	f->L.cfg.ka_timeout_ms = 300;
	register_line(f, 0, 3600);
	t_ok = f->now_us;
	advance_to(f, t_ok + 799 * MS_US);
	assert_int_equal(f->stats.tx_keepalive_stun, 0);
	advance_to(f, t_ok + 1000 * MS_US);
	assert_int_equal(f->stats.tx_keepalive_stun, 1);
	s = last_sent(f);
	assert_false(s->keep);
	assert_int_equal(sip_stun_parse((const uint8_t *)s->text, s->len, &st), 0);
	dp_line_stun_answer(&f->L, 0, st.txid, f->now_us);
	assert_int_equal(f->stats.rx_keepalive_ok, 1);
	advance_by(f, 2000 * MS_US); /* the next one goes out and is not answered */
	assert_true(f->stats.tx_keepalive_stun >= 2);
	assert_int_equal(f->stats.flow_failures, 1);
	assert_int_equal(last_event(f)->type, DP_EV_FLOW_FAILED);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
}

/* Answer the line's last keep-alive, now. */
static void answer_keepalive(struct fx *f)
{
	const struct sent *s = last_sent(f);
	struct sip_stun_msg st;

	assert_int_equal(sip_stun_parse((const uint8_t *)s->text, s->len, &st), 0);
	dp_line_stun_answer(&f->L, 0, st.txid, f->now_us);
}

/* An answer leaves the timer set at the send alone when it fires in time: at the next
 * keep-alive (interval shorter than the timeout), or at the deadline (longer), which then
 * wakes the line early and it waits on for the next keep-alive. Either way each keep-alive
 * goes out at 80-100 % of the interval after the last and none fails the flow. */
static void answered_keepalives_keep_their_pace_whichever_timer_was_left(void **state)
{
	struct fx *f = *state;
	static const uint32_t interval_ms[] = {200, 1000};

	f->L.cfg.keepalive = DP_KA_STUN;
	f->L.cfg.ka_timeout_ms = 300;
	for (size_t c = 0; c < 2; c++) {
		uint64_t last_us;

		f->L.cfg.ka_interval_ms = interval_ms[c];
		f->line[0] = (struct dp_line){.req_expires = 60};
		register_line(f, 0, 3600);
		last_us = f->now_us;
		for (int k = 0; k < 20; k++) {
			uint64_t before = f->stats.tx_keepalive_stun, due;

			while (f->stats.tx_keepalive_stun == before)
				advance_by(f, MS_US);
			assert_true(f->now_us - last_us >= interval_ms[c] * 8 / 10 * MS_US);
			assert_true(f->now_us - last_us <= interval_ms[c] * MS_US + MS_US);
			last_us = f->now_us;
			due = dp_wheel_due(&f->L.wheel, 0);
			advance_by(f, 50 * MS_US);
			answer_keepalive(f);
			/* left as set at the send: the first of deadline and next keep-alive */
			assert_int_equal(dp_wheel_due(&f->L.wheel, 0), due);
		}
		assert_int_equal(f->stats.flow_failures, 0);
	}
}

/* TCP/TLS (RFC 5626 §4.4.1): a CRLF ping whose CRLF pong is awaited; a missed pong fails
 * the flow like a missed STUN answer. */
static void ping_keepalives_await_their_pong_and_a_missed_one_fails_the_flow(void **state)
{
	struct fx *f = *state;

	f->L.cfg.keepalive = DP_KA_PING;
	f->L.cfg.ka_interval_ms = 1000;
	f->L.cfg.ka_timeout_ms = 300;
	register_line(f, 0, 3600);
	advance_by(f, 1000 * MS_US);
	assert_int_equal(f->stats.tx_keepalive_crlf, 1);
	assert_int_equal(last_sent(f)->len, 4);
	assert_memory_equal(last_sent(f)->text, "\r\n\r\n", 4);
	dp_line_pong(&f->L, 0, f->now_us);
	assert_int_equal(f->stats.rx_keepalive_ok, 1);
	dp_line_pong(&f->L, 0, f->now_us); /* a second pong answers nothing */
	assert_int_equal(f->stats.rx_keepalive_ok, 1);
	assert_int_equal(f->stats.rx_stun_other, 1);
	assert_int_equal(f->stats.flow_failures, 0);
	advance_by(f, 2000 * MS_US); /* the next ping goes unanswered */
	assert_int_equal(f->stats.flow_failures, 1);
	assert_int_equal(last_event(f)->type, DP_EV_FLOW_FAILED);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
}

/* Over a reliable transport nothing is retransmitted: timer F alone ends the request
 * (RFC 3261 §17.1.2.2). */
static void reliable_transport_sends_once_and_times_out_at_timer_f(void **state)
{
	struct fx *f = *state;

	f->L.cfg.reliable = true;
	dp_line_start(&f->L, 0, f->now_us);
	advance_by(f, 31999 * MS_US);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->nresent, 0);
	assert_int_equal(f->stats.tx_retransmissions, 0);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
	advance_by(f, 1 * MS_US);
	assert_int_equal(last_event(f)->type, DP_EV_FAILED);
	assert_int_equal(last_event(f)->reason, DP_FAIL_TIMEOUT);
}

/* A lost connection: the request out fails as a transport error at once; a registered
 * flow has failed and registers again. */
static void lost_connection_fails_the_request_or_the_registered_flow(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	dp_line_transport_lost(&f->L, 0, f->now_us);
	assert_int_equal(last_event(f)->type, DP_EV_FAILED);
	assert_int_equal(last_event(f)->reason, DP_FAIL_TRANSPORT);
	register_line(f, 1, 3600);
	dp_line_transport_lost(&f->L, 1, f->now_us);
	assert_int_equal(last_event(f)->type, DP_EV_FLOW_FAILED);
	assert_int_equal(last_event(f)->reason, DP_FAIL_TRANSPORT);
	assert_int_equal(f->line[1].state, DP_LINE_REGISTERING);
	assert_int_equal(f->stats.registered, 0);
}

/* The connection came up with its own address: the request out is built anew with that
 * address in Via and Contact, as a new transaction. */
static void resend_builds_the_request_anew_with_the_connections_address(void **state)
{
	struct fx *f = *state;
	char hp[NLINES][DP_HOSTPORT_MAX + 1];
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;
	const char *addr = "198.19.254.1:40001";

	memset(hp, 0, sizeof(hp));
	f->L.hostport = hp;
	dp_line_start(&f->L, 0, f->now_us);
	hp[0][0] = (char)strlen(addr);
	memcpy(hp[0] + 1, addr, strlen(addr));
	dp_line_resend(&f->L, 0, f->now_us);
	assert_int_equal(f->nsent, 2);
	parse_sent(last_sent(f), &m, hdrs);
	assert_int_equal(m.cseq.seq, 2);
	assert_non_null(strstr(last_sent(f)->text, "Via: SIP/2.0/UDP 198.19.254.1:40001;"));
	assert_non_null(strstr(last_sent(f)->text, "@198.19.254.1:40001>"));
	assert_non_null(strstr(last_sent(f)->text, "@198.19.254.1\r\n")); /* Call-ID */
	dp_line_resend(&f->L, 1, f->now_us); /* an idle line has nothing to send */
	assert_int_equal(f->nsent, 2);
	f->L.hostport = NULL;
}

/* A line on a connection registered the connection's address: the expiry granted is its
 * Contact's, not the one of the line's range address. */
static void granted_expiry_is_read_at_the_connections_address(void **state)
{
	struct fx *f = *state;
	char hp[NLINES][DP_HOSTPORT_MAX + 1];
	char h[256];
	const char *addr = "198.19.254.1:40001";

	memset(hp, 0, sizeof(hp));
	hp[0][0] = (char)strlen(addr);
	memcpy(hp[0] + 1, addr, strlen(addr));
	f->L.hostport = hp;
	dp_line_start(&f->L, 0, f->now_us);
	challenge(f, 0, "n0nce", NULL);
	snprintf(h, sizeof(h),
		 "Contact: <%s>;expires=99\r\nContact: <sip:%s@198.19.254.1:40001>;expires=17\r\n",
		 f->contact[0], f->auth_user[0]);
	respond(f, 0, 200, h);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERED);
	assert_int_equal(last_event(f)->type, DP_EV_REGISTERED);
	assert_int_equal(last_event(f)->value, 17);
	f->L.hostport = NULL;
}

/* Mode 4's second flow keeps itself alive too; its STUN transactions carry its flow, so
 * an answer to the other flow's keep-alive does not count for it. */
static void the_second_outbound_flow_keeps_alive_under_its_own_name(void **state)
{
	struct fx *f = *state;
	struct sip_stun_msg st;
	uint8_t other[SIP_STUN_TXID_LEN];

	dp_lines_set_flow(&f->L, DP_FLOW_REGISTER2);
	f->L.cfg.keepalive = DP_KA_STUN;
	f->L.cfg.ka_interval_ms = 1000;
	f->L.cfg.ka_timeout_ms = 300;
	register_line(f, 0, 3600);
	advance_by(f, 1000 * MS_US);
	assert_int_equal(f->stats.tx_keepalive_stun, 1);
	assert_int_equal(
		sip_stun_parse((const uint8_t *)last_sent(f)->text, last_sent(f)->len, &st), 0);
	assert_int_equal(st.txid[2], DP_FLOW_REGISTER2);
	memcpy(other, st.txid, sizeof(other));
	other[2] = DP_FLOW_REGISTER;
	dp_line_stun_answer(&f->L, 0, other, f->now_us);
	assert_int_equal(f->stats.rx_keepalive_ok, 0);
	dp_line_stun_answer(&f->L, 0, st.txid, f->now_us);
	assert_int_equal(f->stats.rx_keepalive_ok, 1);
}

/* Keep-alive settings from control: a line registered without keep-alives starts them
 * at its next registration; nonsense is refused. */
static void keepalive_settings_apply_from_the_next_registration(void **state)
{
	struct fx *f = *state;

	register_line(f, 0, 3600);
	advance_by(f, 5 * S_US);
	assert_int_equal(f->stats.tx_keepalive_stun, 0);
	assert_int_equal(dp_lines_keepalive(&f->L, 9, 1000, 300), -EINVAL);
	assert_int_equal(dp_lines_keepalive(&f->L, DP_KA_STUN, 1000, 0), -EINVAL);
	assert_int_equal(dp_lines_keepalive(&f->L, DP_KA_STUN, 1000, 300), 0);
	register_line(f, 1, 3600);
	advance_by(f, 1000 * MS_US);
	assert_int_equal(f->stats.tx_keepalive_stun, 1); /* line 1 only */
}

/* ---- retransmission and timeout ----------------------------------------------------- */

static void retransmissions_follow_timer_e(void **state)
{
	struct fx *f = *state;
	const uint64_t want_ms[] = {500,   1500,  3500,	 7500,	11500,
				    15500, 19500, 23500, 27500, 31500};

	dp_line_start(&f->L, 0, f->now_us);
	advance_to(f, T0_US + 32 * S_US - MS_US);
	assert_int_equal(f->nresent, sizeof(want_ms) / sizeof(want_ms[0]));
	for (size_t k = 0; k < f->nresent; k++)
		assert_int_equal(f->resent_us[k], T0_US + want_ms[k] * MS_US);
	assert_int_equal(f->stats.tx_retransmissions, f->nresent);
	assert_int_equal(f->nsent, 1);
}

static void timer_f_fails_the_register_with_timeout(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	advance_to(f, T0_US + 32 * S_US - MS_US);
	assert_int_equal(f->nev, 0);
	advance_to(f, T0_US + 32 * S_US);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].type, DP_EV_FAILED);
	assert_int_equal(f->ev[0].reason, DP_FAIL_TIMEOUT);
	assert_int_equal(f->ev[0].t_us, T0_US + 32 * S_US);
	assert_int_equal(f->line[0].state, DP_LINE_RETRY_WAIT);
	assert_int_equal(f->stats.reg_fail[DP_FAIL_TIMEOUT], 1);
}

static void timeout_is_retried_after_retry_ms(void **state)
{
	struct fx *f = *state;
	const uint64_t t_fail = T0_US + 32 * S_US;

	dp_line_start(&f->L, 0, f->now_us);
	advance_to(f, t_fail + 30 * S_US - MS_US);
	assert_int_equal(f->nsent, 1);
	advance_to(f, t_fail + 30 * S_US);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(last_sent(f)->t_us, t_fail + 30 * S_US);
	assert_int_equal(cseq_of(last_sent(f)), 2);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
}

/*
 * No buffer (mbuf pool empty, next hop's MAC not known yet) when a REGISTER is due: it is
 * built and sent at the next timer, not left for timer F to fail (a bug this test found).
 */
static void register_without_a_buffer_is_sent_once_buffers_return(void **state)
{
	struct fx *f = *state;

	f->no_buffer = true; /* mbuf pool empty, or the next hop's MAC not known yet */
	dp_line_start(&f->L, 0, f->now_us);
	assert_int_equal(f->nsent, 0);
	assert_int_equal(f->stats.sip_drops[DP_SIP_DROP_NO_BUFFER], 1);
	f->no_buffer = false;
	/* "try again shortly, as a retransmission would": within T1 and a bit */
	advance_by(f, 600 * MS_US);
	assert_int_equal(f->nsent, 1);
}

/* A registration held back longer than the 32-bit time stamps span (71 minutes without a
 * buffer or a next-hop MAC) counts as the slowest latency, not as a wrapped small one:
 * the 200 comes 2^32 us + 50 ms after the start, which wrapped reads as 50 ms. */
static void registration_held_back_for_hours_counts_as_slowest(void **state)
{
	struct fx *f = *state;

	f->no_buffer = true;
	dp_line_start(&f->L, 0, f->now_us);
	advance_by(f, (UINT64_C(1) << 32) - 570 * MS_US);
	f->no_buffer = false;
	advance_by(f, 600 * MS_US);
	assert_int_equal(f->nsent, 1);
	challenge(f, 0, "n0nce", NULL);
	advance_by(f, 20 * MS_US);
	ok_with_contact_expires(f, 0, 3600);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERED);
	assert_int_equal(f->stats.lat_hist[DP_LAT_BUCKETS - 1], 1);
}

static void unreachable_server_fails_the_transaction_at_once(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	advance_by(f, 3 * MS_US);
	dp_line_unreachable(&f->L, 0, SERVER_IP, SERVER_PORT, f->now_us);
	assert_int_equal(f->nev, 1);
	assert_int_equal(last_event(f)->type, DP_EV_FAILED);
	assert_int_equal(last_event(f)->reason, DP_FAIL_TRANSPORT);
	assert_int_equal(f->line[0].state, DP_LINE_RETRY_WAIT);
	assert_false(f->held[0]);
}

static void unreachable_for_another_destination_is_ignored(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	dp_line_unreachable(&f->L, 0, SERVER_IP, SERVER_PORT + 1, f->now_us);
	dp_line_unreachable(&f->L, 0, SERVER_IP + 1, SERVER_PORT, f->now_us);
	assert_int_equal(f->nev, 0);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
}

/* ---- 423 and 503 -------------------------------------------------------------------- */

static void min_expires_423_asks_again_with_that_expiry(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	respond(f, 0, 423, "Min-Expires: 120\r\n");
	assert_int_equal(f->nsent, 2);
	assert_int_equal(expires_of(last_sent(f)), 120);
	assert_int_equal(cseq_of(last_sent(f)), 2);
	assert_int_equal(f->nev, 0);
}

static void unavailable_503_fails_5xx_with_its_retry_after(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	respond(f, 0, 503, "Retry-After: 7\r\n");
	assert_int_equal(last_event(f)->type, DP_EV_FAILED);
	assert_int_equal(last_event(f)->reason, DP_FAIL_5XX);
	assert_int_equal(last_event(f)->value, 503);
	assert_int_equal(last_event(f)->value2, 7);
	assert_int_equal(f->line[0].state, DP_LINE_RETRY_WAIT);
}

static void unavailable_503_is_retried_after_retry_after(void **state)
{
	struct fx *f = *state;
	uint64_t t_fail;

	dp_line_start(&f->L, 0, f->now_us);
	advance_by(f, 10 * MS_US);
	respond(f, 0, 503, "Retry-After: 7\r\n");
	t_fail = f->now_us;
	advance_to(f, t_fail + 7 * S_US - MS_US);
	assert_int_equal(f->nsent, 1);
	advance_to(f, t_fail + 7 * S_US);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(last_sent(f)->t_us, t_fail + 7 * S_US);
}

/* ---- responses that are not for us -------------------------------------------------- */

static void response_with_another_branch_is_counted_stale_and_ignored(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	respond_twisted(f, 0, 200, NULL, (struct resp_twist){.other_branch = true});
	assert_int_equal(f->stats.sip_drops[DP_SIP_DROP_STALE], 1);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
	assert_int_equal(f->nev, 0);
	assert_int_equal(f->nsent, 1);
	assert_true(f->held[0]);
}

static void response_with_another_cseq_is_counted_stale_and_ignored(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	challenge(f, 0, "abc123", NULL);
	/* a late answer to CSeq 1 while CSeq 2 is out */
	respond_twisted(f, 0, 200, NULL, (struct resp_twist){.cseq_delta = -1});
	assert_int_equal(f->stats.sip_drops[DP_SIP_DROP_STALE], 1);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
	assert_int_equal(f->nev, 0);
	assert_int_equal(f->nsent, 2);
}

static void response_from_another_address_is_counted_not_from_server(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	respond_twisted(f, 0, 200, NULL, (struct resp_twist){.src_ip = SERVER_IP + 1});
	assert_int_equal(f->stats.sip_drops[DP_SIP_DROP_NOT_FROM_SERVER], 1);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
	assert_int_equal(f->nev, 0);
}

static void response_from_another_port_is_counted_not_from_server(void **state)
{
	struct fx *f = *state;

	dp_line_start(&f->L, 0, f->now_us);
	respond_twisted(f, 0, 200, NULL, (struct resp_twist){.src_port = SERVER_PORT + 1});
	assert_int_equal(f->stats.sip_drops[DP_SIP_DROP_NOT_FROM_SERVER], 1);
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERING);
	assert_int_equal(f->nev, 0);
}

/* ---- control's commands: targets, delays, managed failures ---------------------------- */

/* A new target: Request-URI and AOR of that server and domain, sent to that server, and
 * the 401 of the backup realm answered with the HA1 of that realm. */
static void register_at_a_new_target_uses_its_uri_aor_server_and_realm(void **state)
{
	struct fx *f = *state;
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;
	struct sip_str auth;
	char p[128], nc[16], cnonce[64], want[129];

	dp_line_register(&f->L, 0, true, DP_TARGET(1, 1, 1), 0, f->now_us);
	assert_int_equal(f->nsent, 1);
	parse_sent(last_sent(f), &m, hdrs);
	assert_true(sip_str_eq(m.ruri, SIP_STR(DIGEST_URI2)));
	assert_non_null(strstr(last_sent(f)->text, "From: <sip:1000@" REALM2 ">"));
	respond_twisted(f, 0, 401,
			"WWW-Authenticate: Digest realm=\"" REALM2
			"\", nonce=\"b4ck\", qop=\"auth\"\r\n",
			(struct resp_twist){.src_ip = SERVER2_IP});
	assert_int_equal(f->nsent, 2);
	parse_sent(last_sent(f), &m, hdrs);
	auth = header(&m, SIP_HDR_AUTHORIZATION);
	assert_true(auth_param(auth, "uri", p, sizeof(p)));
	assert_string_equal(p, DIGEST_URI2);
	assert_true(auth_param(auth, "nc", nc, sizeof(nc)));
	assert_true(auth_param(auth, "cnonce", cnonce, sizeof(cnonce)));
	assert_true(auth_param(auth, "response", p, sizeof(p)));
	expected_response_at(EVP_md5(), REALM2, DIGEST_URI2, "1000", "b4ck", nc, cnonce, want);
	assert_string_equal(p, want);
	/* the answer must come from the new server; the old one is not ours any more */
	respond(f, 0, 200, NULL);
	assert_int_equal(f->stats.sip_drops[DP_SIP_DROP_NOT_FROM_SERVER], 1);
	respond_twisted(f, 0, 200, NULL, (struct resp_twist){.src_ip = SERVER2_IP});
	assert_int_equal(f->line[0].state, DP_LINE_REGISTERED);
	assert_int_equal(last_event(f)->target, DP_TARGET(1, 1, 1));
	assert_int_equal(f->stats.tx_by_server[1], 2);
	assert_int_equal(f->stats.reg_ok_by_server[1], 1);
}

/* Leaving a registered target: the old binding stops counting as registered. */
static void moving_a_registered_line_uncounts_the_old_binding(void **state)
{
	struct fx *f = *state;

	register_line(f, 1, 60);
	assert_int_equal(f->stats.registered, 1);
	dp_line_register(&f->L, 1, true, DP_TARGET(1, 1, 1), 0, f->now_us);
	assert_int_equal(f->stats.registered, 0);
	assert_int_equal(f->line[1].state, DP_LINE_REGISTERING);
}

static void register_after_a_delay_waits_that_long(void **state)
{
	struct fx *f = *state;
	uint64_t t0 = f->now_us;

	dp_line_register(&f->L, 2, false, 0, 3 * S_US, f->now_us);
	assert_int_equal(f->nsent, 0);
	advance_to(f, t0 + 3 * S_US - 2 * MS_US);
	assert_int_equal(f->nsent, 0);
	advance_to(f, t0 + 3 * S_US + 2 * MS_US);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->line[2].state, DP_LINE_REGISTERING);
}

/* A target not configured: counted, nothing sent, and the line reports it failed (with
 * the target asked for), so control does not wait on it. */
static void register_at_a_target_not_configured_is_counted_and_reported(void **state)
{
	struct fx *f = *state;

	dp_line_register(&f->L, 0, true, DP_TARGET(2, 0, 2), 0, f->now_us);
	dp_line_register(&f->L, 0, true, DP_TARGET(0, 1, 0), 0, f->now_us); /* no template */
	dp_line_register(&f->L, 0, true, DP_TARGET(0, 0, 9), 0, f->now_us);
	assert_int_equal(f->stats.bad_commands, 3);
	assert_int_equal(f->nsent, 0);
	assert_int_equal(f->line[0].reg, 0);
	assert_int_equal(last_event(f)->type, DP_EV_FAILED);
	assert_int_equal(last_event(f)->reason, DP_FAIL_TRANSPORT);
	assert_int_equal(last_event(f)->target, DP_TARGET(0, 0, 9));
}

/* Managed by control: a failed line reports and waits; it does not retry on its own. */
static void managed_line_waits_for_control_after_a_failure(void **state)
{
	struct fx *f = *state;
	uint64_t t0 = f->now_us;

	f->L.cfg.managed = true;
	dp_line_start(&f->L, 0, f->now_us);
	advance_to(f, t0 + 33 * S_US);
	assert_int_equal(last_event(f)->type, DP_EV_FAILED);
	assert_int_equal(f->line[0].state, DP_LINE_IDLE);
	f->nsent = 0;
	advance_to(f, t0 + 100 * S_US);
	assert_int_equal(f->nsent, 0);
}

/* ---- the SUBSCRIBE flow: the same client, in its dialog ------------------------------- */

/* Turn the fixture's lines into subscriptions, as dataplane.c sets up the second flow. */
static void sub_mode(struct fx *f)
{
	f->sub_tpl = aligned_alloc(64, (sizeof(*f->sub_tpl) + 63) & ~(size_t)63);
	assert_non_null(f->sub_tpl);
	assert_int_equal(sip_tpl_prepare(f->sub_tpl,
					 &(struct sip_tpl_params){
						 .method = SIP_TPL_SUBSCRIBE,
						 .request_uri = SIP_STR("sip:{user}@" REALM),
						 .from_uri = SIP_STR("sip:{user}@" REALM),
						 .from_tag = SIP_STR("s{tag}"),
						 .call_id = SIP_STR("s{callid}"),
						 .contact_uri = SIP_STR("sip:{user}@{hostport}"),
						 .via_sent_by = SIP_STR("{hostport}"),
						 .transport = SIP_TPL_UDP,
						 .to_tag_var = true,
						 .dialog_var = true,
					 }),
			 0);
	f->L.tpl[0][0] = f->sub_tpl;
	dp_lines_set_flow(&f->L, DP_FLOW_SUBSCRIBE);
	f->L.to_tag = f->to_tag;
	f->L.dlg = f->dlg;
	f->L.cfg.aor_domain[0] = SIP_STR(REALM);
	f->L.cfg.managed = true;
	f->method = "SUBSCRIBE";
}

static struct sip_str to_tag_of(const struct sent *s, struct sip_msg *m, struct sip_header *hdrs)
{
	parse_sent(s, m, hdrs);
	return m->to.tag;
}

/* RFC 6665 §4.1.2.1: the refresh and the un-SUBSCRIBE carry the notifier's tag. */
static void subscribe_refresh_and_unsubscribe_stay_in_the_dialog(void **state)
{
	struct fx *f = *state;
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;

	sub_mode(f);
	dp_line_start(&f->L, 1, f->now_us);
	assert_non_null(strstr(last_sent(f)->text, "SUBSCRIBE sip:1001@" REALM " SIP/2.0"));
	assert_int_equal(to_tag_of(last_sent(f), &m, hdrs).len, 0);
	assert_non_null(strstr(last_sent(f)->text, "\r\nEvent: message-summary\r\n"));
	respond(f, 1, 200, "Expires: 40\r\n");
	assert_int_equal(f->line[1].state, DP_LINE_REGISTERED);
	assert_int_equal(last_event(f)->flow, DP_FLOW_SUBSCRIBE);
	assert_int_equal(last_event(f)->value, 40);
	advance_by(f, 37 * S_US); /* refreshed within 50-90 % of 40 s */
	assert_true(sip_str_eq(to_tag_of(last_sent(f), &m, hdrs), SIP_STR("srv1")));
	assert_int_equal(f->stats.tx_requests[DP_M_SUBSCRIBE], 2);
	respond(f, 1, 200, "Expires: 40\r\n");
	dp_line_unregister(&f->L, 1, f->now_us);
	assert_true(sip_str_eq(to_tag_of(last_sent(f), &m, hdrs), SIP_STR("srv1")));
	assert_int_equal(expires_of(last_sent(f)), 0);
	respond(f, 1, 200, "Expires: 0\r\n");
	assert_int_equal(last_event(f)->type, DP_EV_UNREGISTERED);
	assert_int_equal(f->to_tag[1][0], 0); /* the dialog is over */
}

/* A 481 to a refresh: the notifier lost the subscription; a new one goes out at once. */
static void subscribe_481_starts_a_new_subscription_at_once(void **state)
{
	struct fx *f = *state;
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;
	size_t sent;

	sub_mode(f);
	dp_line_start(&f->L, 2, f->now_us);
	respond(f, 2, 200, "Expires: 40\r\n");
	advance_by(f, 37 * S_US);
	assert_int_equal(to_tag_of(last_sent(f), &m, hdrs).len, 4);
	sent = f->nsent;
	respond(f, 2, 481, NULL);
	assert_int_equal(f->nsent, sent + 1);
	assert_int_equal(to_tag_of(last_sent(f), &m, hdrs).len, 0);
	assert_int_equal(f->line[2].state, DP_LINE_REGISTERING);
	respond(f, 2, 200, "Expires: 40\r\n");
	assert_int_equal(f->line[2].state, DP_LINE_REGISTERED);
}

/*
 * RFC 3261 §12.1.2 and §12.2.1.1: the 2xx's Contact is the remote target and its
 * Record-Route, reversed, the route set; the refresh, its credentials and the
 * un-SUBSCRIBE are addressed so. A later 2xx refreshes the target, never the route set.
 */
static void subscribe_in_dialog_goes_to_the_remote_target_along_the_route_set(void **state)
{
	struct fx *f = *state;
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;
	char want[160], first_cid[96];

	sub_mode(f);
	dp_line_start(&f->L, 1, f->now_us);
	parse_sent(last_sent(f), &m, hdrs);
	snprintf(first_cid, sizeof(first_cid), "%.*s", (int)m.call_id.len, m.call_id.p);
	respond(f, 1, 200,
		"Expires: 40\r\nRecord-Route: <sip:198.18.0.3;lr;ftag=s1>\r\n"
		"Record-Route: <sip:198.18.0.8;lr>, <sip:198.18.0.9;lr>\r\n"
		"Contact: <sip:mwi@198.18.0.7:5070>\r\n");
	assert_int_equal(f->line[1].state, DP_LINE_REGISTERED);
	advance_by(f, 37 * S_US);
	parse_sent(last_sent(f), &m, hdrs);
	assert_true(sip_str_eq(m.ruri, SIP_STR("sip:mwi@198.18.0.7:5070")));
	assert_true(sip_str_eq(header(&m, SIP_HDR_ROUTE),
			       SIP_STR("<sip:198.18.0.9;lr>,<sip:198.18.0.8;lr>,"
				       "<sip:198.18.0.3;lr;ftag=s1>")));
	assert_true(sip_str_eq(m.to.tag, SIP_STR("srv1")));
	/* the notifier challenges the refresh: the credentials are for the target */
	challenge(f, 1, "n1", NULL);
	parse_sent(last_sent(f), &m, hdrs);
	assert_true(sip_str_eq(m.ruri, SIP_STR("sip:mwi@198.18.0.7:5070")));
	assert_non_null(strstr(last_sent(f)->text, "uri=\"sip:mwi@198.18.0.7:5070\""));
	/* a new Contact moves the target; the route set stays */
	respond(f, 1, 200, "Expires: 40\r\nContact: <sip:mwi2@198.18.0.7>\r\n");
	dp_line_unregister(&f->L, 1, f->now_us);
	parse_sent(last_sent(f), &m, hdrs);
	assert_true(sip_str_eq(m.ruri, SIP_STR("sip:mwi2@198.18.0.7")));
	snprintf(want, sizeof(want), "%.*s", (int)header(&m, SIP_HDR_ROUTE).len,
		 header(&m, SIP_HDR_ROUTE).p);
	assert_string_equal(want, "<sip:198.18.0.9;lr>,<sip:198.18.0.8;lr>,"
				  "<sip:198.18.0.3;lr;ftag=s1>");
	assert_int_equal(expires_of(last_sent(f)), 0);
	respond(f, 1, 200, "Expires: 0\r\n");
	assert_int_equal(f->dlg[1][0], 0); /* the dialog is over */
	/* the next subscription starts outside a dialog again, with a Call-ID of its own */
	dp_line_start(&f->L, 1, f->now_us);
	parse_sent(last_sent(f), &m, hdrs);
	assert_true(sip_str_eq(m.ruri, SIP_STR("sip:1001@" REALM)));
	assert_int_equal(header(&m, SIP_HDR_ROUTE).len, 0);
	assert_false(sip_str_eq(m.call_id, sip_str_cstr(first_cid)));
}

/* A 2xx without a Contact, or with a route set past DP_DLG_MAX, leaves the requests
 * addressed as before: in the dialog by its tag, at the template's Request-URI. */
static void subscribe_without_a_usable_target_keeps_the_templates_uri(void **state)
{
	struct fx *f = *state;
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;
	char rr[400];

	sub_mode(f);
	dp_line_start(&f->L, 2, f->now_us);
	respond(f, 2, 200, "Expires: 40\r\n");
	advance_by(f, 37 * S_US);
	parse_sent(last_sent(f), &m, hdrs);
	assert_true(sip_str_eq(m.ruri, SIP_STR("sip:1002@" REALM)));
	assert_true(sip_str_eq(m.to.tag, SIP_STR("srv2")));
	snprintf(rr, sizeof(rr),
		 "Expires: 40\r\nContact: <sip:n@198.18.0.7>\r\n"
		 "Record-Route: <sip:%0200d;lr>\r\n",
		 0);
	f->to_tag[2][0] = 0; /* as if the dialog were new */
	respond(f, 2, 200, rr);
	advance_by(f, 37 * S_US);
	parse_sent(last_sent(f), &m, hdrs);
	assert_true(sip_str_eq(m.ruri, SIP_STR("sip:1002@" REALM)));
	assert_int_equal(header(&m, SIP_HDR_ROUTE).len, 0);
}

/*
 * A SUBSCRIBE that timed out may still have made its dialog at the notifier (the 2xx late,
 * from a proxy catching up after a freeze): the next SUBSCRIBE has a Call-ID of its own,
 * or the notifier would take it for a request in that dialog sent to the wrong target.
 * A challenge answered keeps the Call-ID: it is the same request again (RFC 3261 §22.2).
 */
static void subscribe_timed_out_is_retried_under_a_new_call_id(void **state)
{
	struct fx *f = *state;
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;
	char first[96];

	sub_mode(f);
	dp_line_start(&f->L, 1, f->now_us);
	parse_sent(last_sent(f), &m, hdrs);
	snprintf(first, sizeof(first), "%.*s", (int)m.call_id.len, m.call_id.p);
	advance_by(f, 33 * S_US); /* timer F: 32 s */
	assert_int_equal(last_event(f)->type, DP_EV_FAILED);
	assert_int_equal(last_event(f)->reason, DP_FAIL_TIMEOUT);
	dp_line_start(&f->L, 1, f->now_us);
	parse_sent(last_sent(f), &m, hdrs);
	assert_int_equal(m.to.tag.len, 0);
	assert_false(sip_str_eq(m.call_id, sip_str_cstr(first)));
	snprintf(first, sizeof(first), "%.*s", (int)m.call_id.len, m.call_id.p);
	challenge(f, 1, "n1", NULL);
	parse_sent(last_sent(f), &m, hdrs);
	assert_true(sip_str_eq(m.call_id, sip_str_cstr(first)));
}

/*
 * The notifier sends line i a NOTIFY in the dialog of its last SUBSCRIBE (From: the
 * notifier's tag, To: the line's; call_id, when given, replaces the dialog's) with the
 * Subscription-State state. Whether the line took it as the end of its subscription.
 */
static bool notify(struct fx *f, uint32_t i, const char *state, const char *call_id,
		   const char *from_tag)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg req;
	const struct sent *s = NULL;
	int n;

	for (size_t k = f->nsent; k-- > 0;)
		if (f->sent[k].id == i) {
			s = &f->sent[k];
			break;
		}
	assert_non_null(s);
	parse_sent(s, &req, hdrs);
	n = snprintf(f->rx, sizeof(f->rx),
		     "NOTIFY sip:%.31s@198.18.0.1:5060 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 198.18.0.7:5070;branch=z9hG4bKn%u\r\n"
		     "From: <sip:%.31s@" REALM ">;tag=%s\r\n"
		     "To: <sip:%.31s@" REALM ">;tag=%.*s\r\n"
		     "Call-ID: %.*s\r\n"
		     "CSeq: 7 NOTIFY\r\n"
		     "Event: message-summary\r\n"
		     "Subscription-State: %s\r\n"
		     "Content-Length: 0\r\n"
		     "\r\n",
		     f->L.auth_user[i], i, f->L.auth_user[i], from_tag, f->L.auth_user[i],
		     (int)req.from.tag.len, req.from.tag.p,
		     call_id ? (int)strlen(call_id) : (int)req.call_id.len,
		     call_id ? call_id : req.call_id.p, state);
	assert_true(n > 0 && (size_t)n < sizeof(f->rx));
	parse_text(f->rx, (size_t)n, &f->rx_msg, f->rx_hdrs);
	assert_true(f->rx_msg.is_request);
	return dp_line_notify(&f->L, i, &f->rx_msg, f->now_us);
}

/*
 * RFC 6665 §4.1.3: a NOTIFY in the dialog saying terminated ends the subscription; with
 * reason deactivated (or timeout, or none) it is made again at once, in a new dialog.
 * An active one, or one of another dialog, changes nothing.
 */
static void notify_terminated_deactivated_subscribes_anew_at_once(void **state)
{
	struct fx *f = *state;
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;
	char first[96];
	size_t sent, nev;

	sub_mode(f);
	dp_line_start(&f->L, 1, f->now_us);
	parse_sent(last_sent(f), &m, hdrs);
	snprintf(first, sizeof(first), "%.*s", (int)m.call_id.len, m.call_id.p);
	respond(f, 1, 200, "Expires: 40\r\n");
	assert_int_equal(f->stats.registered, 1);
	nev = f->nev;
	assert_false(notify(f, 1, "active;expires=40", NULL, "srv1"));
	assert_false(notify(f, 1, "terminated;reason=deactivated", "other@198.18.0.1", "srv1"));
	assert_false(notify(f, 1, "terminated;reason=deactivated", NULL, "srvX"));
	assert_int_equal(f->line[1].state, DP_LINE_REGISTERED);
	assert_int_equal(f->nev, nev);
	assert_true(notify(f, 1, "terminated;reason=deactivated", NULL, "srv1"));
	assert_int_equal(last_event(f)->type, DP_EV_FAILED);
	assert_int_equal(last_event(f)->reason, DP_FAIL_TERMINATED);
	assert_int_equal(last_event(f)->value2, 0); /* at once */
	assert_int_equal(f->stats.reg_fail[DP_FAIL_TERMINATED], 1);
	assert_int_equal(f->stats.registered, 0);
	assert_int_equal(f->to_tag[1][0], 0);
	/* control asks again at once: outside a dialog, with a Call-ID of its own */
	sent = f->nsent;
	dp_line_register(&f->L, 1, false, 0, 0, f->now_us);
	assert_int_equal(f->nsent, sent + 1);
	parse_sent(last_sent(f), &m, hdrs);
	assert_int_equal(m.to.tag.len, 0);
	assert_false(sip_str_eq(m.call_id, sip_str_cstr(first)));
	/* a repeat of the NOTIFY (its 200 lost) finds no dialog: nothing happens twice */
	assert_false(notify(f, 1, "terminated;reason=deactivated", first, "srv1"));
	respond(f, 1, 200, "Expires: 40\r\n");
	assert_int_equal(f->line[1].state, DP_LINE_REGISTERED);
	assert_int_equal(f->stats.registered, 1);
}

/* The wait before subscribing again: retry-after= when given; probation, giveup,
 * rejected and noresource without it the retry timer; timeout and none at once. */
static void notify_terminated_waits_as_its_reason_says(void **state)
{
	static const struct {
		const char *state;
		uint32_t wait_s;
	} cases[] = {
		{"terminated;reason=probation;retry-after=90", 90},
		{"terminated;reason=giveup", 30},
		{"terminated;reason=rejected", 30},
		{"terminated;reason=noresource", 30},
		{"terminated;reason=timeout", 0},
		{"terminated", 0},
		{"Terminated;Reason=Timeout;retry-after=5", 5},
		{"terminated;retry-after=999999999", 86400},
	};
	struct fx *f = *state;

	sub_mode(f);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		dp_line_register(&f->L, 2, false, 0, 0, f->now_us);
		respond(f, 2, 200, "Expires: 40\r\n");
		assert_int_equal(f->line[2].state, DP_LINE_REGISTERED);
		assert_true(notify(f, 2, cases[k].state, NULL, "srv2"));
		assert_int_equal(last_event(f)->reason, DP_FAIL_TERMINATED);
		assert_int_equal(last_event(f)->value2, cases[k].wait_s);
		assert_int_equal(f->line[2].state, DP_LINE_IDLE);
	}
	/* a malformed Subscription-State is no end of anything */
	dp_line_register(&f->L, 2, false, 0, 0, f->now_us);
	respond(f, 2, 200, "Expires: 40\r\n");
	assert_false(notify(f, 2, "terminated;retry-after=soon", NULL, "srv2"));
	assert_int_equal(f->line[2].state, DP_LINE_REGISTERED);
}

/* Not managed (a bench, a plain run): the line's own timer subscribes again. */
static void notify_terminated_unmanaged_line_subscribes_again_itself(void **state)
{
	struct fx *f = *state;
	size_t sent;

	sub_mode(f);
	f->L.cfg.managed = false;
	dp_line_start(&f->L, 1, f->now_us);
	respond(f, 1, 200, "Expires: 40\r\n");
	assert_true(notify(f, 1, "terminated;reason=timeout", NULL, "srv1"));
	assert_int_equal(f->line[1].state, DP_LINE_RETRY_WAIT);
	sent = f->nsent;
	advance_by(f, 2000);
	assert_int_equal(f->nsent, sent + 1);
	assert_int_equal(f->line[1].state, DP_LINE_REGISTERING);
}

/* Moving to another proxy starts another dialog: no tag of the old one goes along. */
static void subscribe_moved_elsewhere_starts_without_the_old_tag(void **state)
{
	struct fx *f = *state;
	struct sip_header hdrs[MAX_HDRS];
	struct sip_msg m;

	sub_mode(f);
	f->L.tpl[1][0] = f->sub_tpl;
	dp_line_start(&f->L, 0, f->now_us);
	respond(f, 0, 200, "Expires: 40\r\n");
	assert_int_equal(f->to_tag[0][0], 4);
	dp_line_register(&f->L, 0, true, DP_TARGET(1, 0, 1), 0, f->now_us);
	assert_int_equal(to_tag_of(last_sent(f), &m, hdrs).len, 0);
}

/* ---- un-REGISTER -------------------------------------------------------------------- */

static void unregister_of_a_registered_line_sends_expires_0(void **state)
{
	struct fx *f = *state;
	uint32_t cseq;

	register_line(f, 1, 40);
	cseq = cseq_of(last_sent(f));
	dp_line_unregister(&f->L, 1, f->now_us);
	assert_int_equal(last_sent(f)->id, 1);
	assert_int_equal(expires_of(last_sent(f)), 0);
	assert_int_equal(cseq_of(last_sent(f)), cseq + 1);
	assert_int_equal(f->line[1].state, DP_LINE_UNREGISTERING);
}

static void unregister_200_reports_unregistered_and_uncounts_the_line(void **state)
{
	struct fx *f = *state;

	register_line(f, 1, 40);
	assert_int_equal(f->stats.registered, 1);
	dp_line_unregister(&f->L, 1, f->now_us);
	respond(f, 1, 200, NULL);
	assert_int_equal(last_event(f)->type, DP_EV_UNREGISTERED);
	assert_int_equal(last_event(f)->line, 1);
	assert_int_equal(f->stats.registered, 0);
	assert_int_equal(f->stats.unreg_ok, 1);
	assert_int_equal(f->line[1].state, DP_LINE_IDLE);
}

/* ---- addressing --------------------------------------------------------------------- */

static struct dp_lines addr_table(void)
{
	/* global lines 4..8 of a range of 3 ports per address */
	return (struct dp_lines){
		.n = 5, .first_id = 4, .first_ip = FIRST_IP, .first_port = 6000, .nports = 3};
}

static void lines_index_inverts_lines_addr_over_the_range(void **state)
{
	struct dp_lines L = addr_table();

	(void)state;
	for (uint32_t i = 0; i < L.n; i++) {
		uint32_t ip;
		uint16_t port;

		dp_lines_addr(&L, i, &ip, &port);
		assert_int_equal(dp_lines_index(&L, ip, port), i);
	}
}

static void lines_addr_fills_the_port_range_then_the_next_address(void **state)
{
	struct dp_lines L = addr_table();
	uint32_t ip;
	uint16_t port;

	(void)state;
	dp_lines_addr(&L, 0, &ip, &port); /* global 4 */
	assert_int_equal(ip, FIRST_IP + 1);
	assert_int_equal(port, 6001);
	dp_lines_addr(&L, 2, &ip, &port); /* global 6 */
	assert_int_equal(ip, FIRST_IP + 2);
	assert_int_equal(port, 6000);
}

static void lines_index_rejects_addresses_outside_the_range(void **state)
{
	struct dp_lines L = addr_table();

	(void)state;
	assert_int_equal(dp_lines_index(&L, FIRST_IP - 1, 6002), -1);
	assert_int_equal(dp_lines_index(&L, FIRST_IP + 1, 5999), -1);
	assert_int_equal(dp_lines_index(&L, FIRST_IP + 1, 6003), -1);
	assert_int_equal(dp_lines_index(&L, FIRST_IP, 6000), -1);     /* global 0: before */
	assert_int_equal(dp_lines_index(&L, FIRST_IP + 1, 6000), -1); /* global 3: before */
	assert_int_equal(dp_lines_index(&L, FIRST_IP + 3, 6000), -1); /* global 9: after */
	assert_int_equal(dp_lines_index(&L, UINT32_MAX, 6000), -1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(start_sends_register_with_cseq_1_and_expires_60),
		T(start_sends_register_without_credentials),
		T(branches_differ_across_lines_requests_and_flows),
		T(start_sends_register_with_an_rfc3261_branch),
		T(start_holds_the_register_for_retransmission),
		T(challenge_401_is_answered_with_cseq_2_and_a_new_branch),
		T(challenge_401_md5_is_answered_with_the_right_digest),
		T(challenge_401_sha256_is_answered_with_the_right_digest),
		T(second_401_without_stale_fails_auth),
		T(stale_401_after_credentials_sends_credentials_again),
		T(ok_200_reports_registered_with_the_contact_expiry),
		T(ok_200_marks_the_line_registered_and_counts_it),
		T(ok_200_without_our_contact_takes_the_expires_header),
		T(refresh_is_sent_between_50_and_90_percent_of_the_granted_expiry),
		T(refresh_in_flight_keeps_the_line_counted_registered),
		T(stun_keepalives_go_at_80_to_100_percent_and_a_missed_one_fails_the_flow),
		T(the_second_outbound_flow_keeps_alive_under_its_own_name),
		T(answered_keepalives_keep_their_pace_whichever_timer_was_left),
		T(ping_keepalives_await_their_pong_and_a_missed_one_fails_the_flow),
		T(reliable_transport_sends_once_and_times_out_at_timer_f),
		T(lost_connection_fails_the_request_or_the_registered_flow),
		T(resend_builds_the_request_anew_with_the_connections_address),
		T(granted_expiry_is_read_at_the_connections_address),
		T(keepalive_settings_apply_from_the_next_registration),
		T(retransmissions_follow_timer_e),
		T(timer_f_fails_the_register_with_timeout),
		T(timeout_is_retried_after_retry_ms),
		T(register_without_a_buffer_is_sent_once_buffers_return),
		T(registration_held_back_for_hours_counts_as_slowest),
		T(unreachable_server_fails_the_transaction_at_once),
		T(unreachable_for_another_destination_is_ignored),
		T(min_expires_423_asks_again_with_that_expiry),
		T(unavailable_503_fails_5xx_with_its_retry_after),
		T(unavailable_503_is_retried_after_retry_after),
		T(response_with_another_branch_is_counted_stale_and_ignored),
		T(response_with_another_cseq_is_counted_stale_and_ignored),
		T(response_from_another_address_is_counted_not_from_server),
		T(response_from_another_port_is_counted_not_from_server),
		T(register_at_a_new_target_uses_its_uri_aor_server_and_realm),
		T(moving_a_registered_line_uncounts_the_old_binding),
		T(register_after_a_delay_waits_that_long),
		T(register_at_a_target_not_configured_is_counted_and_reported),
		T(managed_line_waits_for_control_after_a_failure),
		T(subscribe_refresh_and_unsubscribe_stay_in_the_dialog),
		T(subscribe_481_starts_a_new_subscription_at_once),
		T(subscribe_in_dialog_goes_to_the_remote_target_along_the_route_set),
		T(subscribe_without_a_usable_target_keeps_the_templates_uri),
		T(subscribe_timed_out_is_retried_under_a_new_call_id),
		T(notify_terminated_deactivated_subscribes_anew_at_once),
		T(notify_terminated_waits_as_its_reason_says),
		T(notify_terminated_unmanaged_line_subscribes_again_itself),
		T(subscribe_moved_elsewhere_starts_without_the_old_tag),
		T(unregister_of_a_registered_line_sends_expires_0),
		T(unregister_200_reports_unregistered_and_uncounts_the_line),
		cmocka_unit_test(lines_index_inverts_lines_addr_over_the_range),
		cmocka_unit_test(lines_addr_fills_the_port_range_then_the_next_address),
		cmocka_unit_test(lines_index_rejects_addresses_outside_the_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
