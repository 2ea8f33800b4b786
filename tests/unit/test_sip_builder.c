/*
 * Tests of sip/builder.c: the exact text of each request form, the patched fields, the
 * per-line values of a shared template, and that no build ever writes past the caller's cap.
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

#include "sip/builder.h"
#include "sip/parser.h"

#define BUF_LEN 2048

static const struct sip_str op_route[] = {SIP_STR("sip:op.example.com;lr")};

/* A line as the control plane would describe it: no route, no outbound. */
static struct sip_tpl_params register_params(void)
{
	return (struct sip_tpl_params){
		.method = SIP_TPL_REGISTER,
		.request_uri = SIP_STR("sip:example.com"),
		.from_uri = SIP_STR("sip:1000@example.com"),
		.from_display = SIP_STR("Line 1000"),
		.from_tag = SIP_STR("a1b2c3"),
		.call_id = SIP_STR("c0ffee@198.18.0.10"),
		.contact_uri = SIP_STR("sip:1000@198.18.0.10:5060"),
		.via_sent_by = SIP_STR("198.18.0.10:5060"),
		.transport = SIP_TPL_UDP,
		.user_agent = SIP_STR("sipedge/0.1"),
	};
}

static const struct sip_req_fields first_fields = {
	.branch = 0x0123456789abcdefull,
	.cseq = 1,
	.expires = 3600,
};

static const char register_text[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.0.10:5060;rport;branch=z9hG4bK0123456789abcdef\r\n"
	"Max-Forwards: 70\r\n"
	"From: \"Line 1000\" <sip:1000@example.com>;tag=a1b2c3\r\n"
	"To: \"Line 1000\" <sip:1000@example.com>\r\n"
	"Call-ID: c0ffee@198.18.0.10\r\n"
	"CSeq: 1 REGISTER\r\n"
	"Contact: <sip:1000@198.18.0.10:5060>\r\n"
	"Expires: 3600\r\n"
	"User-Agent: sipedge/0.1\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static void prepare_ok(struct sip_tpl *t, const struct sip_tpl_params *p)
{
	assert_int_equal(sip_tpl_prepare(t, p), 0);
}

/* Builds with the method's function and returns the text NUL-terminated in buf. */
static const char *build(const struct sip_tpl *t, const struct sip_req_fields *f, char *buf)
{
	ssize_t n;

	switch (t->method) {
	case SIP_TPL_SUBSCRIBE:
		n = sip_build_subscribe(t, f, buf, BUF_LEN - 1);
		break;
	case SIP_TPL_OPTIONS:
		n = sip_build_options(t, f, buf, BUF_LEN - 1);
		break;
	default:
		n = sip_build_register(t, f, buf, BUF_LEN - 1);
		break;
	}
	assert_true(n > 0);
	buf[n] = '\0';
	return buf;
}

static void test_register_text_is_exact(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	assert_string_equal(build(&t, &first_fields, buf), register_text);
}

static void test_second_build_patches_branch_cseq_expires_and_leaves_template(void **state)
{
	struct sip_tpl t, before;
	struct sip_tpl_params p = register_params();
	const struct sip_req_fields second = {
		.branch = 0xfedcba9876543210ull, .cseq = 4294967295u, .expires = 60};
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	build(&t, &first_fields, buf);
	memcpy(&before, &t, sizeof(t));
	assert_string_equal(
		build(&t, &second, buf),
		"REGISTER sip:example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.18.0.10:5060;rport;branch=z9hG4bKfedcba9876543210\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Line 1000\" <sip:1000@example.com>;tag=a1b2c3\r\n"
		"To: \"Line 1000\" <sip:1000@example.com>\r\n"
		"Call-ID: c0ffee@198.18.0.10\r\n"
		"CSeq: 4294967295 REGISTER\r\n"
		"Contact: <sip:1000@198.18.0.10:5060>\r\n"
		"Expires: 60\r\n"
		"User-Agent: sipedge/0.1\r\n"
		"Content-Length: 0\r\n"
		"\r\n");
	assert_memory_equal(&before, &t, sizeof(t));
	assert_string_equal(build(&t, &first_fields, buf), register_text);
}

static void test_cseq_is_decimal_without_padding_at_every_width(void **state)
{
	/* both ends of every width from 1 to 10 digits */
	static const uint32_t values[] = {0,	    9,	       10,	  99,	      100,
					  999,	    1000,      9999,	  10000,      99999,
					  100000,   999999,    1000000,	  9999999,    10000000,
					  99999999, 100000000, 999999999, 1000000000, UINT32_MAX};
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	char buf[BUF_LEN], want[32];

	(void)state;
	prepare_ok(&t, &p);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		f.cseq = values[i];
		snprintf(want, sizeof(want), "\r\nCSeq: %u REGISTER\r\n", f.cseq);
		assert_non_null(strstr(build(&t, &f, buf), want));
	}
}

static void test_branch_is_magic_cookie_and_16_lowercase_hex_digits(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	f.branch = 0;
	assert_non_null(strstr(build(&t, &f, buf), ";branch=z9hG4bK0000000000000000\r\n"));
	f.branch = 0x00abcdef000000ffull;
	assert_non_null(strstr(build(&t, &f, buf), ";branch=z9hG4bK00abcdef000000ff\r\n"));
}

static void test_authorization_header_only_when_given(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	assert_null(strstr(build(&t, &f, buf), "Authorization"));
	f.auth = SIP_STR("Digest username=\"1000\", realm=\"example.com\"");
	assert_non_null(strstr(build(&t, &f, buf),
			       "\r\nExpires: 3600\r\n"
			       "Authorization: Digest username=\"1000\", realm=\"example.com\"\r\n"
			       "User-Agent: sipedge/0.1\r\n"));
	assert_null(strstr(buf, "Proxy-Authorization"));
}

static void test_proxy_authorization_when_asked(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	f.auth = SIP_STR("Digest username=\"1000\"");
	f.proxy_auth = true;
	assert_non_null(strstr(build(&t, &f, buf),
			       "\r\nExpires: 3600\r\n"
			       "Proxy-Authorization: Digest username=\"1000\"\r\n"
			       "User-Agent: "));
}

static void test_unregister_sends_this_contact_with_expires_zero(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	f.expires = 0;
	f.cseq = 2;
	assert_non_null(strstr(build(&t, &f, buf), "\r\nCSeq: 2 REGISTER\r\n"
						   "Contact: <sip:1000@198.18.0.10:5060>\r\n"
						   "Expires: 0\r\n"));
}

static void test_contact_star_removes_all_bindings_with_expires_zero(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	f.contact_star = true; /* expires 3600 is overridden: §10.2.2 allows only 0 */
	assert_string_equal(
		build(&t, &f, buf),
		"REGISTER sip:example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.18.0.10:5060;rport;branch=z9hG4bK0123456789abcdef\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Line 1000\" <sip:1000@example.com>;tag=a1b2c3\r\n"
		"To: \"Line 1000\" <sip:1000@example.com>\r\n"
		"Call-ID: c0ffee@198.18.0.10\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact: *\r\n"
		"Expires: 0\r\n"
		"User-Agent: sipedge/0.1\r\n"
		"Content-Length: 0\r\n"
		"\r\n");
}

static void test_outbound_register_has_flow_contact_params_and_supported(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	char buf[BUF_LEN];

	(void)state;
	p.outbound = true;
	p.reg_id = 2;
	p.instance = SIP_STR("urn:uuid:00000000-0000-1000-8000-000000001000");
	p.contact_uri = SIP_STR("sip:1000@198.18.0.10:5060;transport=tcp");
	p.transport = SIP_TPL_TCP;
	p.routes = op_route;
	p.n_routes = 1;
	f.auth = SIP_STR("Digest x");
	prepare_ok(&t, &p);
	assert_string_equal(
		build(&t, &f, buf),
		"REGISTER sip:example.com SIP/2.0\r\n"
		"Via: SIP/2.0/TCP 198.18.0.10:5060;rport;branch=z9hG4bK0123456789abcdef\r\n"
		"Max-Forwards: 70\r\n"
		"Route: <sip:op.example.com;lr>\r\n"
		"From: \"Line 1000\" <sip:1000@example.com>;tag=a1b2c3\r\n"
		"To: \"Line 1000\" <sip:1000@example.com>\r\n"
		"Call-ID: c0ffee@198.18.0.10\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact: <sip:1000@198.18.0.10:5060;transport=tcp>;reg-id=2;"
		"+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000000001000>\"\r\n"
		"Expires: 3600\r\n"
		"Authorization: Digest x\r\n"
		"Supported: outbound, path\r\n"
		"User-Agent: sipedge/0.1\r\n"
		"Content-Length: 0\r\n"
		"\r\n");
}

static void test_outbound_register_without_instance_or_reg_id_is_rejected(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();

	(void)state;
	p.outbound = true;
	p.reg_id = 1;
	assert_int_equal(sip_tpl_prepare(&t, &p), -EINVAL);
	p.instance = SIP_STR("urn:uuid:00000000-0000-1000-8000-000000001000");
	p.reg_id = 0;
	assert_int_equal(sip_tpl_prepare(&t, &p), -EINVAL);
}

static void test_route_set_is_sent_in_order(void **state)
{
	static const struct sip_str routes[] = {SIP_STR("sip:op1.example.com;lr"),
						SIP_STR("sip:op2.example.com;lr")};
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	p.routes = routes;
	p.n_routes = 2;
	prepare_ok(&t, &p);
	assert_non_null(strstr(build(&t, &first_fields, buf), "\r\nMax-Forwards: 70\r\n"
							      "Route: <sip:op1.example.com;lr>\r\n"
							      "Route: <sip:op2.example.com;lr>\r\n"
							      "From: "));
}

static void test_via_names_the_transport(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	p.transport = SIP_TPL_TLS;
	p.via_sent_by = SIP_STR("[2001:db8::10]:5061");
	prepare_ok(&t, &p);
	assert_non_null(strstr(build(&t, &first_fields, buf),
			       "\r\nVia: SIP/2.0/TLS [2001:db8::10]:5061;rport;branch=z9hG4bK"));
}

/* RFC 5923: a line that accepts no connections asks for its own to be reused. */
static void test_via_alias_asks_for_the_connection_to_be_reused(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	p.transport = SIP_TPL_TCP;
	p.via_alias = true;
	prepare_ok(&t, &p);
	assert_non_null(strstr(build(&t, &first_fields, buf),
			       "\r\nVia: SIP/2.0/TCP 198.18.0.10:5060;rport;alias;branch=z9hG4bK"));
}

static void test_display_name_is_quoted_and_escaped(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	p.from_display = SIP_STR("Desk \"A\\B\"");
	prepare_ok(&t, &p);
	assert_non_null(strstr(build(&t, &first_fields, buf),
			       "\r\nFrom: \"Desk \\\"A\\\\B\\\"\" <sip:1000@example.com>;tag="));
}

static void test_register_without_display_name_sends_bare_name_addr(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	p.from_display = SIP_STR_NULL;
	p.user_agent = SIP_STR_NULL;
	prepare_ok(&t, &p);
	build(&t, &first_fields, buf);
	assert_non_null(strstr(buf, "\r\nFrom: <sip:1000@example.com>;tag=a1b2c3\r\n"
				    "To: <sip:1000@example.com>\r\n"));
	assert_null(strstr(buf, "User-Agent"));
}

static void test_subscribe_has_own_to_event_accept_and_expires(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	char buf[BUF_LEN];

	(void)state;
	p.method = SIP_TPL_SUBSCRIBE;
	p.request_uri = SIP_STR("sip:2000@example.com");
	p.to_uri = SIP_STR("sip:2000@example.com");
	p.event = SIP_STR("dialog");
	p.call_id = SIP_STR("sub-1@198.18.0.10");
	f.auth = SIP_STR("Digest y");
	prepare_ok(&t, &p);
	assert_string_equal(
		build(&t, &f, buf),
		"SUBSCRIBE sip:2000@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.18.0.10:5060;rport;branch=z9hG4bK0123456789abcdef\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Line 1000\" <sip:1000@example.com>;tag=a1b2c3\r\n"
		"To: <sip:2000@example.com>\r\n"
		"Call-ID: sub-1@198.18.0.10\r\n"
		"CSeq: 1 SUBSCRIBE\r\n"
		"Contact: <sip:1000@198.18.0.10:5060>\r\n"
		"Event: dialog\r\n"
		"Accept: application/dialog-info+xml\r\n"
		"Expires: 3600\r\n"
		"Authorization: Digest y\r\n"
		"User-Agent: sipedge/0.1\r\n"
		"Content-Length: 0\r\n"
		"\r\n");
}

static void test_subscribe_defaults_to_message_summary(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	p.method = SIP_TPL_SUBSCRIBE;
	p.request_uri = SIP_STR("sip:*97@example.com");
	prepare_ok(&t, &p);
	assert_non_null(strstr(build(&t, &first_fields, buf),
			       "\r\nTo: <sip:*97@example.com>\r\n"
			       "Call-ID: c0ffee@198.18.0.10\r\n"
			       "CSeq: 1 SUBSCRIBE\r\n"
			       "Contact: <sip:1000@198.18.0.10:5060>\r\n"
			       "Event: message-summary\r\n"
			       "Accept: application/simple-message-summary\r\n"
			       "Expires: 3600\r\n"));
}

static void test_outbound_subscribe_asks_for_the_flow_with_ob(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	p.method = SIP_TPL_SUBSCRIBE;
	p.outbound = true; /* no instance needed: reg-id is a REGISTER thing */
	p.contact_uri = SIP_STR("sip:1000@198.18.0.10:5060;transport=tcp");
	prepare_ok(&t, &p);
	build(&t, &first_fields, buf);
	assert_non_null(
		strstr(buf, "\r\nContact: <sip:1000@198.18.0.10:5060;transport=tcp;ob>\r\n"));
	assert_non_null(strstr(buf, "\r\nSupported: outbound\r\n"));
	assert_null(strstr(buf, "reg-id"));
}

static void test_options_accepts_sdp_and_has_no_expires(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	p.method = SIP_TPL_OPTIONS;
	p.request_uri = SIP_STR("sip:op.example.com");
	p.contact_uri = SIP_STR_NULL;
	p.call_id = SIP_STR("opt-1@198.18.0.10");
	prepare_ok(&t, &p);
	assert_string_equal(
		build(&t, &first_fields, buf),
		"OPTIONS sip:op.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.18.0.10:5060;rport;branch=z9hG4bK0123456789abcdef\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Line 1000\" <sip:1000@example.com>;tag=a1b2c3\r\n"
		"To: <sip:op.example.com>\r\n"
		"Call-ID: opt-1@198.18.0.10\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Accept: application/sdp\r\n"
		"User-Agent: sipedge/0.1\r\n"
		"Content-Length: 0\r\n"
		"\r\n");
}

static void test_build_rejects_template_of_another_method(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	assert_int_equal(sip_build_subscribe(&t, &first_fields, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sip_build_options(&t, &first_fields, buf, sizeof(buf)), -EINVAL);
	p.method = SIP_TPL_OPTIONS;
	prepare_ok(&t, &p);
	assert_int_equal(sip_build_register(&t, &first_fields, buf, sizeof(buf)), -EINVAL);
}

static void test_contact_star_is_rejected_outside_register(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	char buf[BUF_LEN];

	(void)state;
	p.method = SIP_TPL_SUBSCRIBE;
	prepare_ok(&t, &p);
	f.contact_star = true;
	assert_int_equal(sip_build_subscribe(&t, &f, buf, sizeof(buf)), -EINVAL);
}

/* The plain build without values, the build with values otherwise. */
static ssize_t build_register(const struct sip_tpl *t, const struct sip_line_vars *v,
			      const struct sip_req_fields *f, char *buf, size_t cap)
{
	return v ? sip_build_register_vars(t, v, f, buf, cap) : sip_build_register(t, f, buf, cap);
}

/* Every cap short of the length fails and leaves the buffer, and the octet past it, alone. */
static void check_every_short_cap(const struct sip_tpl *t, const struct sip_line_vars *v,
				  const struct sip_req_fields *f)
{
	char full[BUF_LEN];
	ssize_t len = build_register(t, v, f, full, sizeof(full));

	assert_true(len > 0);
	for (size_t cap = 0; cap <= (size_t)len; cap++) {
		/* exactly cap + 1 octets on the heap, so ASan also sees any overrun */
		char *buf = malloc(cap + 1);
		ssize_t n;

		assert_non_null(buf);
		memset(buf, 0xa5, cap + 1);
		n = build_register(t, v, f, buf, cap);
		if (cap < (size_t)len) {
			assert_int_equal(n, -ENOSPC);
			for (size_t i = 0; i <= cap; i++)
				assert_int_equal((unsigned char)buf[i], 0xa5);
		} else {
			assert_int_equal(n, len);
			assert_memory_equal(buf, full, (size_t)len);
			assert_int_equal((unsigned char)buf[cap], 0xa5);
		}
		free(buf);
	}
}

static void test_every_short_buffer_gets_enospc_and_no_write_past_cap(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;

	(void)state;
	p.outbound = true;
	p.reg_id = 1;
	p.instance = SIP_STR("urn:uuid:00000000-0000-1000-8000-000000001000");
	p.routes = op_route;
	p.n_routes = 1;
	prepare_ok(&t, &p);
	check_every_short_cap(&t, NULL, &f);
	f.auth = SIP_STR("Digest username=\"1000\", response=\"0123456789abcdef\"");
	f.cseq = 1000000;
	check_every_short_cap(&t, NULL, &f);
	f.proxy_auth = true;
	f.contact_star = true;
	check_every_short_cap(&t, NULL, &f);
}

static void test_template_copied_by_its_size_builds_the_same_text(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	struct sip_tpl *packed;
	char want[BUF_LEN], buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	assert_true(sip_tpl_size(&t) < sizeof(t));
	/* exactly sip_tpl_size() octets on the heap: ASan catches any read past them */
	packed = malloc(sip_tpl_size(&t));
	assert_non_null(packed);
	memcpy(packed, &t, sip_tpl_size(&t));
	f.contact_star = true;
	f.auth = SIP_STR("Digest z");
	build(&t, &f, want);
	assert_string_equal(build(packed, &f, buf), want);
	free(packed);
}

static void test_prepare_rejects_overlong_request_uri_with_enospc(void **state)
{
	static char uri[SIP_TPL_TEXT_MAX + 1];
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();

	(void)state;
	memcpy(uri, "sip:", 4);
	memset(uri + 4, 'a', sizeof(uri) - 4);
	p.request_uri = sip_str_make(uri, sizeof(uri));
	assert_int_equal(sip_tpl_prepare(&t, &p), -ENOSPC);
}

static void test_prepare_rejects_missing_required_field_with_einval(void **state)
{
	static const size_t required[] = {
		offsetof(struct sip_tpl_params, request_uri),
		offsetof(struct sip_tpl_params, from_uri),
		offsetof(struct sip_tpl_params, from_tag),
		offsetof(struct sip_tpl_params, call_id),
		offsetof(struct sip_tpl_params, contact_uri),
		offsetof(struct sip_tpl_params, via_sent_by),
	};
	struct sip_tpl t;

	(void)state;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		struct sip_tpl_params p = register_params();
		const struct sip_str empty = SIP_STR_NULL;

		memcpy((char *)&p + required[i], &empty, sizeof(empty));
		assert_int_equal(sip_tpl_prepare(&t, &p), -EINVAL);
	}
}

static void test_prepare_rejects_crlf_that_would_forge_a_header(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();

	(void)state;
	p.user_agent = SIP_STR("x\r\nContact: *");
	assert_int_equal(sip_tpl_prepare(&t, &p), -EINVAL);
	p = register_params();
	p.from_display = SIP_STR("a\nb");
	assert_int_equal(sip_tpl_prepare(&t, &p), -EINVAL);
	p = register_params();
	p.contact_uri = SIP_STR("sip:1000@198.18.0.10>;q=1");
	assert_int_equal(sip_tpl_prepare(&t, &p), -EINVAL);
	p = register_params();
	p.call_id = SIP_STR("a b");
	assert_int_equal(sip_tpl_prepare(&t, &p), -EINVAL);
}

static void test_prepare_rejects_unknown_method_and_transport(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();

	(void)state;
	p.method = (enum sip_tpl_method)7;
	assert_int_equal(sip_tpl_prepare(&t, &p), -EINVAL);
	p = register_params();
	p.transport = (enum sip_tpl_transport)7;
	assert_int_equal(sip_tpl_prepare(&t, &p), -EINVAL);
}

/* What the builder writes, our own parser (the RFC 4475-tested one) reads back field by field. */
static void test_outbound_register_parses_back_with_the_parser(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	struct sip_req_fields f = first_fields;
	struct sip_header hdrs[32];
	struct sip_parse_error err;
	struct sip_msg m;
	struct sip_contact c;
	size_t off;
	const char *why;
	char buf[BUF_LEN];
	const char *text;

	(void)state;
	p.outbound = true;
	p.reg_id = 2;
	p.instance = SIP_STR("urn:uuid:00000000-0000-4000-8000-0000000003e8");
	p.routes = op_route;
	p.n_routes = 1;
	f.auth = SIP_STR("Digest username=\"1000\", realm=\"example.com\", nonce=\"n\", "
			 "uri=\"sip:example.com\", response=\"0123456789abcdef0123456789abcdef\"");
	prepare_ok(&t, &p);
	text = build(&t, &f, buf);
	assert_int_equal(sip_parse(text, strlen(text), SIP_FRAMING_DATAGRAM, &m, hdrs, 32, &err),
			 (long)strlen(text));
	assert_int_equal(m.cseq.seq, 1);
	assert_int_equal(m.via.branch.len, 23);
	assert_true(m.via.has_rport);
	assert_string_equal(sip_hdr_name(sip_hdr_lookup("Route", 5)), "Route");
	assert_non_null(sip_msg_header(&m, SIP_HDR_ROUTE, 0));
	assert_non_null(sip_msg_header(&m, SIP_HDR_AUTHORIZATION, 0));
	assert_int_equal(
		sip_contact_parse(sip_msg_header(&m, SIP_HDR_CONTACT, 0)->value, &c, &off, &why),
		0);
	assert_int_equal(c.reg_id, 2);
	assert_int_equal(c.instance.len, strlen("urn:uuid:00000000-0000-4000-8000-0000000003e8"));
}

/* ---- one template for every line: placeholders and per-line values ------------------ */

/* The line values of test_sip_builder's lines, shortest to longest. */
static const struct sip_line_vars short_line = {
	.user = SIP_STR("1"),
	.hostport = SIP_STR("192.0.2.1:5"),
	.tag = SIP_STR("t"),
	.callid = SIP_STR("c"),
	.uuid = SIP_STR("0"),
};

static const struct sip_line_vars usual_line = {
	.user = SIP_STR("1000"),
	.hostport = SIP_STR("198.18.0.10:5060"),
	.tag = SIP_STR("a1b2c3"),
	.callid = SIP_STR("c0ffee@198.18.0.10"),
	.uuid = SIP_STR("00000000002a"),
};

static const struct sip_line_vars long_line = {
	.user = SIP_STR("+493012345678901234567890"),
	.hostport = SIP_STR("[2001:db8:1234:5678:9abc:def0:1234:5678]:65535"),
	.tag = SIP_STR("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
	.callid = SIP_STR("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "@[2001:db8:1234:5678:9abc:def0:1234:5678]"),
	.uuid = SIP_STR("ffffffffffff"),
};

static const struct sip_line_vars *const lines[] = {&short_line, &usual_line, &long_line};

/* A worker's REGISTER: every line-specific part is a placeholder. */
static struct sip_tpl_params shared_register_params(bool outbound)
{
	struct sip_tpl_params p = {
		.method = SIP_TPL_REGISTER,
		.request_uri = SIP_STR("sip:example.com"),
		.from_uri = SIP_STR("sip:{user}@example.com"),
		.from_tag = SIP_STR("{tag}"),
		.call_id = SIP_STR("{callid}"),
		.contact_uri = SIP_STR("sip:{user}@{hostport}"),
		.via_sent_by = SIP_STR("{hostport}"),
		.transport = SIP_TPL_UDP,
		.user_agent = SIP_STR("sipedge/0.1"),
	};

	if (outbound) {
		p.outbound = true;
		p.reg_id = 1;
		p.instance = SIP_STR("urn:uuid:00000000-0000-1000-8000-{uuid}");
		p.contact_uri = SIP_STR("sip:{user}@{hostport};transport=tcp");
		p.transport = SIP_TPL_TCP;
		p.routes = op_route;
		p.n_routes = 1;
	}
	return p;
}

#define SUBST_LEN 512

/* The test's own placeholder substitution, to check the builder's against. */
static struct sip_str subst(struct sip_str in, const struct sip_line_vars *v, char *out)
{
	const struct {
		const char *name;
		struct sip_str value;
	} names[] = {{"{user}", v->user},
		     {"{hostport}", v->hostport},
		     {"{tag}", v->tag},
		     {"{callid}", v->callid},
		     {"{uuid}", v->uuid}};
	size_t n = 0;

	for (size_t i = 0; i < in.len;) {
		size_t k = 0;

		while (k < 5 && (in.len - i < strlen(names[k].name) ||
				 memcmp(in.p + i, names[k].name, strlen(names[k].name))))
			k++;
		if (k < 5) {
			assert_true(n + names[k].value.len < SUBST_LEN);
			memcpy(out + n, names[k].value.p, names[k].value.len);
			n += names[k].value.len;
			i += strlen(names[k].name);
		} else {
			assert_true(n + 1 < SUBST_LEN);
			out[n++] = in.p[i++];
		}
	}
	return sip_str_make(out, n);
}

/* p with v's values written in: what a line's own template was before templates were shared. */
static struct sip_tpl_params substituted(const struct sip_tpl_params *p,
					 const struct sip_line_vars *v, char store[][SUBST_LEN])
{
	struct sip_tpl_params q = *p;
	struct sip_str *fields[] = {&q.request_uri, &q.from_uri, &q.to_uri,  &q.contact_uri,
				    &q.via_sent_by, &q.from_tag, &q.call_id, &q.instance};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i]->len)
			*fields[i] = subst(*fields[i], v, store[i]);
	return q;
}

/* Builds with the values and the method's function; the text NUL-terminated in buf. */
static const char *build_vars(const struct sip_tpl *t, const struct sip_line_vars *v,
			      const struct sip_req_fields *f, char *buf)
{
	ssize_t n;

	switch (t->method) {
	case SIP_TPL_SUBSCRIBE:
		n = sip_build_subscribe_vars(t, v, f, buf, BUF_LEN - 1);
		break;
	case SIP_TPL_OPTIONS:
		n = sip_build_options_vars(t, v, f, buf, BUF_LEN - 1);
		break;
	default:
		n = sip_build_register_vars(t, v, f, buf, BUF_LEN - 1);
		break;
	}
	assert_true(n > 0);
	buf[n] = '\0';
	return buf;
}

/* The shared template built with v gives the text of a template prepared with v written in. */
static void check_same_as_substituted(const struct sip_tpl_params *p, const struct sip_line_vars *v,
				      const struct sip_req_fields *f)
{
	static char store[8][SUBST_LEN];
	struct sip_tpl shared, own;
	struct sip_tpl_params q = substituted(p, v, store);
	char want[BUF_LEN], buf[BUF_LEN];

	prepare_ok(&shared, p);
	prepare_ok(&own, &q);
	assert_true(shared.has_vars);
	assert_false(own.has_vars);
	assert_string_equal(build_vars(&shared, v, f, buf), build(&own, f, want));
}

static void test_vars_register_equals_register_prepared_with_the_values(void **state)
{
	(void)state;
	for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
		for (int outbound = 0; outbound <= 1; outbound++) {
			for (int auth = 0; auth <= 1; auth++) {
				for (int star = 0; star <= 1; star++) {
					struct sip_tpl_params p = shared_register_params(outbound);
					struct sip_req_fields f = first_fields;

					f.auth = auth ? SIP_STR("Digest username=\"1000\"")
						      : SIP_STR_NULL;
					f.contact_star = star;
					check_same_as_substituted(&p, lines[l], &f);
				}
			}
		}
	}
}

/* The copy takes sizes in steps (1-3, 4-7, 8-15, 16-32, more): every step and its edges. */
static void test_vars_of_every_length_up_to_70_equal_the_substituted_text(void **state)
{
	static char u[70], h[70], g[70], c[70];
	struct sip_tpl_params p = shared_register_params(true);

	(void)state;
	memset(u, 'u', sizeof(u));
	memset(h, 'h', sizeof(h));
	memset(g, 'g', sizeof(g));
	memset(c, 'c', sizeof(c));
	for (size_t n = 1; n <= sizeof(u); n++) {
		const struct sip_line_vars v = {sip_str_make(u, n), sip_str_make(h, n),
						sip_str_make(g, n), sip_str_make(c, n),
						sip_str_make(c, n), SIP_STR_NULL,
						SIP_STR_NULL,	    SIP_STR_NULL};

		check_same_as_substituted(&p, &v, &first_fields);
	}
}

static void test_vars_subscribe_and_options_equal_those_prepared_with_the_values(void **state)
{
	(void)state;
	for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
		for (int outbound = 0; outbound <= 1; outbound++) {
			struct sip_tpl_params p = shared_register_params(outbound);
			struct sip_req_fields f = first_fields;

			f.auth = SIP_STR("Digest y");
			p.method = SIP_TPL_SUBSCRIBE;
			p.request_uri = SIP_STR("sip:{user}@example.com");
			p.call_id = SIP_STR("sub-{callid}");
			check_same_as_substituted(&p, lines[l], &f);
			p.method = SIP_TPL_OPTIONS;
			p.request_uri = SIP_STR("sip:op.example.com");
			p.contact_uri = SIP_STR_NULL;
			check_same_as_substituted(&p, lines[l], &f);
		}
	}
}

static void test_two_lines_sharing_a_template_get_their_own_values(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = shared_register_params(false);
	const struct sip_line_vars other = {
		.user = SIP_STR("2000"),
		.hostport = SIP_STR("198.18.0.11:5062"),
		.tag = SIP_STR("d4e5f6"),
		.callid = SIP_STR("beef@198.18.0.11"),
	};
	const struct sip_line_vars *const both[] = {&usual_line, &other, &usual_line};
	static const char *const want[][5] = {
		{"\r\nVia: SIP/2.0/UDP 198.18.0.10:5060;rport;",
		 "\r\nFrom: <sip:1000@example.com>;tag=a1b2c3\r\n",
		 "\r\nTo: <sip:1000@example.com>\r\n", "\r\nCall-ID: c0ffee@198.18.0.10\r\n",
		 "\r\nContact: <sip:1000@198.18.0.10:5060>\r\n"},
		{"\r\nVia: SIP/2.0/UDP 198.18.0.11:5062;rport;",
		 "\r\nFrom: <sip:2000@example.com>;tag=d4e5f6\r\n",
		 "\r\nTo: <sip:2000@example.com>\r\n", "\r\nCall-ID: beef@198.18.0.11\r\n",
		 "\r\nContact: <sip:2000@198.18.0.11:5062>\r\n"},
	};
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	for (size_t i = 0; i < 3; i++) {
		build_vars(&t, both[i], &first_fields, buf);
		for (size_t h = 0; h < 5; h++) {
			assert_non_null(strstr(buf, want[i % 2][h]));
			assert_null(strstr(buf, want[(i + 1) % 2][h]));
		}
	}
}

static void test_vars_build_rejects_empty_value_the_template_uses(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = shared_register_params(true);
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	for (size_t k = 0; k < 4; k++) {
		struct sip_line_vars v = usual_line;
		struct sip_str *values[] = {&v.user, &v.hostport, &v.tag, &v.callid};

		*values[k] = SIP_STR_NULL;
		memset(buf, 0xa5, sizeof(buf));
		assert_int_equal(sip_build_register_vars(&t, &v, &first_fields, buf, sizeof(buf)),
				 -EINVAL);
		assert_int_equal((unsigned char)buf[0], 0xa5);
	}
	assert_int_equal(sip_build_register_vars(&t, NULL, &first_fields, buf, sizeof(buf)),
			 -EINVAL);
}

static void test_vars_build_rejects_value_longer_than_text_max(void **state)
{
	static char huge[SIP_TPL_TEXT_MAX + 1];
	struct sip_tpl t;
	struct sip_tpl_params p = shared_register_params(false);
	struct sip_line_vars v = usual_line;
	char buf[BUF_LEN];

	(void)state;
	memset(huge, 'u', sizeof(huge));
	prepare_ok(&t, &p);
	v.user = sip_str_make(huge, sizeof(huge));
	assert_int_equal(sip_build_register_vars(&t, &v, &first_fields, buf, sizeof(buf)), -EINVAL);
}

static void test_value_the_template_does_not_use_may_be_empty(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	const struct sip_line_vars v = {.user = SIP_STR("1000")};
	char buf[BUF_LEN];

	(void)state;
	p.from_uri = SIP_STR("sip:{user}@example.com");
	p.contact_uri = SIP_STR("sip:{user}@198.18.0.10:5060");
	prepare_ok(&t, &p);
	assert_string_equal(build_vars(&t, &v, &first_fields, buf), register_text);
}

static void test_plain_build_rejects_template_with_placeholders(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = shared_register_params(false);
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	assert_int_equal(sip_build_register(&t, &first_fields, buf, sizeof(buf)), -EINVAL);
	p.method = SIP_TPL_SUBSCRIBE;
	prepare_ok(&t, &p);
	assert_int_equal(sip_build_subscribe(&t, &first_fields, buf, sizeof(buf)), -EINVAL);
	p.method = SIP_TPL_OPTIONS;
	prepare_ok(&t, &p);
	assert_int_equal(sip_build_options(&t, &first_fields, buf, sizeof(buf)), -EINVAL);
}

static void test_vars_build_of_template_without_placeholders_is_the_plain_text(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = register_params();
	char buf[BUF_LEN];

	(void)state;
	prepare_ok(&t, &p);
	assert_false(t.has_vars);
	assert_string_equal(build_vars(&t, &long_line, &first_fields, buf), register_text);
	assert_string_equal(build_vars(&t, NULL, &first_fields, buf), register_text);
}

static void test_braces_that_are_no_placeholder_are_sent_as_written(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = shared_register_params(false);
	char buf[BUF_LEN];

	(void)state;
	p.call_id = SIP_STR("{callid}{call}{callid");
	p.user_agent = SIP_STR("{user} agent"); /* not a field placeholders are looked for in */
	prepare_ok(&t, &p);
	build_vars(&t, &usual_line, &first_fields, buf);
	assert_non_null(strstr(buf, "\r\nCall-ID: c0ffee@198.18.0.10{call}{callid\r\n"));
	assert_non_null(strstr(buf, "\r\nUser-Agent: {user} agent\r\n"));
}

static void test_prepare_rejects_more_placeholders_than_segments_with_enospc(void **state)
{
	static char call_id[8 * SIP_TPL_SEGS_MAX + 1];
	struct sip_tpl t;
	struct sip_tpl_params p = shared_register_params(true);

	(void)state;
	for (size_t i = 0; i < SIP_TPL_SEGS_MAX; i++)
		memcpy(call_id + 8 * i, "{callid}", 8);
	p.call_id = sip_str_make(call_id, 8 * SIP_TPL_SEGS_MAX);
	assert_int_equal(sip_tpl_prepare(&t, &p), -ENOSPC);
}

static void test_vars_every_short_buffer_gets_enospc_and_no_write_past_cap(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = shared_register_params(true);
	struct sip_req_fields f = first_fields;

	(void)state;
	prepare_ok(&t, &p);
	for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
		f.auth = SIP_STR_NULL;
		f.contact_star = false;
		check_every_short_cap(&t, lines[l], &f);
		f.auth = SIP_STR("Digest username=\"1000\", response=\"0123456789abcdef\"");
		check_every_short_cap(&t, lines[l], &f);
		f.contact_star = true;
		check_every_short_cap(&t, lines[l], &f);
	}
}

static void test_vars_register_parses_back_with_the_lines_values(void **state)
{
	struct sip_tpl t;
	struct sip_tpl_params p = shared_register_params(true);
	struct sip_header hdrs[32];
	struct sip_parse_error err;
	struct sip_msg m;
	struct sip_contact c;
	size_t off;
	const char *why;
	char buf[BUF_LEN];
	const char *text;

	(void)state;
	prepare_ok(&t, &p);
	text = build_vars(&t, &usual_line, &first_fields, buf);
	assert_int_equal(sip_parse(text, strlen(text), SIP_FRAMING_STREAM, &m, hdrs, 32, &err),
			 (long)strlen(text));
	assert_true(sip_str_eq(m.from.uri_str, SIP_STR("sip:1000@example.com")));
	assert_true(sip_str_eq(m.from.tag, SIP_STR("a1b2c3")));
	assert_true(sip_str_eq(m.to.uri_str, SIP_STR("sip:1000@example.com")));
	assert_true(sip_str_eq(m.call_id, SIP_STR("c0ffee@198.18.0.10")));
	assert_true(sip_str_eq(m.via.host, SIP_STR("198.18.0.10")));
	assert_int_equal(m.via.port, 5060);
	assert_int_equal(
		sip_contact_parse(sip_msg_header(&m, SIP_HDR_CONTACT, 0)->value, &c, &off, &why),
		0);
	assert_true(sip_str_eq(c.addr.uri_str, SIP_STR("sip:1000@198.18.0.10:5060;transport=tcp")));
	assert_true(
		sip_str_eq(c.instance, SIP_STR("urn:uuid:00000000-0000-1000-8000-00000000002a")));
}

/* One SUBSCRIBE template for the initial request and its in-dialog refreshes (RFC 6665
 * §4.1.2.1): the To header takes the line's remote tag when it has one, nothing else. */
static void subscribe_to_tag_is_the_lines_own_or_nothing(void **state)
{
	static struct sip_tpl tpl;
	struct sip_tpl *t = &tpl;
	struct sip_tpl_params p = {
		.method = SIP_TPL_SUBSCRIBE,
		.request_uri = SIP_STR("sip:{user}@example.com"),
		.from_uri = SIP_STR("sip:{user}@example.com"),
		.from_tag = SIP_STR("s{tag}"),
		.call_id = SIP_STR("s{callid}"),
		.contact_uri = SIP_STR("sip:{user}@{hostport}"),
		.via_sent_by = SIP_STR("{hostport}"),
		.transport = SIP_TPL_UDP,
		.to_tag_var = true,
	};
	struct sip_line_vars v = usual_line;
	struct sip_req_fields f = {.branch = 1, .cseq = 2, .expires = 3600};
	char buf[2048];
	ssize_t n;

	(void)state;
	assert_int_equal(sip_tpl_prepare(t, &p), 0);
	n = sip_build_subscribe_vars(t, &v, &f, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\r\nTo: <sip:1000@example.com>\r\n"));
	v.to_tag = SIP_STR("as7f3d91.b2");
	n = sip_build_subscribe_vars(t, &v, &f, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\r\nTo: <sip:1000@example.com>;tag=as7f3d91.b2\r\n"));
	/* the length is counted before writing: one octet short is refused untouched */
	assert_int_equal(sip_build_subscribe_vars(t, &v, &f, buf, (size_t)n - 1), -ENOSPC);
}

/* A SUBSCRIBE in a dialog goes to the dialog's remote target along its route set, which
 * replaces the preloaded (outbound proxy) route (RFC 3261 §12.2.1.1); outside a dialog the
 * template's own Request-URI and route stand. */
static void subscribe_in_a_dialog_takes_the_lines_target_and_route_set(void **state)
{
	static struct sip_tpl tpl;
	static const struct sip_str op[] = {SIP_STR("sip:198.18.0.5;lr")};
	struct sip_tpl *t = &tpl;
	struct sip_tpl_params p = {
		.method = SIP_TPL_SUBSCRIBE,
		.request_uri = SIP_STR("sip:{user}@example.com"),
		.from_uri = SIP_STR("sip:{user}@example.com"),
		.from_tag = SIP_STR("s{tag}"),
		.call_id = SIP_STR("s{callid}"),
		.contact_uri = SIP_STR("sip:{user}@{hostport}"),
		.via_sent_by = SIP_STR("{hostport}"),
		.transport = SIP_TPL_UDP,
		.routes = op,
		.n_routes = 1,
		.to_tag_var = true,
		.dialog_var = true,
	};
	struct sip_line_vars v = usual_line;
	struct sip_req_fields f = {.branch = 1, .cseq = 2, .expires = 3600};
	struct sip_msg m;
	struct sip_header h[32];
	struct sip_parse_error err;
	char buf[2048];
	ssize_t n;

	(void)state;
	assert_int_equal(sip_tpl_prepare(t, &p), 0);
	n = sip_build_subscribe_vars(t, &v, &f, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_memory_equal(buf, "SUBSCRIBE sip:1000@example.com SIP/2.0\r\n", 40);
	assert_non_null(strstr(buf, "\r\nRoute: <sip:198.18.0.5;lr>\r\n"));

	v.to_tag = SIP_STR("as7f3d91.b2");
	v.target = SIP_STR("sip:mwi@198.18.0.7:5060");
	v.routes = SIP_STR("<sip:198.18.0.3;lr;ftag=ab>,<sip:198.18.0.9;lr>");
	n = sip_build_subscribe_vars(t, &v, &f, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_memory_equal(buf, "SUBSCRIBE sip:mwi@198.18.0.7:5060 SIP/2.0\r\n", 43);
	assert_non_null(
		strstr(buf, "\r\nRoute: <sip:198.18.0.3;lr;ftag=ab>,<sip:198.18.0.9;lr>\r\n"));
	assert_null(strstr(buf, "198.18.0.5"));
	/* the To names the subscribed resource still (§12.2.1.1 leaves it as it was) */
	assert_non_null(strstr(buf, "\r\nTo: <sip:1000@example.com>;tag=as7f3d91.b2\r\n"));
	assert_int_equal(sip_parse(buf, (size_t)n, SIP_FRAMING_DATAGRAM, &m, h, 32, &err), n);
	assert_true(sip_str_eq(m.ruri, SIP_STR("sip:mwi@198.18.0.7:5060")));
	/* counted before writing: one octet short is refused */
	assert_int_equal(sip_build_subscribe_vars(t, &v, &f, buf, (size_t)n - 1), -ENOSPC);

	/* an empty route set: no Route at all, not the preloaded one */
	v.routes = SIP_STR_NULL;
	n = sip_build_subscribe_vars(t, &v, &f, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_null(strstr(buf, "Route:"));
	assert_int_equal(sip_parse(buf, (size_t)n, SIP_FRAMING_DATAGRAM, &m, h, 32, &err), n);
	assert_int_equal(sip_build_subscribe_vars(t, &v, &f, buf, (size_t)n - 1), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(subscribe_to_tag_is_the_lines_own_or_nothing),
		cmocka_unit_test(subscribe_in_a_dialog_takes_the_lines_target_and_route_set),
		cmocka_unit_test(test_register_text_is_exact),
		cmocka_unit_test(test_outbound_register_parses_back_with_the_parser),
		cmocka_unit_test(test_second_build_patches_branch_cseq_expires_and_leaves_template),
		cmocka_unit_test(test_cseq_is_decimal_without_padding_at_every_width),
		cmocka_unit_test(test_branch_is_magic_cookie_and_16_lowercase_hex_digits),
		cmocka_unit_test(test_authorization_header_only_when_given),
		cmocka_unit_test(test_proxy_authorization_when_asked),
		cmocka_unit_test(test_unregister_sends_this_contact_with_expires_zero),
		cmocka_unit_test(test_contact_star_removes_all_bindings_with_expires_zero),
		cmocka_unit_test(test_outbound_register_has_flow_contact_params_and_supported),
		cmocka_unit_test(test_outbound_register_without_instance_or_reg_id_is_rejected),
		cmocka_unit_test(test_route_set_is_sent_in_order),
		cmocka_unit_test(test_via_names_the_transport),
		cmocka_unit_test(test_via_alias_asks_for_the_connection_to_be_reused),
		cmocka_unit_test(test_display_name_is_quoted_and_escaped),
		cmocka_unit_test(test_register_without_display_name_sends_bare_name_addr),
		cmocka_unit_test(test_subscribe_has_own_to_event_accept_and_expires),
		cmocka_unit_test(test_subscribe_defaults_to_message_summary),
		cmocka_unit_test(test_outbound_subscribe_asks_for_the_flow_with_ob),
		cmocka_unit_test(test_options_accepts_sdp_and_has_no_expires),
		cmocka_unit_test(test_build_rejects_template_of_another_method),
		cmocka_unit_test(test_contact_star_is_rejected_outside_register),
		cmocka_unit_test(test_every_short_buffer_gets_enospc_and_no_write_past_cap),
		cmocka_unit_test(test_template_copied_by_its_size_builds_the_same_text),
		cmocka_unit_test(test_prepare_rejects_overlong_request_uri_with_enospc),
		cmocka_unit_test(test_prepare_rejects_missing_required_field_with_einval),
		cmocka_unit_test(test_prepare_rejects_crlf_that_would_forge_a_header),
		cmocka_unit_test(test_prepare_rejects_unknown_method_and_transport),
		cmocka_unit_test(test_vars_register_equals_register_prepared_with_the_values),
		cmocka_unit_test(test_vars_of_every_length_up_to_70_equal_the_substituted_text),
		cmocka_unit_test(
			test_vars_subscribe_and_options_equal_those_prepared_with_the_values),
		cmocka_unit_test(test_two_lines_sharing_a_template_get_their_own_values),
		cmocka_unit_test(test_vars_build_rejects_empty_value_the_template_uses),
		cmocka_unit_test(test_vars_build_rejects_value_longer_than_text_max),
		cmocka_unit_test(test_value_the_template_does_not_use_may_be_empty),
		cmocka_unit_test(test_plain_build_rejects_template_with_placeholders),
		cmocka_unit_test(
			test_vars_build_of_template_without_placeholders_is_the_plain_text),
		cmocka_unit_test(test_braces_that_are_no_placeholder_are_sent_as_written),
		cmocka_unit_test(test_prepare_rejects_more_placeholders_than_segments_with_enospc),
		cmocka_unit_test(test_vars_every_short_buffer_gets_enospc_and_no_write_past_cap),
		cmocka_unit_test(test_vars_register_parses_back_with_the_lines_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
