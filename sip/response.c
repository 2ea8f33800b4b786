/*
 * Response building: the request's transaction-identifying headers are copied verbatim
 * (RFC 3261 §8.2.6.2: Via in order, From, To, Call-ID, CSeq), a To tag is added, and the
 * per-response extras follow. Output goes straight into the caller's buffer.
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

ssize_t sip_build_response(const struct sip_msg *req, const struct sip_response_opts *r, char *buf,
			   size_t cap)
{
	struct sip__out o = {buf, buf + cap, false};
	const struct sip_header *h;

	if (r->status < 100 || r->status > 699 || !req->is_request)
		return -EINVAL;
	sip__put(&o, "SIP/2.0 ", 8);
	sip__put_u32(&o, r->status);
	sip__put(&o, " ", 1);
	if (r->reason.len)
		sip__put_str(&o, r->reason);
	else
		sip__put_cstr(&o, sip_reason_phrase(r->status));
	sip__put(&o, "\r\n", 2);
	for (size_t n = 0; (h = sip_msg_header(req, SIP_HDR_VIA, n)); n++)
		sip__put_header(&o, "Via", h->value);
	sip__put_header(&o, "From", sip_msg_header(req, SIP_HDR_FROM, 0)->value);
	sip__put(&o, "To: ", 4);
	sip__put_str(&o, sip_msg_header(req, SIP_HDR_TO, 0)->value);
	if (!req->to.tag.p && r->status != 100 && r->to_tag.len) {
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
	sip__put(&o, "Content-Length: ", 16);
	sip__put_u32(&o, (uint32_t)r->body.len);
	sip__put(&o, "\r\n\r\n", 4);
	sip__put_str(&o, r->body);
	if (o.full)
		return -ENOSPC;
	return o.p - buf;
}
