/*
 * Header value parsers. The grammar is RFC 3261 §25.1; LWS (including a folded line
 * end) is allowed wherever the ABNF says LWS/SWS, which RFC 4475 wsinv exercises.
 */
#include "sip/hdr.h"

#include "sip/lex.h"

/*
 * Results start from these empty values by struct copy, not memset: GCC 12 at -O2 makes
 * a memset of 128+ octets a rep stosq, which took 15% of a Contact parse on the EPYC we
 * measure on; a copy from const data is a few vector moves.
 */
static const struct sip_via sip__via_empty;
static const struct sip_naddr sip__naddr_empty;
static const struct sip_contact sip__contact_empty;

struct sip_str sip_trim(struct sip_str s)
{
	while (s.len && sip_cs(s.p[0], SIP_CS_LWS)) {
		s.p++;
		s.len--;
	}
	while (s.len && sip_cs(s.p[s.len - 1], SIP_CS_LWS))
		s.len--;
	return s;
}

bool sip_list_next(struct sip_str *cursor, struct sip_str *item)
{
	struct sip_str v = *cursor;
	size_t i = 0, start;
	bool in_angle = false;

	while (i < v.len && (v.p[i] == ',' || sip_cs(v.p[i], SIP_CS_LWS)))
		i++;
	if (i == v.len)
		return false;
	start = i;
	if (!memchr(v.p + i, ',', v.len - i)) {
		/* the common case, one element: no quote or bracket can hide a comma */
		*item = sip_trim(sip_str_make(v.p + start, v.len - start));
		*cursor = sip_str_make(v.p + v.len, 0);
		return true;
	}
	for (; i < v.len; i++) {
		char c = v.p[i];

		if (c == '"') {
			size_t e = sip__quoted_end(v, i);

			i = e ? e - 1 : v.len - 1;
		} else if (c == '<') {
			in_angle = true;
		} else if (c == '>') {
			in_angle = false;
		} else if (c == ',' && !in_angle) {
			break;
		}
	}
	*item = sip_trim(sip_str_make(v.p + start, i - start));
	*cursor = sip_str_make(v.p + i, v.len - i);
	return true;
}

int sip_u32_parse(struct sip_str v, uint32_t max, uint32_t *out)
{
	uint64_t n = 0;

	/* a digit at both ends, nearly every value, leaves nothing to trim */
	if (!v.len || !sip_cs(v.p[0], SIP_CS_DIGIT) || !sip_cs(v.p[v.len - 1], SIP_CS_DIGIT))
		v = sip_trim(v);
	if (v.len == 0)
		return -EBADMSG;
	for (size_t i = 0; i < v.len; i++) {
		if (!sip_cs(v.p[i], SIP_CS_DIGIT))
			return -EBADMSG;
		n = n * 10 + (uint64_t)(v.p[i] - '0');
		if (n > max)
			return -ERANGE;
	}
	*out = (uint32_t)n;
	return 0;
}

int sip_delta_seconds_parse(struct sip_str v, uint32_t *out)
{
	int rc = sip_u32_parse(v, UINT32_MAX, out);

	if (rc == -ERANGE) {
		*out = UINT32_MAX;
		return 0;
	}
	return rc;
}

/* A parameter a caller wants while the list is checked: found ones set *out. */
struct sip__pwant {
	const char *name;
	size_t len;
	struct sip_str *out; /* a valueless parameter gives a non-NULL .p and .len 0 */
};

#define SIP__WANT(lit, out)                   \
	{                                     \
		(lit), sizeof(lit) - 1, (out) \
	}

/*
 * One generic-param from v.p[*pi]: SEMI, a name, and EQUAL with a gen-value or nothing.
 * Returns 1 with its name and value (a valueless one gives a non-NULL .p and .len 0) and
 * *pi after it, 0 when no ";" follows (*pi unchanged), or -EBADMSG.
 */
static inline int sip__hparam_next(struct sip_str v, size_t *pi, struct sip_str *name,
				   struct sip_str *value, size_t *err_off, const char **why)
{
	size_t i = *pi, j, val;

	/*
	 * ";name=value" or ";name" with no LWS and no quotes, nearly every parameter, is read
	 * without the LWS steps below, which would find the same name and value: 2.2% of
	 * the instructions of a 200 OK parse.
	 */
	if (i < v.len && v.p[i] == ';') {
		size_t n = i + 1, e;

		j = sip__span(v, n, SIP_CS_TOKEN);
		if (j > n && (j == v.len || v.p[j] == ';')) {
			*name = sip_str_make(v.p + n, j - n);
			*value = sip_str_make(v.p + j, 0);
			*pi = j;
			return 1;
		}
		if (j > n && v.p[j] == '=' &&
		    (e = sip__span_long(v, j + 1, SIP_CS_PVALUE)) > j + 1) {
			*name = sip_str_make(v.p + n, j - n);
			*value = sip_str_make(v.p + j + 1, e - j - 1);
			*pi = e;
			return 1;
		}
	}
	j = sip__lws(v, i);
	if (j >= v.len || v.p[j] != ';')
		return 0;
	name->p = v.p + (j = sip__lws(v, j + 1));
	j = sip__span(v, j, SIP_CS_TOKEN);
	if (v.p + j == name->p)
		SIP__FAIL(j, "empty header parameter name");
	name->len = (size_t)(v.p + j - name->p);
	*pi = j;
	*value = sip_str_make(v.p + j, 0);
	j = sip__lws(v, j);
	if (j < v.len && v.p[j] == '=') {
		val = j = sip__lws(v, j + 1);
		if (j < v.len && v.p[j] == '"') {
			j = sip__quoted_end(v, j);
			if (!j)
				SIP__FAIL(val, "unterminated quoted parameter value");
		} else {
			j = sip__span_long(v, j, SIP_CS_PVALUE);
			if (j == val)
				SIP__FAIL(j, "empty header parameter value");
		}
		*value = sip_str_make(v.p + val, j - val);
		*pi = j;
	}
	return 1;
}

/*
 * *( SEMI generic-param ), gen-value = token / host / quoted-string, checked and searched
 * in one walk. An IPv6 address without brackets is accepted in a value (RFC 5118 §4.5
 * received=). Stops before the first octet that does not continue the list.
 */
static int sip__hparams(struct sip_str v, size_t *pi, const struct sip__pwant *want, size_t nwant,
			size_t *err_off, const char **why)
{
	struct sip_str name, value;
	int rc;

	while ((rc = sip__hparam_next(v, pi, &name, &value, err_off, why)) > 0) {
		/* a list names each parameter once: the first that matches is the only one */
		for (size_t k = 0; k < nwant; k++) {
			if (want[k].len == name.len && sip__ieq(name.p, want[k].name, name.len)) {
				if (!want[k].out->p)
					*want[k].out = value;
				break;
			}
		}
	}
	return rc;
}

/*
 * The params of a value run to its end: anything left over is an error. Inline, like
 * sip__bracketed_uri: GCC otherwise calls both, and their call frames took 200 of the
 * 4,780 instructions of a 200 OK parse.
 */
static inline int sip__hparams_to_end(struct sip_str v, size_t i, struct sip_str *params,
				      const struct sip__pwant *want, size_t nwant, size_t *err_off,
				      const char **why)
{
	size_t start = i;
	int rc = sip__hparams(v, &i, want, nwant, err_off, why);

	if (rc)
		return rc;
	*params = sip_str_make(v.p + start, i - start);
	i = sip__lws(v, i);
	if (i != v.len)
		SIP__FAIL(i, "unexpected octet after header value");
	return 0;
}

/* A port of sent-by or rport: 1*DIGIT, 1..65535 (port 0 names no destination). */
static int sip__port(struct sip_str v, size_t *pi, uint16_t *port, size_t *err_off,
		     const char **why)
{
	size_t start = *pi;
	uint32_t n;
	size_t i = sip__port_digits(v, start, &n);

	if (i == start || n == 0 || n > 65535)
		SIP__FAIL(start, "invalid port");
	*port = (uint16_t)n;
	*pi = i;
	return 0;
}

/* The token between two SLASHes of sent-protocol (SLASH = SWS "/" SWS). */
static inline int sip__proto_part(struct sip_str v, size_t *pi, struct sip_str *out, bool slash,
				  size_t *err_off, const char **why)
{
	size_t i = sip__lws(v, *pi), start = i;

	i = sip__span(v, i, SIP_CS_TOKEN);
	if (i == start)
		SIP__FAIL(i, "malformed Via sent-protocol");
	*out = sip_str_make(v.p + start, i - start);
	if (slash) {
		i = sip__lws(v, i);
		if (i >= v.len || v.p[i] != '/')
			SIP__FAIL(i, "Via sent-protocol lacks '/'");
		i++;
	}
	*pi = i;
	return 0;
}

int sip_via_parse(struct sip_str v, struct sip_via *via, size_t *err_off, const char **why)
{
	size_t i = 0, start;
	struct sip_str val;
	int rc;

	*via = sip__via_empty;
	if (v.len > 8 && memcmp(v.p, "SIP/2.0/", 8) == 0) {
		/* what every stack writes; the general path below reads the LWS forms too */
		via->protocol = sip_str_make(v.p, 3);
		via->version = sip_str_make(v.p + 4, 3);
		i = 8;
	} else if ((rc = sip__proto_part(v, &i, &via->protocol, true, err_off, why)) ||
		   (rc = sip__proto_part(v, &i, &via->version, true, err_off, why))) {
		return rc;
	}
	if ((rc = sip__proto_part(v, &i, &via->transport, false, err_off, why)))
		return rc;
	start = sip__lws(v, i);
	if (start == i)
		SIP__FAIL(i, "Via lacks whitespace before sent-by");
	i = start;
	if (i < v.len && v.p[i] == '[') {
		const char *rb = memchr(v.p + i, ']', v.len - i);

		i = rb ? (size_t)(rb - v.p) + 1 : v.len;
		via->host = sip_str_make(v.p + start, i - start);
		if (!sip_host_valid(via->host))
			SIP__FAIL(start, "invalid host in Via sent-by");
	} else {
		i = sip__hostname_end(v, i);
		if (i == start)
			SIP__FAIL(start, "invalid host in Via sent-by");
		via->host = sip_str_make(v.p + start, i - start);
	}
	start = sip__lws(v, i);
	if (start < v.len && v.p[start] == ':') {
		i = sip__lws(v, start + 1);
		if ((rc = sip__port(v, &i, &via->port, err_off, why)))
			return rc;
	}
	/* in the order a registrar returns them: the client's rport filled in, received added */
	const struct sip__pwant want[] = {
		SIP__WANT("branch", &via->branch),
		SIP__WANT("rport", &val),
		SIP__WANT("received", &via->received),
		SIP__WANT("maddr", &via->maddr),
	};

	val = SIP_STR_NULL;
	if ((rc = sip__hparams_to_end(v, i, &via->params, want, 4, err_off, why)))
		return rc;
	if (val.p) {
		via->has_rport = true;
		if (val.len) {
			size_t j = 0;

			if (sip__port(val, &j, &via->rport, err_off, why) || j != val.len)
				SIP__FAIL((size_t)(val.p - v.p), "invalid rport value");
		}
	}
	return 0;
}

/* "<" URI ">" starting at v.p[i]: no whitespace inside the brackets (RFC 4475 badaspec). */
static inline int sip__bracketed_uri(struct sip_str v, size_t *pi, struct sip_naddr *na,
				     size_t *err_off, const char **why)
{
	size_t i = *pi + 1, off = sip__uri_plain(sip_str_make(v.p + i, v.len - i), '>', &na->uri);
	const char *gt;
	int rc;

	if (off) {
		/* the plain shape: no memchr, no second clearing of na->uri */
		na->uri_str = sip_str_make(v.p + i, off);
		*pi = i + off + 1;
		return 0;
	}
	gt = memchr(v.p + i, '>', v.len - i);
	if (!gt)
		SIP__FAIL(*pi, "'<' without '>'");
	na->uri_str = sip_str_make(v.p + i, (size_t)(gt - v.p) - i);
	rc = sip_uri_parse(na->uri_str, &na->uri, &off, why);
	if (rc) {
		*err_off = i + off;
		return rc;
	}
	*pi = (size_t)(gt - v.p) + 1;
	return 0;
}

/* name-addr / addr-spec, then header parameters; need_angle refuses a bare addr-spec. */
static int sip__naddr(struct sip_str v, struct sip_naddr *na, bool need_angle,
		      const struct sip__pwant *want, size_t nwant, size_t *err_off,
		      const char **why)
{
	size_t i = sip__lws(v, 0), j, off;
	int rc;

	if (i < v.len && v.p[i] == '"') {
		j = sip__quoted_end(v, i);
		if (!j)
			SIP__FAIL(i, "unterminated quoted display name");
		na->display = sip_str_make(v.p + i, j - i);
		i = sip__lws(v, j);
		if (i >= v.len || v.p[i] != '<')
			SIP__FAIL(i, "quoted display name not followed by '<'");
	} else if (i < v.len && v.p[i] != '<') {
		j = sip__span(v, i, SIP_CS_TOKEN | SIP_CS_LWS);
		if (j < v.len && v.p[j] == '<') {
			na->display = sip_trim(sip_str_make(v.p + i, j - i));
			i = j;
		}
	}
	if (i < v.len && v.p[i] == '<') {
		if ((rc = sip__bracketed_uri(v, &i, na, err_off, why)))
			return rc;
	} else if (need_angle) {
		SIP__FAIL(i, "route value is not a name-addr ('<' URI '>')");
	} else {
		/* addr-spec: the URI cannot hold ';' here, so parameters are the header's. */
		for (j = i; j < v.len && v.p[j] != ';' && !sip_cs(v.p[j], SIP_CS_LWS); j++)
			;
		na->uri_str = sip_str_make(v.p + i, j - i);
		rc = sip_uri_parse(na->uri_str, &na->uri, &off, why);
		if (rc && memchr(v.p + i, '<', v.len - i))
			SIP__FAIL(i, "display name is neither tokens nor a quoted string");
		if (rc) {
			*err_off = i + off;
			return rc;
		}
		i = j;
	}
	return sip__hparams_to_end(v, i, &na->params, want, nwant, err_off, why);
}

int sip_naddr_parse(struct sip_str v, struct sip_naddr *na, size_t *err_off, const char **why)
{
	const struct sip__pwant want[] = {SIP__WANT("tag", &na->tag)};

	*na = sip__naddr_empty;
	return sip__naddr(v, na, false, want, 1, err_off, why);
}

int sip_route_parse(struct sip_str v, struct sip_naddr *na, size_t *err_off, const char **why)
{
	*na = sip__naddr_empty;
	return sip__naddr(v, na, true, NULL, 0, err_off, why);
}

static struct sip_str sip__unquote(struct sip_str s)
{
	if (s.len >= 2 && s.p[0] == '"' && s.p[s.len - 1] == '"')
		s = sip_str_make(s.p + 1, s.len - 2);
	if (s.len >= 2 && s.p[0] == '<' && s.p[s.len - 1] == '>')
		s = sip_str_make(s.p + 1, s.len - 2);
	return s;
}

int sip_contact_parse(struct sip_str v, struct sip_contact *c, size_t *err_off, const char **why)
{
	struct sip_str expires = SIP_STR_NULL, reg_id = SIP_STR_NULL, t = v;
	const struct sip__pwant want[] = {
		SIP__WANT("tag", &c->addr.tag), SIP__WANT("expires", &expires),
		SIP__WANT("reg-id", &reg_id),	SIP__WANT("+sip.instance", &c->instance),
		SIP__WANT("q", &c->q),
	};
	int rc;

	*c = sip__contact_empty;
	/* only a value starting with "*" or LWS can trim to "*" */
	if (t.len && (t.p[0] == '*' || sip_cs(t.p[0], SIP_CS_LWS)))
		t = sip_trim(t);
	if (t.len == 1 && t.p[0] == '*') {
		c->addr.star = true;
		return 0;
	}
	if ((rc = sip__naddr(v, &c->addr, false, want, 5, err_off, why)))
		return rc;
	if (expires.p) {
		if (sip_delta_seconds_parse(expires, &c->expires))
			SIP__FAIL((size_t)(expires.p - v.p), "Contact expires is not a number");
		c->has_expires = true;
	}
	if (reg_id.p) {
		rc = sip_u32_parse(reg_id, INT32_MAX, &c->reg_id);
		if (rc || c->reg_id == 0)
			SIP__FAIL((size_t)(reg_id.p - v.p),
				  "reg-id outside 1..2^31-1 (RFC 5626 §4.2)");
	}
	if (c->instance.p)
		c->instance = sip__unquote(c->instance);
	return 0;
}

int sip_cseq_parse(struct sip_str v, struct sip_cseq *cs, size_t *err_off, const char **why)
{
	size_t i = sip__lws(v, 0), start = i;
	uint64_t n = 0;

	for (; i < v.len && sip_cs(v.p[i], SIP_CS_DIGIT); i++) {
		n = n * 10 + (uint64_t)(v.p[i] - '0');
		/*
		 * RFC 3261 §20.16: a received number only has to fit 32 unsigned bits; the
		 * "less than 2^31" of §8.1.1.5 binds the sender that picks the first one.
		 */
		if (n > UINT32_MAX)
			SIP__FAIL(start, "CSeq number larger than 2^32-1");
	}
	if (i == start)
		SIP__FAIL(i, "CSeq lacks a number");
	start = sip__lws(v, i);
	if (start == i)
		SIP__FAIL(i, "CSeq lacks whitespace before the method");
	i = sip__span(v, start, SIP_CS_TOKEN);
	if (i == start)
		SIP__FAIL(i, "CSeq lacks a method");
	cs->seq = (uint32_t)n;
	cs->method = sip_str_make(v.p + start, i - start);
	if (sip__lws(v, i) != v.len)
		SIP__FAIL(i, "unexpected octet after CSeq method");
	return 0;
}

/* comment = LPAREN *(ctext / quoted-pair / comment) RPAREN, from v.p[i] == '('. */
static size_t sip__comment_end(struct sip_str v, size_t i)
{
	int depth = 0;

	for (; i < v.len; i++) {
		if (v.p[i] == '\\')
			i++;
		else if (v.p[i] == '(')
			depth++;
		else if (v.p[i] == ')' && --depth == 0)
			return i + 1;
	}
	return 0;
}

int sip_retry_after_parse(struct sip_str v, struct sip_retry_after *ra, size_t *err_off,
			  const char **why)
{
	size_t i = sip__lws(v, 0), start = i;
	struct sip_str params, val = SIP_STR_NULL;
	const struct sip__pwant want[] = {SIP__WANT("duration", &val)};
	int rc;

	memset(ra, 0, sizeof(*ra));
	i = sip__span(v, i, SIP_CS_DIGIT);
	if (i == start)
		SIP__FAIL(i, "Retry-After lacks delta-seconds");
	sip_delta_seconds_parse(sip_str_make(v.p + start, i - start), &ra->seconds);
	i = sip__lws(v, i);
	if (i < v.len && v.p[i] == '(') {
		size_t end = sip__comment_end(v, i);

		if (!end)
			SIP__FAIL(i, "unterminated Retry-After comment");
		ra->comment = sip_str_make(v.p + i + 1, end - i - 2);
		i = end;
	}
	if ((rc = sip__hparams_to_end(v, i, &params, want, 1, err_off, why)))
		return rc;
	if (val.p) {
		if (sip_delta_seconds_parse(val, &ra->duration))
			SIP__FAIL((size_t)(val.p - v.p), "Retry-After duration is not a number");
		ra->has_duration = true;
	}
	return 0;
}

int sip_sub_state_parse(struct sip_str v, struct sip_sub_state_hdr *st, size_t *err_off,
			const char **why)
{
	size_t i = sip__lws(v, 0), start = i;
	struct sip_str params, word, reason = SIP_STR_NULL, exp = SIP_STR_NULL,
				     retry = SIP_STR_NULL;
	const struct sip__pwant want[] = {SIP__WANT("reason", &reason),
					  SIP__WANT("expires", &exp),
					  SIP__WANT("retry-after", &retry)};
	int rc;

	memset(st, 0, sizeof(*st));
	i = sip__span(v, i, SIP_CS_TOKEN);
	if (i == start)
		SIP__FAIL(i, "Subscription-State lacks a substate-value");
	word = sip_str_make(v.p + start, i - start);
	st->state = sip_str_ieq_cstr(word, "active")	   ? SIP_SUB_ACTIVE
		    : sip_str_ieq_cstr(word, "pending")	   ? SIP_SUB_PENDING
		    : sip_str_ieq_cstr(word, "terminated") ? SIP_SUB_TERMINATED
							   : SIP_SUB_OTHER;
	if ((rc = sip__hparams_to_end(v, i, &params, want, 3, err_off, why)))
		return rc;
	if (reason.p) {
		if (!reason.len || sip__span(reason, 0, SIP_CS_TOKEN) != reason.len)
			SIP__FAIL((size_t)(reason.p - v.p), "Subscription-State reason is not a token");
		st->reason = reason;
	}
	if (exp.p) {
		if (sip_delta_seconds_parse(exp, &st->expires))
			SIP__FAIL((size_t)(exp.p - v.p), "Subscription-State expires is not a number");
		st->has_expires = true;
	}
	if (retry.p) {
		if (sip_delta_seconds_parse(retry, &st->retry_after))
			SIP__FAIL((size_t)(retry.p - v.p),
				  "Subscription-State retry-after is not a number");
		st->has_retry_after = true;
	}
	return 0;
}
