/*
 * Request templates: sip_tpl_prepare() lays a request out once as literal runs with the
 * per-message fields between them; the sip_build_*() calls copy the runs and write the
 * fields. The whole cost of a build is a few memcpy and two or three integer conversions.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sip/builder.h"

/* What sits at a segment: a literal run of the template text, or a field patched in. */
enum sip__field {
	SIP__LIT,
	SIP__BRANCH,  /* 16 hex digits after the "z9hG4bK" of the literal before it */
	SIP__CSEQ,    /* decimal, no padding */
	SIP__CONTACT, /* REGISTER: the literal Contact line, or "Contact: *" instead */
	SIP__EXPIRES, /* decimal, no padding */
	SIP__AUTH,    /* whole [Proxy-]Authorization line, or nothing */
};

#define SIP__BRANCH_DIGITS 16
#define SIP__CRLF "\r\n"

static const char sip__contact_star[] = "Contact: *\r\n";
static const char sip__auth_name[] = "Authorization: ";
static const char sip__proxy_auth_name[] = "Proxy-Authorization: ";

static const char sip__method_name[][10] = {
	[SIP_TPL_REGISTER] = "REGISTER",
	[SIP_TPL_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_TPL_OPTIONS] = "OPTIONS",
};

/* Via transport tokens, RFC 3261 §18.1.1 and §26.2.1 for TLS. */
static const char sip__transport_name[][4] = {
	[SIP_TPL_UDP] = "UDP",
	[SIP_TPL_TCP] = "TCP",
	[SIP_TPL_TLS] = "TLS",
};

/* ---- hot path: integer formatting --------------------------------------------------- */

static const char sip__digit_pairs[201] = "00010203040506070809"
					  "10111213141516171819"
					  "20212223242526272829"
					  "30313233343536373839"
					  "40414243444546474849"
					  "50515253545556575859"
					  "60616263646566676869"
					  "70717273747576777879"
					  "80818283848586878889"
					  "90919293949596979899";

static inline unsigned int sip__dec_len(uint32_t v)
{
	if (v < 100000)
		return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : 5;
	return v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
}

/* Writes exactly n = sip__dec_len(v) digits, two at a time from the right. */
static inline char *sip__put_dec(char *w, uint32_t v, unsigned int n)
{
	char *p = w + n;

	while (v >= 100) {
		unsigned int i = (v % 100) * 2;

		v /= 100;
		p -= 2;
		memcpy(p, sip__digit_pairs + i, 2);
	}
	if (v >= 10)
		memcpy(p - 2, sip__digit_pairs + v * 2, 2);
	else
		p[-1] = (char)('0' + v);
	return w + n;
}

/* Lowercase, fixed width: branches of one line differ only here (§8.1.1.7). */
static inline char *sip__put_hex64(char *w, uint64_t v)
{
	static const char hex[16] = "0123456789abcdef";

	for (int i = SIP__BRANCH_DIGITS - 1; i >= 0; i--) {
		w[i] = hex[v & 0xf];
		v >>= 4;
	}
	return w + SIP__BRANCH_DIGITS;
}

/* ---- hot path: build ---------------------------------------------------------------- */

static inline char *sip__put_auth(char *w, const struct sip_req_fields *f)
{
	if (f->proxy_auth) {
		memcpy(w, sip__proxy_auth_name, sizeof(sip__proxy_auth_name) - 1);
		w += sizeof(sip__proxy_auth_name) - 1;
	} else {
		memcpy(w, sip__auth_name, sizeof(sip__auth_name) - 1);
		w += sizeof(sip__auth_name) - 1;
	}
	memcpy(w, f->auth.p, f->auth.len);
	w += f->auth.len;
	memcpy(w, SIP__CRLF, 2);
	return w + 2;
}

/*
 * The length is computed first and checked against cap once, so a short buffer costs
 * nothing and is left untouched; the copy loop then writes without further checks.
 */
static ssize_t sip__build(const struct sip_tpl *t, const struct sip_req_fields *f, char *buf,
			  size_t cap)
{
	/* §10.2.2: "Contact: *" is only allowed with Expires 0. */
	uint32_t expires = f->contact_star ? 0 : f->expires;
	unsigned int cseq_len = sip__dec_len(f->cseq);
	unsigned int expires_len = t->has_expires ? sip__dec_len(expires) : 0;
	size_t need = (size_t)t->literal_len + SIP__BRANCH_DIGITS + cseq_len + expires_len;
	char *w = buf;

	if (f->contact_star) /* literal_len counts the Contact line this replaces */
		need = need - t->contact_len + sizeof(sip__contact_star) - 1;
	if (f->auth.len) {
		if (f->auth.len > cap)
			return -ENOSPC;
		need += (f->proxy_auth ? sizeof(sip__proxy_auth_name) : sizeof(sip__auth_name)) -
			1 + f->auth.len + 2;
	}
	if (need > cap)
		return -ENOSPC;

	for (unsigned int i = 0; i < t->n_segs; i++) {
		const char *lit = t->text + t->segs[i].off;
		size_t len = t->segs[i].len;

		switch (t->segs[i].field) {
		case SIP__CONTACT:
			if (f->contact_star) {
				lit = sip__contact_star;
				len = sizeof(sip__contact_star) - 1;
			}
			memcpy(w, lit, len);
			w += len;
			break;
		case SIP__LIT:
			memcpy(w, lit, len);
			w += len;
			break;
		case SIP__BRANCH:
			w = sip__put_hex64(w, f->branch);
			break;
		case SIP__CSEQ:
			w = sip__put_dec(w, f->cseq, cseq_len);
			break;
		case SIP__EXPIRES:
			w = sip__put_dec(w, expires, expires_len);
			break;
		case SIP__AUTH:
			if (f->auth.len)
				w = sip__put_auth(w, f);
			break;
		}
	}
	return w - buf;
}

ssize_t sip_build_register(const struct sip_tpl *t, const struct sip_req_fields *f, char *buf,
			   size_t cap)
{
	if (t->method != SIP_TPL_REGISTER)
		return -EINVAL;
	return sip__build(t, f, buf, cap);
}

ssize_t sip_build_subscribe(const struct sip_tpl *t, const struct sip_req_fields *f, char *buf,
			    size_t cap)
{
	if (t->method != SIP_TPL_SUBSCRIBE || f->contact_star)
		return -EINVAL;
	return sip__build(t, f, buf, cap);
}

ssize_t sip_build_options(const struct sip_tpl *t, const struct sip_req_fields *f, char *buf,
			  size_t cap)
{
	if (t->method != SIP_TPL_OPTIONS || f->contact_star)
		return -EINVAL;
	return sip__build(t, f, buf, cap);
}

/* ---- preparation (once per line and request kind; may be slow) ---------------------- */

/* Text being laid out: errors stick, so the layout code reads as a plain sequence. */
struct sip__prep {
	struct sip_tpl *t;
	size_t len;  /* octets of t->text used */
	size_t mark; /* start of the literal run not yet closed into a segment */
	int err;
};

static void sip__put(struct sip__prep *c, const char *p, size_t n)
{
	if (c->err)
		return;
	if (n > SIP_TPL_TEXT_MAX - c->len) {
		c->err = -ENOSPC;
		return;
	}
	memcpy(c->t->text + c->len, p, n);
	c->len += n;
}

#define sip__lit(c, s) sip__put((c), (s), sizeof(s) - 1)

static void sip__puts(struct sip__prep *c, struct sip_str s)
{
	sip__put(c, s.p, s.len);
}

static void sip__put_u32(struct sip__prep *c, uint32_t v)
{
	char d[10];

	sip__put(c, d, (size_t)(sip__put_dec(d, v, sip__dec_len(v)) - d));
}

static void sip__add_seg(struct sip__prep *c, size_t off, size_t len, enum sip__field field)
{
	struct sip_tpl *t = c->t;

	if (c->err)
		return;
	if (t->n_segs == SIP_TPL_SEGS_MAX) { /* a layout bug, not a params problem */
		c->err = -ENOSPC;
		return;
	}
	t->segs[t->n_segs].off = (uint16_t)off;
	t->segs[t->n_segs].len = (uint16_t)len;
	t->segs[t->n_segs].field = (uint8_t)field;
	t->n_segs++;
}

/* Close the text written since the last mark into a segment of the given kind. */
static void sip__close(struct sip__prep *c, enum sip__field field)
{
	if (c->len > c->mark || field != SIP__LIT)
		sip__add_seg(c, c->mark, c->len - c->mark, field);
	c->mark = c->len;
}

/* A patched field between two literal runs. */
static void sip__field(struct sip__prep *c, enum sip__field field)
{
	sip__close(c, SIP__LIT);
	sip__add_seg(c, c->len, 0, field);
}

/* quoted-string with quoted-pair for '"' and '\' (RFC 3261 §25.1). */
static void sip__put_quoted(struct sip__prep *c, struct sip_str s)
{
	sip__lit(c, "\"");
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '"' || s.p[i] == '\\')
			sip__lit(c, "\\");
		sip__put(c, s.p + i, 1);
	}
	sip__lit(c, "\"");
}

/* name-addr, always with brackets so URI parameters stay the URI's (§20.10). */
static void sip__put_name_addr(struct sip__prep *c, struct sip_str display, struct sip_str uri)
{
	if (display.len) {
		sip__put_quoted(c, display);
		sip__lit(c, " ");
	}
	sip__lit(c, "<");
	sip__puts(c, uri);
	sip__lit(c, ">");
}

/* ---- parameter checks --------------------------------------------------------------- */

/* Visible ASCII only: tags, Call-ID and sent-by have neither spaces nor controls. */
static bool sip__visible(struct sip_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];

		if (ch <= 0x20 || ch >= 0x7f)
			return false;
	}
	return true;
}

/* A URI inside <...>: visible ASCII without the brackets and quote that would end it. */
static bool sip__uri_ok(struct sip_str s)
{
	if (!sip__visible(s))
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == '<' || s.p[i] == '>' || s.p[i] == '"')
			return false;
	return true;
}

/* Header text: no control octet but HTAB, so no CR/LF can start a forged header. */
static bool sip__text_ok(struct sip_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

static bool sip__null_view(struct sip_str s)
{
	return s.len && !s.p;
}

static int sip__check(const struct sip_tpl_params *p)
{
	const struct sip_str req[] = {p->request_uri, p->from_uri, p->from_tag, p->call_id,
				      p->via_sent_by};
	const struct sip_str uris[] = {p->request_uri, p->from_uri, p->to_uri, p->contact_uri,
				       p->instance};
	const struct sip_str texts[] = {p->from_display, p->to_display, p->user_agent, p->event,
					p->accept};

	if ((unsigned int)p->method > SIP_TPL_OPTIONS || (unsigned int)p->transport > SIP_TPL_TLS ||
	    (p->n_routes && !p->routes))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!req[i].len || sip__null_view(req[i]) || !sip__visible(req[i]))
			return -EINVAL;
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++)
		if (sip__null_view(uris[i]) || !sip__uri_ok(uris[i]))
			return -EINVAL;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (sip__null_view(texts[i]) || !sip__text_ok(texts[i]))
			return -EINVAL;
	for (size_t i = 0; i < p->n_routes; i++)
		if (!p->routes[i].len || sip__null_view(p->routes[i]) || !sip__uri_ok(p->routes[i]))
			return -EINVAL;
	/* A dialog-forming SUBSCRIBE (§8.1.1.8) and a REGISTER both need a Contact. */
	if (p->method != SIP_TPL_OPTIONS && !p->contact_uri.len)
		return -EINVAL;
	/* RFC 5626 §4.2.1: a flow is named by instance plus reg-id; reg-id is 1 or more. */
	if (p->method == SIP_TPL_REGISTER && p->outbound && (!p->instance.len || !p->reg_id))
		return -EINVAL;
	return 0;
}

/* ---- layout ------------------------------------------------------------------------- */

/* The default body type of the common event packages, for the Accept of a SUBSCRIBE. */
static struct sip_str sip__default_accept(struct sip_str event)
{
	if (sip_str_ieq_cstr(event, "message-summary"))
		return SIP_STR("application/simple-message-summary"); /* RFC 3842 §4 */
	if (sip_str_ieq_cstr(event, "presence"))
		return SIP_STR("application/pidf+xml"); /* RFC 3856 */
	if (sip_str_ieq_cstr(event, "dialog"))
		return SIP_STR("application/dialog-info+xml"); /* RFC 4235 */
	return SIP_STR_NULL; /* RFC 6665 §4.1.2: no Accept means the package's default */
}

/* Request line to "CSeq: <n> METHOD": common to every method (§8.1.1). */
static void sip__lay_head(struct sip__prep *c, const struct sip_tpl_params *p)
{
	const char *method = sip__method_name[p->method];
	struct sip_str to_uri = p->to_uri, to_display = p->to_display;

	if (!to_uri.len) {
		/* §10.2: a REGISTER's To is the AOR; §8.1.1.2: else the target resource. */
		to_uri = p->method == SIP_TPL_REGISTER ? p->from_uri : p->request_uri;
		if (p->method == SIP_TPL_REGISTER && !to_display.len)
			to_display = p->from_display;
	}

	sip__put(c, method, strlen(method));
	sip__lit(c, " ");
	sip__puts(c, p->request_uri);
	sip__lit(c, " SIP/2.0\r\nVia: SIP/2.0/");
	sip__put(c, sip__transport_name[p->transport], 3);
	sip__lit(c, " ");
	sip__puts(c, p->via_sent_by);
	/* RFC 3581 §3: ask for rport so NATed lines get answers back on their binding. */
	sip__lit(c, ";rport;branch=z9hG4bK");
	sip__field(c, SIP__BRANCH);
	sip__lit(c, "\r\nMax-Forwards: 70\r\n"); /* §8.1.1.6 */
	/* §8.1.2: a preloaded route set (the outbound proxy) goes in Route, in order. */
	for (size_t i = 0; i < p->n_routes; i++) {
		sip__lit(c, "Route: <");
		sip__puts(c, p->routes[i]);
		sip__lit(c, ">\r\n");
	}
	sip__lit(c, "From: ");
	sip__put_name_addr(c, p->from_display, p->from_uri);
	sip__lit(c, ";tag=");
	sip__puts(c, p->from_tag);
	sip__lit(c, "\r\nTo: ");
	sip__put_name_addr(c, to_display, to_uri);
	sip__lit(c, "\r\nCall-ID: ");
	sip__puts(c, p->call_id);
	sip__lit(c, "\r\nCSeq: ");
	sip__field(c, SIP__CSEQ);
	sip__lit(c, " ");
	sip__put(c, method, strlen(method));
	sip__lit(c, "\r\n");
}

/* Contact of a REGISTER: its own segment, so "Contact: *" can replace it (§10.2.2). */
static void sip__lay_register_contact(struct sip__prep *c, const struct sip_tpl_params *p)
{
	sip__close(c, SIP__LIT);
	sip__lit(c, "Contact: <");
	sip__puts(c, p->contact_uri);
	sip__lit(c, ">");
	if (p->outbound) {
		sip__lit(c, ";reg-id=");
		sip__put_u32(c, p->reg_id);
	}
	if (p->instance.len) {
		/* RFC 5626 §4.1: the URN goes in angle brackets inside the quotes. */
		sip__lit(c, ";+sip.instance=\"<");
		sip__puts(c, p->instance);
		sip__lit(c, ">\"");
	}
	sip__lit(c, "\r\n");
	c->t->contact_len = (uint16_t)(c->len - c->mark);
	sip__close(c, SIP__CONTACT);
}

/* Contact of SUBSCRIBE/OPTIONS; with outbound, ";ob" asks for the flow (RFC 5626 §4.3). */
static void sip__lay_contact(struct sip__prep *c, const struct sip_tpl_params *p)
{
	struct sip_str uri = p->contact_uri;
	const char *q;
	size_t head;

	if (!uri.len)
		return;
	q = memchr(uri.p, '?', uri.len); /* ;ob is a URI parameter: it goes before headers */
	head = q ? (size_t)(q - uri.p) : uri.len;
	sip__lit(c, "Contact: <");
	sip__put(c, uri.p, head);
	if (p->outbound)
		sip__lit(c, ";ob");
	sip__put(c, uri.p + head, uri.len - head);
	sip__lit(c, ">\r\n");
}

/* Expires, credentials and the closing headers; Content-Length last (§20.14). */
static void sip__lay_tail(struct sip__prep *c, const struct sip_tpl_params *p)
{
	if (p->method != SIP_TPL_OPTIONS) {
		sip__lit(c, "Expires: ");
		sip__field(c, SIP__EXPIRES);
		sip__lit(c, "\r\n");
		c->t->has_expires = true;
	}
	sip__field(c, SIP__AUTH);
	if (p->outbound) {
		/* RFC 5626 §4.2.1 and RFC 3327 §5: a registering UA says it knows both. */
		if (p->method == SIP_TPL_REGISTER)
			sip__lit(c, "Supported: outbound, path\r\n");
		else
			sip__lit(c, "Supported: outbound\r\n");
	}
	if (p->user_agent.len) {
		sip__lit(c, "User-Agent: ");
		sip__puts(c, p->user_agent);
		sip__lit(c, "\r\n");
	}
	sip__lit(c, "Content-Length: 0\r\n\r\n");
	sip__close(c, SIP__LIT);
}

size_t sip_tpl_size(const struct sip_tpl *t)
{
	return offsetof(struct sip_tpl, text) + t->literal_len;
}

int sip_tpl_prepare(struct sip_tpl *t, const struct sip_tpl_params *p)
{
	struct sip__prep c = {.t = t};
	int err = sip__check(p);

	if (err)
		return err;
	memset(t, 0, offsetof(struct sip_tpl, text));
	t->method = p->method;

	sip__lay_head(&c, p);
	switch (p->method) {
	case SIP_TPL_REGISTER:
		sip__lay_register_contact(&c, p);
		break;
	case SIP_TPL_SUBSCRIBE:
		sip__lay_contact(&c, p);
		sip__lit(&c, "Event: ");
		sip__puts(&c, p->event.len ? p->event : SIP_STR("message-summary"));
		sip__lit(&c, "\r\n");
		break;
	case SIP_TPL_OPTIONS:
		sip__lay_contact(&c, p);
		break;
	}
	if (p->method != SIP_TPL_REGISTER) {
		struct sip_str accept = p->accept;

		if (!accept.len)
			accept = p->method == SIP_TPL_OPTIONS
					 ? SIP_STR("application/sdp") /* §11.1 */
					 : sip__default_accept(
						   p->event.len ? p->event
								: SIP_STR("message-summary"));
		if (accept.len) {
			sip__lit(&c, "Accept: ");
			sip__puts(&c, accept);
			sip__lit(&c, "\r\n");
		}
	}
	sip__lay_tail(&c, p);
	if (c.err)
		return c.err;
	t->literal_len = (uint16_t)c.len;
	return 0;
}
