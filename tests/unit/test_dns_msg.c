/*
 * Promises of control/dns_msg.c on answers built octet by octet: records decoded with
 * their TTLs, compression, CNAME chains followed (and loops refused), the SOA of a
 * negative answer, and every malformed message refused with the octet where it broke.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/dns_msg.h"

struct b {
	uint8_t o[1500];
	size_t n;
};

static void u8(struct b *b, unsigned v)
{
	b->o[b->n++] = (uint8_t)v;
}

static void u16(struct b *b, unsigned v)
{
	u8(b, v >> 8);
	u8(b, v & 255);
}

static void u32(struct b *b, uint32_t v)
{
	u16(b, v >> 16);
	u16(b, v & 0xffff);
}

/* A name in labels ("a.b" -> 1a1b0). */
static void name(struct b *b, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		u8(b, (unsigned)l);
		memcpy(b->o + b->n, s, l);
		b->n += l;
		s += l + (dot != NULL);
	}
	u8(b, 0);
}

/* Header and question: rcode, answer and authority counts. */
static void head(struct b *b, const char *q, unsigned qtype, unsigned rcode, unsigned an,
		 unsigned ns)
{
	b->n = 0;
	u16(b, 0x1234);
	u8(b, 0x84); /* response, authoritative */
	u8(b, rcode);
	u16(b, 1);
	u16(b, an);
	u16(b, ns);
	u16(b, 0);
	name(b, q);
	u16(b, qtype);
	u16(b, 1);
}

/* A record's header for owner (a name, or a pointer when owner is NULL: to the question
 * at octet 12), then the caller writes rdlen octets. */
static void rr(struct b *b, const char *owner, unsigned type, uint32_t ttl, unsigned rdlen)
{
	if (owner)
		name(b, owner);
	else
		u16(b, 0xc000 | 12);
	u16(b, type);
	u16(b, 1);
	u32(b, ttl);
	u16(b, rdlen);
}

/* The RDLENGTH of the record whose data began at start, now that it is written. */
static void rdlen_from(struct b *b, size_t start)
{
	b->o[start - 2] = (uint8_t)((b->n - start) >> 8);
	b->o[start - 1] = (uint8_t)(b->n - start);
}

static int parse(const struct b *b, struct ctl_dns_msg *m, const char **why, size_t *at)
{
	*why = NULL;
	*at = 0;
	return ctl_dns_msg_parse(b->o, b->n, m, why, at);
}

static struct ctl_dns_msg m;

static void an_a_answer_with_a_compressed_owner(void **state)
{
	struct b b;
	const char *why;
	size_t at;
	const struct ctl_dns_rr *out[4];
	uint32_t ttl;

	(void)state;
	head(&b, "SIP.Example.TEST", CTL_DNS_A, 0, 2, 0);
	rr(&b, NULL, CTL_DNS_A, 5, 4);
	u32(&b, 0xc6120001);
	rr(&b, NULL, CTL_DNS_A, 3, 4);
	u32(&b, 0xc6120002);
	assert_int_equal(parse(&b, &m, &why, &at), 0);
	assert_string_equal(m.qname, "sip.example.test");
	assert_int_equal(m.nan, 2);
	assert_int_equal(ctl_dns_msg_records(&m, out, 4, &ttl), 2);
	assert_int_equal(out[0]->a, 0xc6120001);
	assert_int_equal(ttl, 3); /* the least of the set */
}

static void a_cname_chain_is_followed_and_its_ttl_counts(void **state)
{
	struct b b;
	const char *why;
	size_t at;
	const struct ctl_dns_rr *out[4];
	uint32_t ttl;

	(void)state;
	head(&b, "r.example.test", CTL_DNS_A, 0, 3, 0);
	rr(&b, "b.example.test", CTL_DNS_A, 60, 4);
	u32(&b, 0xc6120001);
	rr(&b, NULL, CTL_DNS_CNAME, 30, 16);
	name(&b, "a.example.test");
	rr(&b, "a.example.test", CTL_DNS_CNAME, 2, 16);
	name(&b, "b.example.test");
	assert_int_equal(parse(&b, &m, &why, &at), 0);
	assert_int_equal(ctl_dns_msg_records(&m, out, 4, &ttl), 1);
	assert_int_equal(out[0]->a, 0xc6120001);
	assert_int_equal(ttl, 2);
}

static void a_cname_loop_is_refused(void **state)
{
	struct b b;
	const char *why;
	size_t at;
	const struct ctl_dns_rr *out[4];
	uint32_t ttl;

	(void)state;
	head(&b, "r.example.test", CTL_DNS_A, 0, 2, 0);
	rr(&b, NULL, CTL_DNS_CNAME, 30, 16);
	name(&b, "a.example.test");
	rr(&b, "a.example.test", CTL_DNS_CNAME, 30, 16);
	name(&b, "r.example.test");
	assert_int_equal(parse(&b, &m, &why, &at), 0);
	assert_int_equal(ctl_dns_msg_records(&m, out, 4, &ttl), -ELOOP);
}

static void a_negative_answer_lives_by_its_soa(void **state)
{
	struct b b;
	const char *why;
	size_t at;
	size_t start;

	(void)state;
	head(&b, "gone.example.test", CTL_DNS_A, CTL_DNS_RCODE_NXDOMAIN, 0, 1);
	rr(&b, "example.test", CTL_DNS_SOA, 300, 0);
	start = b.n;
	name(&b, "ns.example.test");
	name(&b, "hostmaster.example.test");
	u32(&b, 1);
	u32(&b, 3600);
	u32(&b, 600);
	u32(&b, 86400);
	u32(&b, 4); /* MINIMUM */
	rdlen_from(&b, start);
	assert_int_equal(parse(&b, &m, &why, &at), 0);
	assert_int_equal(m.rcode, CTL_DNS_RCODE_NXDOMAIN);
	assert_true(m.has_soa);
	assert_int_equal(m.negative_ttl, 4);
}

static void srv_and_naptr_records_are_decoded(void **state)
{
	struct b b;
	const char *why;
	size_t at;
	size_t start;

	(void)state;
	head(&b, "_sip._udp.example.test", CTL_DNS_SRV, 0, 1, 0);
	rr(&b, NULL, CTL_DNS_SRV, 5, 6 + 16);
	u16(&b, 10);
	u16(&b, 60);
	u16(&b, 5060);
	name(&b, "r.example.test");
	assert_int_equal(parse(&b, &m, &why, &at), 0);
	assert_int_equal(m.an[0].srv.priority, 10);
	assert_int_equal(m.an[0].srv.weight, 60);
	assert_int_equal(m.an[0].srv.port, 5060);
	assert_string_equal(m.an[0].srv.target, "r.example.test");

	head(&b, "example.test", CTL_DNS_NAPTR, 0, 1, 0);
	rr(&b, NULL, CTL_DNS_NAPTR, 5, 0);
	start = b.n;
	u16(&b, 10);
	u16(&b, 20);
	u8(&b, 1);
	u8(&b, 'S');
	u8(&b, 7);
	memcpy(b.o + b.n, "SIP+D2U", 7);
	b.n += 7;
	u8(&b, 0);
	name(&b, "_sip._udp.example.test");
	rdlen_from(&b, start);
	assert_int_equal(parse(&b, &m, &why, &at), 0);
	assert_int_equal(m.an[0].naptr.order, 10);
	assert_string_equal(m.an[0].naptr.flags, "s");
	assert_string_equal(m.an[0].naptr.service, "sip+d2u");
	assert_string_equal(m.an[0].naptr.replacement, "_sip._udp.example.test");
}

static void a_ttl_with_the_top_bit_set_is_zero(void **state)
{
	struct b b;
	const char *why;
	size_t at;

	(void)state;
	head(&b, "r.example.test", CTL_DNS_A, 0, 1, 0);
	rr(&b, NULL, CTL_DNS_A, 0x80000001u, 4);
	u32(&b, 1);
	assert_int_equal(parse(&b, &m, &why, &at), 0);
	assert_int_equal(m.an[0].ttl, 0);
}

static void malformed_answers_are_refused_where_they_break(void **state)
{
	struct b b;
	const char *why;
	size_t at;

	(void)state;
	b.n = 5;
	memset(b.o, 0, 5);
	assert_int_equal(parse(&b, &m, &why, &at), -EBADMSG);
	assert_non_null(why);

	/* a pointer to itself */
	head(&b, "r.example.test", CTL_DNS_A, 0, 1, 0);
	u16(&b, 0xc000 | (unsigned)b.n);
	assert_int_equal(parse(&b, &m, &why, &at), -EBADMSG);
	assert_string_equal(why, "a compression pointer does not point back");
	assert_int_equal(at, b.n - 2);

	/* the data runs past the end */
	head(&b, "r.example.test", CTL_DNS_A, 0, 1, 0);
	rr(&b, NULL, CTL_DNS_A, 5, 40);
	u32(&b, 1);
	assert_int_equal(parse(&b, &m, &why, &at), -EBADMSG);
	assert_string_equal(why, "a record's data runs past the end of the message");

	/* an A record of 3 octets */
	head(&b, "r.example.test", CTL_DNS_A, 0, 1, 0);
	rr(&b, NULL, CTL_DNS_A, 5, 3);
	u8(&b, 1);
	u8(&b, 2);
	u8(&b, 3);
	assert_int_equal(parse(&b, &m, &why, &at), -EBADMSG);

	/* a query is not an answer */
	head(&b, "r.example.test", CTL_DNS_A, 0, 0, 0);
	b.o[2] = 0;
	assert_int_equal(parse(&b, &m, &why, &at), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_a_answer_with_a_compressed_owner),
		cmocka_unit_test(a_cname_chain_is_followed_and_its_ttl_counts),
		cmocka_unit_test(a_cname_loop_is_refused),
		cmocka_unit_test(a_negative_answer_lives_by_its_soa),
		cmocka_unit_test(srv_and_naptr_records_are_decoded),
		cmocka_unit_test(a_ttl_with_the_top_bit_set_is_zero),
		cmocka_unit_test(malformed_answers_are_refused_where_they_break),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
