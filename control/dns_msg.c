/*
 * DNS answers read into values (control/dns_msg.h). c-ares carries the datagrams; this
 * file decides what they say, because the cache needs what c-ares' own parsers drop:
 * every record's TTL, the SOA of a negative answer, the CNAME chain as sent.
 */
#include "control/dns_msg.h"

#include <errno.h>
#include <string.h>

#define CTL_DNS_HDR 12
#define CTL_DNS_MAX_HOPS 32 /* compression pointers followed in one name */
#define CTL_DNS_MAX_CHAIN 8 /* CNAME links followed in one answer */

struct ctl__rd {
	const uint8_t *b;
	size_t len;
	const char *why;
	size_t at;
};

static int ctl__bad(struct ctl__rd *r, size_t at, const char *why)
{
	if (!r->why) {
		r->why = why;
		r->at = at;
	}
	return -EBADMSG;
}

static uint16_t ctl__u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t ctl__u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The name at *off into out (lower case, dots between labels, "" for the root); *off
 * moves past it as it stands in the message (a pointer ends it). Pointers must point
 * before the label they replace, so every hop goes backwards and a loop is impossible;
 * the hop count bounds the work anyway.
 */
static int ctl__name(struct ctl__rd *r, size_t *off, char *out)
{
	size_t p = *off, n = 0, end = 0;
	unsigned hops = 0;

	for (;;) {
		uint8_t l;

		if (p >= r->len)
			return ctl__bad(r, p, "a name runs past the end of the message");
		l = r->b[p];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= r->len)
				return ctl__bad(r, p, "a compression pointer is cut off");
			to = (size_t)(l & 0x3f) << 8 | r->b[p + 1];
			if (!end)
				end = p + 2;
			if (to >= p || ++hops > CTL_DNS_MAX_HOPS)
				return ctl__bad(r, p, "a compression pointer does not point back");
			p = to;
			continue;
		}
		if (l & 0xc0)
			return ctl__bad(r, p, "a label type that is not defined (RFC 6891 §5)");
		if (l == 0)
			break;
		if (p + 1 + l > r->len)
			return ctl__bad(r, p, "a label runs past the end of the message");
		if (n + (n != 0) + l > CTL_DNS_NAME_MAX)
			return ctl__bad(r, p, "a name longer than 255 octets");
		if (n)
			out[n++] = '.';
		for (unsigned k = 0; k < l; k++) {
			uint8_t c = r->b[p + 1 + k];

			/* host names: what a SIP URI can carry; anything else is not ours */
			if (c <= ' ' || c >= 127 || c == '.' || c == '\\')
				return ctl__bad(r, p + 1 + k, "a label octet no host name has");
			out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		p += 1 + l;
	}
	out[n] = 0;
	*off = end ? end : p + 1;
	return 0;
}

/* A <character-string> (RFC 1035 §3.3) at *off, within rdata ending at lim. */
static int ctl__cstr(struct ctl__rd *r, size_t *off, size_t lim, char *out, size_t cap)
{
	size_t l;

	if (*off >= lim)
		return ctl__bad(r, *off, "a NAPTR field is missing");
	l = r->b[*off];
	if (*off + 1 + l > lim)
		return ctl__bad(r, *off, "a NAPTR field runs past its record");
	if (l >= cap)
		return ctl__bad(r, *off, "a NAPTR flags or service field too long");
	for (size_t k = 0; k < l; k++) {
		char c = (char)r->b[*off + 1 + k];

		out[k] = c >= 'A' && c <= 'Z' ? c + 32 : c;
	}
	out[l] = 0;
	*off += 1 + l;
	return 0;
}

static int ctl__rdata(struct ctl__rd *r, size_t off, size_t rdlen, struct ctl_dns_rr *rr)
{
	size_t lim = off + rdlen, p = off;

	switch (rr->type) {
	case CTL_DNS_A:
		if (rdlen != 4)
			return ctl__bad(r, off, "an A record whose data is not 4 octets");
		rr->a = ctl__u32(r->b + off);
		return 0;
	case CTL_DNS_AAAA:
		if (rdlen != 16)
			return ctl__bad(r, off, "an AAAA record whose data is not 16 octets");
		memcpy(rr->aaaa, r->b + off, 16);
		return 0;
	case CTL_DNS_CNAME:
		if (ctl__name(r, &p, rr->cname))
			return -EBADMSG;
		break;
	case CTL_DNS_SRV:
		if (rdlen < 7)
			return ctl__bad(r, off, "an SRV record shorter than its fields");
		rr->srv.priority = ctl__u16(r->b + off);
		rr->srv.weight = ctl__u16(r->b + off + 2);
		rr->srv.port = ctl__u16(r->b + off + 4);
		p = off + 6;
		if (ctl__name(r, &p, rr->srv.target))
			return -EBADMSG;
		break;
	case CTL_DNS_NAPTR: {
		char regexp[2];

		if (rdlen < 7)
			return ctl__bad(r, off, "a NAPTR record shorter than its fields");
		rr->naptr.order = ctl__u16(r->b + off);
		rr->naptr.preference = ctl__u16(r->b + off + 2);
		p = off + 4;
		if (ctl__cstr(r, &p, lim, rr->naptr.flags, sizeof(rr->naptr.flags)) ||
		    ctl__cstr(r, &p, lim, rr->naptr.service, sizeof(rr->naptr.service)))
			return -EBADMSG;
		/* RFC 3263 §4.1: SIP NAPTRs use replacement, never a regexp */
		if (p >= lim || r->b[p] != 0)
			return ctl__bad(r, p, "a NAPTR with a regexp (RFC 3263 uses replacement)");
		if (ctl__cstr(r, &p, lim, regexp, sizeof(regexp)) ||
		    ctl__name(r, &p, rr->naptr.replacement))
			return -EBADMSG;
		break;
	}
	default:
		return 0;
	}
	if (p != lim)
		return ctl__bad(r, p, "a record's data length disagrees with its fields");
	return 0;
}

/* One record at *off: kept in m when it is of a type we use, else skipped. */
static int ctl__rr(struct ctl__rd *r, size_t *off, struct ctl_dns_msg *m, bool answer)
{
	struct ctl_dns_rr scratch,
		*rr = answer && m->nan < CTL_DNS_MAX_RRS ? &m->an[m->nan] : &scratch;
	size_t p = *off, rdlen;

	if (ctl__name(r, &p, rr->name))
		return -EBADMSG;
	if (p + 10 > r->len)
		return ctl__bad(r, p, "a record header runs past the end of the message");
	rr->type = ctl__u16(r->b + p);
	rr->ttl = ctl__u32(r->b + p + 4);
	if (rr->ttl > 0x7fffffff) /* RFC 2181 §8: a TTL with the top bit set means 0 */
		rr->ttl = 0;
	rdlen = ctl__u16(r->b + p + 8);
	p += 10;
	if (p + rdlen > r->len)
		return ctl__bad(r, p, "a record's data runs past the end of the message");
	*off = p + rdlen;
	if (ctl__u16(r->b + p - 8) != 1) /* class IN only */
		return 0;
	if (!answer) {
		uint32_t min;
		size_t q = p;
		char ignore[CTL_DNS_NAME_MAX + 1];

		if (rr->type != CTL_DNS_SOA || m->has_soa)
			return 0;
		if (ctl__name(r, &q, ignore) || ctl__name(r, &q, ignore))
			return -EBADMSG;
		if (q + 20 != p + rdlen)
			return ctl__bad(r, q,
					"an SOA record's data length disagrees with its fields");
		min = ctl__u32(r->b + q + 16);
		m->has_soa = true;
		m->negative_ttl = min < rr->ttl ? min : rr->ttl;
		return 0;
	}
	if (ctl__rdata(r, p, rdlen, rr))
		return -EBADMSG;
	if (rr->type != CTL_DNS_A && rr->type != CTL_DNS_AAAA && rr->type != CTL_DNS_CNAME &&
	    rr->type != CTL_DNS_SRV && rr->type != CTL_DNS_NAPTR)
		return 0;
	if (rr == &scratch)
		m->skipped++;
	else
		m->nan++;
	return 0;
}

int ctl_dns_msg_parse(const uint8_t *buf, size_t len, struct ctl_dns_msg *m, const char **why,
		      size_t *at)
{
	struct ctl__rd r = {buf, len, NULL, 0};
	unsigned qd, an, ns;
	size_t off = CTL_DNS_HDR;
	int rc = 0;

	memset(m, 0, offsetof(struct ctl_dns_msg, an));
	m->nan = m->skipped = 0;
	m->has_soa = false;
	m->negative_ttl = 0;
	if (len < CTL_DNS_HDR) {
		rc = ctl__bad(&r, len, "shorter than a DNS header");
		goto out;
	}
	m->id = ctl__u16(buf);
	m->response = buf[2] & 0x80;
	m->authoritative = buf[2] & 0x04;
	m->truncated = buf[2] & 0x02;
	m->rcode = buf[3] & 0x0f;
	qd = ctl__u16(buf + 4);
	an = ctl__u16(buf + 6);
	ns = ctl__u16(buf + 8);
	if (!m->response) {
		rc = ctl__bad(&r, 2, "a query, not a response");
		goto out;
	}
	if (qd != 1) {
		rc = ctl__bad(&r, 4, "not exactly one question");
		goto out;
	}
	if ((rc = ctl__name(&r, &off, m->qname)) != 0)
		goto out;
	if (off + 4 > len) {
		rc = ctl__bad(&r, off, "the question is cut off");
		goto out;
	}
	m->qtype = ctl__u16(buf + off);
	off += 4;
	for (unsigned k = 0; k < an + ns && rc == 0; k++) {
		/* a truncated answer (TC) may end early: what arrived whole still counts */
		if (off >= len && m->truncated)
			break;
		rc = ctl__rr(&r, &off, m, k < an);
	}
out:
	if (rc) {
		*why = r.why;
		*at = r.at;
	}
	return rc;
}

bool ctl_dns_name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a;
		char y = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

int ctl_dns_msg_records(const struct ctl_dns_msg *m, const struct ctl_dns_rr **out, unsigned max,
			uint32_t *ttl)
{
	const char *owner = m->qname;
	uint32_t least = UINT32_MAX;
	unsigned n = 0, links = 0;

	for (;;) {
		const struct ctl_dns_rr *next = NULL;

		for (unsigned k = 0; k < m->nan; k++) {
			const struct ctl_dns_rr *rr = &m->an[k];

			if (!ctl_dns_name_eq(rr->name, owner))
				continue;
			if (rr->type == m->qtype && n < max) {
				out[n++] = rr;
				if (rr->ttl < least)
					least = rr->ttl;
			} else if (rr->type == CTL_DNS_CNAME && m->qtype != CTL_DNS_CNAME) {
				next = rr;
			}
		}
		if (n || !next)
			break;
		/* RFC 1034 §3.6.2: follow the alias; a loop or a long chain is an error */
		if (++links > CTL_DNS_MAX_CHAIN || ctl_dns_name_eq(next->cname, m->qname))
			return -ELOOP;
		if (next->ttl < least)
			least = next->ttl;
		owner = next->cname;
	}
	*ttl = least == UINT32_MAX ? 0 : least;
	return (int)n;
}
