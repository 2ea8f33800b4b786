/*
 * DNS messages (RFC 1035) as the resolver needs them: a query to send, and an answer read
 * into values the cache keeps. The answer comes from the network, so the parser trusts
 * nothing: compression pointers only point backwards and a bounded number of times,
 * names stay within 255 octets, every length is checked against the datagram.
 */
#ifndef CTL_DNS_MSG_H
#define CTL_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_DNS_NAME_MAX 255 /* presentation form, no final dot */
#define CTL_DNS_MAX_RRS 64   /* answer records kept; the rest are counted */

enum ctl_dns_type {
	CTL_DNS_A = 1,
	CTL_DNS_CNAME = 5,
	CTL_DNS_SOA = 6,
	CTL_DNS_AAAA = 28,
	CTL_DNS_SRV = 33,
	CTL_DNS_NAPTR = 35,
};

enum ctl_dns_rcode {
	CTL_DNS_RCODE_NOERROR = 0,
	CTL_DNS_RCODE_FORMERR = 1,
	CTL_DNS_RCODE_SERVFAIL = 2,
	CTL_DNS_RCODE_NXDOMAIN = 3,
	CTL_DNS_RCODE_NOTIMP = 4,
	CTL_DNS_RCODE_REFUSED = 5,
};

/* One resource record of the answer section, its name and data decoded (lower case). */
struct ctl_dns_rr {
	char name[CTL_DNS_NAME_MAX + 1];
	uint16_t type;
	uint32_t ttl;
	union {
		uint32_t a; /* host order */
		uint8_t aaaa[16];
		char cname[CTL_DNS_NAME_MAX + 1];
		struct {
			uint16_t priority, weight, port;
			char target[CTL_DNS_NAME_MAX + 1];
		} srv;
		struct {
			uint16_t order, preference;
			char flags[16];
			char service[48];
			char replacement[CTL_DNS_NAME_MAX + 1];
		} naptr;
	};
};

struct ctl_dns_msg {
	uint16_t id;
	bool response, truncated, authoritative;
	uint8_t rcode;
	char qname[CTL_DNS_NAME_MAX + 1];
	uint16_t qtype;
	/* answer records of the types above; others (and those past the limit) skipped */
	struct ctl_dns_rr an[CTL_DNS_MAX_RRS];
	unsigned nan;
	unsigned skipped;
	/* RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM) */
	bool has_soa;
	uint32_t negative_ttl;
};

/*
 * Read a response of len octets into m. 0, or -EBADMSG with *why a sentence and *at the
 * octet where it went wrong (a truncated message, a pointer loop, a name too long, an
 * RDATA shorter than its type needs, ...).
 */
int ctl_dns_msg_parse(const uint8_t *buf, size_t len, struct ctl_dns_msg *m, const char **why,
		      size_t *at);

/*
 * The records of qtype that answer m's question, following its CNAME chain (at most 8
 * links, a loop is an error): up to max of them into out (pointers into m). Returns how
 * many, or -ELOOP for a CNAME loop or too long a chain. *ttl is the least TTL along the
 * chain and the records (0 when none).
 */
int ctl_dns_msg_records(const struct ctl_dns_msg *m, const struct ctl_dns_rr **out, unsigned max,
			uint32_t *ttl);

/* Names compare without regard to case (RFC 4343); both are presentation form. */
bool ctl_dns_name_eq(const char *a, const char *b);

#endif
