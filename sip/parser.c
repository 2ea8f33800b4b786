/*
 * Message framing and the checks every received message must pass before a transaction
 * layer may trust it: start line, header split (folding, compact names), the core
 * headers of RFC 3261 §8.1.1, and Content-Length framing (RFC 3261 §18.3).
 */
#include "sip/parser.h"

#include "sip/lex.h"

/* Every recognised header: its id and canonical long name, in enum order. */
#define SIP__HDR_NAMES(X)                             \
	X(VIA, "Via")                                 \
	X(FROM, "From")                               \
	X(TO, "To")                                   \
	X(CALL_ID, "Call-ID")                         \
	X(CSEQ, "CSeq")                               \
	X(CONTACT, "Contact")                         \
	X(MAX_FORWARDS, "Max-Forwards")               \
	X(CONTENT_LENGTH, "Content-Length")           \
	X(CONTENT_TYPE, "Content-Type")               \
	X(EXPIRES, "Expires")                         \
	X(MIN_EXPIRES, "Min-Expires")                 \
	X(WWW_AUTHENTICATE, "WWW-Authenticate")       \
	X(PROXY_AUTHENTICATE, "Proxy-Authenticate")   \
	X(AUTHORIZATION, "Authorization")             \
	X(PROXY_AUTHORIZATION, "Proxy-Authorization") \
	X(AUTHENTICATION_INFO, "Authentication-Info") \
	X(RETRY_AFTER, "Retry-After")                 \
	X(FLOW_TIMER, "Flow-Timer")                   \
	X(REQUIRE, "Require")                         \
	X(SUPPORTED, "Supported")                     \
	X(PATH, "Path")                               \
	X(SERVICE_ROUTE, "Service-Route")             \
	X(RECORD_ROUTE, "Record-Route")               \
	X(ROUTE, "Route")                             \
	X(EVENT, "Event")                             \
	X(SUBSCRIPTION_STATE, "Subscription-State")   \
	X(ALLOW, "Allow")                             \
	X(ACCEPT, "Accept")                           \
	X(USER_AGENT, "User-Agent")                   \
	X(SERVER, "Server")                           \
	X(SUBJECT, "Subject")                         \
	X(CONTENT_ENCODING, "Content-Encoding")       \
	X(TIMESTAMP, "Timestamp")

#define SIP__HDR_LONG(id, name) [SIP_HDR_##id] = name,
#define SIP__HDR_LEN(id, name) SIP__LEN_##id = sizeof(name) - 1,
#define SIP__HDR_ONE(id, name) +1

static const char *const sip__hdr_long[SIP_HDR__COUNT] = {[SIP_HDR_OTHER] = "",
							  SIP__HDR_NAMES(SIP__HDR_LONG)};
enum { SIP__HDR_NAMES(SIP__HDR_LEN) };
_Static_assert(0 SIP__HDR_NAMES(SIP__HDR_ONE) == SIP_HDR__COUNT - 1,
	       "every enum sip_hdr_id has a name in SIP__HDR_NAMES");
#define SIP__HDR_FITS(id, name) &&sizeof(name) - 1 <= 24
_Static_assert(1 SIP__HDR_NAMES(SIP__HDR_FITS),
	       "sip__hdr_name_eq compares names of 24 octets at most");

/*
 * The one name a lookup compares: the second letter and the length tell every
 * recognised name apart (the first letter does not: Call-ID and Contact), so a lookup is
 * one table read and one compare. Two names sharing a cell would be a repeated
 * designator, which -Wextra (-Woverride-init) refuses; the unit test
 * every_long_name_maps_back_to_its_id checks that every name is in the table. A row
 * walk by first letter cost a 200 OK parse 135 more instructions (of 5,577).
 */
#define SIP__AT(second, id) [(second) - 'a'][SIP__LEN_##id] = SIP_HDR_##id

static const uint8_t sip__hdr_at[26][25] = {
	SIP__AT('i', VIA),
	SIP__AT('r', FROM),
	SIP__AT('o', TO),
	SIP__AT('a', CALL_ID),
	SIP__AT('s', CSEQ),
	SIP__AT('o', CONTACT),
	SIP__AT('a', MAX_FORWARDS),
	SIP__AT('o', CONTENT_LENGTH),
	SIP__AT('o', CONTENT_TYPE),
	SIP__AT('x', EXPIRES),
	SIP__AT('i', MIN_EXPIRES),
	SIP__AT('w', WWW_AUTHENTICATE),
	SIP__AT('r', PROXY_AUTHENTICATE),
	SIP__AT('u', AUTHORIZATION),
	SIP__AT('r', PROXY_AUTHORIZATION),
	SIP__AT('u', AUTHENTICATION_INFO),
	SIP__AT('e', RETRY_AFTER),
	SIP__AT('l', FLOW_TIMER),
	SIP__AT('e', REQUIRE),
	SIP__AT('u', SUPPORTED),
	SIP__AT('a', PATH),
	SIP__AT('e', SERVICE_ROUTE),
	SIP__AT('e', RECORD_ROUTE),
	SIP__AT('o', ROUTE),
	SIP__AT('v', EVENT),
	SIP__AT('u', SUBSCRIPTION_STATE),
	SIP__AT('l', ALLOW),
	SIP__AT('c', ACCEPT),
	SIP__AT('s', USER_AGENT),
	SIP__AT('e', SERVER),
	SIP__AT('u', SUBJECT),
	SIP__AT('o', CONTENT_ENCODING),
	SIP__AT('i', TIMESTAMP),
};

const char *sip_hdr_name(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR__COUNT ? sip__hdr_long[id] : "";
}

/* RFC 3261 §7.3.3 compact forms, plus o (Event, RFC 6665). */
static enum sip_hdr_id sip__hdr_compact(char c)
{
	switch (sip__lower((unsigned char)c)) {
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

/*
 * Whether name's octets are the canonical name's (letters and "-") in any case of the
 * letters, compared a word at a time: a letter's octet may differ in bit 0x20 alone,
 * and the mask of those bits is bit 0x40 of the canonical octets moved down one ("-" has
 * neither, so "Call\rID" stays OTHER). Both names are n octets long, 2 <= n <= 24.
 * Without a branch per octet, and inlined into the header loop, this took a 200 OK
 * parse from ~358 to ~344 ns (with the two-octet sip__ieq case in lex.h).
 */
static inline bool sip__fold_eq8(const char *a, const char *b)
{
	uint64_t x, y, fold;

	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	fold = (y >> 1) & 0x2020202020202020u;
	return (x | fold) == (y | fold);
}

static inline bool sip__fold_eq4(const char *a, const char *b)
{
	uint32_t x, y, fold;

	memcpy(&x, a, 4);
	memcpy(&y, b, 4);
	fold = (y >> 1) & 0x20202020u;
	return (x | fold) == (y | fold);
}

static inline bool sip__fold_eq2(const char *a, const char *b)
{
	uint16_t x, y, fold;

	memcpy(&x, a, 2);
	memcpy(&y, b, 2);
	fold = (uint16_t)((y >> 1) & 0x2020u);
	return (uint16_t)(x | fold) == (uint16_t)(y | fold);
}

static inline bool sip__hdr_name_eq(const char *name, const char *canon, size_t n)
{
	if (n >= 8)
		return sip__fold_eq8(name, canon) && sip__fold_eq8(name + n - 8, canon + n - 8) &&
		       (n <= 16 || sip__fold_eq8(name + 8, canon + 8));
	if (n >= 4)
		return sip__fold_eq4(name, canon) && sip__fold_eq4(name + n - 4, canon + n - 4);
	return sip__fold_eq2(name, canon) && sip__fold_eq2(name + n - 2, canon + n - 2);
}

static inline enum sip_hdr_id sip__hdr_lookup(const char *name, size_t len)
{
	unsigned second, id;

	if (len <= 1)
		return len ? sip__hdr_compact(name[0]) : SIP_HDR_OTHER;
	second = (unsigned)sip__lower((unsigned char)name[1]) - 'a';
	if (second >= 26 || len > 24)
		return SIP_HDR_OTHER;
	id = sip__hdr_at[second][len];
	if (id && sip__hdr_name_eq(name, sip__hdr_long[id], len))
		return (enum sip_hdr_id)id;
	return SIP_HDR_OTHER;
}

enum sip_hdr_id sip_hdr_lookup(const char *name, size_t len)
{
	return sip__hdr_lookup(name, len);
}

/*
 * The offset of the first ':' in line[pos..pos+24), read eight octets at a time while
 * eight are left in the line; 0 when there is none (or too few octets to look). The
 * lowest flagged octet of the zero-byte test is exact, so the first ':' is found.
 */
static inline size_t sip__colon_near(struct sip_str line, size_t pos)
{
	for (size_t k = 0; k < 24 && pos + k + 8 <= line.len; k += 8) {
		uint64_t x;

		memcpy(&x, line.p + pos + k, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		x = __builtin_bswap64(x); /* the first octet in the low bits */
#endif
		x ^= 0x3a3a3a3a3a3a3a3au;
		x = (x - 0x0101010101010101u) & ~x & 0x8080808080808080u;
		if (x)
			return k + (size_t)__builtin_ctzll(x) / 8;
	}
	return 0;
}

const struct sip_header *sip_msg_header(const struct sip_msg *m, enum sip_hdr_id id, size_t n)
{
	size_t i;

	if ((unsigned)id >= SIP_HDR__COUNT || m->first[id] == 0)
		return NULL;
	for (i = m->first[id] - 1u; i < m->nhdrs; i++) {
		if (m->hdrs[i].id == id && n-- == 0)
			return &m->hdrs[i];
	}
	return NULL;
}

/* A response has no Request-URI: its parsed view is copied empty (not memset: see hdr.c). */
static const struct sip_uri sip__uri_empty;

#define SIP__MSG_FAIL(at_, msg_)   \
	do {                       \
		err->off = (at_);  \
		err->why = (msg_); \
		return -EBADMSG;   \
	} while (0)

/*
 * Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2, §25.1): the
 * second SP is required even before an empty phrase, and the phrase holds no control
 * octet but HT. Octets [at, end) of buf.
 */
static int sip__status_line(const char *buf, size_t at, size_t end, struct sip_msg *m,
			    struct sip_parse_error *err)
{
	const char *p = buf + at;
	size_t n = end - at, i;
	unsigned code = 0;

	if (n < 8 || !sip__ieq(p, "SIP/2.0 ", 8))
		SIP__MSG_FAIL(at, "unsupported SIP version in status line");
	for (i = 8; i < n && i < 11 && sip_cs(p[i], SIP_CS_DIGIT); i++)
		code = code * 10 + (unsigned)(p[i] - '0');
	if (i != 11 || (i < n && sip_cs(p[i], SIP_CS_DIGIT)))
		SIP__MSG_FAIL(at + 8, "status code is not three digits");
	if (code < 100 || code > 699)
		SIP__MSG_FAIL(at + 8, "status code outside 100..699");
	if (i == n || p[i] != ' ')
		SIP__MSG_FAIL(at + i, "status code not followed by SP");
	for (i = 12; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			SIP__MSG_FAIL(at + i, "control octet in reason phrase");
	}
	m->status = (uint16_t)code;
	m->reason = sip_str_make(p + 12, n - 12);
	m->ruri_parsed = sip__uri_empty;
	return 0;
}

/* Request-Line = Method SP Request-URI SP SIP-Version, single spaces (RFC 4475 lwsstart). */
static int sip__request_line(const char *buf, size_t at, size_t end, struct sip_msg *m,
			     struct sip_parse_error *err)
{
	const char *sp = memchr(buf + at, ' ', end - at);
	size_t sp1 = sp ? (size_t)(sp - buf) : end, sp2 = end, off;
	int rc;

	while (sp2 > at && buf[sp2 - 1] != ' ')
		sp2--;
	if (!sp || sp2 - 1 == sp1)
		SIP__MSG_FAIL(at, "request line is not 'METHOD URI SIP/2.0'");
	off = sip__span(sip_str_make(buf, sp1), at, SIP_CS_TOKEN);
	if (off != sp1)
		SIP__MSG_FAIL(off, "invalid octet in method");
	if (sp1 == at)
		SIP__MSG_FAIL(at, "empty method");
	m->method = sip_str_make(buf + at, sp1 - at);
	m->ruri = sip_str_make(buf + sp1 + 1, sp2 - sp1 - 2);
	for (size_t i = 0; i < m->ruri.len; i++) {
		if (sip_cs(m->ruri.p[i], SIP_CS_LWS))
			SIP__MSG_FAIL(sp1 + 1 + i, "whitespace in Request-URI");
	}
	if (end - sp2 != 7 || !sip__ieq(buf + sp2, "SIP/2.0", 7))
		SIP__MSG_FAIL(sp2, "unsupported SIP version in request line");
	rc = sip_uri_parse(m->ruri, &m->ruri_parsed, &off, &err->why);
	if (rc)
		err->off = sp1 + 1 + off;
	return rc;
}

/* Headers that may appear once only (RFC 3261 §7.3.1; RFC 4475 multi01, mcl01). */
static bool sip__single(enum sip_hdr_id id)
{
	return id == SIP_HDR_FROM || id == SIP_HDR_TO || id == SIP_HDR_CALL_ID ||
	       id == SIP_HDR_CSEQ || id == SIP_HDR_MAX_FORWARDS || id == SIP_HDR_CONTENT_LENGTH;
}

/* The header line buf[pos..end) (no line end): name, colon, value trimmed of LWS. */
static int sip__add_header(const char *buf, size_t pos, size_t end, struct sip_msg *m,
			   size_t max_hdrs, struct sip_parse_error *err)
{
	struct sip_str line = sip_str_make(buf, end);
	size_t i = pos + sip__colon_near(line, pos), v;
	enum sip_hdr_id id = i > pos ? sip__hdr_lookup(buf + pos, i - pos) : SIP_HDR_OTHER;
	struct sip_header *h;

	/*
	 * A recognised name directly before its ':' is letters and "-" only, so the name
	 * span below would end at that ":" too; skipping that span saved 1.4% of the
	 * instructions of a 200 OK parse.
	 */
	if (id == SIP_HDR_OTHER) {
		i = sip__span(line, pos, SIP_CS_TOKEN);
		if (i == pos)
			SIP__MSG_FAIL(pos, "header line does not start with a name");
		id = sip__hdr_lookup(buf + pos, i - pos);
	}
	if (m->nhdrs == max_hdrs) {
		err->off = pos;
		err->why = "more headers than the parser was given room for";
		return -ENOBUFS;
	}
	h = &m->hdrs[m->nhdrs];
	h->name = sip_str_make(buf + pos, i - pos);
	if (i == end || buf[i] != ':') {
		while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		if (i == end || buf[i] != ':')
			SIP__MSG_FAIL(i, "header line without ':'");
	}
	v = sip__lws(line, i + 1);
	while (end > v && sip_cs(buf[end - 1], SIP_CS_LWS))
		end--;
	h->value = sip_str_make(buf + v, end - v);
	h->id = id;
	if (h->id != SIP_HDR_OTHER) {
		if (m->first[h->id] == 0)
			m->first[h->id] = (uint16_t)(m->nhdrs + 1);
		else if (sip__single(h->id))
			SIP__MSG_FAIL(pos, "header that must appear once appears twice");
	}
	m->nhdrs++;
	return 0;
}

/* A continuation line buf[pos..end) (RFC 3261 §7.3.1 folding) extends the last value. */
static int sip__fold(const char *buf, size_t pos, size_t end, struct sip_msg *m,
		     struct sip_parse_error *err)
{
	struct sip_header *h;
	size_t v = sip__lws(sip_str_make(buf, end), pos);

	if (m->nhdrs == 0)
		SIP__MSG_FAIL(pos, "continuation line before the first header");
	h = &m->hdrs[m->nhdrs - 1];
	while (end > v && sip_cs(buf[end - 1], SIP_CS_LWS))
		end--;
	if (end == v)
		return 0; /* only whitespace: the value's end does not move */
	if (h->value.len == 0)
		h->value.p = buf + v; /* "Name:" alone on its line, the value starts here */
	h->value.len = (size_t)(buf + end - h->value.p);
	return 0;
}

/* Splits the header block; returns the offset of the body, -EAGAIN, or an error. */
static long sip__headers(const char *buf, size_t len, size_t pos, enum sip_framing framing,
			 struct sip_msg *m, size_t max_hdrs, struct sip_parse_error *err)
{
	for (;;) {
		const char *nl = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
		size_t end;
		int rc;

		if (!nl) {
			if (framing == SIP_FRAMING_DATAGRAM)
				SIP__MSG_FAIL(len, "header block not closed by an empty line");
			if (len < SIP_STREAM_MAX)
				return -EAGAIN;
			err->off = len;
			err->why = "header block longer than SIP_STREAM_MAX octets";
			return -EMSGSIZE;
		}
		end = (size_t)(nl - buf);
		if (end > pos && buf[end - 1] == '\r')
			end--;
		if (end == pos)
			return (long)(nl - buf) + 1;
		if (buf[pos] == ' ' || buf[pos] == '\t')
			rc = sip__fold(buf, pos, end, m, err);
		else
			rc = sip__add_header(buf, pos, end, m, max_hdrs, err);
		if (rc)
			return rc;
		pos = (size_t)(nl - buf) + 1;
	}
}

static int sip__value_fail(const char *buf, const struct sip_header *h, size_t off, const char *why,
			   struct sip_parse_error *err)
{
	err->off = (size_t)(h->value.p - buf) + off;
	err->why = why;
	return -EBADMSG;
}

/* RFC 3261 §8.1.1: the headers a request (and so its responses) cannot do without. */
static int sip__require(size_t at, const struct sip_msg *m, struct sip_parse_error *err)
{
	static const enum sip_hdr_id need[] = {SIP_HDR_VIA, SIP_HDR_FROM, SIP_HDR_TO,
					       SIP_HDR_CALL_ID, SIP_HDR_CSEQ};
	static const char *const why[] = {"missing Via header", "missing From header",
					  "missing To header", "missing Call-ID header",
					  "missing CSeq header"};

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!m->first[need[i]])
			SIP__MSG_FAIL(at, why[i]);
	}
	return 0;
}

/*
 * The first element of a header value for sip_list_next's loop, and the cursor after it.
 * Values come trimmed of LWS at both ends (sip__add_header, sip__fold), so one without a
 * comma, which is nearly every Via and Contact, is its own one element: what
 * sip_list_next would return, without its calls and trims.
 */
static bool sip__list_first(struct sip_str v, struct sip_str *cursor, struct sip_str *item)
{
	if (v.len && !memchr(v.p, ',', v.len)) {
		*item = v;
		*cursor = sip_str_make(v.p + v.len, 0);
		return true;
	}
	*cursor = v;
	return sip_list_next(cursor, item);
}

/* Every Via value of header i; the topmost of the message goes to m->via. */
static int sip__check_vias(const char *buf, size_t i, struct sip_msg *m,
			   struct sip_parse_error *err)
{
	const struct sip_header *h = &m->hdrs[i];
	struct sip_str cur, item;
	struct sip_via via, *dst = m->first[SIP_HDR_VIA] == i + 1 ? &m->via : &via;
	size_t off;
	const char *why;

	/*
	 * A value that parses whole is one Via: its only commas could be inside quoted
	 * parameter values, which sip_list_next does not split at either. Anything else is
	 * split first, as before, so its errors are the split's. Saves a memchr per Via.
	 */
	if (sip_via_parse(h->value, dst, &off, &why) == 0)
		return 0;
	if (!sip__list_first(h->value, &cur, &item))
		return sip__value_fail(buf, h, 0, "empty Via", err);
	do {
		if (sip_via_parse(item, dst, &off, &why))
			return sip__value_fail(buf, h, (size_t)(item.p - h->value.p) + off, why,
					       err);
		dst = &via;
	} while (cur.len && sip_list_next(&cur, &item));
	return 0;
}

/*
 * Every Contact value of one header. Contact = STAR / contact-param list (RFC 3261
 * §25.1): a "*" is valid only as the one value of the one Contact header, which
 * *values (counted over all Contact headers) and *star_at let the caller check.
 */
static int sip__check_contacts(const char *buf, const struct sip_header *h, size_t *values,
			       const char **star_at, struct sip_parse_error *err)
{
	struct sip_str cur, item;
	struct sip_contact c;
	size_t off;
	const char *why;
	bool more = sip__list_first(h->value, &cur, &item);

	for (; more; more = cur.len && sip_list_next(&cur, &item)) {
		if (sip_contact_parse(item, &c, &off, &why))
			return sip__value_fail(buf, h, (size_t)(item.p - h->value.p) + off, why,
					       err);
		if (c.addr.star && !*star_at)
			*star_at = item.p;
		++*values;
	}
	return 0;
}

/* callid = word [ "@" word ] (RFC 3261 §25.1), "@" read leniently anywhere. */
static int sip__check_call_id(const char *buf, const struct sip_header *h, struct sip_msg *m,
			      struct sip_parse_error *err)
{
	struct sip_str v = h->value;
	size_t k = 0;

	if (v.len == 0)
		return sip__value_fail(buf, h, 0, "empty Call-ID", err);
	while ((k = sip__span_long(v, k, SIP_CS_WORD)) < v.len) {
		if (v.p[k] != '@')
			return sip__value_fail(buf, h, k, "invalid octet in Call-ID", err);
		k++;
	}
	m->call_id = v;
	return 0;
}

/* Every Via and Contact value, From, To, Call-ID, CSeq, Max-Forwards, Content-Length. */
static int sip__check_core(const char *buf, struct sip_msg *m, struct sip_parse_error *err)
{
	size_t off, contacts = 0;
	const char *why, *star_at = NULL;
	int rc = 0;

	for (size_t i = 0; i < m->nhdrs && !rc; i++) {
		const struct sip_header *h = &m->hdrs[i];
		uint32_t n;

		switch (h->id) {
		case SIP_HDR_VIA:
			rc = sip__check_vias(buf, i, m, err);
			break;
		case SIP_HDR_CONTACT:
			rc = sip__check_contacts(buf, h, &contacts, &star_at, err);
			break;
		case SIP_HDR_FROM:
		case SIP_HDR_TO:
			if (sip_naddr_parse(h->value, h->id == SIP_HDR_FROM ? &m->from : &m->to,
					    &off, &why))
				rc = sip__value_fail(buf, h, off, why, err);
			break;
		case SIP_HDR_CSEQ:
			if (sip_cseq_parse(h->value, &m->cseq, &off, &why))
				rc = sip__value_fail(buf, h, off, why, err);
			break;
		case SIP_HDR_CALL_ID:
			rc = sip__check_call_id(buf, h, m, err);
			break;
		case SIP_HDR_MAX_FORWARDS:
			if (sip_u32_parse(h->value, 255, &n))
				rc = sip__value_fail(buf, h, 0, "Max-Forwards is not 0..255", err);
			break;
		case SIP_HDR_CONTENT_LENGTH:
			if (sip_u32_parse(h->value, UINT32_MAX, &m->content_length))
				rc = sip__value_fail(buf, h, 0, "Content-Length is not a number",
						     err);
			m->has_content_length = true;
			break;
		default:
			break;
		}
	}
	if (!rc && star_at && contacts > 1)
		SIP__MSG_FAIL((size_t)(star_at - buf), "Contact '*' is not the only Contact value");
	return rc;
}

/* The octets after the header block: Content-Length framing (RFC 3261 §18.3, §20.14). */
static long sip__body(const char *buf, size_t len, size_t body_at, enum sip_framing framing,
		      struct sip_msg *m, struct sip_parse_error *err)
{
	size_t avail = len - body_at;

	if (!m->has_content_length) {
		if (framing == SIP_FRAMING_STREAM)
			SIP__MSG_FAIL(body_at, "no Content-Length on a stream transport");
		m->content_length = (uint32_t)avail;
	} else if (framing == SIP_FRAMING_STREAM &&
		   (uint64_t)body_at + m->content_length > SIP_STREAM_MAX) {
		err->off = (size_t)(sip_msg_header(m, SIP_HDR_CONTENT_LENGTH, 0)->value.p - buf);
		err->why = "Content-Length makes the message longer than SIP_STREAM_MAX octets";
		return -EMSGSIZE;
	} else if (m->content_length > avail) {
		if (framing == SIP_FRAMING_STREAM)
			return -EAGAIN;
		SIP__MSG_FAIL((size_t)(sip_msg_header(m, SIP_HDR_CONTENT_LENGTH, 0)->value.p - buf),
			      "Content-Length larger than the datagram");
	}
	m->body = sip_str_make(buf + body_at, m->content_length);
	m->len = body_at + m->content_length;
	return (long)m->len;
}

/*
 * Empties what a parse fills only sometimes. via, from, to and cseq are written by every
 * successful parse and ruri_parsed by a request's, so they are not cleared here: zeroing
 * all 900 octets (a rep stosq from GCC) cost 4% of a parse.
 */
static void sip__msg_reset(struct sip_msg *m, struct sip_header *hdrs)
{
	m->is_request = false;
	m->keepalive = false;
	/* one store each: a chained assignment made GCC reload m->body through a stalled
	 * store-to-load forward, 10% of this function's samples */
	m->method = SIP_STR_NULL;
	m->ruri = SIP_STR_NULL;
	m->reason = SIP_STR_NULL;
	m->call_id = SIP_STR_NULL;
	m->body = SIP_STR_NULL;
	m->status = 0;
	m->hdrs = hdrs;
	m->nhdrs = 0;
	memset(m->first, 0, sizeof(m->first));
	m->has_content_length = false;
	m->content_length = 0;
	m->len = 0;
}

/* The CR/LF run at the start of buf (RFC 3261 §7.5, RFC 5626 §3.5.1 keep-alives). */
static size_t sip__crlf_run(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i;
}

long sip_parse(const char *buf, size_t len, enum sip_framing framing, struct sip_msg *m,
	       struct sip_header *hdrs, size_t max_hdrs, struct sip_parse_error *err)
{
	size_t start = sip__crlf_run(buf, len), end;
	const char *nl;
	long body_at;
	int rc;

	sip__msg_reset(m, hdrs);
	if (max_hdrs > UINT16_MAX)
		max_hdrs = UINT16_MAX; /* first[] holds index + 1 in 16 bits */
	if (start && (start == len || framing == SIP_FRAMING_STREAM)) {
		if (framing == SIP_FRAMING_STREAM && start == len && buf[start - 1] == '\r')
			return -EAGAIN;
		*m = (struct sip_msg){.keepalive = true, .hdrs = hdrs, .len = start};
		return (long)start;
	}
	nl = memchr(buf + start, '\n', len - start);
	if (!nl) {
		if (framing == SIP_FRAMING_DATAGRAM)
			SIP__MSG_FAIL(len, "no line end after the start line");
		if (len < SIP_STREAM_MAX)
			return -EAGAIN;
		err->off = len;
		err->why = "start line longer than SIP_STREAM_MAX octets";
		return -EMSGSIZE;
	}
	end = (size_t)(nl - buf);
	if (end > start && buf[end - 1] == '\r')
		end--;
	m->is_request = !(end - start >= 4 && sip__ieq(buf + start, "SIP/", 4));
	rc = m->is_request ? sip__request_line(buf, start, end, m, err)
			   : sip__status_line(buf, start, end, m, err);
	if (rc)
		return rc;
	body_at = sip__headers(buf, len, (size_t)(nl - buf) + 1, framing, m, max_hdrs, err);
	if (body_at < 0)
		return body_at;
	if ((rc = sip__require((size_t)body_at, m, err)) || (rc = sip__check_core(buf, m, err)))
		return rc;
	if (m->is_request && !sip_str_eq(m->cseq.method, m->method))
		SIP__MSG_FAIL((size_t)(m->cseq.method.p - buf),
			      "CSeq method differs from the request method");
	return sip__body(buf, len, (size_t)body_at, framing, m, err);
}
