/*
 * Response building: the request's transaction-identifying headers are copied verbatim
 * (RFC 3261 §8.2.6.2: Via in order, From, To, Call-ID, CSeq), a To tag is added, and the
 * per-response extras follow: Record-Route when the response may create a dialog
 * (§12.1.1), Timestamp in a 100 (§8.2.6.1). Output goes straight into the caller's buffer.
 */
#include "sip/response.h"

#include <errno.h>

struct sip__out {
	char *p;
	char *end;
	bool full;
};

static void sip__put(struct sip__out *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (o->full || (size_t)(o->end - o->p) < n) {
		o->full = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void sip__put_str(struct sip__out *o, struct sip_str s)
{
	sip__put(o, s.p, s.len);
}

static void sip__put_cstr(struct sip__out *o, const char *s)
{
	sip__put(o, s, strlen(s));
}

static void sip__put_u32(struct sip__out *o, uint32_t v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sip__put(o, tmp + sizeof(tmp) - n, n);
}

static void sip__put_header(struct sip__out *o, const char *name, struct sip_str value)
{
	sip__put_cstr(o, name);
	sip__put(o, ": ", 2);
	sip__put_str(o, value);
	sip__put(o, "\r\n", 2);
}

const char *sip_reason_phrase(unsigned status)
{
	switch (status) {
	case 100:
		return "Trying";
	case 180:
		return "Ringing";
	case 181:
		return "Call Is Being Forwarded";
	case 182:
		return "Queued";
	case 183:
		return "Session Progress";
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 415:
		return "Unsupported Media Type";
	case 420:
		return "Bad Extension";
	case 423:
		return "Interval Too Brief";
	case 480:
		return "Temporarily Unavailable";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 489:
		return "Bad Event";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Server Time-out";
	case 600:
		return "Busy Everywhere";
	case 603:
		return "Decline";
	default:
		return "";
	}
}

/* A caller string that would end the header it goes in and start another one. */
static bool sip__breaks_line(struct sip_str s)
{
	return s.len && (memchr(s.p, '\r', s.len) || memchr(s.p, '\n', s.len));
}

/* Whole header lines: each "Name:..." ends in CRLF; no bare CR or LF, no empty line. */
static bool sip__lines_valid(struct sip_str s)
{
	size_t start = 0;

	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '\n' || (s.p[i] == '\r' && (i + 1 == s.len || s.p[i + 1] != '\n')))
			return false;
		if (s.p[i] != '\r')
			continue;
		if (i == start || s.p[start] == ' ' || s.p[start] == '\t' ||
		    !memchr(s.p + start, ':', i - start))
			return false;
		start = i + 2;
		i++;
	}
	return start == s.len;
}

static bool sip__opts_valid(const struct sip_msg *req, const struct sip_response_opts *r)
{
	const struct sip_str *caller[] = {&r->reason,	 &r->to_tag, &r->contact,     &r->allow,
					  &r->supported, &r->server, &r->content_type};

	if (r->status < 100 || r->status > 699 || !req->is_request)
		return false;
	/* §8.2.6.2: a response copies these; a request lacking one cannot be answered */
	if (!sip_msg_header(req, SIP_HDR_VIA, 0) || !sip_msg_header(req, SIP_HDR_FROM, 0) ||
	    !sip_msg_header(req, SIP_HDR_TO, 0) || !sip_msg_header(req, SIP_HDR_CALL_ID, 0) ||
	    !sip_msg_header(req, SIP_HDR_CSEQ, 0))
		return false;
	/* §8.2.6.2: every response but 100 to a request without a To tag adds one */
	if (!req->to.tag.p && r->status != 100 && r->to_tag.len == 0)
		return false;
	for (size_t i = 0; i < sizeof(caller) / sizeof(caller[0]); i++) {
		if (sip__breaks_line(*caller[i]))
			return false;
	}
	if (r->extra.len && !sip__lines_valid(r->extra))
		return false;
	return r->body.len == 0 || r->content_type.len > 0;
}

/* §12.1.1: a response that may create a dialog carries the request's Record-Route. */
static bool sip__creates_dialog(const struct sip_msg *req, unsigned status)
{
	return status > 100 && status < 300 &&
	       (sip_str_eq(req->method, SIP_STR("INVITE")) ||
		sip_str_eq(req->method, SIP_STR("SUBSCRIBE")));
}

/* Every header with this id, in the request's order, one line each. */
static void sip__copy_all(struct sip__out *o, const struct sip_msg *req, enum sip_hdr_id id)
{
	const struct sip_header *h;

	for (size_t n = 0; (h = sip_msg_header(req, id, n)); n++)
		sip__put_header(o, sip_hdr_name(id), h->value);
}

ssize_t sip_build_response(const struct sip_msg *req, const struct sip_response_opts *r, char *buf,
			   size_t cap)
{
	struct sip__out o = {buf, buf + cap, false};

	if (!sip__opts_valid(req, r))
		return -EINVAL;
	sip__put(&o, "SIP/2.0 ", 8);
	sip__put_u32(&o, r->status);
	sip__put(&o, " ", 1);
	if (r->reason.len)
		sip__put_str(&o, r->reason);
	else
		sip__put_cstr(&o, sip_reason_phrase(r->status));
	sip__put(&o, "\r\n", 2);
	sip__copy_all(&o, req, SIP_HDR_VIA);
	if (sip__creates_dialog(req, r->status))
		sip__copy_all(&o, req, SIP_HDR_RECORD_ROUTE);
	sip__put_header(&o, "From", sip_msg_header(req, SIP_HDR_FROM, 0)->value);
	sip__put(&o, "To: ", 4);
	sip__put_str(&o, sip_msg_header(req, SIP_HDR_TO, 0)->value);
	if (!req->to.tag.p && r->status != 100) {
		sip__put(&o, ";tag=", 5);
		sip__put_str(&o, r->to_tag);
	}
	sip__put(&o, "\r\n", 2);
	sip__put_header(&o, "Call-ID", req->call_id);
	sip__put(&o, "CSeq: ", 6);
	sip__put_u32(&o, req->cseq.seq);
	sip__put(&o, " ", 1);
	sip__put_str(&o, req->cseq.method);
	sip__put(&o, "\r\n", 2);
	if (r->status == 100)
		sip__copy_all(&o, req, SIP_HDR_TIMESTAMP); /* §8.2.6.1 */
	if (r->contact.len) {
		sip__put(&o, "Contact: <", 10);
		sip__put_str(&o, r->contact);
		sip__put(&o, ">\r\n", 3);
	}
	if (r->allow.len)
		sip__put_header(&o, "Allow", r->allow);
	if (r->supported.len)
		sip__put_header(&o, "Supported", r->supported);
	if (r->server.len)
		sip__put_header(&o, "Server", r->server);
	if (r->body.len)
		sip__put_header(&o, "Content-Type", r->content_type);
	sip__put_str(&o, r->extra);
	sip__put(&o, "Content-Length: ", 16);
	sip__put_u32(&o, (uint32_t)r->body.len);
	sip__put(&o, "\r\n\r\n", 4);
	sip__put_str(&o, r->body);
	if (o.full)
		return -ENOSPC;
	return o.p - buf;
}
