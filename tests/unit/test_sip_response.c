/*
 * Promises of sip/response.c: a response carries the request's Via set, From, To (plus
 * our tag), Call-ID and CSeq, parses back with our own parser, and never overruns.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sip/response.h"

static const char options_req[] =
	"OPTIONS sip:10001@198.18.0.10:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bKp1, SIP/2.0/UDP 198.18.1.2;branch=z9hG4bKu1\r\n"
	"Via: SIP/2.0/UDP 198.18.1.3;branch=z9hG4bKu0\r\n"
	"From: <sip:ping@198.18.1.1>;tag=abc\r\n"
	"To: <sip:10001@198.18.0.10>\r\n"
	"Call-ID: ping-1\r\n"
	"CSeq: 7 OPTIONS\r\n"
	"Content-Length: 0\r\n\r\n";

static void parse_req(struct sip_msg *m, struct sip_header *h)
{
	struct sip_parse_error err;

	assert_true(sip_parse(options_req, sizeof(options_req) - 1, SIP_FRAMING_DATAGRAM, m, h, 32,
			      &err) > 0);
}

static bool str_is(struct sip_str s, const char *c)
{
	return s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

static void ok_to_options_parses_back_with_the_request_identity(void **state)
{
	struct sip_header rh[32], sh[32];
	struct sip_msg req, resp;
	struct sip_parse_error err;
	struct sip_response_opts o = {.status = 200,
				      .to_tag = SIP_STR("line7"),
				      .allow = SIP_STR("INVITE, ACK, BYE, OPTIONS, NOTIFY")};
	char buf[1024];
	ssize_t n;

	(void)state;
	parse_req(&req, rh);
	n = sip_build_response(&req, &o, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(sip_parse(buf, (size_t)n, SIP_FRAMING_DATAGRAM, &resp, sh, 32, &err), n);
	assert_int_equal(resp.status, 200);
	assert_true(str_is(resp.reason, "OK"));
	assert_true(str_is(resp.via.branch, "z9hG4bKp1"));
	assert_true(str_is(sip_msg_header(&resp, SIP_HDR_VIA, 1)->value,
			   "SIP/2.0/UDP 198.18.1.3;branch=z9hG4bKu0"));
	assert_true(str_is(resp.to.tag, "line7"));
	assert_true(str_is(resp.from.tag, "abc"));
	assert_true(str_is(resp.call_id, "ping-1"));
	assert_int_equal(resp.cseq.seq, 7);
	assert_true(str_is(resp.cseq.method, "OPTIONS"));
	assert_true(str_is(sip_msg_header(&resp, SIP_HDR_ALLOW, 0)->value,
			   "INVITE, ACK, BYE, OPTIONS, NOTIFY"));
}

static void body_gets_type_and_length(void **state)
{
	struct sip_header rh[32], sh[32];
	struct sip_msg req, resp;
	struct sip_parse_error err;
	struct sip_response_opts o = {.status = 200,
				      .to_tag = SIP_STR("t"),
				      .content_type = SIP_STR("application/sdp"),
				      .body = SIP_STR("v=0\r\n")};
	char buf[1024];
	ssize_t n;

	(void)state;
	parse_req(&req, rh);
	n = sip_build_response(&req, &o, buf, sizeof(buf));
	assert_int_equal(sip_parse(buf, (size_t)n, SIP_FRAMING_DATAGRAM, &resp, sh, 32, &err), n);
	assert_int_equal(resp.content_length, 5);
	assert_true(str_is(resp.body, "v=0\r\n"));
}

static void short_buffers_get_enospc_and_no_overrun(void **state)
{
	struct sip_header rh[32];
	struct sip_msg req;
	struct sip_response_opts o = {.status = 486, .to_tag = SIP_STR("t")};
	char buf[512];
	ssize_t full;

	(void)state;
	parse_req(&req, rh);
	full = sip_build_response(&req, &o, buf, sizeof(buf));
	assert_true(full > 0);
	for (size_t cap = 0; cap < (size_t)full; cap++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(sip_build_response(&req, &o, buf, cap), -ENOSPC);
		assert_int_equal(buf[cap], 'X');
	}
	assert_string_equal(sip_reason_phrase(486), "Busy Here");
	o.status = 99;
	assert_int_equal(sip_build_response(&req, &o, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ok_to_options_parses_back_with_the_request_identity),
		cmocka_unit_test(body_gets_type_and_length),
		cmocka_unit_test(short_buffers_get_enospc_and_no_overrun),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
