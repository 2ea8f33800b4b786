/*
 * Promises of sip/digest: the RFC 7616 and RFC 2617 worked examples come out right, the
 * challenge parser splits, unquotes and refuses what it should, and the writer keeps to cap.
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
#include <openssl/evp.h>

#include "sip/digest.h"

static struct sip_digest_ctx ctx;

static int setup(void **state)
{
	(void)state;
	return sip_digest_ctx_create(&ctx);
}

static int teardown(void **state)
{
	(void)state;
	sip_digest_ctx_destroy(&ctx);
	return 0;
}

/*
 * The independent path: the whole hash input formatted as one string and hashed with
 * EVP's one-shot EVP_Digest, nothing shared with sip/digest.c.
 */
static void evp_hex(const char *md_name, char *out, const char *fmt, ...)
{
	char in[1024];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD *m = EVP_MD_fetch(NULL, md_name, NULL);
	va_list ap;

	assert_non_null(m);
	va_start(ap, fmt);
	vsnprintf(in, sizeof(in), fmt, ap);
	va_end(ap);
	assert_int_equal(EVP_Digest(in, strlen(in), md, &n, m, NULL), 1);
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	EVP_MD_free(m);
}

static void parse_ok(const char *value, struct sip_challenge *ch, size_t cap, size_t want_n)
{
	size_t n = 99, off = 99;

	assert_int_equal(sip_digest_challenges_parse(sip_str_cstr(value), ch, cap, &n, &off), 0);
	assert_int_equal(n, want_n);
}

static void assert_str(struct sip_str got, const char *want)
{
	assert_non_null(got.p);
	assert_int_equal(got.len, strlen(want));
	assert_memory_equal(got.p, want, got.len);
}

/* ---- RFC 7616 §3.9.1 and RFC 2617 §3.5 ---- */

static const char rfc7616_value[] =
	"Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n"
	" algorithm=SHA-256,\r\n nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
	" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", Digest\r\n"
	" realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n algorithm=MD5,\r\n"
	" nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
	" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

static struct sip_digest_req rfc7616_req(char *ha1, enum sip_digest_alg alg)
{
	int n = sip_digest_ha1(&ctx, alg, SIP_STR("Mufasa"), SIP_STR("http-auth@example.org"),
			       SIP_STR("Circle of Life"), ha1);

	assert_int_equal(n, (int)sip_digest_hex_len(alg));
	return (struct sip_digest_req){
		.method = SIP_STR("GET"),
		.uri = SIP_STR("/dir/index.html"),
		.username = SIP_STR("Mufasa"),
		.ha1 = sip_str_make(ha1, (size_t)n),
		.cnonce = SIP_STR("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"),
		.nc = 1,
	};
}

static void test_rfc7616_md5_response_matches_rfc(void **state)
{
	struct sip_challenge ch[2];
	char ha1[SIP_DIGEST_HEX_MAX], resp[SIP_DIGEST_HEX_MAX];
	struct sip_digest_req req = rfc7616_req(ha1, SIP_DIGEST_MD5);

	(void)state;
	parse_ok(rfc7616_value, ch, 2, 2);
	assert_int_equal(ch[1].algorithm, SIP_DIGEST_MD5);
	assert_int_equal(sip_digest_response(&ctx, &ch[1], &req, NULL, resp), 32);
	assert_memory_equal(resp, "8ca523f5e9506fed4657c9700eebdbec", 32);
}

static void test_rfc7616_sha256_response_matches_rfc(void **state)
{
	struct sip_challenge ch[2];
	char ha1[SIP_DIGEST_HEX_MAX], resp[SIP_DIGEST_HEX_MAX];
	struct sip_digest_req req = rfc7616_req(ha1, SIP_DIGEST_SHA256);

	(void)state;
	parse_ok(rfc7616_value, ch, 2, 2);
	assert_int_equal(ch[0].algorithm, SIP_DIGEST_SHA256);
	assert_int_equal(sip_digest_response(&ctx, &ch[0], &req, NULL, resp), 64);
	assert_memory_equal(resp,
			    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", 64);
}

static void test_rfc7616_authorization_value_has_every_param_in_order(void **state)
{
	struct sip_challenge ch[2];
	char ha1[SIP_DIGEST_HEX_MAX], buf[512];
	struct sip_digest_req req = rfc7616_req(ha1, SIP_DIGEST_MD5);
	static const char want[] =
		"Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
		"nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", "
		"response=\"8ca523f5e9506fed4657c9700eebdbec\", algorithm=MD5, "
		"cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, nc=00000001, "
		"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
	ssize_t n;

	(void)state;
	parse_ok(rfc7616_value, ch, 2, 2);
	n = sip_digest_authorization(&ctx, &ch[1], &req, NULL, buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, (size_t)n);
}

static void test_rfc2617_md5_response_matches_rfc(void **state)
{
	static const char value[] = "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
				    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
				    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
	struct sip_challenge ch[1];
	char ha1[SIP_DIGEST_HEX_MAX], resp[SIP_DIGEST_HEX_MAX];
	struct sip_digest_req req = {
		.method = SIP_STR("GET"),
		.uri = SIP_STR("/dir/index.html"),
		.username = SIP_STR("Mufasa"),
		.ha1 = sip_str_make(ha1, 32),
		.cnonce = SIP_STR("0a4f113b"),
		.nc = 1,
	};

	(void)state;
	parse_ok(value, ch, 1, 1);
	assert_int_equal(ch[0].algorithm, SIP_DIGEST_MD5); /* absent means MD5 */
	assert_null(ch[0].algorithm_raw.p);
	assert_int_equal(sip_digest_ha1(&ctx, SIP_DIGEST_MD5, SIP_STR("Mufasa"),
					SIP_STR("testrealm@host.com"), SIP_STR("Circle Of Life"),
					ha1),
			 32);
	assert_int_equal(sip_digest_response(&ctx, &ch[0], &req, NULL, resp), 32);
	assert_memory_equal(resp, "6629fae49393a05397450978507c4ef1", 32);
}

/* ---- responses against an independent computation ---- */

static void test_sha512_256_response_matches_stepwise_evp(void **state)
{
	static const char value[] = "Digest realm=\"sip.example.net\", nonce=\"b1f0Zm9vYmFy\", "
				    "qop=\"auth\", algorithm=SHA-512-256";
	struct sip_challenge ch[1];
	char ha1[SIP_DIGEST_HEX_MAX], resp[SIP_DIGEST_HEX_MAX];
	char w_ha1[65], w_ha2[65], want[65];
	struct sip_digest_req req = {
		.method = SIP_STR("REGISTER"),
		.uri = SIP_STR("sip:sip.example.net"),
		.username = SIP_STR("1000"),
		.ha1 = sip_str_make(ha1, 64),
		.cnonce = SIP_STR("0123456789abcdef"),
		.nc = 0x2a,
	};

	(void)state;
	parse_ok(value, ch, 1, 1);
	assert_int_equal(ch[0].algorithm, SIP_DIGEST_SHA512_256);
	assert_int_equal(sip_digest_ha1(&ctx, SIP_DIGEST_SHA512_256, SIP_STR("1000"),
					SIP_STR("sip.example.net"), SIP_STR("s3cret"), ha1),
			 64);
	evp_hex("SHA2-512/256", w_ha1, "%s:%s:%s", "1000", "sip.example.net", "s3cret");
	assert_memory_equal(ha1, w_ha1, 64);
	evp_hex("SHA2-512/256", w_ha2, "REGISTER:sip:sip.example.net");
	evp_hex("SHA2-512/256", want, "%s:b1f0Zm9vYmFy:0000002a:0123456789abcdef:auth:%s", w_ha1,
		w_ha2);
	assert_int_equal(sip_digest_response(&ctx, &ch[0], &req, NULL, resp), 64);
	assert_memory_equal(resp, want, 64);
}

static void test_no_qop_answers_in_rfc2069_mode(void **state)
{
	static const char value[] = "Digest realm=\"r\", nonce=\"n0\"";
	struct sip_challenge ch[1];
	char ha1[33], ha2[33], want[33], buf[256];
	struct sip_digest_req req = {
		.method = SIP_STR("REGISTER"),
		.uri = SIP_STR("sip:r"),
		.username = SIP_STR("u"),
		.ha1 = sip_str_make(ha1, 32),
	};
	ssize_t n;

	(void)state;
	parse_ok(value, ch, 1, 1);
	assert_int_equal(sip_digest_pick(ch, 1), 0);
	evp_hex("MD5", ha1, "u:r:p");
	evp_hex("MD5", ha2, "REGISTER:sip:r");
	evp_hex("MD5", want, "%s:n0:%s", ha1, ha2);
	n = sip_digest_authorization(&ctx, &ch[0], &req, NULL, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, want));
	assert_null(strstr(buf, "qop"));
	assert_null(strstr(buf, "cnonce"));
	assert_null(strstr(buf, "nc="));
	assert_null(strstr(buf, "opaque"));
}

static void test_sess_derives_ha1_from_stored_ha1_per_nonce(void **state)
{
	static const char value[] =
		"Digest realm=\"r\", nonce=\"n\\\"1\", qop=auth, algorithm=SHA-256-sess";
	struct sip_challenge ch[1];
	char ha1[65], sess[65], ha2[65], want[65], resp[SIP_DIGEST_HEX_MAX];
	struct sip_digest_req req = {
		.method = SIP_STR("REGISTER"),
		.uri = SIP_STR("sip:r"),
		.username = SIP_STR("u"),
		.ha1 = sip_str_make(ha1, 64),
		.cnonce = SIP_STR("c0ffee"),
		.nc = 1,
	};

	(void)state;
	parse_ok(value, ch, 1, 1);
	assert_int_equal(ch[0].algorithm, SIP_DIGEST_SHA256_SESS);
	evp_hex("SHA2-256", ha1, "u:r:p");
	/* the nonce is hashed unquoted: n"1, not n\"1 (RFC 7616 §3.4.1 unq()) */
	evp_hex("SHA2-256", sess, "%s:n\"1:c0ffee", ha1);
	evp_hex("SHA2-256", ha2, "REGISTER:sip:r");
	evp_hex("SHA2-256", want, "%s:n\"1:00000001:c0ffee:auth:%s", sess, ha2);
	assert_int_equal(sip_digest_response(&ctx, &ch[0], &req, NULL, resp), 64);
	assert_memory_equal(resp, want, 64);
}

static void test_ha1_of_wrong_length_for_hash_is_refused(void **state)
{
	struct sip_challenge ch[2];
	char ha1[SIP_DIGEST_HEX_MAX], resp[SIP_DIGEST_HEX_MAX];
	struct sip_digest_req req = rfc7616_req(ha1, SIP_DIGEST_MD5);

	(void)state;
	parse_ok(rfc7616_value, ch, 2, 2);
	/* an MD5 HA1 against the SHA-256 challenge */
	assert_int_equal(sip_digest_response(&ctx, &ch[0], &req, NULL, resp), -EINVAL);
}

static void test_ha2_cache_reuses_hash_for_same_method_and_uri(void **state)
{
	struct sip_challenge ch[2];
	char ha1[SIP_DIGEST_HEX_MAX], r1[SIP_DIGEST_HEX_MAX], r2[SIP_DIGEST_HEX_MAX];
	struct sip_digest_req req = rfc7616_req(ha1, SIP_DIGEST_MD5);
	struct sip_digest_ha2 cache;

	(void)state;
	sip_digest_ha2_reset(&cache);
	parse_ok(rfc7616_value, ch, 2, 2);
	assert_int_equal(sip_digest_response(&ctx, &ch[1], &req, &cache, r1), 32);
	assert_int_equal(sip_digest_response(&ctx, &ch[1], &req, &cache, r2), 32);
	assert_int_equal(cache.misses, 1);
	assert_int_equal(cache.hits, 1);
	assert_memory_equal(r1, "8ca523f5e9506fed4657c9700eebdbec", 32);
	assert_memory_equal(r2, r1, 32);

	req.uri = SIP_STR("/other");
	assert_int_equal(sip_digest_response(&ctx, &ch[1], &req, &cache, r2), 32);
	assert_int_equal(cache.misses, 2);
	assert_memory_not_equal(r2, r1, 32);
}

/* ---- challenge parsing ---- */

static void test_several_challenges_in_one_value_are_split(void **state)
{
	static const char value[] =
		"Digest realm=\"a\", nonce=\"x\", algorithm=SHA-256, Digest realm=\"a\", "
		"nonce=\"y\", algorithm=MD5,Basic realm=\"b\", Negotiate, NTLM TlRMTVNTUAAB==";
	struct sip_challenge ch[5];

	(void)state;
	parse_ok(value, ch, 5, 5);
	assert_str(ch[0].scheme, "Digest");
	assert_str(ch[0].nonce, "x");
	assert_int_equal(ch[0].algorithm, SIP_DIGEST_SHA256);
	assert_str(ch[0].algorithm_raw, "SHA-256");
	assert_str(ch[1].nonce, "y");
	assert_int_equal(ch[1].algorithm, SIP_DIGEST_MD5);
	assert_str(ch[2].scheme, "Basic");
	assert_str(ch[2].realm, "b");
	assert_str(ch[3].scheme, "Negotiate");
	assert_str(ch[4].scheme, "NTLM");
	assert_int_equal(sip_digest_pick(ch, 5), 0);
}

static void test_quoted_commas_and_escapes_stay_inside_realm(void **state)
{
	static const char value[] = "Digest realm=\"a, \\\"b\\\", c\\\\\", nonce=\"n\", "
				    "domain=\"sip:a sip:b\", charset=UTF-8, x-foo=\"1,2\", y=z";
	struct sip_challenge ch[2];
	char plain[32];
	ssize_t n;

	(void)state;
	parse_ok(value, ch, 2, 1);
	assert_str(ch[0].realm, "a, \\\"b\\\", c\\\\");
	n = sip_digest_unescape(ch[0].realm, plain, sizeof(plain));
	assert_int_equal(n, 10);
	assert_memory_equal(plain, "a, \"b\", c\\", 10);
	assert_int_equal(sip_digest_unescape(ch[0].realm, plain, 5), -ENOSPC);
	assert_str(ch[0].domain, "sip:a sip:b");
	assert_str(ch[0].charset, "UTF-8");
	assert_int_equal(ch[0].params_unknown, 2);
}

static void test_param_names_and_stale_are_case_insensitive(void **state)
{
	static const char value[] = "digest REALM=\"r\", Nonce=\"n\", STALE=TRUE, "
				    "Algorithm=sha-512-256-SESS, QOP=\"Auth\", UserHash=true";
	struct sip_challenge ch[1];

	(void)state;
	parse_ok(value, ch, 1, 1);
	assert_true(ch[0].stale);
	assert_true(ch[0].userhash);
	assert_int_equal(ch[0].algorithm, SIP_DIGEST_SHA512_256_SESS);
	assert_int_equal(ch[0].qop, SIP_DIGEST_QOP_AUTH);
	assert_int_equal(sip_digest_pick(ch, 1), 0);

	parse_ok("Digest realm=\"r\", nonce=\"n\", stale=false", ch, 1, 1);
	assert_false(ch[0].stale);
	parse_ok("Digest realm=\"r\", nonce=\"n\", stale=\"true\"", ch, 1, 1);
	assert_true(ch[0].stale);
}

static void test_pick_prefers_sha512_256_then_sha256_then_md5(void **state)
{
	static const char value[] =
		"Digest realm=\"r\", nonce=\"1\", qop=auth, algorithm=MD5, "
		"Digest realm=\"r\", nonce=\"2\", qop=auth, algorithm=SHA-512-256-sess, "
		"Digest realm=\"r\", nonce=\"3\", qop=auth, algorithm=SHA-256, "
		"Digest realm=\"r\", nonce=\"4\", qop=auth, algorithm=SHA-512-256";
	struct sip_challenge ch[4];

	(void)state;
	parse_ok(value, ch, 4, 4);
	assert_int_equal(sip_digest_pick(ch, 4), 3); /* plain before -sess at equal hash */
	assert_int_equal(sip_digest_pick(ch, 3), 1);
	assert_int_equal(sip_digest_pick(ch, 1), 0);
}

static void test_unknown_algorithm_is_not_picked(void **state)
{
	static const char value[] = "Digest realm=\"r\", nonce=\"n\", algorithm=SHA3-256, "
				    "Digest realm=\"r\", nonce=\"n\", algorithm=\"MD5\"";
	struct sip_challenge ch[2];

	(void)state;
	parse_ok(value, ch, 2, 2);
	assert_int_equal(ch[0].algorithm, SIP_DIGEST_ALG_UNKNOWN);
	assert_str(ch[0].algorithm_raw, "SHA3-256");
	assert_int_equal(sip_digest_pick(ch, 2), 1);
	assert_int_equal(sip_digest_pick(ch, 1), -ENOTSUP);
}

static void test_pick_passes_over_unanswerable_challenges(void **state)
{
	static const char value[] =
		"Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\", "	/* only auth-int */
		"Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess, " /* -sess without qop */
		"Digest realm=\"r\", qop=auth, "			/* no nonce */
		"Basic realm=\"r\", "
		"Digest realm=\"r\", nonce=\"n\", qop=\"foo\""; /* only unknown qop */
	struct sip_challenge ch[5];

	(void)state;
	parse_ok(value, ch, 5, 5);
	assert_int_equal(ch[0].qop, SIP_DIGEST_QOP_AUTH_INT);
	assert_int_equal(sip_digest_pick(ch, 5), -ENOTSUP);
	assert_int_equal(sip_digest_pick(ch, 0), -ENOTSUP);
}

static void test_malformed_values_fail_at_the_offending_octet(void **state)
{
	static const struct {
		const char *value;
		size_t off;
	} cases[] = {
		{"", 0},
		{"   ", 3},
		{"Digest realm=\"abc", 17},		/* unterminated: the end */
		{"Digest realm=\"a\" nonce=\"b\"", 17}, /* missing comma */
		{"realm=\"a\", Digest nonce=\"b\"", 0}, /* param before any scheme */
		{"Digest realm=\"a\", nonce=", 24},	/* no value: the end */
		{"Digest realm=\"a\", =x", 18},
		{"Digest realm=\"a\x01\"", 15}, /* control octet in a quoted-string */
		{"Digest realm=\"a\r\nb\"", 15},
		{"Digest realm=\"a\", realm=\"b\"", 18}, /* repeated parameter */
		{"Digest\"x\"", 6},
		{"Digest realm=\"a\\", 16},
		{"Digest realm=@", 13},
	};
	struct sip_challenge ch[2];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n, off = 999;
		int err =
			sip_digest_challenges_parse(sip_str_cstr(cases[i].value), ch, 2, &n, &off);

		if (err != -EBADMSG || off != cases[i].off)
			fail_msg("case %zu \"%s\": err %d off %zu, want off %zu", i, cases[i].value,
				 err, off, cases[i].off);
	}
}

static void test_every_truncation_parses_or_fails_within_bounds(void **state)
{
	/* room for the stray bare tokens a cut leaves: "..., qop" is a scheme of its own */
	struct sip_challenge ch[4];

	(void)state;
	for (size_t len = 0; len <= strlen(rfc7616_value); len++) {
		/* exactly sized, so that ASan sees any read past len */
		char *copy = malloc(len ? len : 1);
		size_t n, off;
		int err;

		memcpy(copy, rfc7616_value, len);
		err = sip_digest_challenges_parse(sip_str_make(copy, len), ch, 4, &n, &off);
		free(copy);
		assert_true(err == 0 || err == -EBADMSG);
		assert_true(off <= len);
		assert_true(n <= 4);
	}
}

static void test_more_challenges_than_room_is_enospc(void **state)
{
	static const char value[] = "Digest realm=\"a\", nonce=\"1\", Digest realm=\"b\"";
	struct sip_challenge ch[1];
	size_t n, off;

	(void)state;
	assert_int_equal(sip_digest_challenges_parse(sip_str_cstr(value), ch, 1, &n, &off),
			 -ENOSPC);
	assert_int_equal(n, 1);
	assert_int_equal(off, 29);
	assert_str(ch[0].nonce, "1");
}

/* ---- writing ---- */

static void test_writer_returns_enospc_and_writes_nothing_past_cap(void **state)
{
	struct sip_challenge ch[2];
	char ha1[SIP_DIGEST_HEX_MAX], buf[600];
	struct sip_digest_req req = rfc7616_req(ha1, SIP_DIGEST_SHA256);
	ssize_t full;

	(void)state;
	parse_ok(rfc7616_value, ch, 2, 2);
	full = sip_digest_authorization(&ctx, &ch[0], &req, NULL, buf, sizeof(buf));
	assert_true(full > 0 && (size_t)full < sizeof(buf));
	for (size_t cap = 0; cap <= (size_t)full; cap++) {
		ssize_t n;

		memset(buf, '#', sizeof(buf));
		n = sip_digest_authorization(&ctx, &ch[0], &req, NULL, buf, cap);
		assert_int_equal(n, cap == (size_t)full ? full : -ENOSPC);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], '#');
	}
}

static void test_writer_escapes_username_and_refuses_line_breaks(void **state)
{
	struct sip_challenge ch[1];
	static const char want[] = "Digest username=\"a\\\"b\\\\c\", realm=\"r\"";
	char ha1[33], buf[300];
	struct sip_digest_req req = {
		.method = SIP_STR("REGISTER"),
		.uri = SIP_STR("sip:r"),
		.username = SIP_STR("a\"b\\c"),
		.ha1 = sip_str_make(ha1, 32),
		.cnonce = SIP_STR("c"),
		.nc = 1,
	};
	ssize_t n;

	(void)state;
	memset(ha1, '0', 32);
	parse_ok("Digest realm=\"r\", nonce=\"n\", qop=auth", ch, 1, 1);
	n = sip_digest_authorization(&ctx, &ch[0], &req, NULL, buf, sizeof(buf));
	assert_true(n > 0);
	assert_memory_equal(buf, want, sizeof(want) - 1);

	req.username = SIP_STR("a\r\nVia: x");
	assert_int_equal(sip_digest_authorization(&ctx, &ch[0], &req, NULL, buf, sizeof(buf)),
			 -EINVAL);
}

static void test_userhash_replaces_username_when_asked(void **state)
{
	struct sip_challenge ch[1];
	char ha1[65], uh[65], want[65], buf[400];
	struct sip_digest_req req = {
		.method = SIP_STR("REGISTER"),
		.uri = SIP_STR("sip:r"),
		.username = SIP_STR("alice"),
		.ha1 = sip_str_make(ha1, 64),
		.userhash = sip_str_make(uh, 64),
		.cnonce = SIP_STR("c"),
		.nc = 1,
	};
	ssize_t n;

	(void)state;
	memset(ha1, '0', 64);
	parse_ok("Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=SHA-256, userhash=true", ch,
		 1, 1);
	assert_int_equal(
		sip_digest_userhash(&ctx, SIP_DIGEST_SHA256, SIP_STR("alice"), SIP_STR("r"), uh),
		64);
	evp_hex("SHA2-256", want, "alice:r");
	assert_memory_equal(uh, want, 64);
	n = sip_digest_authorization(&ctx, &ch[0], &req, NULL, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_memory_equal(buf + 17, want, 64);
	assert_null(strstr(buf, "alice"));
	assert_non_null(strstr(buf, ", userhash=true"));
}

static void test_cnonce_is_16_lowercase_hex(void **state)
{
	char buf[SIP_DIGEST_CNONCE_LEN];
	struct sip_str c = sip_digest_cnonce(0x0123456789abcdefULL, buf);

	(void)state;
	assert_str(c, "0123456789abcdef");
	c = sip_digest_cnonce(UINT64_MAX, buf);
	assert_str(c, "ffffffffffffffff");
}

/* ---- Authentication-Info ---- */

static void test_auth_info_is_parsed_and_rspauth_verified(void **state)
{
	struct sip_challenge ch[2];
	struct sip_auth_info ai;
	char ha1[SIP_DIGEST_HEX_MAX], w_ha1[33], w_ha2[33], rsp[33], value[300];
	struct sip_digest_req req = rfc7616_req(ha1, SIP_DIGEST_MD5);
	size_t off;

	(void)state;
	parse_ok(rfc7616_value, ch, 2, 2);
	evp_hex("MD5", w_ha1, "Mufasa:http-auth@example.org:Circle of Life");
	evp_hex("MD5", w_ha2, ":/dir/index.html");
	evp_hex("MD5", rsp, "%s:7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v:00000001:%.*s:auth:%s",
		w_ha1, (int)req.cnonce.len, req.cnonce.p, w_ha2);
	snprintf(value, sizeof(value),
		 "nextnonce=\"abc\", QOP=auth, rspauth=\"%s\", cnonce=\"%.*s\", nc=0000000A, x=y",
		 rsp, (int)req.cnonce.len, req.cnonce.p);
	assert_int_equal(sip_digest_auth_info_parse(sip_str_cstr(value), &ai, &off), 0);
	assert_str(ai.nextnonce, "abc");
	assert_str(ai.qop, "auth");
	assert_str(ai.rspauth, rsp);
	assert_int_equal(ai.nc, 10);
	assert_int_equal(ai.params_unknown, 1);
	assert_int_equal(sip_digest_rspauth_check(&ctx, &ch[1], &req, &ai), 0);

	req.uri = SIP_STR("/elsewhere");
	assert_int_equal(sip_digest_rspauth_check(&ctx, &ch[1], &req, &ai), -EACCES);
}

static void test_auth_info_bad_nc_fails_at_its_value(void **state)
{
	struct sip_auth_info ai;
	size_t off;

	(void)state;
	assert_int_equal(sip_digest_auth_info_parse(SIP_STR("qop=auth, nc=0001"), &ai, &off),
			 -EBADMSG);
	assert_int_equal(off, 13);
	assert_int_equal(sip_digest_auth_info_parse(SIP_STR("nc=0000000g"), &ai, &off), -EBADMSG);
	assert_int_equal(off, 3);
	assert_int_equal(sip_digest_auth_info_parse(SIP_STR("rspauth=\"x"), &ai, &off), -EBADMSG);
	assert_int_equal(off, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7616_md5_response_matches_rfc),
		cmocka_unit_test(test_rfc7616_sha256_response_matches_rfc),
		cmocka_unit_test(test_rfc7616_authorization_value_has_every_param_in_order),
		cmocka_unit_test(test_rfc2617_md5_response_matches_rfc),
		cmocka_unit_test(test_sha512_256_response_matches_stepwise_evp),
		cmocka_unit_test(test_no_qop_answers_in_rfc2069_mode),
		cmocka_unit_test(test_sess_derives_ha1_from_stored_ha1_per_nonce),
		cmocka_unit_test(test_ha1_of_wrong_length_for_hash_is_refused),
		cmocka_unit_test(test_ha2_cache_reuses_hash_for_same_method_and_uri),
		cmocka_unit_test(test_several_challenges_in_one_value_are_split),
		cmocka_unit_test(test_quoted_commas_and_escapes_stay_inside_realm),
		cmocka_unit_test(test_param_names_and_stale_are_case_insensitive),
		cmocka_unit_test(test_pick_prefers_sha512_256_then_sha256_then_md5),
		cmocka_unit_test(test_unknown_algorithm_is_not_picked),
		cmocka_unit_test(test_pick_passes_over_unanswerable_challenges),
		cmocka_unit_test(test_malformed_values_fail_at_the_offending_octet),
		cmocka_unit_test(test_every_truncation_parses_or_fails_within_bounds),
		cmocka_unit_test(test_more_challenges_than_room_is_enospc),
		cmocka_unit_test(test_writer_returns_enospc_and_writes_nothing_past_cap),
		cmocka_unit_test(test_writer_escapes_username_and_refuses_line_breaks),
		cmocka_unit_test(test_userhash_replaces_username_when_asked),
		cmocka_unit_test(test_cnonce_is_16_lowercase_hex),
		cmocka_unit_test(test_auth_info_is_parsed_and_rspauth_verified),
		cmocka_unit_test(test_auth_info_bad_nc_fails_at_its_value),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
