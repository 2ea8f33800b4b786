/*
 * Promises of sip/stun.c, one test each. The RFC 5769 vectors are the ground truth: if
 * their FINGERPRINT and MESSAGE-INTEGRITY verify, CRC-32 and HMAC-SHA1 are wired right.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/stun.h"

/* RFC 5769 §2: the password shared by all three short-term samples. */
static const char rfc5769_password[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* RFC 5769 §2.1 Sample Request. */
static const uint8_t
	rfc5769_request[] =
		{
			0x00, 0x01, 0x00, 0x58, /* Binding request, length 88 */
			0x21, 0x12, 0xa4, 0x42, /* magic cookie */
			0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87,
			0xdf, 0xae,		/* txid */
			0x80, 0x22, 0x00, 0x10, /* SOFTWARE "STUN test client" */
			0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20,
			0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, /* PRIORITY */
			0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, /* ICE-CONTROLLED */
			0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06,
			0x00, 0x09, /* USERNAME "evtj:h6vY", padded with spaces */
			0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20,
			0x20, 0x20, 0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY */
			0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
			0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2,
			0x80, 0x28, 0x00, 0x04, /* FINGERPRINT */
			0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 §2.2 Sample IPv4 Response: 192.0.2.1 port 32853. */
static const uint8_t
	rfc5769_response_v4[] =
		{
			0x01, 0x01, 0x00, 0x3c, /* Binding success, length 60 */
			0x21, 0x12, 0xa4, 0x42, /* magic cookie */
			0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
			0xfa, 0x87, 0xdf, 0xae, /* txid */
			0x80, 0x22, 0x00, 0x0b, /* SOFTWARE "test vector", padded with a space */
			0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
			0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, /* XOR-MAPPED-ADDRESS */
			0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
			0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY */
			0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
			0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53,
			0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, /* FINGERPRINT */
			0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 §2.3 Sample IPv6 Response: 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const uint8_t rfc5769_response_v6[] = {
	0x01, 0x01, 0x00, 0x48, /* Binding success, length 72 */
	0x21, 0x12, 0xa4, 0x42, /* magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, /* txid */
	0x80, 0x22, 0x00, 0x0b, /* SOFTWARE "test vector", padded with a space */
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00,
	0x20, 0x00, 0x14, /* XOR-MAPPED-ADDRESS */
	0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc,
	0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY */
	0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82,
	0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, /* FINGERPRINT */
	0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t rfc5769_txid[SIP_STUN_TXID_LEN] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
};

static const uint8_t other_txid[SIP_STUN_TXID_LEN] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};

struct vector {
	const uint8_t *buf;
	size_t len;
};

static const struct vector vectors[] = {
	{rfc5769_request, sizeof(rfc5769_request)},
	{rfc5769_response_v4, sizeof(rfc5769_response_v4)},
	{rfc5769_response_v6, sizeof(rfc5769_response_v6)},
};

#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))

static int check_password(const uint8_t *buf, size_t len, const char *password)
{
	return sip_stun_check_integrity(buf, len, (const uint8_t *)password, strlen(password));
}

/* A heap copy of exactly n octets, so ASan flags any read past the end. */
static uint8_t *exact_copy(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, src, n);
	return p;
}

/* Hand-built messages for cases the vectors do not cover. */
static size_t put_hdr(uint8_t *buf, uint16_t type)
{
	buf[0] = (uint8_t)(type >> 8);
	buf[1] = (uint8_t)type;
	buf[2] = buf[3] = 0;
	buf[4] = 0x21;
	buf[5] = 0x12;
	buf[6] = 0xa4;
	buf[7] = 0x42;
	memcpy(buf + 8, rfc5769_txid, SIP_STUN_TXID_LEN);
	return SIP_STUN_HDR_LEN;
}

static size_t put_attr(uint8_t *buf, size_t off, uint16_t type, const void *val, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	buf[off] = (uint8_t)(type >> 8);
	buf[off + 1] = (uint8_t)type;
	buf[off + 2] = (uint8_t)(len >> 8);
	buf[off + 3] = (uint8_t)len;
	memcpy(buf + off + 4, val, len);
	memset(buf + off + 4 + len, 0, padded - len);
	return off + 4 + padded;
}

static void set_len(uint8_t *buf, size_t total)
{
	buf[2] = (uint8_t)((total - SIP_STUN_HDR_LEN) >> 8);
	buf[3] = (uint8_t)(total - SIP_STUN_HDR_LEN);
}

static void assert_str(struct sip_str s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

/* --- classification ----------------------------------------------------------------- */

static void test_is_stun_accepts_rfc5769_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NVECTORS; i++)
		assert_true(sip_stun_is_stun(vectors[i].buf, vectors[i].len));
}

static void test_sip_text_is_not_stun(void **state)
{
	static const char *const sip[] = {
		"OPTIONS sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK776asdhds\r\n\r\n",
		"REGISTER sip:example.com SIP/2.0\r\nContent-Length: 0\r\n\r\n",
		"\r\n\r\n", /* RFC 5626 §4.4.1 CRLF keep-alive */
		"\r\n",
	};
	struct sip_stun_msg msg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sip) / sizeof(sip[0]); i++) {
		const uint8_t *p = (const uint8_t *)sip[i];

		assert_false(sip_stun_is_stun(p, strlen(sip[i])));
		assert_int_equal(sip_stun_parse(p, strlen(sip[i]), &msg), -EBADMSG);
	}
}

static void test_is_stun_requires_cookie_and_exact_length(void **state)
{
	uint8_t buf[sizeof(rfc5769_response_v4) + 4];
	size_t len = sizeof(rfc5769_response_v4);

	(void)state;
	memcpy(buf, rfc5769_response_v4, len);
	buf[4] ^= 0x01;
	assert_false(sip_stun_is_stun(buf, len));
	buf[4] ^= 0x01;

	buf[3] += 1; /* not a multiple of 4 */
	assert_false(sip_stun_is_stun(buf, len));
	buf[3] -= 1;

	memset(buf + len, 0, 4); /* trailing octets the length field does not cover */
	assert_false(sip_stun_is_stun(buf, len + 4));

	buf[0] |= 0x40; /* top bits set */
	assert_false(sip_stun_is_stun(buf, len));
}

static void test_malformed_header_reports_octet_offset(void **state)
{
	uint8_t buf[sizeof(rfc5769_response_v4)];
	struct sip_stun_msg msg;

	(void)state;
	memcpy(buf, rfc5769_response_v4, sizeof(buf));
	buf[6] = 0;
	assert_int_equal(sip_stun_parse(buf, sizeof(buf), &msg), -EBADMSG);
	assert_int_equal(msg.bad_off, 4);
	assert_non_null(msg.bad_why);

	memcpy(buf, rfc5769_response_v4, sizeof(buf));
	assert_int_equal(sip_stun_parse(buf, sizeof(buf) - 4, &msg), -EBADMSG);
	assert_int_equal(msg.bad_off, 2);
}

/* --- RFC 5769 vectors ----------------------------------------------------------------- */

static void test_rfc5769_request_fingerprint_verifies(void **state)
{
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_parse(rfc5769_request, sizeof(rfc5769_request), &msg), 0);
	assert_true(msg.fingerprint_ok);
}

static void test_rfc5769_request_integrity_verifies_with_password(void **state)
{
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_parse(rfc5769_request, sizeof(rfc5769_request), &msg), 0);
	assert_int_equal(msg.integrity_off, 76);
	assert_int_equal(check_password(rfc5769_request, sizeof(rfc5769_request), rfc5769_password),
			 0);
}

static void test_rfc5769_request_integrity_fails_with_wrong_password(void **state)
{
	(void)state;
	assert_int_equal(
		check_password(rfc5769_request, sizeof(rfc5769_request), "VOkJxbRl1RmTxUk/WvJxBT"),
		-EACCES);
	assert_int_equal(check_password(rfc5769_request, sizeof(rfc5769_request), ""), -EACCES);
}

static void test_rfc5769_request_decodes_type_txid_and_text(void **state)
{
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_parse(rfc5769_request, sizeof(rfc5769_request), &msg), 0);
	assert_int_equal(msg.type, SIP_STUN_BINDING_REQUEST);
	assert_int_equal(msg.cls, SIP_STUN_CLASS_REQUEST);
	assert_int_equal(msg.method, SIP_STUN_METHOD_BINDING);
	assert_memory_equal(msg.txid, rfc5769_txid, SIP_STUN_TXID_LEN);
	assert_str(msg.software, "STUN test client");
	assert_str(msg.username, "evtj:h6vY");
	assert_int_equal(msg.mapped.family, SIP_STUN_FAMILY_NONE);
	assert_int_equal(msg.error_code, 0);
}

static void test_unknown_comprehension_required_attribute_is_reported(void **state)
{
	struct sip_stun_msg msg;

	(void)state;
	/* PRIORITY (0x0024) is ICE's, required; ICE-CONTROLLED (0x8029) is optional. */
	assert_int_equal(sip_stun_parse(rfc5769_request, sizeof(rfc5769_request), &msg), 0);
	assert_int_equal(msg.unknown_required, 0x0024);
}

static void test_rfc5769_ipv4_response_fingerprint_verifies(void **state)
{
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_parse(rfc5769_response_v4, sizeof(rfc5769_response_v4), &msg), 0);
	assert_true(msg.fingerprint_ok);
	assert_int_equal(msg.unknown_required, 0);
}

static void test_rfc5769_ipv4_response_integrity_verifies_with_password(void **state)
{
	(void)state;
	assert_int_equal(
		check_password(rfc5769_response_v4, sizeof(rfc5769_response_v4), rfc5769_password),
		0);
}

static void test_rfc5769_ipv4_response_integrity_fails_with_wrong_password(void **state)
{
	(void)state;
	assert_int_equal(check_password(rfc5769_response_v4, sizeof(rfc5769_response_v4), "wrong"),
			 -EACCES);
}

static void test_rfc5769_ipv4_response_xor_mapped_address_decodes(void **state)
{
	static const uint8_t want[4] = {192, 0, 2, 1};
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_parse(rfc5769_response_v4, sizeof(rfc5769_response_v4), &msg), 0);
	assert_int_equal(msg.type, SIP_STUN_BINDING_SUCCESS);
	assert_int_equal(msg.cls, SIP_STUN_CLASS_SUCCESS);
	assert_true(msg.mapped_is_xor);
	assert_int_equal(msg.mapped.family, SIP_STUN_FAMILY_IPV4);
	assert_int_equal(msg.mapped.port, 32853);
	assert_memory_equal(msg.mapped.addr, want, sizeof(want));
	assert_str(msg.software, "test vector");
}

static void test_rfc5769_ipv6_response_fingerprint_verifies(void **state)
{
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_parse(rfc5769_response_v6, sizeof(rfc5769_response_v6), &msg), 0);
	assert_true(msg.fingerprint_ok);
}

static void test_rfc5769_ipv6_response_integrity_verifies_with_password(void **state)
{
	(void)state;
	assert_int_equal(
		check_password(rfc5769_response_v6, sizeof(rfc5769_response_v6), rfc5769_password),
		0);
}

static void test_rfc5769_ipv6_response_integrity_fails_with_wrong_password(void **state)
{
	(void)state;
	assert_int_equal(check_password(rfc5769_response_v6, sizeof(rfc5769_response_v6), "wrong"),
			 -EACCES);
}

static void test_rfc5769_ipv6_response_xor_mapped_address_decodes(void **state)
{
	static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
					 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_parse(rfc5769_response_v6, sizeof(rfc5769_response_v6), &msg), 0);
	assert_true(msg.mapped_is_xor);
	assert_int_equal(msg.mapped.family, SIP_STUN_FAMILY_IPV6);
	assert_int_equal(msg.mapped.port, 32853);
	assert_memory_equal(msg.mapped.addr, want, sizeof(want));
}

/* --- corruption and truncation -------------------------------------------------------- */

static void test_one_bit_corruption_fails_fingerprint(void **state)
{
	uint8_t buf[sizeof(rfc5769_response_v4)];
	struct sip_stun_msg msg;

	(void)state;
	memcpy(buf, rfc5769_response_v4, sizeof(buf));
	buf[24] ^= 0x01; /* 't' of SOFTWARE becomes 'u' */
	assert_int_equal(sip_stun_parse(buf, sizeof(buf), &msg), -EBADMSG);
	assert_int_equal(msg.bad_off, sizeof(buf) - 8);
	assert_non_null(strstr(msg.bad_why, "FINGERPRINT"));
}

static void test_one_bit_flip_never_passes_as_fingerprinted(void **state)
{
	struct sip_stun_msg msg;
	size_t v, bit;

	(void)state;
	/*
	 * Not "always rejected": USERNAME length 9 -> 41 in the request swallows MESSAGE-
	 * INTEGRITY and FINGERPRINT, leaving a well-formed message without either. What must
	 * hold is that no flip leaves a FINGERPRINT that verifies.
	 */
	for (v = 0; v < NVECTORS; v++) {
		size_t len = vectors[v].len;
		uint8_t *buf = exact_copy(vectors[v].buf, len);

		/* Everything the CRC covers, and the CRC value itself. */
		for (bit = 0; bit < len * 8; bit++) {
			size_t octet = bit / 8;

			if (octet >= len - 8 && octet < len - 4)
				continue; /* the FINGERPRINT attribute header */
			buf[octet] ^= (uint8_t)(1u << (bit % 8));
			if (sip_stun_parse(buf, len, &msg) == 0)
				assert_false(msg.fingerprint_ok);
			buf[octet] ^= (uint8_t)(1u << (bit % 8));
		}
		free(buf);
	}
}

static void test_truncated_messages_are_rejected_at_every_length(void **state)
{
	struct sip_stun_msg msg;
	size_t v, n;

	(void)state;
	for (v = 0; v < NVECTORS; v++) {
		for (n = 0; n < vectors[v].len; n++) {
			uint8_t *buf = exact_copy(vectors[v].buf, n);

			assert_false(sip_stun_is_stun(buf, n));
			assert_int_equal(sip_stun_parse(buf, n, &msg), -EBADMSG);
			assert_true(msg.bad_off <= n);
			assert_int_equal(check_password(buf, n, rfc5769_password), -EBADMSG);
			free(buf);
		}
	}
}

/* Is off where an attribute of the vector starts (or its end)? */
static int is_attr_boundary(const uint8_t *buf, size_t len, size_t off)
{
	size_t pos = SIP_STUN_HDR_LEN;

	while (pos < len) {
		if (pos == off)
			return 1;
		pos += 4 + (((size_t)(buf[pos + 2] << 8 | buf[pos + 3]) + 3) & ~(size_t)3);
	}
	return pos == off;
}

static void test_attribute_running_past_message_length_is_rejected(void **state)
{
	struct sip_stun_msg msg;
	size_t v, n;

	(void)state;
	/* Cut with the length field made consistent, so only the attribute walk can tell. */
	for (v = 0; v < NVECTORS; v++) {
		for (n = SIP_STUN_HDR_LEN; n < vectors[v].len; n += 4) {
			uint8_t *buf = exact_copy(vectors[v].buf, n);
			int rc;

			set_len(buf, n);
			rc = sip_stun_parse(buf, n, &msg);
			if (is_attr_boundary(vectors[v].buf, vectors[v].len, n)) {
				assert_int_equal(rc, 0);
			} else {
				assert_int_equal(rc, -EBADMSG);
				assert_true(msg.bad_off < n);
			}
			free(buf);
		}
	}
}

static void test_fingerprint_not_last_is_rejected(void **state)
{
	uint8_t buf[64];
	struct sip_stun_msg msg;
	int len;

	(void)state;
	len = sip_stun_build_request(buf, sizeof(buf), rfc5769_txid, SIP_STR_NULL, true);
	assert_int_equal(len, SIP_STUN_REQUEST_FP_LEN);
	len = (int)put_attr(buf, (size_t)len, SIP_STUN_ATTR_SOFTWARE, "abcd", 4);
	set_len(buf, (size_t)len);
	assert_int_equal(sip_stun_parse(buf, (size_t)len, &msg), -EBADMSG);
	assert_int_equal(msg.bad_off, SIP_STUN_HDR_LEN);
	assert_non_null(strstr(msg.bad_why, "last"));
}

static void test_bad_address_family_is_rejected(void **state)
{
	static const uint8_t xma[8] = {0x00, 0x03, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
	uint8_t buf[64];
	struct sip_stun_msg msg;
	size_t len;

	(void)state;
	len = put_hdr(buf, SIP_STUN_BINDING_SUCCESS);
	len = put_attr(buf, len, SIP_STUN_ATTR_XOR_MAPPED_ADDRESS, xma, sizeof(xma));
	set_len(buf, len);
	assert_int_equal(sip_stun_parse(buf, len, &msg), -EBADMSG);
	assert_int_equal(msg.bad_off, SIP_STUN_HDR_LEN);
}

/* --- other attributes ----------------------------------------------------------------- */

static void test_mapped_address_is_fallback_without_xor_mapped(void **state)
{
	static const uint8_t ma[8] = {0x00, 0x01, 0x13, 0xc4, 198, 51, 100, 7};
	uint8_t buf[64];
	struct sip_stun_msg msg;
	size_t len;

	(void)state;
	len = put_hdr(buf, SIP_STUN_BINDING_SUCCESS);
	len = put_attr(buf, len, SIP_STUN_ATTR_MAPPED_ADDRESS, ma, sizeof(ma));
	set_len(buf, len);
	assert_int_equal(sip_stun_parse(buf, len, &msg), 0);
	assert_false(msg.mapped_is_xor);
	assert_int_equal(msg.mapped.family, SIP_STUN_FAMILY_IPV4);
	assert_int_equal(msg.mapped.port, 5060);
	assert_memory_equal(msg.mapped.addr, ma + 4, 4);
}

static void test_xor_mapped_address_wins_over_mapped_address(void **state)
{
	static const uint8_t ma[8] = {0x00, 0x01, 0x13, 0xc4, 198, 51, 100, 7};
	static const uint8_t xma[8] = {0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
	static const uint8_t want[4] = {192, 0, 2, 1};
	uint8_t buf[64];
	struct sip_stun_msg msg;
	size_t len;

	(void)state;
	len = put_hdr(buf, SIP_STUN_BINDING_SUCCESS);
	len = put_attr(buf, len, SIP_STUN_ATTR_MAPPED_ADDRESS, ma, sizeof(ma));
	len = put_attr(buf, len, SIP_STUN_ATTR_XOR_MAPPED_ADDRESS, xma, sizeof(xma));
	set_len(buf, len);
	assert_int_equal(sip_stun_parse(buf, len, &msg), 0);
	assert_true(msg.mapped_is_xor);
	assert_int_equal(msg.mapped.port, 32853);
	assert_memory_equal(msg.mapped.addr, want, sizeof(want));
}

static void test_error_code_decodes_class_number_and_reason(void **state)
{
	static const char ec[] = "\x00\x00\x04\x14Unknown Attribute";
	uint8_t buf[64];
	struct sip_stun_msg msg;
	size_t len;

	(void)state;
	len = put_hdr(buf, SIP_STUN_BINDING_ERROR);
	len = put_attr(buf, len, SIP_STUN_ATTR_ERROR_CODE, ec, sizeof(ec) - 1);
	set_len(buf, len);
	assert_int_equal(sip_stun_parse(buf, len, &msg), 0);
	assert_int_equal(msg.cls, SIP_STUN_CLASS_ERROR);
	assert_int_equal(msg.error_code, 420);
	assert_str(msg.error_reason, "Unknown Attribute");
}

static void test_error_code_out_of_range_is_rejected(void **state)
{
	static const uint8_t ec[4] = {0x00, 0x00, 0x07, 0x00};
	uint8_t buf[64];
	struct sip_stun_msg msg;
	size_t len;

	(void)state;
	len = put_hdr(buf, SIP_STUN_BINDING_ERROR);
	len = put_attr(buf, len, SIP_STUN_ATTR_ERROR_CODE, ec, sizeof(ec));
	set_len(buf, len);
	assert_int_equal(sip_stun_parse(buf, len, &msg), -EBADMSG);
	assert_int_equal(msg.bad_off, SIP_STUN_HDR_LEN);
}

static void test_attributes_after_integrity_are_ignored(void **state)
{
	static const uint8_t mi[20] = {0};
	uint8_t buf[96];
	struct sip_stun_msg msg;
	size_t len;

	(void)state;
	len = put_hdr(buf, SIP_STUN_BINDING_SUCCESS);
	len = put_attr(buf, len, SIP_STUN_ATTR_MESSAGE_INTEGRITY, mi, sizeof(mi));
	len = put_attr(buf, len, SIP_STUN_ATTR_USERNAME, "mallory", 7);
	len = put_attr(buf, len, 0x0030, "x", 1);
	set_len(buf, len);
	assert_int_equal(sip_stun_parse(buf, len, &msg), 0);
	assert_int_equal(msg.integrity_off, SIP_STUN_HDR_LEN);
	assert_null(msg.username.p);
	assert_int_equal(msg.unknown_required, 0);
}

static void test_check_integrity_without_attribute_returns_enoent(void **state)
{
	uint8_t buf[64];
	int len;

	(void)state;
	len = sip_stun_build_request(buf, sizeof(buf), rfc5769_txid, SIP_STR("x"), true);
	assert_true(len > 0);
	assert_int_equal(check_password(buf, (size_t)len, rfc5769_password), -ENOENT);
}

/* --- building ------------------------------------------------------------------------- */

static void test_built_request_round_trips_through_parser(void **state)
{
	uint8_t buf[64];
	struct sip_stun_msg msg;
	int len;

	(void)state;
	len = sip_stun_build_request(buf, sizeof(buf), other_txid, SIP_STR("sipedge 0.1"), true);
	assert_int_equal(len, 20 + 4 + 12 + 8);
	assert_true(sip_stun_is_stun(buf, (size_t)len));
	assert_int_equal(sip_stun_parse(buf, (size_t)len, &msg), 0);
	assert_int_equal(msg.type, SIP_STUN_BINDING_REQUEST);
	assert_memory_equal(msg.txid, other_txid, SIP_STUN_TXID_LEN);
	assert_str(msg.software, "sipedge 0.1");
	assert_true(msg.fingerprint_ok);
	assert_int_equal(msg.unknown_required, 0);
}

static void test_built_request_is_20_octets_or_28_with_fingerprint(void **state)
{
	uint8_t buf[64];
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_build_request(buf, sizeof(buf), other_txid, SIP_STR_NULL, false),
			 SIP_STUN_HDR_LEN);
	assert_int_equal(sip_stun_parse(buf, SIP_STUN_HDR_LEN, &msg), 0);
	assert_false(msg.fingerprint_ok);
	assert_int_equal(sip_stun_build_request(buf, sizeof(buf), other_txid, SIP_STR_NULL, true),
			 SIP_STUN_REQUEST_FP_LEN);
	assert_int_equal(sip_stun_parse(buf, SIP_STUN_REQUEST_FP_LEN, &msg), 0);
	assert_true(msg.fingerprint_ok);
}

static void test_build_request_never_writes_past_cap(void **state)
{
	uint8_t buf[64], canary[64];
	size_t cap;

	(void)state;
	memset(canary, 0xaa, sizeof(canary));
	for (cap = 0; cap < 20 + 4 + 8 + 8; cap++) {
		memset(buf, 0xaa, sizeof(buf));
		assert_int_equal(
			sip_stun_build_request(buf, cap, other_txid, SIP_STR("sipedge"), true),
			-ENOSPC);
		assert_memory_equal(buf, canary, sizeof(buf));
	}
	assert_int_equal(sip_stun_build_request(buf, cap, other_txid, SIP_STR("sipedge"), true),
			 (int)cap);
	assert_memory_equal(buf + cap, canary, sizeof(buf) - cap);
}

static void test_build_request_rejects_overlong_software(void **state)
{
	static char text[SIP_STUN_TEXT_MAX + 1];
	uint8_t buf[1024];

	(void)state;
	memset(text, 'a', sizeof(text));
	assert_int_equal(sip_stun_build_request(buf, sizeof(buf), other_txid,
						sip_str_make(text, sizeof(text)), false),
			 -EINVAL);
}

static void test_patch_txid_rearms_prebuilt_request(void **state)
{
	uint8_t buf[SIP_STUN_REQUEST_FP_LEN];
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_build_request(buf, sizeof(buf), rfc5769_txid, SIP_STR_NULL, true),
			 SIP_STUN_REQUEST_FP_LEN);
	assert_int_equal(sip_stun_patch_txid(buf, sizeof(buf), other_txid), 0);
	assert_int_equal(sip_stun_parse(buf, sizeof(buf), &msg), 0);
	assert_memory_equal(msg.txid, other_txid, SIP_STUN_TXID_LEN);
	assert_true(msg.fingerprint_ok);

	assert_int_equal(sip_stun_patch_txid(buf, SIP_STUN_HDR_LEN, other_txid), -EINVAL);
}

static void test_built_ipv4_response_matches_rfc5769_encoding(void **state)
{
	struct sip_stun_addr a = {.family = SIP_STUN_FAMILY_IPV4, .port = 32853};
	uint8_t buf[64];

	(void)state;
	memcpy(a.addr, (const uint8_t[]){192, 0, 2, 1}, 4);
	assert_int_equal(sip_stun_build_response(buf, sizeof(buf), rfc5769_txid, &a, false),
			 20 + 12);
	assert_memory_equal(buf + 20, rfc5769_response_v4 + 36, 12);
}

static void test_built_ipv6_response_matches_rfc5769_encoding(void **state)
{
	struct sip_stun_addr a = {.family = SIP_STUN_FAMILY_IPV6, .port = 32853};
	uint8_t buf[64];

	(void)state;
	memcpy(a.addr,
	       (const uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11, 0x22,
				 0x33, 0x44, 0x55, 0x66, 0x77},
	       16);
	assert_int_equal(sip_stun_build_response(buf, sizeof(buf), rfc5769_txid, &a, false),
			 20 + 24);
	assert_memory_equal(buf + 20, rfc5769_response_v6 + 36, 24);
}

static void test_built_response_round_trips_through_parser(void **state)
{
	struct sip_stun_addr a[2] = {
		{.family = SIP_STUN_FAMILY_IPV4, .port = 5060, .addr = {203, 0, 113, 9}},
		{.family = SIP_STUN_FAMILY_IPV6, .port = 65535, .addr = {0xfe, 0x80, 1, 2, 3}},
	};
	uint8_t buf[64];
	struct sip_stun_msg msg;
	size_t i;
	int len;

	(void)state;
	for (i = 0; i < 2; i++) {
		len = sip_stun_build_response(buf, sizeof(buf), other_txid, &a[i], true);
		assert_true(len > 0);
		assert_int_equal(sip_stun_parse(buf, (size_t)len, &msg), 0);
		assert_true(msg.fingerprint_ok);
		assert_true(sip_stun_match(&msg, other_txid));
		assert_int_equal(msg.mapped.family, a[i].family);
		assert_int_equal(msg.mapped.port, a[i].port);
		assert_memory_equal(msg.mapped.addr, a[i].addr, sizeof(a[i].addr));
	}
}

static void test_build_response_rejects_unknown_family_and_small_cap(void **state)
{
	struct sip_stun_addr a = {.family = 3};
	uint8_t buf[64];

	(void)state;
	assert_int_equal(sip_stun_build_response(buf, sizeof(buf), other_txid, &a, false), -EINVAL);
	a.family = SIP_STUN_FAMILY_IPV6;
	assert_int_equal(sip_stun_build_response(buf, 20 + 24 + 7, other_txid, &a, true), -ENOSPC);
}

/* --- matching ------------------------------------------------------------------------- */

static void test_match_accepts_response_to_own_transaction(void **state)
{
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_parse(rfc5769_response_v4, sizeof(rfc5769_response_v4), &msg), 0);
	assert_true(sip_stun_match(&msg, rfc5769_txid));
}

static void test_match_rejects_other_transaction(void **state)
{
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_parse(rfc5769_response_v6, sizeof(rfc5769_response_v6), &msg), 0);
	assert_false(sip_stun_match(&msg, other_txid));
}

static void test_match_rejects_request(void **state)
{
	struct sip_stun_msg msg;

	(void)state;
	assert_int_equal(sip_stun_parse(rfc5769_request, sizeof(rfc5769_request), &msg), 0);
	assert_false(sip_stun_match(&msg, rfc5769_txid));
}

/* A template's keep-alive is the very request sip_stun_build_request writes for the same
 * transaction id (so its FINGERPRINT verifies), and the sum it returns is that of the
 * octets it wrote. */
static void test_keepalive_template_writes_the_built_request_and_its_sum(void **state)
{
	uint32_t x = 99;

	(void)state;
	for (int r = 0; r < 2000; r++) {
		uint8_t txid[SIP_STUN_TXID_LEN], want[64], got[SIP_STUN_KA_LEN];
		struct sip_stun_ka k;
		struct sip_stun_msg m;
		uint32_t sum, ref = 0;

		for (size_t i = 0; i < sizeof(txid); i++) {
			x = x * 1103515245u + 12345u;
			txid[i] = (uint8_t)(r < 2 ? -r : (int)(x >> 16));
		}
		sip_stun_ka_init(&k, txid);
		sum = sip_stun_ka_build(&k, got, txid + SIP_STUN_KA_HEAD_LEN);
		assert_int_equal(
			sip_stun_build_request(want, sizeof(want), txid, SIP_STR_NULL, true),
			SIP_STUN_KA_LEN);
		assert_memory_equal(got, want, SIP_STUN_KA_LEN);
		for (size_t i = 0; i < SIP_STUN_KA_LEN; i += 2)
			ref += (uint32_t)got[i] << 8 | got[i + 1];
		assert_int_equal(sum, ref);
		assert_int_equal(sip_stun_parse(got, sizeof(got), &m), 0);
		assert_true(m.fingerprint_ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_stun_accepts_rfc5769_vectors),
		cmocka_unit_test(test_keepalive_template_writes_the_built_request_and_its_sum),
		cmocka_unit_test(test_sip_text_is_not_stun),
		cmocka_unit_test(test_is_stun_requires_cookie_and_exact_length),
		cmocka_unit_test(test_malformed_header_reports_octet_offset),
		cmocka_unit_test(test_rfc5769_request_fingerprint_verifies),
		cmocka_unit_test(test_rfc5769_request_integrity_verifies_with_password),
		cmocka_unit_test(test_rfc5769_request_integrity_fails_with_wrong_password),
		cmocka_unit_test(test_rfc5769_request_decodes_type_txid_and_text),
		cmocka_unit_test(test_unknown_comprehension_required_attribute_is_reported),
		cmocka_unit_test(test_rfc5769_ipv4_response_fingerprint_verifies),
		cmocka_unit_test(test_rfc5769_ipv4_response_integrity_verifies_with_password),
		cmocka_unit_test(test_rfc5769_ipv4_response_integrity_fails_with_wrong_password),
		cmocka_unit_test(test_rfc5769_ipv4_response_xor_mapped_address_decodes),
		cmocka_unit_test(test_rfc5769_ipv6_response_fingerprint_verifies),
		cmocka_unit_test(test_rfc5769_ipv6_response_integrity_verifies_with_password),
		cmocka_unit_test(test_rfc5769_ipv6_response_integrity_fails_with_wrong_password),
		cmocka_unit_test(test_rfc5769_ipv6_response_xor_mapped_address_decodes),
		cmocka_unit_test(test_one_bit_corruption_fails_fingerprint),
		cmocka_unit_test(test_one_bit_flip_never_passes_as_fingerprinted),
		cmocka_unit_test(test_truncated_messages_are_rejected_at_every_length),
		cmocka_unit_test(test_attribute_running_past_message_length_is_rejected),
		cmocka_unit_test(test_fingerprint_not_last_is_rejected),
		cmocka_unit_test(test_bad_address_family_is_rejected),
		cmocka_unit_test(test_mapped_address_is_fallback_without_xor_mapped),
		cmocka_unit_test(test_xor_mapped_address_wins_over_mapped_address),
		cmocka_unit_test(test_error_code_decodes_class_number_and_reason),
		cmocka_unit_test(test_error_code_out_of_range_is_rejected),
		cmocka_unit_test(test_attributes_after_integrity_are_ignored),
		cmocka_unit_test(test_check_integrity_without_attribute_returns_enoent),
		cmocka_unit_test(test_built_request_round_trips_through_parser),
		cmocka_unit_test(test_built_request_is_20_octets_or_28_with_fingerprint),
		cmocka_unit_test(test_build_request_never_writes_past_cap),
		cmocka_unit_test(test_build_request_rejects_overlong_software),
		cmocka_unit_test(test_patch_txid_rearms_prebuilt_request),
		cmocka_unit_test(test_built_ipv4_response_matches_rfc5769_encoding),
		cmocka_unit_test(test_built_ipv6_response_matches_rfc5769_encoding),
		cmocka_unit_test(test_built_response_round_trips_through_parser),
		cmocka_unit_test(test_build_response_rejects_unknown_family_and_small_cap),
		cmocka_unit_test(test_match_accepts_response_to_own_transaction),
		cmocka_unit_test(test_match_rejects_other_transaction),
		cmocka_unit_test(test_match_rejects_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
