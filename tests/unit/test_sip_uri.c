/*
 * Promises of sip/uri.c: sip:, sips: and tel: URIs split into their parts or refused
 * with the octet at fault (RFC 3261 §19.1.1 and §25.1, RFC 3966, RFC 5118), escapes kept
 * as written, and the parameter walkers that callers use on the parts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sip/uri.h"

static bool str_is(struct sip_str s, const char *c)
{
	return s.len == strlen(c) && (s.len == 0 || memcmp(s.p, c, s.len) == 0);
}

static int uri(const char *s, struct sip_uri *u)
{
	size_t off;
	const char *why;

	return sip_uri_parse(sip_str_cstr(s), u, &off, &why);
}

/* Parses s expecting a failure; returns the octet offset it names. */
static size_t uri_fails_at(const char *s, const char **why)
{
	struct sip_uri u;
	size_t off = SIZE_MAX;

	assert_int_equal(sip_uri_parse(sip_str_cstr(s), &u, &off, why), -EBADMSG);
	assert_true(off <= strlen(s));
	return off;
}

static void ipv6_references_follow_rfc_5118(void **state)
{
	static const char *const good[] = {
		"sip:[::1]",
		"sip:[::]",
		"sip:[2001:db8::10]:5060",
		"sip:[1:2:3:4:5:6:7:8]",
		"sip:[1:2:3:4:5:6:7::]",
		"sip:[::ffff:192.0.2.1]",
		"sip:u@[2001:DB8:0:0:0:0:0:1];transport=tcp",
	};
	static const char *const bad[] = {
		"sip:[1:2:3:4:5:6:7:8:9]",
		"sip:[1::2::3]",
		"sip:[::ffff:192.0.2.256]",
		"sip:[12345::1]",
		"sip:[1:2:3:4:5:6:7:8::]",
		"sip:[]",
		"sip:[:1]",
		"sip:[1:]",
		"sip:[fe80::1%25eth0]",
	};
	struct sip_uri u;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(uri(good[i], &u), 0);
		assert_true(u.host_is_ipv6);
		assert_int_equal(u.host.p[0], '[');
		assert_int_equal(u.host.p[u.host.len - 1], ']');
	}
	assert_int_equal(uri("sip:[2001:db8::10]:5060", &u), 0);
	assert_int_equal(u.port, 5060);
	assert_true(str_is(u.host, "[2001:db8::10]"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(uri_fails_at(bad[i], &why), 4);
		assert_string_equal(why, "invalid host");
	}
	assert_int_equal(uri_fails_at("sip:[2001:db8::1", &why), 4);
	assert_string_equal(why, "unterminated IPv6 reference");
	/* RFC 5118 ipv6-bad: an IPv6 address without brackets reads as host:port */
	uri_fails_at("sip:2001:db8::10", &why);
	assert_string_equal(why, "invalid port");
}

static void host_names_and_ipv4(void **state)
{
	struct sip_uri u;
	const char *why;

	(void)state;
	assert_int_equal(uri("sip:a.example.com.", &u), 0);
	assert_true(str_is(u.host, "a.example.com."));
	assert_false(u.host_is_ipv6);
	assert_int_equal(uri("sip:hyphenated-host.example.com", &u), 0);
	assert_int_equal(uri_fails_at("sip:-a.com", &why), 4);
	assert_string_equal(why, "invalid host");
	assert_int_equal(uri_fails_at("sip:a..com", &why), 4);
	assert_int_equal(uri_fails_at("sip:a.-b.com", &why), 4);
	assert_int_equal(uri_fails_at("sip:a-.b.com", &why), 4);
	assert_int_equal(uri_fails_at("sip:u@a.b-:5060", &why), 6);
	assert_string_equal(why, "invalid host");
	assert_true(sip_host_valid(SIP_STR("a-b.c--d.example.")));
	assert_false(sip_host_valid(SIP_STR("a-.b")));
	assert_false(sip_host_valid(SIP_STR("a.b-")));
	assert_false(sip_host_valid(SIP_STR("a.b-.")));
	assert_int_equal(uri_fails_at("sip:u@", &why), 6);
	assert_true(sip_host_valid(SIP_STR("192.0.2.1")));
	assert_true(sip_host_valid(SIP_STR("[::1]")));
	assert_false(sip_host_valid(SIP_STR("")));
	assert_false(sip_host_valid(SIP_STR(".a")));
	assert_false(sip_host_valid(SIP_STR("a b")));
	/* hosts with 16 octets or more from their start, read sixteen at a time */
	assert_true(sip_host_valid(SIP_STR("a-b.c--d.example.com")));
	assert_true(sip_host_valid(SIP_STR("sip.example.com.")));
	assert_true(sip_host_valid(SIP_STR("abcdefghijklmnopq.example.com")));
	assert_false(sip_host_valid(SIP_STR("sip..example.com")));
	assert_false(sip_host_valid(SIP_STR("sip.-example.com")));
	assert_false(sip_host_valid(SIP_STR("sip-.example.com")));
	assert_false(sip_host_valid(SIP_STR("-sip.example.com")));
	assert_false(sip_host_valid(SIP_STR(".sip.example.com")));
	assert_false(sip_host_valid(SIP_STR("sip.example.com-")));
	assert_int_equal(uri_fails_at("sip:u@sip.example.com-;transport=udp", &why), 6);
	assert_int_equal(uri("sip:u@sip.example.com.;transport=udp", &u), 0);
	assert_true(str_is(u.host, "sip.example.com."));
	assert_true(sip_ipv4_valid(SIP_STR("0.0.0.0")));
	assert_true(sip_ipv4_valid(SIP_STR("010.1.1.1")));
	assert_false(sip_ipv4_valid(SIP_STR("1.2.3")));
	assert_false(sip_ipv4_valid(SIP_STR("1.2.3.4.5")));
	assert_false(sip_ipv4_valid(SIP_STR("1.2.3.1000")));
}

/* port = 1*DIGIT: leading zeros are fine, the value must be 1..65535. */
static void ports_take_leading_zeros_and_stay_in_range(void **state)
{
	static const char *const bad[] = {
		"sip:h:0",     "sip:h:",      "sip:h:65536",
		"sip:h:00000", "sip:h:x5060", "sip:h:99999999999999999999"};
	struct sip_uri u;
	const char *why;

	(void)state;
	assert_int_equal(uri("sip:h:5060", &u), 0);
	assert_int_equal(u.port, 5060);
	assert_int_equal(uri("sip:h:05060", &u), 0);
	assert_int_equal(u.port, 5060);
	assert_int_equal(uri("sip:h:0000000000000000005061;lr", &u), 0);
	assert_int_equal(u.port, 5061);
	assert_int_equal(uri("sip:h:65535", &u), 0);
	assert_int_equal(u.port, 65535);
	assert_int_equal(uri("sip:h:1", &u), 0);
	assert_int_equal(u.port, 1);
	assert_int_equal(uri("sip:h", &u), 0);
	assert_int_equal(u.port, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(uri_fails_at(bad[i], &why), 6);
		assert_string_equal(why, "invalid port");
	}
}

/* user@host[:port], which sip__uri_sip reads without its general path, checked alike. */
static void user_at_host_uris_are_checked_like_any_other(void **state)
{
	static const char *const bad_port[] = {
		"sip:u@h:0",	 "sip:u@h:",	  "sip:u@h:65536",
		"sip:u@h:00000", "sip:u@h:x5060", "sip:u@h:99999999999999999999"};
	struct sip_uri u;
	const char *why;

	(void)state;
	assert_int_equal(uri("sip:10001@198.18.0.10:5060", &u), 0);
	assert_true(str_is(u.user, "10001"));
	assert_true(str_is(u.host, "198.18.0.10"));
	assert_int_equal(u.port, 5060);
	assert_true(u.params.p == u.host.p + 16 && u.params.len == 0);
	assert_null(u.password.p);
	assert_null(u.headers.p);
	assert_int_equal(uri("sip:u@h.:65535", &u), 0);
	assert_true(str_is(u.host, "h."));
	assert_int_equal(u.port, 65535);
	assert_int_equal(uri("SIP:u@h", &u), 0);
	assert_int_equal(u.port, 0);
	assert_true(u.params.p == u.host.p + 1 && u.params.len == 0);
	assert_int_equal(uri("sip:u@h:5060;lr", &u), 0);
	assert_true(str_is(u.params, ";lr"));
	for (size_t i = 0; i < sizeof(bad_port) / sizeof(bad_port[0]); i++) {
		assert_int_equal(uri_fails_at(bad_port[i], &why), 8);
		assert_string_equal(why, "invalid port");
	}
	assert_int_equal(uri_fails_at("sip:u@-h", &why), 6);
	assert_string_equal(why, "invalid host");
	assert_int_equal(uri_fails_at("sip:u@h.-x", &why), 6);
	assert_int_equal(uri_fails_at("sip:u@h@i", &why), 7);
	assert_int_equal(uri_fails_at("sip:u@h x", &why), 7);
	assert_string_equal(why, "unexpected octet in URI");
}

static void userinfo_and_escapes_stay_as_written(void **state)
{
	struct sip_uri u;
	const char *why;

	(void)state;
	assert_int_equal(uri("sip:%61lice:pa%24s@h", &u), 0);
	assert_true(str_is(u.user, "%61lice"));
	assert_true(str_is(u.password, "pa%24s"));
	assert_int_equal(uri("sip:u:@h", &u), 0);
	assert_true(str_is(u.password, ""));
	assert_int_equal(uri("sip:+1-555;isub=1@h;user=phone", &u), 0);
	assert_true(str_is(u.user, "+1-555;isub=1"));
	assert_int_equal(uri("sip:null-%00-null@h", &u), 0);
	assert_true(str_is(u.user, "null-%00-null"));
	assert_int_equal(uri_fails_at("sip:a%2@h", &why), 5);
	assert_string_equal(why, "invalid octet in user part");
	assert_int_equal(uri_fails_at("sip:a%zz@h", &why), 5);
	assert_int_equal(uri_fails_at("sip:@h", &why), 4);
	assert_string_equal(why, "empty user part");
	assert_int_equal(uri_fails_at("sip:a b@h", &why), 5);
}

static void params_and_headers(void **state)
{
	struct sip_uri u;
	struct sip_str v, cur, name;
	const char *why;

	(void)state;
	assert_int_equal(
		uri("sip:h;transport=tcp;lr;maddr=[::1];x=%41?subject=a%20b&priority=urgent", &u),
		0);
	assert_true(str_is(u.params, ";transport=tcp;lr;maddr=[::1];x=%41"));
	assert_true(str_is(u.headers, "subject=a%20b&priority=urgent"));
	assert_true(sip_param_find(u.params, "TRANSPORT", &v));
	assert_true(str_is(v, "tcp"));
	assert_true(sip_param_find(u.params, "lr", &v));
	assert_null(v.p); /* valueless */
	assert_false(sip_param_find(u.params, "l", &v));
	assert_true(sip_param_find(u.params, "maddr", &v));
	assert_true(str_is(v, "[::1]"));
	assert_int_equal(uri_fails_at("sip:h;;x", &why), 6);
	assert_string_equal(why, "empty URI parameter name");
	assert_int_equal(uri_fails_at("sip:h;p=", &why), 8);
	assert_string_equal(why, "empty URI parameter value");
	assert_int_equal(uri_fails_at("sip:h;p=%4", &why), 8);
	assert_int_equal(uri_fails_at("sip:h?x", &why), 7);
	assert_string_equal(why, "malformed URI header");
	assert_int_equal(uri_fails_at("sip:h?=x", &why), 6);
	assert_int_equal(uri_fails_at("sip:h?x=1&", &why), 10);
	assert_int_equal(uri_fails_at("sip:h>", &why), 5);
	assert_string_equal(why, "unexpected octet in URI");
	/* header-style walking: LWS around ';' and '=', quoted values kept with quotes */
	cur = SIP_STR(" ; a = b ;c; d=\"x;y\"");
	assert_true(sip_param_next(&cur, &name, &v));
	assert_true(str_is(name, "a"));
	assert_true(str_is(v, "b"));
	assert_true(sip_param_next(&cur, &name, &v));
	assert_true(str_is(name, "c"));
	assert_null(v.p);
	assert_true(sip_param_next(&cur, &name, &v));
	assert_true(str_is(name, "d"));
	assert_true(str_is(v, "\"x;y\""));
	assert_false(sip_param_next(&cur, &name, &v));
}

static void schemes(void **state)
{
	struct sip_uri u;
	const char *why;

	(void)state;
	assert_int_equal(uri("SIP:u@h", &u), 0);
	assert_int_equal(u.scheme, SIP_SCHEME_SIP);
	assert_int_equal(uri("Sips:h", &u), 0);
	assert_int_equal(u.scheme, SIP_SCHEME_SIPS);
	assert_int_equal(uri("mailto:a@example.com", &u), 0);
	assert_int_equal(u.scheme, SIP_SCHEME_OTHER);
	assert_true(str_is(u.scheme_str, "mailto"));
	assert_true(str_is(u.opaque, "a@example.com"));
	assert_int_equal(uri("sipx:h", &u), 0);
	assert_int_equal(u.scheme, SIP_SCHEME_OTHER);
	assert_int_equal(uri_fails_at("1sip:h", &why), 0);
	assert_string_equal(why, "URI does not start with a scheme");
	assert_int_equal(uri_fails_at("sip", &why), 3);
	assert_int_equal(uri_fails_at("foo:", &why), 4);
	assert_string_equal(why, "empty URI after scheme");
	assert_int_equal(uri_fails_at("foo:a b", &why), 5);
	assert_int_equal(uri_fails_at("", &why), 0);
}

/* RFC 3966 §3, §5.1.5: a global number, or a local one with its phone-context. */
static void tel_numbers_are_global_or_carry_a_context(void **state)
{
	static const char *const good[] = {
		"tel:+1-201-555-0123",
		"tel:+1(201)555.0123;ext=22",
		"TEL:+1",
		"tel:+1-201-555-0123;phone-context=example.com",
		"tel:5550123;phone-context=example.com",
		"tel:5550123;PHONE-CONTEXT=example.com",
		"tel:*21#;phone-context=+1-201",
		"tel:7042;phone-context=+1-(201)",
		"tel:abc-1;phone-context=pbx.example.com.",
	};
	static const struct {
		const char *uri;
		size_t off;
		const char *why;
	} bad[] = {
		{"tel:", 4, "empty telephone number"},
		{"tel:+", 4, "tel: global number without a digit"},
		{"tel:+-().", 4, "tel: global number without a digit"},
		{"tel:+1a", 6, "unexpected octet in URI"},
		{"tel:+1*", 6, "unexpected octet in URI"},
		{"tel:+12?x=1", 7, "unexpected octet in URI"},
		{"tel:5550123", 4, "tel: local number without phone-context (RFC 3966 §5.1.5)"},
		{"tel:5550123;ext=1", 4,
		 "tel: local number without phone-context (RFC 3966 §5.1.5)"},
		{"tel:;phone-context=example.com", 4, "empty telephone number"},
		{"tel:7042;phone-context=+", 23,
		 "tel: phone-context is neither a domain nor a global number"},
		{"tel:7042;phone-context=-bad", 23,
		 "tel: phone-context is neither a domain nor a global number"},
		{"tel:7042;phone-context", 4,
		 "tel: local number without phone-context (RFC 3966 §5.1.5)"},
	};
	struct sip_uri u;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (uri(good[i], &u))
			fail_msg("%s refused", good[i]);
		assert_int_equal(u.scheme, SIP_SCHEME_TEL);
	}
	assert_int_equal(uri("tel:+1(201)555.0123;ext=22", &u), 0);
	assert_true(str_is(u.user, "+1(201)555.0123"));
	assert_true(str_is(u.params, ";ext=22"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t off = uri_fails_at(bad[i].uri, &why);

		if (off != bad[i].off || strcmp(why, bad[i].why))
			fail_msg("%s: octet %zu '%s', expected %zu '%s'", bad[i].uri, off, why,
				 bad[i].off, bad[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv6_references_follow_rfc_5118),
		cmocka_unit_test(host_names_and_ipv4),
		cmocka_unit_test(ports_take_leading_zeros_and_stay_in_range),
		cmocka_unit_test(user_at_host_uris_are_checked_like_any_other),
		cmocka_unit_test(userinfo_and_escapes_stay_as_written),
		cmocka_unit_test(params_and_headers),
		cmocka_unit_test(schemes),
		cmocka_unit_test(tel_numbers_are_global_or_carry_a_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
