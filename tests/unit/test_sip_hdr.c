/*
 * Promises of sip/hdr.c, the typed header values: Via, Contact (and its "*"), name-addr
 * and route-set values, CSeq limits, Retry-After, the one delta-seconds rule, and list
 * splitting. Each is checked on its own value, as a caller holding one header gets it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sip/hdr.h"

static bool str_is(struct sip_str s, const char *c)
{
	return s.p && s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

static void via_fields_with_lws_anywhere_the_abnf_allows(void **state)
{
	struct sip_via v;
	size_t off;
	const char *why;

	(void)state;
	assert_int_equal(sip_via_parse(SIP_STR("SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK1;"
					       "rport=5061;received=198.18.0.9;maddr=224.2.0.1"),
				       &v, &off, &why),
			 0);
	assert_true(str_is(v.protocol, "SIP"));
	assert_true(str_is(v.version, "2.0"));
	assert_true(str_is(v.transport, "UDP"));
	assert_true(str_is(v.host, "198.18.0.10"));
	assert_int_equal(v.port, 5060);
	assert_true(str_is(v.branch, "z9hG4bK1"));
	assert_true(v.has_rport);
	assert_int_equal(v.rport, 5061);
	assert_true(str_is(v.received, "198.18.0.9"));
	assert_true(str_is(v.maddr, "224.2.0.1"));
	assert_int_equal(sip_via_parse(SIP_STR("SIP / 2.0 / TCP\r\n h.example.com : 05060 ; "
					       "BRANCH = z9hG4bK2 ; rport"),
				       &v, &off, &why),
			 0);
	assert_true(str_is(v.transport, "TCP"));
	assert_true(str_is(v.host, "h.example.com"));
	assert_int_equal(v.port, 5060);
	assert_true(str_is(v.branch, "z9hG4bK2"));
	assert_true(v.has_rport);
	assert_int_equal(v.rport, 0);
	/* RFC 5118: bracketed sent-by, received= without brackets */
	assert_int_equal(sip_via_parse(SIP_STR("SIP/2.0/UDP [2001:db8::9:1]:5061;"
					       "received=2001:db8::9:255;branch=z9hG4bK3"),
				       &v, &off, &why),
			 0);
	assert_true(str_is(v.host, "[2001:db8::9:1]"));
	assert_int_equal(v.port, 5061);
	assert_true(str_is(v.received, "2001:db8::9:255"));
	/* a long branch holding the other octets a token may, across a run of 16 */
	assert_int_equal(sip_via_parse(SIP_STR("SIP/2.0/UDP h;branch=z9hG4bK0123456789abcdef-"
					       ".!%*_+`'~ABCDEFGHIJKLMNOPQRSTUVWXYZ;rport"),
				       &v, &off, &why),
			 0);
	assert_true(
		str_is(v.branch, "z9hG4bK0123456789abcdef-.!%*_+`'~ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
	assert_true(v.has_rport);
	assert_int_equal(sip_via_parse(SIP_STR("SIP/2.0/UDP h;branch"), &v, &off, &why), 0);
	assert_non_null(v.branch.p);
	assert_int_equal(v.branch.len, 0);
	assert_int_equal(sip_via_parse(SIP_STR("SIP/2.0/UDP h"), &v, &off, &why), 0);
	assert_int_equal(v.port, 0);
	assert_null(v.branch.p);
	assert_false(v.has_rport);
}

static void via_refuses_with_the_octet(void **state)
{
	static const struct {
		const char *v;
		size_t off;
		const char *why;
	} bad[] = {
		{"SIP/2.0/UDP;h", 11, "Via lacks whitespace before sent-by"},
		{"SIP/2.0 UDP h", 8, "Via sent-protocol lacks '/'"},
		{"/2.0/UDP h", 0, "malformed Via sent-protocol"},
		{"SIP/2.0/UDP -h", 12, "invalid host in Via sent-by"},
		{"SIP/2.0/UDP [2001:db8::1", 12, "invalid host in Via sent-by"},
		{"SIP/2.0/UDP h:0", 14, "invalid port"},
		{"SIP/2.0/UDP h:65536", 14, "invalid port"},
		{"SIP/2.0/UDP h:", 14, "invalid port"},
		{"SIP/2.0/UDP h;rport=0", 20, "invalid rport value"},
		{"SIP/2.0/UDP h;rport=50x", 20, "invalid rport value"},
		{"SIP/2.0/UDP h x", 14, "unexpected octet after header value"},
		{"SIP/2.0/UDP h;=x", 14, "empty header parameter name"},
		{"SIP/2.0/UDP h;branch=", 21, "empty header parameter value"},
		{"SIP/2.0/UDP h;branch=\"x", 21, "unterminated quoted parameter value"},
		/* long values: the octet that ends them, inside or after a run of 16 */
		{"SIP/2.0/UDP h;branch=z9hG4bK0123456789abcdef,x", 44,
		 "unexpected octet after header value"},
		{"SIP/2.0/UDP h;branch=z9hG4bK01234567\xc3\xa9"
		 "abcdefghij",
		 36, "unexpected octet after header value"},
		{"SIP/2.0/UDP h;branch=z9hG4bK0123456789abcdefghijklmn@x", 52,
		 "unexpected octet after header value"},
	};
	struct sip_via v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t off = SIZE_MAX;
		const char *why = NULL;

		assert_int_equal(sip_via_parse(sip_str_cstr(bad[i].v), &v, &off, &why), -EBADMSG);
		if (off != bad[i].off || strcmp(why, bad[i].why))
			fail_msg("%s: octet %zu '%s', expected %zu '%s'", bad[i].v, off, why,
				 bad[i].off, bad[i].why);
	}
}

static void contact_values_star_expires_reg_id_instance(void **state)
{
	struct sip_contact c;
	size_t off;
	const char *why;

	(void)state;
	assert_int_equal(sip_contact_parse(SIP_STR("*"), &c, &off, &why), 0);
	assert_true(c.addr.star);
	assert_int_equal(sip_contact_parse(SIP_STR(" \t* "), &c, &off, &why), 0);
	assert_true(c.addr.star);
	/* "*" with anything else is not the star form, and not a URI either */
	assert_int_equal(sip_contact_parse(SIP_STR("*;expires=0"), &c, &off, &why), -EBADMSG);
	assert_int_equal(
		sip_contact_parse(SIP_STR("\"A, B\" <sip:a@h:5070>;expires=3600;q=0.5;"
					  "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-"
					  "000000000001>\";reg-id=2147483647"),
				  &c, &off, &why),
		0);
	assert_false(c.addr.star);
	assert_true(str_is(c.addr.display, "\"A, B\""));
	assert_true(str_is(c.addr.uri_str, "sip:a@h:5070"));
	assert_int_equal(c.addr.uri.port, 5070);
	assert_true(c.has_expires);
	assert_int_equal(c.expires, 3600);
	assert_true(str_is(c.q, "0.5"));
	assert_true(str_is(c.instance, "urn:uuid:00000000-0000-0000-0000-000000000001"));
	assert_int_equal(c.reg_id, INT32_MAX);
	assert_int_equal(sip_contact_parse(SIP_STR("Alice Smith <sip:a@h>"), &c, &off, &why), 0);
	assert_true(str_is(c.addr.display, "Alice Smith"));
	/* addr-spec: the parameters after it are the header's */
	assert_int_equal(sip_contact_parse(SIP_STR("sip:a@h;expires=5"), &c, &off, &why), 0);
	assert_true(str_is(c.addr.uri_str, "sip:a@h"));
	assert_int_equal(c.expires, 5);
	assert_int_equal(
		sip_contact_parse(SIP_STR("<sip:a@h>;expires=99999999999"), &c, &off, &why), 0);
	assert_int_equal(c.expires, UINT32_MAX);
	assert_int_equal(sip_contact_parse(SIP_STR("<sip:a@h>;expires=soon"), &c, &off, &why),
			 -EBADMSG);
	assert_string_equal(why, "Contact expires is not a number");
	assert_int_equal(off, 18);
	assert_int_equal(sip_contact_parse(SIP_STR("<sip:a@h>;reg-id=2147483648"), &c, &off, &why),
			 -EBADMSG);
	assert_int_equal(sip_contact_parse(SIP_STR("<sip:a@h>;reg-id=0"), &c, &off, &why),
			 -EBADMSG);
	assert_int_equal(sip_contact_parse(SIP_STR("<sip:a@h"), &c, &off, &why), -EBADMSG);
	assert_string_equal(why, "'<' without '>'");
	assert_int_equal(sip_contact_parse(SIP_STR("\"A <sip:a@h>"), &c, &off, &why), -EBADMSG);
	assert_string_equal(why, "unterminated quoted display name");
	assert_int_equal(sip_contact_parse(SIP_STR("A@B <sip:a@h>"), &c, &off, &why), -EBADMSG);
	assert_string_equal(why, "display name is neither tokens nor a quoted string");
}

static void naddr_tag_and_route_needs_brackets(void **state)
{
	struct sip_naddr na;
	size_t off;
	const char *why;

	(void)state;
	assert_int_equal(sip_naddr_parse(SIP_STR("<sip:a@h>;TAG=x1;foo"), &na, &off, &why), 0);
	assert_true(str_is(na.tag, "x1"));
	assert_true(str_is(na.params, ";TAG=x1;foo"));
	assert_int_equal(sip_naddr_parse(SIP_STR("sip:a@h"), &na, &off, &why), 0);
	assert_null(na.tag.p);
	assert_int_equal(sip_route_parse(SIP_STR("<sip:p1.example.com;lr>"), &na, &off, &why), 0);
	assert_true(str_is(na.uri.host, "p1.example.com"));
	assert_true(str_is(na.uri.params, ";lr"));
	assert_int_equal(sip_route_parse(SIP_STR("\"Edge\" <sip:p@h:5061;transport=tls;lr>;x=1"),
					 &na, &off, &why),
			 0);
	assert_true(str_is(na.display, "\"Edge\""));
	assert_true(str_is(na.params, ";x=1"));
	assert_int_equal(sip_route_parse(SIP_STR("Edge <sip:p@h>"), &na, &off, &why), 0);
	assert_int_equal(sip_route_parse(SIP_STR("sip:p@h;lr"), &na, &off, &why), -EBADMSG);
	assert_string_equal(why, "route value is not a name-addr ('<' URI '>')");
	assert_int_equal(off, 0);
	assert_int_equal(sip_route_parse(SIP_STR(""), &na, &off, &why), -EBADMSG);
	assert_int_equal(sip_route_parse(SIP_STR("<sip:p@h"), &na, &off, &why), -EBADMSG);
	assert_int_equal(sip_route_parse(SIP_STR("<sip:p@h> junk"), &na, &off, &why), -EBADMSG);
}

/* RFC 3261 §20.16: the number fits 32 unsigned bits; RFC 4475 scalar02 does not. */
static void cseq_limits(void **state)
{
	struct sip_cseq cs;
	size_t off;
	const char *why;

	(void)state;
	assert_int_equal(sip_cseq_parse(SIP_STR("0 INVITE"), &cs, &off, &why), 0);
	assert_int_equal(cs.seq, 0);
	assert_int_equal(sip_cseq_parse(SIP_STR("4294967295 INVITE"), &cs, &off, &why), 0);
	assert_int_equal(cs.seq, UINT32_MAX);
	assert_true(str_is(cs.method, "INVITE"));
	assert_int_equal(sip_cseq_parse(SIP_STR(" 7\r\n\tREGISTER "), &cs, &off, &why), 0);
	assert_int_equal(cs.seq, 7);
	assert_true(str_is(cs.method, "REGISTER"));
	assert_int_equal(sip_cseq_parse(SIP_STR("4294967296 INVITE"), &cs, &off, &why), -EBADMSG);
	assert_string_equal(why, "CSeq number larger than 2^32-1");
	assert_int_equal(sip_cseq_parse(SIP_STR("36893488147419103232 REGISTER"), &cs, &off, &why),
			 -EBADMSG);
	assert_int_equal(sip_cseq_parse(SIP_STR("INVITE"), &cs, &off, &why), -EBADMSG);
	assert_string_equal(why, "CSeq lacks a number");
	assert_int_equal(sip_cseq_parse(SIP_STR("1INVITE"), &cs, &off, &why), -EBADMSG);
	assert_string_equal(why, "CSeq lacks whitespace before the method");
	assert_int_equal(sip_cseq_parse(SIP_STR("1 "), &cs, &off, &why), -EBADMSG);
	assert_string_equal(why, "CSeq lacks a method");
	assert_int_equal(sip_cseq_parse(SIP_STR("1 INVITE x"), &cs, &off, &why), -EBADMSG);
	assert_string_equal(why, "unexpected octet after CSeq method");
}

static void retry_after_comment_and_duration(void **state)
{
	struct sip_retry_after ra;
	size_t off;
	const char *why;

	(void)state;
	assert_int_equal(sip_retry_after_parse(SIP_STR("120"), &ra, &off, &why), 0);
	assert_int_equal(ra.seconds, 120);
	assert_null(ra.comment.p);
	assert_false(ra.has_duration);
	assert_int_equal(sip_retry_after_parse(SIP_STR("18000;duration=3600"), &ra, &off, &why), 0);
	assert_int_equal(ra.duration, 3600);
	assert_int_equal(sip_retry_after_parse(SIP_STR("5 (a \\) (b)) ; duration = 99999999999"),
					       &ra, &off, &why),
			 0);
	assert_true(str_is(ra.comment, "a \\) (b)"));
	assert_int_equal(ra.duration, UINT32_MAX);
	/* RFC 4475 scalarlg's Retry-After: overlong, read as the longest */
	assert_int_equal(
		sip_retry_after_parse(SIP_STR("949302838503028349304023988"), &ra, &off, &why), 0);
	assert_int_equal(ra.seconds, UINT32_MAX);
	assert_int_equal(sip_retry_after_parse(SIP_STR("soon"), &ra, &off, &why), -EBADMSG);
	assert_string_equal(why, "Retry-After lacks delta-seconds");
	assert_int_equal(sip_retry_after_parse(SIP_STR("5 (open"), &ra, &off, &why), -EBADMSG);
	assert_string_equal(why, "unterminated Retry-After comment");
	assert_int_equal(off, 2);
	assert_int_equal(sip_retry_after_parse(SIP_STR("5;duration=x"), &ra, &off, &why), -EBADMSG);
	assert_string_equal(why, "Retry-After duration is not a number");
}

/* RFC 6665 §8.4 substate-value and subexp-params, as a notifier sends them. */
static void subscription_state_values_and_params(void **state)
{
	struct sip_sub_state_hdr st;
	size_t off;
	const char *why;

	(void)state;
	assert_int_equal(sip_sub_state_parse(SIP_STR("active;expires=3599"), &st, &off, &why), 0);
	assert_int_equal(st.state, SIP_SUB_ACTIVE);
	assert_true(st.has_expires);
	assert_int_equal(st.expires, 3599);
	assert_false(st.has_retry_after);
	assert_int_equal(st.reason.len, 0);
	assert_int_equal(sip_sub_state_parse(SIP_STR("Pending"), &st, &off, &why), 0);
	assert_int_equal(st.state, SIP_SUB_PENDING);
	assert_int_equal(
		sip_sub_state_parse(SIP_STR(" terminated ; reason = Probation ;retry-after=30 ;x=1"),
				    &st, &off, &why),
		0);
	assert_int_equal(st.state, SIP_SUB_TERMINATED);
	assert_true(str_is(st.reason, "Probation"));
	assert_true(st.has_retry_after);
	assert_int_equal(st.retry_after, 30);
	assert_int_equal(sip_sub_state_parse(SIP_STR("waiting;reason=x"), &st, &off, &why), 0);
	assert_int_equal(st.state, SIP_SUB_OTHER);
	assert_int_equal(sip_sub_state_parse(SIP_STR(""), &st, &off, &why), -EBADMSG);
	assert_string_equal(why, "Subscription-State lacks a substate-value");
	assert_int_equal(sip_sub_state_parse(SIP_STR("terminated;reason=\"a b\""), &st, &off, &why),
			 -EBADMSG);
	assert_string_equal(why, "Subscription-State reason is not a token");
	assert_int_equal(sip_sub_state_parse(SIP_STR("terminated;retry-after=soon"), &st, &off, &why),
			 -EBADMSG);
	assert_string_equal(why, "Subscription-State retry-after is not a number");
	assert_int_equal(off, 23);
	assert_int_equal(sip_sub_state_parse(SIP_STR("active;expires=-1"), &st, &off, &why),
			 -EBADMSG);
	assert_int_equal(sip_sub_state_parse(SIP_STR("active extra"), &st, &off, &why), -EBADMSG);
}

/* One rule for Expires, Min-Expires, Flow-Timer, expires=, Retry-After. */
static void delta_seconds_saturate_and_refuse_only_non_digits(void **state)
{
	static const struct {
		const char *v;
		int rc;
		uint32_t out;
	} cases[] = {
		{"0", 0, 0},
		{" 60\r\n ", 0, 60},
		{"0003600", 0, 3600},
		{"4294967295", 0, UINT32_MAX},
		{"4294967296", 0, UINT32_MAX},
		{"10000000000000000000000000000000000000000", 0, UINT32_MAX},
		{"", -EBADMSG, 0},
		{"  ", -EBADMSG, 0},
		{"6a", -EBADMSG, 0},
		{"-1", -EBADMSG, 0},
		{"+1", -EBADMSG, 0},
		{"1 2", -EBADMSG, 0},
	};
	uint32_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		assert_int_equal(sip_delta_seconds_parse(sip_str_cstr(cases[i].v), &v),
				 cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(v, cases[i].out);
	}
	assert_int_equal(sip_u32_parse(SIP_STR("256"), 255, &v), -ERANGE);
	assert_int_equal(sip_u32_parse(SIP_STR("255"), 255, &v), 0);
}

static void list_splitting(void **state)
{
	struct sip_str cur, item;

	(void)state;
	cur = SIP_STR("\"a\\\"b, c\" <sip:x@y>, <sip:z@w;p=\"1,2\">,sip:q@r");
	assert_true(sip_list_next(&cur, &item));
	assert_true(str_is(item, "\"a\\\"b, c\" <sip:x@y>"));
	assert_true(sip_list_next(&cur, &item));
	assert_true(str_is(item, "<sip:z@w;p=\"1,2\">"));
	assert_true(sip_list_next(&cur, &item));
	assert_true(str_is(item, "sip:q@r"));
	assert_false(sip_list_next(&cur, &item));
	cur = SIP_STR(" ,\r\n , ");
	assert_false(sip_list_next(&cur, &item));
	cur = SIP_STR("");
	assert_false(sip_list_next(&cur, &item));
	cur = SIP_STR("a,b");
	assert_true(sip_list_next(&cur, &item));
	assert_true(str_is(item, "a"));
	assert_true(sip_list_next(&cur, &item));
	assert_true(str_is(item, "b"));
	/* an unterminated quote runs to the end: one element, never past the value */
	cur = SIP_STR("\"abc, d, e");
	assert_true(sip_list_next(&cur, &item));
	assert_true(str_is(item, "\"abc, d, e"));
	assert_false(sip_list_next(&cur, &item));
	assert_true(str_is(sip_trim(SIP_STR("\r\n a b\t ")), "a b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(via_fields_with_lws_anywhere_the_abnf_allows),
		cmocka_unit_test(via_refuses_with_the_octet),
		cmocka_unit_test(contact_values_star_expires_reg_id_instance),
		cmocka_unit_test(naddr_tag_and_route_needs_brackets),
		cmocka_unit_test(cseq_limits),
		cmocka_unit_test(retry_after_comment_and_duration),
		cmocka_unit_test(subscription_state_values_and_params),
		cmocka_unit_test(delta_seconds_saturate_and_refuse_only_non_digits),
		cmocka_unit_test(list_splitting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
