/*
 * URI parsing (RFC 3261 §19.1.1 and §25.1, RFC 3966 for tel:, RFC 5118 for IPv6
 * references). Strict where a UA must reject, permissive only where the RFCs say an
 * unknown thing must be carried through.
 */
#include "sip/uri.h"

#include "sip/lex.h"

/* Copied, not memset, into each result: see the note in hdr.c. */
static const struct sip_uri sip__uri_empty;

bool sip_ipv4_valid(struct sip_str s)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start = i;

		while (i < s.len && sip_cs(s.p[i], SIP_CS_DIGIT) && i - start < 3)
			v = v * 10 + (unsigned)(s.p[i++] - '0');
		if (i == start || v > 255)
			return false;
		if (part < 3 && (i >= s.len || s.p[i++] != '.'))
			return false;
	}
	return i == s.len;
}

/* RFC 5118 §4.10: "::" at most once, 1-4 hex digits a group, an IPv4 tail counts two. */
bool sip_ipv6_valid(struct sip_str s)
{
	size_t i = 0, groups = 0;
	bool compressed = false;

	if (s.len >= 2 && s.p[0] == ':' && s.p[1] == ':') {
		compressed = true;
		i = 2;
	}
	while (i < s.len) {
		size_t start = i;

		while (i < s.len && sip_cs(s.p[i], SIP_CS_HEX) && i - start < 5)
			i++;
		if (i < s.len && s.p[i] == '.') {
			if (!sip_ipv4_valid(sip_str_make(s.p + start, s.len - start)))
				return false;
			groups += 2;
			i = s.len;
			break;
		}
		if (i == start || i - start > 4)
			return false;
		groups++;
		if (i == s.len)
			break;
		if (s.p[i++] != ':' || i == s.len)
			return false;
		if (s.p[i] == ':') {
			if (compressed)
				return false;
			compressed = true;
			if (++i == s.len)
				break;
		}
	}
	return compressed ? groups <= 7 : groups == 8;
}

bool sip_host_valid(struct sip_str h)
{
	if (h.len >= 2 && h.p[0] == '[')
		return h.p[h.len - 1] == ']' && sip_ipv6_valid(sip_str_make(h.p + 1, h.len - 2));
	return h.len > 0 && sip__hostname_end(h, 0) == h.len;
}

/* Octets of class cls or "%" HEX HEX, from i up to end; returns the first other octet. */
static size_t sip__escaped_run(struct sip_str s, size_t i, size_t end, uint16_t cls)
{
	struct sip_str w = sip_str_make(s.p, end);

	for (;;) {
		i = sip__span(w, i, cls);
		if (i + 2 >= end || s.p[i] != '%' || sip_hexval(s.p[i + 1]) < 0 ||
		    sip_hexval(s.p[i + 2]) < 0)
			return i;
		i += 3;
	}
}

/* uri-parameters, then "?" headers when the scheme has them; nothing may follow. */
static int sip__uri_params(struct sip_str s, size_t i, struct sip_uri *u, bool headers_ok,
			   size_t *err_off, const char **why)
{
	size_t start = i;

	while (i < s.len && s.p[i] == ';') {
		size_t name = ++i;

		i = sip__escaped_run(s, i, s.len, SIP_CS_UNRESERVED | SIP_CS_PARAM);
		if (i == name)
			SIP__FAIL(i, "empty URI parameter name");
		if (i < s.len && s.p[i] == '=') {
			size_t val = ++i;

			i = sip__escaped_run(s, i, s.len, SIP_CS_UNRESERVED | SIP_CS_PARAM);
			if (i == val)
				SIP__FAIL(i, "empty URI parameter value");
		}
	}
	u->params = sip_str_make(s.p + start, i - start);
	if (i < s.len && s.p[i] == '?' && headers_ok) {
		size_t hstart = ++i;

		for (;;) {
			size_t name = i;

			i = sip__escaped_run(s, i, s.len, SIP_CS_UNRESERVED | SIP_CS_HNV);
			if (i == name || i >= s.len || s.p[i] != '=')
				SIP__FAIL(i, "malformed URI header");
			i = sip__escaped_run(s, i + 1, s.len, SIP_CS_UNRESERVED | SIP_CS_HNV);
			if (i >= s.len || s.p[i] != '&')
				break;
			i++;
		}
		u->headers = sip_str_make(s.p + hstart, i - hstart);
	}
	if (i != s.len)
		SIP__FAIL(i, "unexpected octet in URI");
	return 0;
}

static int sip__uri_hostport(struct sip_str s, size_t i, struct sip_uri *u, size_t *err_off,
			     const char **why)
{
	size_t start = i;

	if (i < s.len && s.p[i] == '[') {
		const char *rb = memchr(s.p + i, ']', s.len - i);

		if (!rb)
			SIP__FAIL(start, "unterminated IPv6 reference");
		i = (size_t)(rb - s.p) + 1;
		u->host_is_ipv6 = true;
		u->host = sip_str_make(s.p + start, i - start);
		if (!sip_host_valid(u->host))
			SIP__FAIL(start, "invalid host");
	} else {
		i = sip__hostname_end(s, i);
		if (i == start)
			SIP__FAIL(start, "invalid host");
		u->host = sip_str_make(s.p + start, i - start);
	}
	if (i < s.len && s.p[i] == ':') {
		size_t pstart = ++i;
		uint32_t port;

		/* 0 is a valid port number but no destination: a URI or Via naming it is broken */
		i = sip__port_digits(s, i, &port);
		if (i == pstart || port == 0 || port > 65535)
			SIP__FAIL(pstart, "invalid port");
		u->port = (uint16_t)port;
	}
	return sip__uri_params(s, i, u, true, err_off, why);
}

/*
 * sip/sips: [ userinfo "@" ] hostport uri-parameters [ headers ]. "@" is in no class a
 * user, password, host, parameter or header may hold unescaped, so the user run stops
 * at or before the first one: when it stops there (after an optional ":" password) that
 * is the userinfo, found in the one scan.
 */
static int sip__uri_sip_general(struct sip_str s, size_t i, struct sip_uri *u, size_t *err_off,
				const char **why)
{
	size_t j = sip__escaped_run(s, i, s.len, SIP_CS_UNRESERVED | SIP_CS_USER), k = j;

	if (j < s.len && s.p[j] == ':')
		k = sip__escaped_run(s, j + 1, s.len, SIP_CS_UNRESERVED | SIP_CS_PASSWORD);
	if (k < s.len && s.p[k] == '@') {
		if (j == i)
			SIP__FAIL(i, "empty user part");
		u->user = sip_str_make(s.p + i, j - i);
		if (k != j)
			u->password = sip_str_make(s.p + j + 1, k - j - 1);
		return sip__uri_hostport(s, k + 1, u, err_off, why);
	}
	if (memchr(s.p + k, '@', s.len - k))
		SIP__FAIL(k, "invalid octet in user part");
	return sip__uri_hostport(s, i, u, err_off, why);
}

/*
 * What registrars write, user@host or user@host:port with nothing escaped and no
 * parameter, read from s.p[i] in one go: the scans sip__uri_sip_general makes, which would
 * find the same user, host and port, without its calls. None of its octets is a ">", so
 * when the octet after it is stop (a name-addr's ">"; -1 for the end of s), that is
 * where a search for stop would have ended the URI: then u's user, host, port and params
 * are filled and the index of stop returned; otherwise 0, u untouched.
 */
static size_t sip__uri_sip_plain(struct sip_str s, size_t i, int stop, struct sip_uri *u)
{
	size_t j = sip__span(s, i, SIP_CS_UNRESERVED | SIP_CS_USER), h = j + 1, e, pe;
	uint32_t port = 0;

	if (j == i || j >= s.len || s.p[j] != '@' || (e = sip__hostname_end(s, h)) == h)
		return 0;
	pe = e;
	if (e < s.len && s.p[e] == ':') {
		pe = sip__port_digits(s, e + 1, &port);
		if (pe == e + 1 || port - 1 >= 65535)
			return 0;
	}
	if (stop < 0 ? pe != s.len : pe == s.len || (unsigned char)s.p[pe] != stop)
		return 0;
	u->user = sip_str_make(s.p + i, j - i);
	u->host = sip_str_make(s.p + h, e - h);
	u->port = (uint16_t)port;
	u->params = sip_str_make(s.p + pe, 0);
	return pe;
}

/* Anything but the plain shape, valid or not, goes the general way: errors are its errors. */
static int sip__uri_sip(struct sip_str s, size_t i, struct sip_uri *u, size_t *err_off,
			const char **why)
{
	if (sip__uri_sip_plain(s, i, -1, u))
		return 0;
	return sip__uri_sip_general(s, i, u, err_off, why);
}

/* visual-separator = "-" / "." / "(" / ")" (RFC 3966 §3) */
static bool sip__tel_separator(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

/*
 * global-number-digits = "+" *phonedigit DIGIT *phonedigit, phonedigit = DIGIT /
 * visual-separator (RFC 3966 §3). true when all of s is one.
 */
static bool sip__tel_global_digits(struct sip_str s)
{
	bool digit = false;

	if (s.len < 2 || s.p[0] != '+')
		return false;
	for (size_t i = 1; i < s.len; i++) {
		if (sip_cs(s.p[i], SIP_CS_DIGIT))
			digit = true;
		else if (!sip__tel_separator(s.p[i]))
			return false;
	}
	return digit;
}

/*
 * tel: a global number, or a local number (hex digits, "*", "#" and separators) that
 * names its phone-context, a domain name or a global number prefix: RFC 3966 §3 grammar,
 * §5.1.5 "local numbers MUST have a 'phone-context' parameter". No "?" headers in tel:.
 */
static int sip__uri_tel(struct sip_str s, size_t i, struct sip_uri *u, size_t *err_off,
			const char **why)
{
	size_t start = i;
	bool global = i < s.len && s.p[i] == '+', digit = false;
	struct sip_str ctx;
	int rc;

	for (i += global; i < s.len; i++) {
		char c = s.p[i];

		if (sip_cs(c, SIP_CS_DIGIT) ||
		    (!global && (sip_cs(c, SIP_CS_HEX) || c == '*' || c == '#')))
			digit = true;
		else if (!sip__tel_separator(c))
			break;
	}
	if (!digit)
		SIP__FAIL(start,
			  global ? "tel: global number without a digit" : "empty telephone number");
	u->user = sip_str_make(s.p + start, i - start);
	if ((rc = sip__uri_params(s, i, u, false, err_off, why)))
		return rc;
	if (global)
		return 0;
	if (!sip_param_find(u->params, "phone-context", &ctx) || !ctx.p)
		SIP__FAIL(start, "tel: local number without phone-context (RFC 3966 §5.1.5)");
	if (!sip__tel_global_digits(ctx) && !sip_host_valid(ctx))
		SIP__FAIL((size_t)(ctx.p - s.p), "tel: phone-context is neither a domain nor "
						 "a global number");
	return 0;
}

int sip_uri_parse(struct sip_str s, struct sip_uri *u, size_t *err_off, const char **why)
{
	size_t i;

	*u = sip__uri_empty;
	if (s.len >= 4 && memcmp(s.p, "sip:", 4) == 0) {
		/* as written nearly always: what the scheme scan below would conclude */
		u->scheme = SIP_SCHEME_SIP;
		u->scheme_str = sip_str_make(s.p, 3);
		u->opaque = sip_str_make(s.p + 4, s.len - 4);
		return sip__uri_sip(s, 4, u, err_off, why);
	}
	if (s.len == 0 || !sip_cs(s.p[0], SIP_CS_ALPHA))
		SIP__FAIL(0, "URI does not start with a scheme");
	i = sip__span(s, 1, SIP_CS_SCHEME);
	if (i == s.len || s.p[i] != ':')
		SIP__FAIL(i, "URI scheme not followed by ':'");
	u->scheme_str = sip_str_make(s.p, i);
	i++;
	u->opaque = sip_str_make(s.p + i, s.len - i);
	if (i == 4 && sip__ieq(s.p, "sip", 3)) {
		u->scheme = SIP_SCHEME_SIP;
		return sip__uri_sip(s, i, u, err_off, why);
	}
	if (i == 5 && sip__ieq(s.p, "sips", 4)) {
		u->scheme = SIP_SCHEME_SIPS;
		return sip__uri_sip(s, i, u, err_off, why);
	}
	if (i == 4 && sip__ieq(s.p, "tel", 3)) {
		u->scheme = SIP_SCHEME_TEL;
		return sip__uri_tel(s, i, u, err_off, why);
	}
	/* absoluteURI (RFC 3261 §25.1): carried through, only its octets are checked. */
	if (i == s.len)
		SIP__FAIL(i, "empty URI after scheme");
	for (; i < s.len; i++) {
		unsigned char c = s.p[i];

		if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"')
			SIP__FAIL(i, "invalid octet in URI");
	}
	return 0;
}

size_t sip__uri_plain(struct sip_str s, char stop, struct sip_uri *u)
{
	size_t end;

	if (s.len < 4 || memcmp(s.p, "sip:", 4) != 0)
		return 0;
	end = sip__uri_sip_plain(s, 4, (unsigned char)stop, u);
	if (end) {
		u->scheme = SIP_SCHEME_SIP;
		u->scheme_str = sip_str_make(s.p, 3);
		u->opaque = sip_str_make(s.p + 4, end - 4);
	}
	return end;
}

bool sip_param_next(struct sip_str *cursor, struct sip_str *name, struct sip_str *value)
{
	struct sip_str s = *cursor;
	size_t i = sip__lws(s, 0), start, end;

	if (i >= s.len || s.p[i] != ';')
		return false;
	i = sip__lws(s, i + 1);
	start = i;
	while (i < s.len && s.p[i] != '=' && s.p[i] != ';' && !sip_cs(s.p[i], SIP_CS_LWS))
		i++;
	*name = sip_str_make(s.p + start, i - start);
	*value = SIP_STR_NULL;
	i = sip__lws(s, i);
	if (i < s.len && s.p[i] == '=') {
		i = sip__lws(s, i + 1);
		start = i;
		if (i < s.len && s.p[i] == '"' && (end = sip__quoted_end(s, i)) != 0) {
			i = end;
		} else {
			while (i < s.len && s.p[i] != ';' && !sip_cs(s.p[i], SIP_CS_LWS))
				i++;
		}
		*value = sip_str_make(s.p + start, i - start);
	}
	*cursor = sip_str_make(s.p + i, s.len - i);
	return true;
}

bool sip_param_find(struct sip_str params, const char *name, struct sip_str *value)
{
	size_t n = strlen(name);
	struct sip_str pn, pv;

	while (sip_param_next(&params, &pn, &pv)) {
		if (pn.len == n && sip__ieq(pn.p, name, n)) {
			*value = pv;
			return true;
		}
	}
	return false;
}
