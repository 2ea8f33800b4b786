/*
 * Promises of sip/parser.c, sip/hdr.c and sip/uri.c on messages a registrar really sends
 * (the shapes Kamailio answers with) and on the edges of the grammar.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/parser.h"

#define MAX_HDRS 64

static const char ok_200[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK0123456789abcdef;rport=5060;"
	"received=198.18.0.10\r\n"
	"From: <sip:10001@sip.example.com>;tag=8d1f2a\r\n"
	"To: <sip:10001@sip.example.com>;tag=cd6f1c3a8b1f2d4e\r\n"
	"Call-ID: 1-10001@198.18.0.10\r\n"
	"CSeq: 2 REGISTER\r\n"
	"Contact: <sip:10001@198.18.0.10:5060>;expires=60;+sip.instance=\"<urn:uuid:00000000-0000-4000-8000-000000002711>\";reg-id=1\r\n"
	"Require: outbound\r\n"
	"Flow-Timer: 25\r\n"
	"Server: kamailio (5.6.3 (x86_64/linux))\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static long parse(const char *s, size_t len, enum sip_framing fr, struct sip_msg *m,
		  struct sip_header *hdrs, struct sip_parse_error *err)
{
	return sip_parse(s, len, fr, m, hdrs, MAX_HDRS, err);
}

static bool str_is(struct sip_str s, const char *c)
{
	return s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

static void register_200_exposes_its_typed_fields(void **state)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err;
	struct sip_msg m;
	struct sip_contact c;
	const struct sip_header *h;
	size_t off;
	const char *why;
	uint32_t ft;

	(void)state;
	assert_int_equal(parse(ok_200, sizeof(ok_200) - 1, SIP_FRAMING_DATAGRAM, &m, hdrs, &err),
			 sizeof(ok_200) - 1);
	assert_false(m.is_request);
	assert_int_equal(m.status, 200);
	assert_true(str_is(m.reason, "OK"));
	assert_true(str_is(m.via.branch, "z9hG4bK0123456789abcdef"));
	assert_true(str_is(m.via.received, "198.18.0.10"));
	assert_true(m.via.has_rport);
	assert_int_equal(m.via.rport, 5060);
	assert_int_equal(m.via.port, 5060);
	assert_true(str_is(m.to.tag, "cd6f1c3a8b1f2d4e"));
	assert_true(str_is(m.from.tag, "8d1f2a"));
	assert_true(str_is(m.call_id, "1-10001@198.18.0.10"));
	assert_int_equal(m.cseq.seq, 2);
	assert_true(str_is(m.cseq.method, "REGISTER"));
	h = sip_msg_header(&m, SIP_HDR_CONTACT, 0);
	assert_non_null(h);
	assert_int_equal(sip_contact_parse(h->value, &c, &off, &why), 0);
	assert_true(c.has_expires);
	assert_int_equal(c.expires, 60);
	assert_int_equal(c.reg_id, 1);
	assert_true(str_is(c.instance, "urn:uuid:00000000-0000-4000-8000-000000002711"));
	assert_int_equal(c.addr.uri.port, 5060);
	h = sip_msg_header(&m, SIP_HDR_FLOW_TIMER, 0);
	assert_int_equal(sip_u32_parse(h->value, UINT32_MAX, &ft), 0);
	assert_int_equal(ft, 25);
	assert_true(str_is(sip_msg_header(&m, SIP_HDR_REQUIRE, 0)->value, "outbound"));
	assert_int_equal(m.content_length, 0);
}

static void compact_and_odd_case_names_map_to_one_id(void **state)
{
	(void)state;
	assert_int_equal(sip_hdr_lookup("i", 1), SIP_HDR_CALL_ID);
	assert_int_equal(sip_hdr_lookup("M", 1), SIP_HDR_CONTACT);
	assert_int_equal(sip_hdr_lookup("l", 1), SIP_HDR_CONTENT_LENGTH);
	assert_int_equal(sip_hdr_lookup("k", 1), SIP_HDR_SUPPORTED);
	assert_int_equal(sip_hdr_lookup("o", 1), SIP_HDR_EVENT);
	assert_int_equal(sip_hdr_lookup("cAlL-iD", 7), SIP_HDR_CALL_ID);
	assert_int_equal(sip_hdr_lookup("www-authenticate", 16), SIP_HDR_WWW_AUTHENTICATE);
	assert_int_equal(sip_hdr_lookup("X-Call-ID", 9), SIP_HDR_OTHER);
	assert_string_equal(sip_hdr_name(SIP_HDR_CALL_ID), "Call-ID");
}

static const char challenge_401[] =
	"SIP/2.0 401 Unauthorized\r\n"
	"v: SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK1\r\n"
	"f: <sip:u@d>;tag=1\r\n"
	"t: <sip:u@d>;tag=2\r\n"
	"i: c1\r\n"
	"CSeq: 1 REGISTER\r\n"
	"WWW-Authenticate: Digest realm=\"d\", nonce=\"n1\",\r\n"
	"  algorithm=SHA-256, qop=\"auth\"\r\n"
	"WWW-Authenticate: Digest realm=\"d\", nonce=\"n2\", algorithm=MD5, qop=\"auth\"\r\n"
	"l: 0\r\n\r\n";

static void folded_values_and_repeated_challenges_are_kept(void **state)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err;
	struct sip_msg m;
	const struct sip_header *h0, *h1;

	(void)state;
	assert_true(parse(challenge_401, sizeof(challenge_401) - 1, SIP_FRAMING_DATAGRAM, &m, hdrs,
			  &err) > 0);
	h0 = sip_msg_header(&m, SIP_HDR_WWW_AUTHENTICATE, 0);
	h1 = sip_msg_header(&m, SIP_HDR_WWW_AUTHENTICATE, 1);
	assert_non_null(h0);
	assert_non_null(h1);
	assert_null(sip_msg_header(&m, SIP_HDR_WWW_AUTHENTICATE, 2));
	assert_true(str_is(h0->value, "Digest realm=\"d\", nonce=\"n1\",\r\n  algorithm=SHA-256, "
				      "qop=\"auth\""));
	assert_true(str_is(m.call_id, "c1"));
	assert_int_equal(m.status, 401);
}

static void list_split_respects_quotes_and_brackets(void **state)
{
	struct sip_str cur = SIP_STR(" <sip:a@b;x=\"1,2\">;q=1 , \"Doe, J\" <sip:c@d?x=1,2> ,, e "),
		       item;

	(void)state;
	assert_true(sip_list_next(&cur, &item));
	assert_true(str_is(item, "<sip:a@b;x=\"1,2\">;q=1"));
	assert_true(sip_list_next(&cur, &item));
	assert_true(str_is(item, "\"Doe, J\" <sip:c@d?x=1,2>"));
	assert_true(sip_list_next(&cur, &item));
	assert_true(str_is(item, "e"));
	assert_false(sip_list_next(&cur, &item));
}

static const char two_msgs[] = "OPTIONS sip:u@d SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKa\r\n"
			       "From: <sip:a@d>;tag=1\r\nTo: <sip:u@d>\r\nCall-ID: x\r\n"
			       "CSeq: 1 OPTIONS\r\nContent-Length: 4\r\n\r\nabcd"
			       "OPTIONS sip:u@d SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKb\r\n"
			       "From: <sip:a@d>;tag=1\r\nTo: <sip:u@d>\r\nCall-ID: x\r\n"
			       "CSeq: 2 OPTIONS\r\nContent-Length: 0\r\n\r\n";

static void stream_framing_reads_back_to_back_messages(void **state)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err;
	struct sip_msg m;
	size_t total = sizeof(two_msgs) - 1;
	long first;

	(void)state;
	first = parse(two_msgs, total, SIP_FRAMING_STREAM, &m, hdrs, &err);
	assert_true(first > 0);
	assert_true(str_is(m.body, "abcd"));
	assert_int_equal(m.cseq.seq, 1);
	assert_int_equal(
		parse(two_msgs + first, total - (size_t)first, SIP_FRAMING_STREAM, &m, hdrs, &err),
		(long)total - first);
	assert_int_equal(m.cseq.seq, 2);
	/* a message cut short asks for more octets rather than failing */
	assert_int_equal(parse(two_msgs, (size_t)first - 1, SIP_FRAMING_STREAM, &m, hdrs, &err),
			 -EAGAIN);
	assert_int_equal(parse(two_msgs, 30, SIP_FRAMING_STREAM, &m, hdrs, &err), -EAGAIN);
}

static void datagram_without_content_length_takes_the_rest_as_body(void **state)
{
	static const char msg[] =
		"MESSAGE sip:u@d SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a@d>;tag=1\n"
		"To: <sip:u@d>\nCall-ID: x\nCSeq: 1 MESSAGE\n\nhello";
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err;
	struct sip_msg m;

	(void)state;
	/* bare LF line ends are tolerated, as deployed stacks send them */
	assert_int_equal(parse(msg, sizeof(msg) - 1, SIP_FRAMING_DATAGRAM, &m, hdrs, &err),
			 sizeof(msg) - 1);
	assert_true(str_is(m.body, "hello"));
	assert_int_equal(parse(msg, sizeof(msg) - 1, SIP_FRAMING_STREAM, &m, hdrs, &err), -EBADMSG);
}

static void errors_name_the_octet(void **state)
{
	static const struct {
		const char *msg;
		size_t off;
		const char *why;
	} cases[] = {
		{"SIP/2.0 2000 OK\r\n", 8, "status code is not three digits"},
		{"SIP/2.0 099 Odd\r\n", 8, "status code outside 100..699"},
		{"INVITE sip:u@d SIP/3.0\r\n", 15, "unsupported SIP version in request line"},
		{"SIP/2.0 200 OK\r\nVia SIP/2.0/UDP h\r\n\r\n", 20, "header line without ':'"},
		{"SIP/2.0 200 OK\r\n Via: x\r\n\r\n", 16,
		 "continuation line before the first header"},
		{"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n", 38, "missing From header"},
		{"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h:70000\r\nFrom: <sip:a@d>\r\nTo: <sip:a@d>\r\n"
		 "Call-ID: x\r\nCSeq: 1 X\r\n\r\n",
		 35, "invalid port"},
		{"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@d>\r\nTo: <sip:a@[::1:::2]>\r\n"
		 "Call-ID: x\r\nCSeq: 1 X\r\n\r\n",
		 64, "invalid host"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_header hdrs[MAX_HDRS];
		struct sip_parse_error err = {0, NULL};
		struct sip_msg m;

		assert_int_equal(parse(cases[i].msg, strlen(cases[i].msg), SIP_FRAMING_DATAGRAM, &m,
				       hdrs, &err),
				 -EBADMSG);
		assert_string_equal(err.why, cases[i].why);
		assert_int_equal(err.off, cases[i].off);
	}
}

static void too_many_headers_is_enobufs_not_overflow(void **state)
{
	struct sip_header hdrs[4];
	struct sip_parse_error err;
	struct sip_msg m;

	(void)state;
	assert_int_equal(
		sip_parse(ok_200, sizeof(ok_200) - 1, SIP_FRAMING_DATAGRAM, &m, hdrs, 4, &err),
		-ENOBUFS);
	assert_int_equal(m.nhdrs, 4);
}

static void uri_parts_and_ipv6_references(void **state)
{
	struct sip_uri u;
	size_t off;
	const char *why;

	(void)state;
	assert_int_equal(
		sip_uri_parse(
			SIP_STR("sips:alice:secret@[2001:db8::10]:5061;transport=tls;lr?Subject=hi&x=y"),
			&u, &off, &why),
		0);
	assert_int_equal(u.scheme, SIP_SCHEME_SIPS);
	assert_true(str_is(u.user, "alice"));
	assert_true(str_is(u.password, "secret"));
	assert_true(str_is(u.host, "[2001:db8::10]"));
	assert_true(u.host_is_ipv6);
	assert_int_equal(u.port, 5061);
	assert_true(str_is(u.params, ";transport=tls;lr"));
	assert_true(str_is(u.headers, "Subject=hi&x=y"));
	assert_int_equal(sip_uri_parse(SIP_STR("tel:+1-201-555-0123;phone-context=example.com"), &u,
				       &off, &why),
			 0);
	assert_int_equal(u.scheme, SIP_SCHEME_TEL);
	assert_true(str_is(u.user, "+1-201-555-0123"));
	assert_int_equal(sip_uri_parse(SIP_STR("sip:2001:db8::10"), &u, &off, &why), -EBADMSG);
	assert_int_equal(sip_uri_parse(SIP_STR("sip:u@h;;x"), &u, &off, &why), -EBADMSG);
	assert_int_equal(off, 8);
	assert_int_equal(sip_uri_parse(SIP_STR("sip:u@h%zz"), &u, &off, &why), -EBADMSG);
	assert_true(sip_ipv6_valid(SIP_STR("::ffff:192.0.2.1")));
	assert_true(sip_ipv6_valid(SIP_STR("2001:db8:0:0:0:0:0:1")));
	assert_false(sip_ipv6_valid(SIP_STR("2001:db8:::192.0.2.1")));
	assert_false(sip_ipv6_valid(SIP_STR("1:2:3:4:5:6:7:8:9")));
	assert_false(sip_ipv4_valid(SIP_STR("192.0.2.256")));
}

static void contact_star_saturation_and_retry_after(void **state)
{
	struct sip_contact c;
	struct sip_retry_after ra;
	size_t off;
	const char *why;

	(void)state;
	assert_int_equal(sip_contact_parse(SIP_STR(" * "), &c, &off, &why), 0);
	assert_true(c.addr.star);
	/* RFC 4475 scalar02: an absurd expiry is read as the longest one */
	assert_int_equal(
		sip_contact_parse(SIP_STR("<sip:u@h>;expires=280297596632815"), &c, &off, &why), 0);
	assert_int_equal(c.expires, UINT32_MAX);
	assert_int_equal(sip_contact_parse(SIP_STR("<sip:u@h>;reg-id=0"), &c, &off, &why),
			 -EBADMSG);
	assert_int_equal(
		sip_retry_after_parse(SIP_STR("120 (I'm in a (long) meeting) ;duration=3600"), &ra,
				      &off, &why),
		0);
	assert_int_equal(ra.seconds, 120);
	assert_true(str_is(ra.comment, "I'm in a (long) meeting"));
	assert_true(ra.has_duration);
	assert_int_equal(ra.duration, 3600);
}

static const char keepalive_ping[] = "\r\n\r\n";

/* RFC 5626 §3.5.1 ping (CRLF CRLF) and pong (CRLF), RFC 3261 §7.5 leading CRLF. */
static void crlf_alone_is_a_keepalive_on_both_framings(void **state)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err;
	struct sip_msg m;

	(void)state;
	assert_int_equal(parse(keepalive_ping, 4, SIP_FRAMING_DATAGRAM, &m, hdrs, &err), 4);
	assert_true(m.keepalive);
	assert_int_equal(m.len, 4);
	assert_int_equal(m.nhdrs, 0);
	assert_int_equal(parse(keepalive_ping, 2, SIP_FRAMING_DATAGRAM, &m, hdrs, &err), 2);
	assert_true(m.keepalive);
	assert_int_equal(parse(keepalive_ping, 4, SIP_FRAMING_STREAM, &m, hdrs, &err), 4);
	assert_true(m.keepalive);
	assert_int_equal(m.len, 4);
	assert_int_equal(parse(keepalive_ping, 2, SIP_FRAMING_STREAM, &m, hdrs, &err), 2);
	assert_true(m.keepalive);
	assert_int_equal(m.len, 2);
	/* half a CRLF on a stream: the LF may still come */
	assert_int_equal(parse(keepalive_ping, 3, SIP_FRAMING_STREAM, &m, hdrs, &err), -EAGAIN);
	assert_int_equal(parse(keepalive_ping, 1, SIP_FRAMING_STREAM, &m, hdrs, &err), -EAGAIN);
	assert_int_equal(parse(keepalive_ping, 0, SIP_FRAMING_STREAM, &m, hdrs, &err), -EAGAIN);
	assert_int_equal(parse(keepalive_ping, 0, SIP_FRAMING_DATAGRAM, &m, hdrs, &err), -EBADMSG);
}

static void leading_crlf_before_a_datagram_message_is_skipped(void **state)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err = {0, NULL};
	struct sip_msg m;
	char buf[sizeof(ok_200) + 4];
	static const char bad[] = "\r\nSIP/2.0 2000 OK\r\n";

	(void)state;
	memcpy(buf, "\r\n\r\n", 4);
	memcpy(buf + 4, ok_200, sizeof(ok_200) - 1);
	assert_int_equal(parse(buf, sizeof(buf) - 1, SIP_FRAMING_DATAGRAM, &m, hdrs, &err),
			 sizeof(buf) - 1);
	assert_false(m.keepalive);
	assert_int_equal(m.len, sizeof(buf) - 1);
	assert_int_equal(m.status, 200);
	assert_true(str_is(m.call_id, "1-10001@198.18.0.10"));
	/* error offsets still count from the start of the buffer */
	assert_int_equal(parse(bad, sizeof(bad) - 1, SIP_FRAMING_DATAGRAM, &m, hdrs, &err),
			 -EBADMSG);
	assert_int_equal(err.off, 10);
}

/* On a stream the CRLF run comes back on its own, so a pong is never swallowed. */
static void leading_crlf_on_a_stream_is_its_own_keepalive(void **state)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err;
	struct sip_msg m;
	char buf[sizeof(two_msgs) + 2];
	long first;

	(void)state;
	memcpy(buf, "\r\n", 2);
	memcpy(buf + 2, two_msgs, sizeof(two_msgs) - 1);
	assert_int_equal(parse(buf, sizeof(buf) - 1, SIP_FRAMING_STREAM, &m, hdrs, &err), 2);
	assert_true(m.keepalive);
	first = parse(buf + 2, sizeof(buf) - 3, SIP_FRAMING_STREAM, &m, hdrs, &err);
	assert_true(first > 0);
	assert_false(m.keepalive);
	assert_int_equal(m.cseq.seq, 1);
}

static void status_line_needs_sp_after_the_code_and_no_controls(void **state)
{
	static const char rest[] = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@d>;tag=1\r\n"
				   "To: <sip:a@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
				   "Content-Length: 0\r\n\r\n";
	static const struct {
		const char *line;
		long ok; /* 1 accepted, 0 rejected */
		size_t off;
		const char *why;
	} cases[] = {
		{"SIP/2.0 200\r\n", 0, 11, "status code not followed by SP"},
		{"SIP/2.0 200OK\r\n", 0, 11, "status code not followed by SP"},
		{"SIP/2.0 200 \r\n", 1, 0, NULL},
		{"SIP/2.0 200 Fine\tthanks\r\n", 1, 0, NULL},
		{"SIP/2.0 200 O\001K\r\n", 0, 13, "control octet in reason phrase"},
		{"SIP/2.0 200 O\rK\r\n", 0, 13, "control octet in reason phrase"},
		{"SIP/2.0 200 OK\177\r\n", 0, 14, "control octet in reason phrase"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_header hdrs[MAX_HDRS];
		struct sip_parse_error err = {0, NULL};
		struct sip_msg m;
		char buf[512];
		size_t n = strlen(cases[i].line);
		long rc;

		memcpy(buf, cases[i].line, n);
		memcpy(buf + n, rest, sizeof(rest) - 1);
		n += sizeof(rest) - 1;
		rc = parse(buf, n, SIP_FRAMING_DATAGRAM, &m, hdrs, &err);
		if (cases[i].ok) {
			assert_int_equal(rc, (long)n);
			assert_int_equal(m.status, 200);
			continue;
		}
		assert_int_equal(rc, -EBADMSG);
		assert_string_equal(err.why, cases[i].why);
		assert_int_equal(err.off, cases[i].off);
	}
}

/* A message with core headers around the one line a case varies. */
static long parse_with(const char *line, struct sip_msg *m, struct sip_header *hdrs,
		       struct sip_parse_error *err)
{
	static char buf[1024];
	int n = snprintf(buf, sizeof(buf),
			 "REGISTER sip:d SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			 "From: <sip:a@d>;tag=1\r\nTo: <sip:a@d>\r\nCall-ID: x\r\n%s\r\n"
			 "Content-Length: 0\r\n\r\n",
			 line);

	return parse(buf, (size_t)n, SIP_FRAMING_DATAGRAM, m, hdrs, err);
}

/* RFC 3261 §20.16: 32 bits unsigned on receipt; RFC 4475 scalar02 and scalarlg exceed it. */
static void cseq_takes_every_32_bit_number(void **state)
{
	static const char scalarlg[] =
		"SIP/2.0 503 Service Unavailable\r\n"
		"Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;"
		"received=192.0.2.129\r\n"
		"To: <sip:user@example.com>\r\n"
		"From: <sip:other@example.net>;tag=2easdjfejw\r\n"
		"CSeq: 9292394834772304023312 OPTIONS\r\n"
		"Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r\r\n"
		"Retry-After: 949302838503028349304023988\r\n"
		"Warning: 1812 overture \"In Progress\"\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err = {0, NULL};
	struct sip_msg m;

	(void)state;
	assert_true(parse_with("CSeq: 4294967295 REGISTER", &m, hdrs, &err) > 0);
	assert_int_equal(m.cseq.seq, UINT32_MAX);
	assert_true(parse_with("CSeq: 2147483648 REGISTER", &m, hdrs, &err) > 0);
	assert_int_equal(m.cseq.seq, 2147483648u);
	assert_true(parse_with("CSeq: 0000000000004294967295 REGISTER", &m, hdrs, &err) > 0);
	assert_int_equal(parse_with("CSeq: 4294967296 REGISTER", &m, hdrs, &err), -EBADMSG);
	assert_string_equal(err.why, "CSeq number larger than 2^32-1");
	assert_int_equal(
		parse(scalarlg, sizeof(scalarlg) - 1, SIP_FRAMING_DATAGRAM, &m, hdrs, &err),
		-EBADMSG);
	assert_non_null(strstr(err.why, "CSeq"));
}

/* Contact = STAR / list (RFC 3261 §25.1): a "*" must be the only value of all Contacts. */
static void contact_star_is_valid_only_alone(void **state)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err = {0, NULL};
	struct sip_msg m;

	(void)state;
	assert_true(parse_with("CSeq: 1 REGISTER\r\nContact: *\r\nExpires: 0", &m, hdrs, &err) > 0);
	assert_int_equal(parse_with("CSeq: 1 REGISTER\r\nContact: *, <sip:a@h>", &m, hdrs, &err),
			 -EBADMSG);
	assert_string_equal(err.why, "Contact '*' is not the only Contact value");
	assert_int_equal(
		parse_with("CSeq: 1 REGISTER\r\nContact: <sip:a@h>\r\nm: *", &m, hdrs, &err),
		-EBADMSG);
	assert_string_equal(err.why, "Contact '*' is not the only Contact value");
	assert_int_equal(parse_with("CSeq: 1 REGISTER\r\nm: *\r\nm: *", &m, hdrs, &err), -EBADMSG);
	assert_true(parse_with("CSeq: 1 REGISTER\r\nContact: <sip:a@h>, <sip:b@h>", &m, hdrs,
			       &err) > 0);
}

static void lookups_refuse_what_they_cannot_index(void **state)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err;
	struct sip_msg m;

	(void)state;
	assert_int_equal(sip_hdr_lookup("", 0), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup("Call\rID", 7), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup("Timestamp", 9), SIP_HDR_TIMESTAMP);
	assert_true(parse(ok_200, sizeof(ok_200) - 1, SIP_FRAMING_DATAGRAM, &m, hdrs, &err) > 0);
	assert_null(sip_msg_header(&m, SIP_HDR__COUNT, 0));
	assert_null(sip_msg_header(&m, (enum sip_hdr_id)1000, 0));
	assert_null(sip_msg_header(&m, SIP_HDR_OTHER, 0));
	assert_string_equal(sip_hdr_name(SIP_HDR__COUNT), "");
}

/* Every recognised name is found in the lookup table, whatever its case. */
static void every_long_name_maps_back_to_its_id(void **state)
{
	(void)state;
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		const char *name = sip_hdr_name((enum sip_hdr_id)id);
		char lower[32], upper[32];
		size_t n = strlen(name);

		assert_true(n > 1 && n < sizeof(lower));
		for (size_t i = 0; i <= n; i++) {
			lower[i] =
				(char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] | 0x20 : name[i]);
			upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] & ~0x20
									   : name[i]);
		}
		assert_int_equal(sip_hdr_lookup(name, n), id);
		assert_int_equal(sip_hdr_lookup(lower, n), id);
		assert_int_equal(sip_hdr_lookup(upper, n), id);
		if (n > 2) /* "T" alone is the compact To */
			assert_int_equal(sip_hdr_lookup(name, n - 1), SIP_HDR_OTHER);
	}
}

/* first[] holds index + 1 in 16 bits: a larger max_hdrs counts as 65535. */
static void max_hdrs_past_16_bits_is_clamped(void **state)
{
	static const char head[] = "OPTIONS sip:u@d SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
				   "From: <sip:a@d>;tag=1\r\nTo: <sip:u@d>\r\nCall-ID: x\r\n"
				   "CSeq: 1 OPTIONS\r\n";
	size_t nlines = 65540, len = sizeof(head) - 1 + nlines * 6 + 2;
	char *buf = malloc(len);
	struct sip_header *hdrs = calloc(70000, sizeof(*hdrs));
	struct sip_parse_error err;
	struct sip_msg m;
	char *p = buf;

	(void)state;
	assert_non_null(buf);
	assert_non_null(hdrs);
	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	for (size_t i = 0; i < nlines; i++, p += 6)
		memcpy(p, "X: y\r\n", 6);
	memcpy(p, "\r\n", 2);
	assert_int_equal(sip_parse(buf, len, SIP_FRAMING_DATAGRAM, &m, hdrs, 70000, &err),
			 -ENOBUFS);
	assert_int_equal(m.nhdrs, 65535);
	assert_int_equal(m.first[SIP_HDR_VIA], 1);
	free(hdrs);
	free(buf);
}

/* A stream message may not grow past SIP_STREAM_MAX: no -EAGAIN for ever. */
static void stream_messages_are_bounded(void **state)
{
	static const char head[] = "OPTIONS sip:u@d SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n"
				   "From: <sip:a@d>;tag=1\r\nTo: <sip:u@d>\r\nCall-ID: x\r\n"
				   "CSeq: 1 OPTIONS\r\nContent-Length: ";
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err = {0, NULL};
	struct sip_msg m;
	static char buf[SIP_STREAM_MAX + 16];
	size_t hlen, body_at;
	int n;

	(void)state;
	n = snprintf(buf, 512, "%s4294967295\r\n\r\n", head);
	assert_int_equal(parse(buf, (size_t)n, SIP_FRAMING_STREAM, &m, hdrs, &err), -EMSGSIZE);
	assert_non_null(strstr(err.why, "SIP_STREAM_MAX"));
	assert_int_equal(parse(buf, (size_t)n, SIP_FRAMING_DATAGRAM, &m, hdrs, &err), -EBADMSG);
	/* a message of exactly SIP_STREAM_MAX octets is fine, one more is not */
	hlen = strlen(head) + 5 + 4;
	n = snprintf(buf, 512, "%s%05zu\r\n\r\n", head, SIP_STREAM_MAX - hlen);
	body_at = (size_t)n;
	assert_int_equal(body_at, hlen);
	memset(buf + body_at, 'x', SIP_STREAM_MAX - body_at);
	assert_int_equal(parse(buf, SIP_STREAM_MAX, SIP_FRAMING_STREAM, &m, hdrs, &err),
			 SIP_STREAM_MAX);
	assert_int_equal(parse(buf, 100, SIP_FRAMING_STREAM, &m, hdrs, &err), -EAGAIN);
	snprintf(buf, 512, "%s%05zu\r\n\r\n", head, SIP_STREAM_MAX - hlen + 1);
	assert_int_equal(parse(buf, SIP_STREAM_MAX, SIP_FRAMING_STREAM, &m, hdrs, &err), -EMSGSIZE);
	/* a header block that never ends */
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, '1', SIP_STREAM_MAX + 16 - (sizeof(head) - 1));
	assert_int_equal(parse(buf, 4000, SIP_FRAMING_STREAM, &m, hdrs, &err), -EAGAIN);
	assert_int_equal(parse(buf, SIP_STREAM_MAX + 16, SIP_FRAMING_STREAM, &m, hdrs, &err),
			 -EMSGSIZE);
	memset(buf, 'A', SIP_STREAM_MAX + 16);
	assert_int_equal(parse(buf, SIP_STREAM_MAX + 16, SIP_FRAMING_STREAM, &m, hdrs, &err),
			 -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(register_200_exposes_its_typed_fields),
		cmocka_unit_test(compact_and_odd_case_names_map_to_one_id),
		cmocka_unit_test(folded_values_and_repeated_challenges_are_kept),
		cmocka_unit_test(list_split_respects_quotes_and_brackets),
		cmocka_unit_test(stream_framing_reads_back_to_back_messages),
		cmocka_unit_test(datagram_without_content_length_takes_the_rest_as_body),
		cmocka_unit_test(errors_name_the_octet),
		cmocka_unit_test(too_many_headers_is_enobufs_not_overflow),
		cmocka_unit_test(uri_parts_and_ipv6_references),
		cmocka_unit_test(contact_star_saturation_and_retry_after),
		cmocka_unit_test(crlf_alone_is_a_keepalive_on_both_framings),
		cmocka_unit_test(leading_crlf_before_a_datagram_message_is_skipped),
		cmocka_unit_test(leading_crlf_on_a_stream_is_its_own_keepalive),
		cmocka_unit_test(status_line_needs_sp_after_the_code_and_no_controls),
		cmocka_unit_test(cseq_takes_every_32_bit_number),
		cmocka_unit_test(contact_star_is_valid_only_alone),
		cmocka_unit_test(lookups_refuse_what_they_cannot_index),
		cmocka_unit_test(every_long_name_maps_back_to_its_id),
		cmocka_unit_test(max_hdrs_past_16_bits_is_clamped),
		cmocka_unit_test(stream_messages_are_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
