/*
 * URI parsing (RFC 3261 §19.1.1 and §25.1, RFC 3966 for tel:, RFC 5118 for IPv6
 * references). Strict where a UA must reject, permissive only where the RFCs say an
 * unknown thing must be carried through.
 */
#include "sip/uri.h"

#include <errno.h>

#include "sip/charset.h"

#define SIP__FAIL(at_, msg_)      \
	do {                      \
		*err_off = (at_); \
		*why = (msg_);    \
		return -EBADMSG;  \
	} while (0)

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
	if (h.len == 0 || h.p[0] == '-' || h.p[0] == '.')
		return false;
	for (size_t i = 0; i < h.len; i++) {
		if (!sip_cs(h.p[i], SIP_CS_HOST))
			return false;
		if (h.p[i] == '.' && i + 1 < h.len && h.p[i + 1] == '.')
			return false;
	}
	return true;
}

/* Octets of class cls or "%" HEX HEX, from *i up to end; returns the first other octet. */
static size_t sip__escaped_run(struct sip_str s, size_t i, size_t end, uint16_t cls)
{
	while (i < end) {
		unsigned char c = s.p[i];

		if (c == '%') {
			if (i + 2 >= end || sip_hexval(s.p[i + 1]) < 0 ||
			    sip_hexval(s.p[i + 2]) < 0)
				return i;
			i += 3;
		} else if (sip_cs(c, cls)) {
			i++;
		} else {
			return i;
		}
	}
	return i;
}

static int sip__uri_params(struct sip_str s, size_t i, struct sip_uri *u, size_t *err_off,
			   const char **why)
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
	if (i < s.len && s.p[i] == '?') {
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
		while (i < s.len && s.p[i] != ']')
			i++;
		if (i == s.len)
			SIP__FAIL(start, "unterminated IPv6 reference");
		i++;
		u->host_is_ipv6 = true;
		u->host = sip_str_make(s.p + start, i - start);
		if (!sip_host_valid(u->host))
			SIP__FAIL(start, "invalid host");
	} else {
		/* hostname or IPv4, checked while scanning: no empty label, no leading '-' */
		char prev = '.';

		for (; i < s.len && sip_cs(s.p[i], SIP_CS_HOST); prev = s.p[i++]) {
			if (prev == '.' && (s.p[i] == '.' || s.p[i] == '-'))
				SIP__FAIL(i, "invalid host");
		}
		if (i == start)
			SIP__FAIL(start, "invalid host");
		u->host = sip_str_make(s.p + start, i - start);
	}
	if (i < s.len && s.p[i] == ':') {
		size_t pstart = ++i;
		unsigned long port = 0;

		while (i < s.len && sip_cs(s.p[i], SIP_CS_DIGIT) && i - pstart < 6)
			port = port * 10 + (unsigned long)(s.p[i++] - '0');
		if (i == pstart || port == 0 || port > 65535)
			SIP__FAIL(pstart, "invalid port");
		u->port = (uint16_t)port;
	}
	return sip__uri_params(s, i, u, err_off, why);
}

/* sip/sips: [ userinfo "@" ] hostport uri-parameters [ headers ] */
static int sip__uri_sip(struct sip_str s, size_t i, struct sip_uri *u, size_t *err_off,
			const char **why)
{
	const char *at = memchr(s.p + i, '@', s.len - i);

	if (at) {
		size_t end = (size_t)(at - s.p);
		size_t j = sip__escaped_run(s, i, end, SIP_CS_UNRESERVED | SIP_CS_USER);

		if (j == i)
			SIP__FAIL(i, "empty user part");
		u->user = sip_str_make(s.p + i, j - i);
		if (j < end && s.p[j] == ':') {
			size_t k = sip__escaped_run(s, j + 1, end,
						    SIP_CS_UNRESERVED | SIP_CS_PASSWORD);
			u->password = sip_str_make(s.p + j + 1, k - j - 1);
			j = k;
		}
		if (j != end)
			SIP__FAIL(j, "invalid octet in user part");
		i = end + 1;
	}
	return sip__uri_hostport(s, i, u, err_off, why);
}

/* tel: global or local number, then parameters (RFC 3966 §3, checked loosely). */
static int sip__uri_tel(struct sip_str s, size_t i, struct sip_uri *u, size_t *err_off,
			const char **why)
{
	size_t start = i;

	while (i < s.len && (sip_cs(s.p[i], SIP_CS_HEX) || strchr("+-.()*#", s.p[i])) &&
	       s.p[i] != '\0')
		i++;
	if (i == start)
		SIP__FAIL(start, "empty telephone number");
	u->user = sip_str_make(s.p + start, i - start);
	return sip__uri_params(s, i, u, err_off, why);
}

int sip_uri_parse(struct sip_str s, struct sip_uri *u, size_t *err_off, const char **why)
{
	size_t i = 0;

	memset(u, 0, sizeof(*u));
	if (s.len == 0 || !sip_cs(s.p[0], SIP_CS_ALPHA))
		SIP__FAIL(0, "URI does not start with a scheme");
	while (i < s.len && sip_cs(s.p[i], SIP_CS_SCHEME))
		i++;
	if (i == s.len || s.p[i] != ':')
		SIP__FAIL(i, "URI scheme not followed by ':'");
	u->scheme_str = sip_str_make(s.p, i);
	i++;
	u->opaque = sip_str_make(s.p + i, s.len - i);
	if ((i == 4 || i == 5) && (s.p[0] | 0x20) == 's' && (s.p[1] | 0x20) == 'i' &&
	    (s.p[2] | 0x20) == 'p') {
		if (i == 4) {
			u->scheme = SIP_SCHEME_SIP;
			return sip__uri_sip(s, i, u, err_off, why);
		}
		if ((s.p[3] | 0x20) == 's') {
			u->scheme = SIP_SCHEME_SIPS;
			return sip__uri_sip(s, i, u, err_off, why);
		}
	}
	if (sip_str_ieq_cstr(u->scheme_str, "tel")) {
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

static size_t sip__skip_lws(struct sip_str s, size_t i)
{
	while (i < s.len && sip_cs(s.p[i], SIP_CS_LWS))
		i++;
	return i;
}

/* A quoted string from s.p[i] == '"'; returns the index after the closing quote, or 0. */
static size_t sip__quoted_end(struct sip_str s, size_t i)
{
	for (i++; i < s.len; i++) {
		if (s.p[i] == '\\')
			i++;
		else if (s.p[i] == '"')
			return i + 1;
	}
	return 0;
}

bool sip_param_next(struct sip_str *cursor, struct sip_str *name, struct sip_str *value)
{
	struct sip_str s = *cursor;
	size_t i = sip__skip_lws(s, 0), start, end;

	if (i >= s.len || s.p[i] != ';')
		return false;
	i = sip__skip_lws(s, i + 1);
	start = i;
	while (i < s.len && s.p[i] != '=' && s.p[i] != ';' && !sip_cs(s.p[i], SIP_CS_LWS))
		i++;
	*name = sip_str_make(s.p + start, i - start);
	*value = SIP_STR_NULL;
	i = sip__skip_lws(s, i);
	if (i < s.len && s.p[i] == '=') {
		i = sip__skip_lws(s, i + 1);
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
	struct sip_str n, v;

	while (sip_param_next(&params, &n, &v)) {
		if (sip_str_ieq_cstr(n, name)) {
			*value = v;
			return true;
		}
	}
	return false;
}
