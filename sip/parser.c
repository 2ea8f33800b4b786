/*
 * Message framing and the checks every received message must pass before a transaction
 * layer may trust it: start line, header split (folding, compact names), the core
 * headers of RFC 3261 §8.1.1, and Content-Length framing (RFC 3261 §18.3).
 */
#include "sip/parser.h"

#include <errno.h>

#include "sip/charset.h"

static const char *const sip__hdr_long[SIP_HDR__COUNT] = {
	[SIP_HDR_OTHER] = "",
	[SIP_HDR_VIA] = "Via",
	[SIP_HDR_FROM] = "From",
	[SIP_HDR_TO] = "To",
	[SIP_HDR_CALL_ID] = "Call-ID",
	[SIP_HDR_CSEQ] = "CSeq",
	[SIP_HDR_CONTACT] = "Contact",
	[SIP_HDR_MAX_FORWARDS] = "Max-Forwards",
	[SIP_HDR_CONTENT_LENGTH] = "Content-Length",
	[SIP_HDR_CONTENT_TYPE] = "Content-Type",
	[SIP_HDR_EXPIRES] = "Expires",
	[SIP_HDR_MIN_EXPIRES] = "Min-Expires",
	[SIP_HDR_WWW_AUTHENTICATE] = "WWW-Authenticate",
	[SIP_HDR_PROXY_AUTHENTICATE] = "Proxy-Authenticate",
	[SIP_HDR_AUTHORIZATION] = "Authorization",
	[SIP_HDR_PROXY_AUTHORIZATION] = "Proxy-Authorization",
	[SIP_HDR_AUTHENTICATION_INFO] = "Authentication-Info",
	[SIP_HDR_RETRY_AFTER] = "Retry-After",
	[SIP_HDR_FLOW_TIMER] = "Flow-Timer",
	[SIP_HDR_REQUIRE] = "Require",
	[SIP_HDR_SUPPORTED] = "Supported",
	[SIP_HDR_PATH] = "Path",
	[SIP_HDR_SERVICE_ROUTE] = "Service-Route",
	[SIP_HDR_RECORD_ROUTE] = "Record-Route",
	[SIP_HDR_ROUTE] = "Route",
	[SIP_HDR_EVENT] = "Event",
	[SIP_HDR_SUBSCRIPTION_STATE] = "Subscription-State",
	[SIP_HDR_ALLOW] = "Allow",
	[SIP_HDR_ACCEPT] = "Accept",
	[SIP_HDR_USER_AGENT] = "User-Agent",
	[SIP_HDR_SERVER] = "Server",
	[SIP_HDR_SUBJECT] = "Subject",
	[SIP_HDR_CONTENT_ENCODING] = "Content-Encoding",
};

/*
 * Names grouped by their first letter (lower case), each with its length, so a lookup
 * compares at most the six names that start like "Content-..." and usually one.
 */
#define SIP__HDR_PER_LETTER 8
static struct {
	uint8_t n;
	uint8_t id[SIP__HDR_PER_LETTER];
	uint8_t len[SIP__HDR_PER_LETTER];
} sip__hdr_by_letter[26];

__attribute__((constructor)) static void sip__hdr_index_init(void)
{
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		int letter = (sip__hdr_long[id][0] | 0x20) - 'a';
		uint8_t k = sip__hdr_by_letter[letter].n++;

		sip__hdr_by_letter[letter].id[k] = (uint8_t)id;
		sip__hdr_by_letter[letter].len[k] = (uint8_t)strlen(sip__hdr_long[id]);
	}
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR__COUNT ? sip__hdr_long[id] : "";
}

/* RFC 3261 §7.3.3 compact forms, plus o (Event, RFC 6665). */
static enum sip_hdr_id sip__hdr_compact(char c)
{
	switch (c | 0x20) {
	case 'i':
		return SIP_HDR_CALL_ID;
	case 'm':
		return SIP_HDR_CONTACT;
	case 'e':
		return SIP_HDR_CONTENT_ENCODING;
	case 'l':
		return SIP_HDR_CONTENT_LENGTH;
	case 'c':
		return SIP_HDR_CONTENT_TYPE;
	case 'f':
		return SIP_HDR_FROM;
	case 's':
		return SIP_HDR_SUBJECT;
	case 'k':
		return SIP_HDR_SUPPORTED;
	case 't':
		return SIP_HDR_TO;
	case 'v':
		return SIP_HDR_VIA;
	case 'o':
		return SIP_HDR_EVENT;
	default:
		return SIP_HDR_OTHER;
	}
}

enum sip_hdr_id sip_hdr_lookup(const char *name, size_t len)
{
	int letter = (name[0] | 0x20) - 'a';

	if (len == 1)
		return sip__hdr_compact(name[0]);
	if (letter < 0 || letter >= 26)
		return SIP_HDR_OTHER;
	for (uint8_t k = 0; k < sip__hdr_by_letter[letter].n; k++) {
		const char *l = sip__hdr_long[sip__hdr_by_letter[letter].id[k]];
		size_t i = 1;

		if (sip__hdr_by_letter[letter].len[k] != len)
			continue;
		/* names are tokens, so folding case with 0x20 cannot confuse two of them */
		while (i < len && (l[i] | 0x20) == (name[i] | 0x20))
			i++;
		if (i == len)
			return (enum sip_hdr_id)sip__hdr_by_letter[letter].id[k];
	}
	return SIP_HDR_OTHER;
}

const struct sip_header *sip_msg_header(const struct sip_msg *m, enum sip_hdr_id id, size_t n)
{
	size_t i = m->first[id];

	if (i == 0)
		return NULL;
	for (i--; i < m->nhdrs; i++) {
		if (m->hdrs[i].id == id && n-- == 0)
			return &m->hdrs[i];
	}
	return NULL;
}

#define SIP__FAIL(at_, msg_)       \
	do {                       \
		err->off = (at_);  \
		err->why = (msg_); \
		return -EBADMSG;   \
	} while (0)

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2). */
static int sip__status_line(const char *p, size_t n, struct sip_msg *m, struct sip_parse_error *err)
{
	unsigned code = 0;
	size_t i = 8;

	if (n < 8 || (memcmp(p, "SIP/2.0 ", 8) != 0 && strncasecmp(p, "SIP/2.0 ", 8) != 0))
		SIP__FAIL(0, "unsupported SIP version in status line");
	for (; i < n && i < 11 && sip_cs(p[i], SIP_CS_DIGIT); i++)
		code = code * 10 + (unsigned)(p[i] - '0');
	if (i != 11 || (i < n && p[i] != ' '))
		SIP__FAIL(8, "status code is not three digits");
	if (code < 100 || code > 699)
		SIP__FAIL(8, "status code outside 100..699");
	m->status = (uint16_t)code;
	m->reason = i < n ? sip_str_make(p + 12, n - 12) : SIP_STR_NULL;
	return 0;
}

/* Request-Line = Method SP Request-URI SP SIP-Version, single spaces (RFC 4475 §3.1.2.8). */
static int sip__request_line(const char *p, size_t n, struct sip_msg *m,
			     struct sip_parse_error *err)
{
	const char *sp1 = memchr(p, ' ', n), *sp2 = p + n;
	size_t off;
	int rc;

	while (sp2 > p && sp2[-1] != ' ')
		sp2--;
	if (!sp1 || sp2 - 1 == sp1)
		SIP__FAIL(0, "request line is not 'METHOD URI SIP/2.0'");
	for (const char *c = p; c < sp1; c++) {
		if (!sip_cs(*c, SIP_CS_TOKEN))
			SIP__FAIL((size_t)(c - p), "invalid octet in method");
	}
	if (sp1 == p)
		SIP__FAIL(0, "empty method");
	m->method = sip_str_make(p, (size_t)(sp1 - p));
	m->ruri = sip_str_make(sp1 + 1, (size_t)(sp2 - sp1 - 2));
	for (size_t i = 0; i < m->ruri.len; i++) {
		if (sip_cs(m->ruri.p[i], SIP_CS_LWS))
			SIP__FAIL((size_t)(m->ruri.p - p) + i, "whitespace in Request-URI");
	}
	if ((size_t)(p + n - sp2) != 7 || strncasecmp(sp2, "SIP/2.0", 7) != 0)
		SIP__FAIL((size_t)(sp2 - p), "unsupported SIP version in request line");
	rc = sip_uri_parse(m->ruri, &m->ruri_parsed, &off, &err->why);
	if (rc)
		err->off = (size_t)(m->ruri.p - p) + off;
	return rc;
}

/* Headers that may appear once only (RFC 3261 §7.3.1; RFC 4475 §3.1.2.19 multi01). */
static bool sip__single(enum sip_hdr_id id)
{
	return id == SIP_HDR_FROM || id == SIP_HDR_TO || id == SIP_HDR_CALL_ID ||
	       id == SIP_HDR_CSEQ || id == SIP_HDR_MAX_FORWARDS || id == SIP_HDR_CONTENT_LENGTH;
}

static int sip__add_header(const char *buf, const char *p, size_t n, struct sip_msg *m,
			   size_t max_hdrs, struct sip_parse_error *err)
{
	struct sip_header *h;
	size_t i = 0;

	while (i < n && sip_cs(p[i], SIP_CS_TOKEN))
		i++;
	if (i == 0)
		SIP__FAIL((size_t)(p - buf), "header line does not start with a name");
	if (m->nhdrs == max_hdrs) {
		err->off = (size_t)(p - buf);
		err->why = "more headers than the parser was given room for";
		return -ENOBUFS;
	}
	h = &m->hdrs[m->nhdrs];
	h->name = sip_str_make(p, i);
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n || p[i] != ':')
		SIP__FAIL((size_t)(p + i - buf), "header line without ':'");
	h->value = sip_str_make(p + i + 1, n - i - 1);
	h->id = sip_hdr_lookup(h->name.p, h->name.len);
	if (h->id != SIP_HDR_OTHER) {
		if (m->first[h->id] == 0)
			m->first[h->id] = (uint16_t)(m->nhdrs + 1);
		else if (sip__single(h->id))
			SIP__FAIL((size_t)(p - buf), "header that must appear once appears twice");
	}
	m->nhdrs++;
	return 0;
}

/* Splits the header block; returns the offset of the body, -EAGAIN, or an error. */
static long sip__headers(const char *buf, size_t len, size_t pos, enum sip_framing framing,
			 struct sip_msg *m, size_t max_hdrs, struct sip_parse_error *err)
{
	for (;;) {
		const char *nl = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
		size_t end, n;
		int rc;

		if (!nl) {
			if (framing == SIP_FRAMING_STREAM)
				return -EAGAIN;
			SIP__FAIL(len, "header block not closed by an empty line");
		}
		end = (size_t)(nl - buf);
		n = end - pos;
		if (n && buf[end - 1] == '\r')
			n--;
		if (n == 0)
			return (long)(end + 1);
		if (buf[pos] == ' ' || buf[pos] == '\t') {
			struct sip_header *h;

			if (m->nhdrs == 0)
				SIP__FAIL(pos, "continuation line before the first header");
			h = &m->hdrs[m->nhdrs - 1];
			h->value.len = (size_t)(buf + pos + n - h->value.p);
		} else if ((rc = sip__add_header(buf, buf + pos, n, m, max_hdrs, err))) {
			return rc;
		}
		pos = end + 1;
	}
}

static int sip__value_fail(const char *buf, const struct sip_header *h, size_t off, const char *why,
			   struct sip_parse_error *err)
{
	err->off = (size_t)(h->value.p - buf) + off;
	err->why = why;
	return -EBADMSG;
}

static int sip__require(const char *buf, size_t at, struct sip_msg *m, struct sip_parse_error *err)
{
	static const enum sip_hdr_id need[] = {SIP_HDR_VIA, SIP_HDR_FROM, SIP_HDR_TO,
					       SIP_HDR_CALL_ID, SIP_HDR_CSEQ};
	static const char *const why[] = {"missing Via header", "missing From header",
					  "missing To header", "missing Call-ID header",
					  "missing CSeq header"};

	(void)buf;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!m->first[need[i]])
			SIP__FAIL(at, why[i]);
	}
	return 0;
}

/* Every Via and Contact value, From, To, CSeq, Max-Forwards, Content-Length. */
static int sip__check_core(const char *buf, struct sip_msg *m, struct sip_parse_error *err)
{
	size_t off;
	const char *why;
	int rc = 0;

	for (size_t i = 0; i < m->nhdrs; i++) {
		const struct sip_header *h = &m->hdrs[i];
		struct sip_str cur = h->value, item;
		struct sip_via via;
		struct sip_contact c;
		uint32_t n;

		switch (h->id) {
		case SIP_HDR_VIA:
			if (!sip_list_next(&cur, &item))
				return sip__value_fail(buf, h, 0, "empty Via", err);
			do {
				rc = sip_via_parse(item, &via, &off, &why);
				if (rc)
					return sip__value_fail(buf, h,
							       (size_t)(item.p - h->value.p) + off,
							       why, err);
				if (m->first[SIP_HDR_VIA] == i + 1 && !m->via.host.p)
					m->via = via;
			} while (sip_list_next(&cur, &item));
			break;
		case SIP_HDR_CONTACT:
			while (sip_list_next(&cur, &item)) {
				rc = sip_contact_parse(item, &c, &off, &why);
				if (rc)
					return sip__value_fail(buf, h,
							       (size_t)(item.p - h->value.p) + off,
							       why, err);
			}
			break;
		case SIP_HDR_FROM:
		case SIP_HDR_TO:
			rc = sip_naddr_parse(h->value, h->id == SIP_HDR_FROM ? &m->from : &m->to,
					     &off, &why);
			if (rc)
				return sip__value_fail(buf, h, off, why, err);
			break;
		case SIP_HDR_CSEQ:
			if ((rc = sip_cseq_parse(h->value, &m->cseq, &off, &why)))
				return sip__value_fail(buf, h, off, why, err);
			break;
		case SIP_HDR_CALL_ID:
			m->call_id = sip_trim(h->value);
			for (size_t k = 0; k < m->call_id.len; k++) {
				if (!sip_cs(m->call_id.p[k], SIP_CS_WORD) && m->call_id.p[k] != '@')
					return sip__value_fail(buf, h, k,
							       "invalid octet in Call-ID", err);
			}
			if (m->call_id.len == 0)
				return sip__value_fail(buf, h, 0, "empty Call-ID", err);
			break;
		case SIP_HDR_MAX_FORWARDS:
			if (sip_u32_parse(h->value, 255, &n))
				return sip__value_fail(buf, h, 0, "Max-Forwards is not 0..255",
						       err);
			break;
		case SIP_HDR_CONTENT_LENGTH:
			if (sip_u32_parse(h->value, UINT32_MAX, &m->content_length))
				return sip__value_fail(buf, h, 0, "Content-Length is not a number",
						       err);
			m->has_content_length = true;
			break;
		default:
			break;
		}
	}
	return 0;
}

long sip_parse(const char *buf, size_t len, enum sip_framing framing, struct sip_msg *m,
	       struct sip_header *hdrs, size_t max_hdrs, struct sip_parse_error *err)
{
	const char *nl = memchr(buf, '\n', len);
	size_t n, body_at, avail;
	long pos;
	int rc;

	memset(m, 0, sizeof(*m));
	m->hdrs = hdrs;
	if (!nl) {
		if (framing == SIP_FRAMING_STREAM)
			return -EAGAIN;
		SIP__FAIL(len, "no line end after the start line");
	}
	n = (size_t)(nl - buf);
	if (n && buf[n - 1] == '\r')
		n--;
	m->is_request = !(n >= 4 && strncasecmp(buf, "SIP/", 4) == 0);
	rc = m->is_request ? sip__request_line(buf, n, m, err) : sip__status_line(buf, n, m, err);
	if (rc)
		return rc;
	pos = sip__headers(buf, len, (size_t)(nl - buf) + 1, framing, m, max_hdrs, err);
	if (pos < 0)
		return pos;
	body_at = (size_t)pos;
	for (size_t i = 0; i < m->nhdrs; i++)
		m->hdrs[i].value = sip_trim(m->hdrs[i].value);
	if ((rc = sip__require(buf, body_at, m, err)) || (rc = sip__check_core(buf, m, err)))
		return rc;
	if (m->is_request && !sip_str_eq(m->cseq.method, m->method))
		SIP__FAIL((size_t)(m->cseq.method.p - buf),
			  "CSeq method differs from the request method");
	avail = len - body_at;
	if (!m->has_content_length) {
		if (framing == SIP_FRAMING_STREAM)
			SIP__FAIL(body_at, "no Content-Length on a stream transport");
		m->content_length = (uint32_t)avail;
	} else if (m->content_length > avail) {
		if (framing == SIP_FRAMING_STREAM)
			return -EAGAIN;
		SIP__FAIL((size_t)(sip_msg_header(m, SIP_HDR_CONTENT_LENGTH, 0)->value.p - buf),
			  "Content-Length larger than the datagram");
	}
	m->body = sip_str_make(buf + body_at, m->content_length);
	m->len = body_at + m->content_length;
	return (long)m->len;
}
