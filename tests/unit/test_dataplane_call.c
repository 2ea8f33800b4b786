/*
 * Promises of dataplane/call.c, the calls the lines place, driven as pure logic through a
 * fake struct dp_call_io: what goes out (over UDP, and over a connection), when it is sent
 * again, and what a lost connection does to a call. Answers are written here as a proxy
 * would write them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/call.h"
#include "dataplane/line.h"
#include "sip/builder.h"
#include "sip/digest.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define PROXY_IP IP(198, 18, 0, 3)
#define MAX_SENT 32
#define TEXT_MAX 2048
#define T0_US 5000000ull
#define MS_US 1000ull
#define TO "sip:callee@198.18.0.7"
#define HOSTPORT "198.19.254.1:5071" /* a connection's: the kernel's address, the line's port */

struct sent {
	uint32_t k, line, ip;
	uint16_t port;
	bool keep;
	char text[TEXT_MAX];
};

struct fx {
	struct dp_stats stats; /* first: it wants 64-octet alignment */
	struct dp_lines L;
	struct dp_line line[1];
	char auth_user[1][32];
	char hostport[1][DP_HOSTPORT_MAX + 1];
	char ha1[1][32]; /* any: the proxy here does not check the response */
	struct dp_calls c;
	uint64_t now_us;
	struct sent sent[MAX_SENT];
	size_t nsent, nresent, nreleased, nended;
	struct dp_msg ev[MAX_SENT];
	size_t nev;
	char rx[TEXT_MAX];
	struct sip_header hdrs[32];
	struct sip_msg m;
};

static bool io_send(void *ctx, uint32_t k, uint32_t i, uint32_t ip, uint16_t port, const char *text,
		    size_t n, bool keep)
{
	struct fx *f = ctx;
	struct sent *s;

	assert_true(f->nsent < MAX_SENT && n < TEXT_MAX);
	s = &f->sent[f->nsent++];
	*s = (struct sent){.k = k, .line = i, .ip = ip, .port = port, .keep = keep};
	memcpy(s->text, text, n);
	s->text[n] = 0;
	return true;
}

static void io_resend(void *ctx, uint32_t k)
{
	(void)k;
	((struct fx *)ctx)->nresent++;
}

static void io_release(void *ctx, uint32_t k)
{
	(void)k;
	((struct fx *)ctx)->nreleased++;
}

static void io_end(void *ctx, uint32_t k)
{
	(void)k;
	((struct fx *)ctx)->nended++;
}

static void io_event(void *ctx, const struct dp_msg *m)
{
	struct fx *f = ctx;

	assert_true(f->nev < MAX_SENT);
	f->ev[f->nev++] = *m;
}

/* One registered line at 198.18.1.1:5071 calling through the proxy 198.18.0.3:5060;
 * over a connection (reliable) its address is HOSTPORT. */
static struct fx *fixture(bool reliable)
{
	struct fx *f = aligned_alloc(64, (sizeof(struct fx) + 63) & ~(size_t)63);
	struct dp_call_io io = {.send = io_send,
				.resend = io_resend,
				.release = io_release,
				.end = io_end,
				.event = io_event};

	assert_non_null(f);
	memset(f, 0, sizeof(*f));
	io.ctx = f;
	f->L.line = f->line;
	f->L.n = 1;
	f->L.first_ip = IP(198, 18, 1, 1);
	f->L.first_port = 5071;
	f->L.nports = 1;
	memcpy(f->auth_user[0], "100000", 6);
	f->L.auth_user = (const char(*)[32])f->auth_user;
	memset(f->ha1[0], 'a', 32);
	f->L.ha1_md5[0] = (const char(*)[32])f->ha1;
	assert_int_equal(sip_digest_ctx_create(&f->L.dctx), 0);
	f->L.stats = &f->stats;
	f->L.cfg.t1_ms = 500;
	f->L.cfg.t2_ms = 4000;
	f->L.cfg.tf_ms = 32000;
	f->L.cfg.server[0] = (struct dp_server_addr){PROXY_IP, 5060};
	f->L.cfg.aor_domain[0] = SIP_STR("example.test");
	f->line[0].state = DP_LINE_REGISTERED;
	if (reliable) {
		f->hostport[0][0] = (char)strlen(HOSTPORT);
		memcpy(f->hostport[0] + 1, HOSTPORT, strlen(HOSTPORT));
		f->L.hostport = f->hostport;
	}
	f->now_us = T0_US;
	assert_int_equal(dp_calls_init(&f->c, 4, &f->L, TO, &io, T0_US / MS_US), 0);
	f->c.reliable = reliable;
	f->c.transport = reliable ? SIP_TPL_TCP : SIP_TPL_UDP;
	return f;
}

static void done(struct fx *f)
{
	dp_calls_free(&f->c);
	sip_digest_ctx_destroy(&f->L.dctx);
	free(f);
}

/* One call placed now (1,000 calls/s for one poll, then none), held hold_ms once up. */
static void place_one(struct fx *f, uint32_t hold_ms)
{
	dp_calls_set(&f->c, 1000000, hold_ms, DP_TARGET(0, 0, 0), f->now_us);
	dp_calls_poll(&f->c, f->now_us);
	dp_calls_set(&f->c, 0, hold_ms, DP_TARGET(0, 0, 0), f->now_us);
	assert_int_equal(f->stats.calls_attempted, 1);
	assert_int_equal(f->nsent, 1);
	assert_non_null(strstr(f->sent[0].text, "INVITE " TO " SIP/2.0\r\n"));
}

static void advance_to(struct fx *f, uint64_t t_us)
{
	for (uint64_t ms = f->now_us / MS_US + 1; ms <= t_us / MS_US; ms++)
		dp_calls_poll(&f->c, ms * MS_US);
	f->now_us = t_us;
}

/* The answer a proxy gives to sent request s: status, with a To tag past 1xx, the
 * request's CSeq, and extra header lines (each ending CRLF). */
static void answer_with(struct fx *f, const struct sent *s, int status, const char *method,
			const char *extra)
{
	const char *via = strstr(s->text, "Via: ");
	const char *end = strstr(via, "\r\n");
	const char *cid = strstr(s->text, "Call-ID: ");
	const char *cend = strstr(cid, "\r\n");
	const char *from = strstr(s->text, "From: ");
	const char *fend = strstr(from, "\r\n");
	const char *cseq = strstr(s->text, "CSeq: ");
	struct sip_parse_error pe;
	int n;

	n = snprintf(f->rx, sizeof(f->rx),
		     "SIP/2.0 %d X\r\n%.*s\r\n%.*s\r\nTo: <" TO ">%s\r\n%.*s\r\nCSeq: %d %s\r\n"
		     "Contact: <sip:callee@198.18.0.7:5060>\r\n"
		     "Record-Route: <sip:198.18.0.3;lr;transport=tcp>\r\n"
		     "%sContent-Length: 0\r\n\r\n",
		     status, (int)(end - via), via, (int)(fend - from), from,
		     status >= 200 ? ";tag=far1" : "", (int)(cend - cid), cid, atoi(cseq + 6),
		     method, extra);
	assert_int_equal(sip_parse(f->rx, (size_t)n, SIP_FRAMING_DATAGRAM, &f->m, f->hdrs, 32, &pe),
			 n);
	assert_true(dp_calls_response(&f->c, 0, &f->m, PROXY_IP, 5060, f->now_us));
}

static void answer(struct fx *f, const struct sent *s, int status, const char *method)
{
	answer_with(f, s, status, method, "");
}

static void udp_invite_is_retransmitted_on_timer_a_until_timer_b(void **state)
{
	struct fx *f = fixture(false);

	(void)state;
	place_one(f, 1000);
	assert_non_null(strstr(f->sent[0].text, "Via: SIP/2.0/UDP 198.18.1.1:5071;branch="));
	assert_null(strstr(f->sent[0].text, ";alias"));
	assert_non_null(strstr(f->sent[0].text, "Contact: <sip:100000@198.18.1.1:5071>\r\n"));
	assert_true(f->sent[0].keep);
	advance_to(f, T0_US + 600 * MS_US);
	assert_int_equal(f->nresent, 1); /* at T1 */
	advance_to(f, T0_US + 1600 * MS_US);
	assert_int_equal(f->nresent, 2); /* then 2*T1 later */
	advance_to(f, T0_US + 32100 * MS_US);
	assert_int_equal(f->stats.calls_failed[DP_FAIL_TIMEOUT], 1);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].reason, DP_FAIL_TIMEOUT);
	assert_int_equal(f->nended, 1);
	assert_int_equal(f->stats.calls_active, 0);
	done(f);
}

static void over_a_connection_the_invite_names_it_and_only_timer_b_runs(void **state)
{
	struct fx *f = fixture(true);

	(void)state;
	place_one(f, 1000);
	/* RFC 5923: the proxy sends the dialog's requests back over the connection */
	assert_non_null(strstr(f->sent[0].text, "Via: SIP/2.0/TCP " HOSTPORT ";branch="));
	assert_non_null(strstr(f->sent[0].text, ";rport;alias\r\n"));
	assert_non_null(
		strstr(f->sent[0].text, "Contact: <sip:100000@" HOSTPORT ";transport=tcp>\r\n"));
	assert_non_null(strstr(f->sent[0].text, "c=IN IP4 198.19.254.1\r\n"));
	advance_to(f, T0_US + 31900 * MS_US);
	assert_int_equal(f->nresent, 0); /* no timer A over a reliable transport */
	assert_int_equal(f->stats.tx_retransmissions, 0);
	advance_to(f, T0_US + 32100 * MS_US);
	assert_int_equal(f->stats.calls_failed[DP_FAIL_TIMEOUT], 1);
	assert_int_equal(f->nended, 1);
	done(f);
}

static void a_lost_connection_fails_the_invite_as_a_transport_error(void **state)
{
	struct fx *f = fixture(true);

	(void)state;
	place_one(f, 1000);
	dp_calls_transport_lost(&f->c, f->sent[0].k, f->now_us);
	assert_int_equal(f->stats.calls_failed[DP_FAIL_TRANSPORT], 1);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].reason, DP_FAIL_TRANSPORT); /* the next hop's failure */
	assert_int_equal(f->stats.calls_active, 0);
	assert_int_equal(f->nended, 1);
	done(f);
}

static void a_call_up_outlives_its_connection_and_ends_with_a_bye(void **state)
{
	struct fx *f = fixture(true);
	uint32_t k;

	(void)state;
	place_one(f, 1000);
	k = f->sent[0].k;
	answer(f, &f->sent[0], 200, "INVITE");
	assert_int_equal(f->stats.calls_answered, 1);
	assert_int_equal(f->nsent, 2); /* the ACK, along the route set */
	assert_non_null(strstr(f->sent[1].text, "ACK sip:callee@198.18.0.7:5060 SIP/2.0\r\n"));
	assert_non_null(strstr(f->sent[1].text, "Route: <sip:198.18.0.3;lr;transport=tcp>\r\n"));
	assert_int_equal(f->sent[1].k, k);
	/* the proxy closed the idle connection: the call stays up */
	dp_calls_transport_lost(&f->c, k, f->now_us);
	assert_int_equal(f->stats.calls_active, 1);
	assert_int_equal(f->nended, 0);
	advance_to(f, T0_US + 1100 * MS_US);
	assert_int_equal(f->nsent, 3); /* the BYE after the hold: a new connection carries it */
	assert_non_null(strstr(f->sent[2].text, "BYE sip:callee@198.18.0.7:5060 SIP/2.0\r\n"));
	assert_int_equal(f->sent[2].k, k);
	answer(f, &f->sent[2], 200, "BYE");
	assert_int_equal(f->stats.calls_completed, 1);
	assert_int_equal(f->stats.calls_active, 0);
	assert_int_equal(f->nended, 1);
	done(f);
}

/* The run ends while a call waits for its challenge: the challenge is still answered,
 * and the call, answered, is ended at once with a BYE; nothing counts as refused. */
static void a_challenge_as_the_run_ends_is_answered_and_the_call_ended(void **state)
{
	struct fx *f = fixture(false);

	(void)state;
	place_one(f, 1000);
	dp_calls_stop(&f->c, f->now_us);
	answer_with(
		f, &f->sent[0], 401, "INVITE",
		"WWW-Authenticate: Digest realm=\"example.test\", nonce=\"n1\", qop=\"auth\"\r\n");
	assert_int_equal(f->nsent, 3); /* the 401's ACK, the INVITE with credentials */
	assert_non_null(strstr(f->sent[1].text, "ACK " TO " SIP/2.0\r\n"));
	assert_non_null(strstr(f->sent[2].text, "INVITE " TO " SIP/2.0\r\n"));
	assert_non_null(strstr(f->sent[2].text, "CSeq: 2 INVITE\r\n"));
	assert_non_null(strstr(f->sent[2].text, "Authorization: Digest username=\"100000\""));
	assert_int_equal(f->stats.calls_failed[DP_FAIL_AUTH], 0);
	answer(f, &f->sent[2], 200, "INVITE");
	assert_int_equal(f->stats.calls_answered, 1);
	advance_to(f, f->now_us + 1000); /* no hold: the run is ending */
	assert_int_equal(f->nsent, 5);
	assert_non_null(strstr(f->sent[3].text, "ACK sip:callee@198.18.0.7:5060 SIP/2.0\r\n"));
	assert_non_null(strstr(f->sent[4].text, "BYE sip:callee@198.18.0.7:5060 SIP/2.0\r\n"));
	answer(f, &f->sent[4], 200, "BYE");
	assert_int_equal(f->stats.calls_completed, 1);
	for (int k = 1; k < DP_FAIL__COUNT; k++)
		assert_int_equal(f->stats.calls_failed[k], 0);
	assert_int_equal(f->stats.calls_active, 0);
	done(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_invite_is_retransmitted_on_timer_a_until_timer_b),
		cmocka_unit_test(over_a_connection_the_invite_names_it_and_only_timer_b_runs),
		cmocka_unit_test(a_lost_connection_fails_the_invite_as_a_transport_error),
		cmocka_unit_test(a_call_up_outlives_its_connection_and_ends_with_a_bye),
		cmocka_unit_test(a_challenge_as_the_run_ends_is_answered_and_the_call_ended),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
