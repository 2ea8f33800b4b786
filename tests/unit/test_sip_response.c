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

/* §8.2.6.2: a To without a tag gets one in every response but a 100. */
static void to_tag_is_required_where_the_response_must_add_one(void **state)
{
	struct sip_header rh[32], sh[32];
	struct sip_msg req, resp;
	struct sip_parse_error err;
	struct sip_response_opts o = {.status = 200};
	char buf[1024];
	ssize_t n;

	(void)state;
	parse_req(&req, rh);
	assert_int_equal(sip_build_response(&req, &o, buf, sizeof(buf)), -EINVAL);
	o.status = 100;
	n = sip_build_response(&req, &o, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(sip_parse(buf, (size_t)n, SIP_FRAMING_DATAGRAM, &resp, sh, 32, &err), n);
	assert_null(resp.to.tag.p);
}

static const char invite_req[] =
	"INVITE sip:10001@198.18.0.10:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bKi1\r\n"
	"Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
	"From: <sip:caller@198.18.1.1>;tag=abc\r\n"
	"To: <sip:10001@198.18.0.10>\r\n"
	"Record-Route: <sip:p3.example.com;lr>\r\n"
	"Call-ID: call-1\r\n"
	"CSeq: 1 INVITE\r\n"
	"Timestamp: 54.2 0.5\r\n"
	"Content-Length: 0\r\n\r\n";

static ssize_t build_for(const char *text, uint16_t status, char *buf, size_t cap,
			 struct sip_msg *resp, struct sip_header *sh)
{
	static struct sip_header rh[32];
	struct sip_msg req;
	struct sip_parse_error err;
	struct sip_response_opts o = {.status = status, .to_tag = SIP_STR("t1")};
	ssize_t n;

	assert_true(sip_parse(text, strlen(text), SIP_FRAMING_DATAGRAM, &req, rh, 32, &err) > 0);
	n = sip_build_response(&req, &o, buf, cap);
	assert_true(n > 0);
	assert_int_equal(sip_parse(buf, (size_t)n, SIP_FRAMING_DATAGRAM, resp, sh, 32, &err), n);
	return n;
}

/* §12.1.1: 101-299 to INVITE/SUBSCRIBE copy every Record-Route value, in order. */
static void dialog_creating_responses_copy_record_route_in_order(void **state)
{
	struct sip_header sh[32];
	struct sip_msg resp;
	char buf[2048];
	const struct sip_header *h;

	(void)state;
	build_for(invite_req, 180, buf, sizeof(buf), &resp, sh);
	h = sip_msg_header(&resp, SIP_HDR_RECORD_ROUTE, 0);
	assert_non_null(h);
	assert_true(str_is(h->value, "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>"));
	h = sip_msg_header(&resp, SIP_HDR_RECORD_ROUTE, 1);
	assert_non_null(h);
	assert_true(str_is(h->value, "<sip:p3.example.com;lr>"));
	assert_null(sip_msg_header(&resp, SIP_HDR_RECORD_ROUTE, 2));
	build_for(invite_req, 200, buf, sizeof(buf), &resp, sh);
	assert_non_null(sip_msg_header(&resp, SIP_HDR_RECORD_ROUTE, 1));
	/* not in a 100, nor in a final non-2xx, nor to a method that makes no dialog */
	build_for(invite_req, 100, buf, sizeof(buf), &resp, sh);
	assert_null(sip_msg_header(&resp, SIP_HDR_RECORD_ROUTE, 0));
	build_for(invite_req, 486, buf, sizeof(buf), &resp, sh);
	assert_null(sip_msg_header(&resp, SIP_HDR_RECORD_ROUTE, 0));
	build_for(
		"SUBSCRIBE sip:10001@198.18.0.10 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bKs1\r\n"
		"Record-Route: <sip:p1.example.com;lr>\r\n"
		"From: <sip:w@198.18.1.1>;tag=abc\r\nTo: <sip:10001@198.18.0.10>\r\n"
		"Call-ID: sub-1\r\nCSeq: 1 SUBSCRIBE\r\nEvent: dialog\r\nContent-Length: 0\r\n\r\n",
		202, buf, sizeof(buf), &resp, sh);
	assert_non_null(sip_msg_header(&resp, SIP_HDR_RECORD_ROUTE, 0));
	build_for("OPTIONS sip:10001@198.18.0.10 SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bKo1\r\n"
		  "Record-Route: <sip:p1.example.com;lr>\r\n"
		  "From: <sip:w@198.18.1.1>;tag=abc\r\nTo: <sip:10001@198.18.0.10>\r\n"
		  "Call-ID: opt-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		  200, buf, sizeof(buf), &resp, sh);
	assert_null(sip_msg_header(&resp, SIP_HDR_RECORD_ROUTE, 0));
}

/* §8.2.6.1: a 100 carries the request's Timestamp; other responses need not. */
static void trying_copies_timestamp(void **state)
{
	struct sip_header sh[32];
	struct sip_msg resp;
	char buf[2048];
	const struct sip_header *h;

	(void)state;
	build_for(invite_req, 100, buf, sizeof(buf), &resp, sh);
	h = sip_msg_header(&resp, SIP_HDR_TIMESTAMP, 0);
	assert_non_null(h);
	assert_true(str_is(h->value, "54.2 0.5"));
	assert_null(resp.to.tag.p);
	build_for(invite_req, 486, buf, sizeof(buf), &resp, sh);
	assert_null(sip_msg_header(&resp, SIP_HDR_TIMESTAMP, 0));
}

/* A CR or LF in a caller's string would end our header and start one of theirs. */
static void caller_strings_with_line_ends_are_refused(void **state)
{
	struct sip_header rh[32];
	struct sip_msg req;
	const struct sip_response_opts good = {.status = 200,
					       .to_tag = SIP_STR("t"),
					       .content_type = SIP_STR("text/plain"),
					       .body = SIP_STR("x")};
	char buf[1024];

	(void)state;
	parse_req(&req, rh);
	assert_true(sip_build_response(&req, &good, buf, sizeof(buf)) > 0);
	for (int field = 0; field < 7; field++) {
		for (int lf = 0; lf < 2; lf++) {
			struct sip_response_opts o = good;
			struct sip_str bad = lf ? SIP_STR("a\nVia: x") : SIP_STR("a\rb");
			struct sip_str *f[] = {&o.reason,    &o.to_tag, &o.contact,	&o.allow,
					       &o.supported, &o.server, &o.content_type};

			*f[field] = bad;
			assert_int_equal(sip_build_response(&req, &o, buf, sizeof(buf)), -EINVAL);
		}
	}
}

static void body_without_content_type_is_refused(void **state)
{
	struct sip_header rh[32];
	struct sip_msg req;
	struct sip_response_opts o = {
		.status = 200, .to_tag = SIP_STR("t"), .body = SIP_STR("v=0\r\n")};
	char buf[1024];

	(void)state;
	parse_req(&req, rh);
	assert_int_equal(sip_build_response(&req, &o, buf, sizeof(buf)), -EINVAL);
}

/* A hand-made or keep-alive sip_msg lacking the core headers is refused, not followed. */
static void request_without_core_headers_is_refused(void **state)
{
	static const enum sip_hdr_id core[] = {SIP_HDR_VIA, SIP_HDR_FROM, SIP_HDR_TO,
					       SIP_HDR_CALL_ID, SIP_HDR_CSEQ};
	struct sip_header rh[32];
	struct sip_msg req, empty;
	struct sip_parse_error err;
	struct sip_response_opts o = {.status = 200, .to_tag = SIP_STR("t")};
	char buf[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
		parse_req(&req, rh);
		req.first[core[i]] = 0;
		assert_int_equal(sip_build_response(&req, &o, buf, sizeof(buf)), -EINVAL);
	}
	memset(&empty, 0, sizeof(empty));
	empty.is_request = true;
	assert_int_equal(sip_build_response(&empty, &o, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sip_parse("\r\n\r\n", 4, SIP_FRAMING_DATAGRAM, &empty, rh, 32, &err), 4);
	assert_int_equal(sip_build_response(&empty, &o, buf, sizeof(buf)), -EINVAL);
}

/* extra header lines go in whole; malformed ones (no CRLF end, bare LF, no colon,
 * an empty or folded line) are refused rather than sent */
static void extra_header_lines_go_in_whole_or_not_at_all(void **state)
{
	struct sip_header rh[32], sh[32];
	struct sip_msg req, resp;
	struct sip_parse_error err;
	struct sip_response_opts o = {.status = 401, .to_tag = SIP_STR("t")};
	static const char *const bad[] = {"WWW-Authenticate: x", "X: a\nY: b\r\n",
					  "NoColon\r\n",	 "\r\n",
					  " X: folded\r\n",	 "X: a\r\n\r\nY: b\r\n"};
	char buf[1024];
	ssize_t n;

	(void)state;
	parse_req(&req, rh);
	o.extra = SIP_STR("WWW-Authenticate: Digest realm=\"d\", nonce=\"n\"\r\nX-A: 1\r\n");
	n = sip_build_response(&req, &o, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(sip_parse(buf, (size_t)n, SIP_FRAMING_DATAGRAM, &resp, sh, 32, &err), n);
	assert_non_null(sip_msg_header(&resp, SIP_HDR_WWW_AUTHENTICATE, 0));
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		o.extra = sip_str_cstr(bad[k]);
		assert_int_equal(sip_build_response(&req, &o, buf, sizeof(buf)), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ok_to_options_parses_back_with_the_request_identity),
		cmocka_unit_test(body_gets_type_and_length),
		cmocka_unit_test(short_buffers_get_enospc_and_no_overrun),
		cmocka_unit_test(extra_header_lines_go_in_whole_or_not_at_all),
		cmocka_unit_test(to_tag_is_required_where_the_response_must_add_one),
		cmocka_unit_test(dialog_creating_responses_copy_record_route_in_order),
		cmocka_unit_test(trying_copies_timestamp),
		cmocka_unit_test(caller_strings_with_line_ends_are_refused),
		cmocka_unit_test(body_without_content_type_is_refused),
		cmocka_unit_test(request_without_core_headers_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
