/*
 * `sipedge parse FILE...`: a user's window onto sip/'s parser, the way `tshark -V` is for
 * packets. Each file is one UDP datagram; an accepted message prints as one JSON line,
 * a rejected one as "FILE: error at octet N: reason" on stderr.
 */
#include "control/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/json.h"
#include "sip/parser.h"

#define CTL_PARSE_MAX_HDRS 512
#define CTL_PARSE_MAX_FILE (1 << 20)

static void ctl__json_sv(struct ctl_json *j, const char *key, struct sip_str s)
{
	ctl_json_str(j, key, s.p ? s.p : "", s.len);
}

/* A header value with each fold (CRLF + whitespace) read as one space (RFC 3261 §7.3.1). */
static void ctl__json_unfolded(struct ctl_json *j, const char *key, struct sip_str v)
{
	char *tmp = malloc(v.len + 1);
	size_t n = 0;

	if (!tmp) {
		ctl__json_sv(j, key, v);
		return;
	}
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] == '\r' || v.p[i] == '\n') {
			while (i + 1 < v.len && strchr("\r\n \t", v.p[i + 1]) && v.p[i + 1] != '\0')
				i++;
			tmp[n++] = ' ';
		} else {
			tmp[n++] = v.p[i];
		}
	}
	ctl_json_str(j, key, tmp, n);
	free(tmp);
}

static void ctl__json_uri(struct ctl_json *j, const char *key, const struct sip_uri *u)
{
	static const char *const schemes[] = {"other", "sip", "sips", "tel"};

	ctl_json_begin_object(j, key);
	ctl_json_cstr(j, "scheme", schemes[u->scheme]);
	if (u->scheme == SIP_SCHEME_OTHER) {
		ctl__json_sv(j, "scheme_name", u->scheme_str);
		ctl__json_sv(j, "opaque", u->opaque);
	} else {
		if (u->user.len)
			ctl__json_sv(j, "user", u->user);
		if (u->password.len)
			ctl__json_sv(j, "password", u->password);
		if (u->host.len)
			ctl__json_sv(j, "host", u->host);
		if (u->port)
			ctl_json_u64(j, "port", u->port);
		if (u->params.len)
			ctl__json_sv(j, "params", u->params);
		if (u->headers.len)
			ctl__json_sv(j, "headers", u->headers);
	}
	ctl_json_end_object(j);
}

static void ctl__json_naddr(struct ctl_json *j, const char *key, const struct sip_naddr *na)
{
	ctl_json_begin_object(j, key);
	if (na->display.len)
		ctl__json_sv(j, "display", na->display);
	ctl__json_sv(j, "uri", na->uri_str);
	ctl__json_uri(j, "uri_parsed", &na->uri);
	if (na->params.len)
		ctl__json_unfolded(j, "params", sip_trim(na->params));
	if (na->tag.p)
		ctl__json_sv(j, "tag", na->tag);
	ctl_json_end_object(j);
}

static void ctl__json_vias(struct ctl_json *j, const struct sip_msg *m)
{
	ctl_json_begin_array(j, "via");
	for (size_t i = 0; i < m->nhdrs; i++) {
		struct sip_str cur = m->hdrs[i].value, item;
		struct sip_via v;
		size_t off;
		const char *why;

		if (m->hdrs[i].id != SIP_HDR_VIA)
			continue;
		while (sip_list_next(&cur, &item)) {
			if (sip_via_parse(item, &v, &off, &why))
				continue;
			ctl_json_begin_object(j, NULL);
			ctl__json_sv(j, "transport", v.transport);
			ctl__json_sv(j, "host", v.host);
			if (v.port)
				ctl_json_u64(j, "port", v.port);
			if (v.branch.p)
				ctl__json_sv(j, "branch", v.branch);
			if (v.received.p)
				ctl__json_sv(j, "received", v.received);
			if (v.has_rport) {
				if (v.rport)
					ctl_json_u64(j, "rport", v.rport);
				else
					ctl_json_bool(j, "rport", true);
			}
			if (v.params.len)
				ctl__json_unfolded(j, "params", sip_trim(v.params));
			ctl_json_end_object(j);
		}
	}
	ctl_json_end_array(j);
}

static void ctl__json_contacts(struct ctl_json *j, const struct sip_msg *m)
{
	ctl_json_begin_array(j, "contact");
	for (size_t i = 0; i < m->nhdrs; i++) {
		struct sip_str cur = m->hdrs[i].value, item;
		struct sip_contact c;
		size_t off;
		const char *why;

		if (m->hdrs[i].id != SIP_HDR_CONTACT)
			continue;
		while (sip_list_next(&cur, &item)) {
			if (sip_contact_parse(item, &c, &off, &why))
				continue;
			ctl_json_begin_object(j, NULL);
			if (c.addr.star) {
				ctl_json_bool(j, "star", true);
				ctl_json_end_object(j);
				continue;
			}
			ctl__json_sv(j, "uri", c.addr.uri_str);
			ctl__json_uri(j, "uri_parsed", &c.addr.uri);
			if (c.addr.display.len)
				ctl__json_sv(j, "display", c.addr.display);
			if (c.has_expires)
				ctl_json_u64(j, "expires", c.expires);
			if (c.reg_id)
				ctl_json_u64(j, "reg_id", c.reg_id);
			if (c.instance.p)
				ctl__json_sv(j, "instance", c.instance);
			if (c.q.p)
				ctl__json_sv(j, "q", c.q);
			if (c.addr.params.len)
				ctl__json_unfolded(j, "params", sip_trim(c.addr.params));
			ctl_json_end_object(j);
		}
	}
	ctl_json_end_array(j);
}

/* Every element of every header with this id, as strings (Require, Supported, ...). */
static void ctl__json_tokens(struct ctl_json *j, const char *key, const struct sip_msg *m,
			     enum sip_hdr_id id)
{
	const struct sip_header *h;

	if (!m->first[id])
		return;
	ctl_json_begin_array(j, key);
	for (size_t n = 0; (h = sip_msg_header(m, id, n)); n++) {
		struct sip_str cur = h->value, item;

		while (sip_list_next(&cur, &item))
			ctl__json_sv(j, NULL, item);
	}
	ctl_json_end_array(j);
}

/* Route-set lists (Path, Service-Route, Record-Route, Route): name-addrs only. */
static void ctl__json_routes(struct ctl_json *j, const char *key, const struct sip_msg *m,
			     enum sip_hdr_id id)
{
	const struct sip_header *h;

	if (!m->first[id])
		return;
	ctl_json_begin_array(j, key);
	for (size_t n = 0; (h = sip_msg_header(m, id, n)); n++) {
		struct sip_str cur = h->value, item;
		struct sip_naddr na;
		size_t off;
		const char *why;

		while (sip_list_next(&cur, &item)) {
			/* a value that is no name-addr is shown as written, for the reader */
			if (sip_route_parse(item, &na, &off, &why) == 0)
				ctl__json_naddr(j, NULL, &na);
			else
				ctl__json_sv(j, NULL, item);
		}
	}
	ctl_json_end_array(j);
}

/* Max-Forwards: 0..255, checked by the parser. */
static void ctl__json_number(struct ctl_json *j, const char *key, const struct sip_msg *m,
			     enum sip_hdr_id id)
{
	const struct sip_header *h = sip_msg_header(m, id, 0);
	uint32_t v;

	if (!h)
		return;
	if (sip_u32_parse(h->value, UINT32_MAX, &v) == 0)
		ctl_json_u64(j, key, v);
	else
		ctl_json_null(j, key);
}

/* Expires, Min-Expires, Flow-Timer: delta-seconds, an overlong one read as 2^32-1. */
static void ctl__json_delta(struct ctl_json *j, const char *key, const struct sip_msg *m,
			    enum sip_hdr_id id)
{
	const struct sip_header *h = sip_msg_header(m, id, 0);
	uint32_t v;

	if (!h)
		return;
	if (sip_delta_seconds_parse(h->value, &v) == 0)
		ctl_json_u64(j, key, v);
	else
		ctl_json_null(j, key);
}

static void ctl__json_retry_after(struct ctl_json *j, const struct sip_msg *m)
{
	const struct sip_header *h = sip_msg_header(m, SIP_HDR_RETRY_AFTER, 0);
	struct sip_retry_after ra;
	size_t off;
	const char *why;

	if (!h)
		return;
	if (sip_retry_after_parse(h->value, &ra, &off, &why)) {
		ctl_json_null(j, "retry_after");
		return;
	}
	ctl_json_begin_object(j, "retry_after");
	ctl_json_u64(j, "seconds", ra.seconds);
	if (ra.comment.p)
		ctl__json_sv(j, "comment", ra.comment);
	if (ra.has_duration)
		ctl_json_u64(j, "duration", ra.duration);
	ctl_json_end_object(j);
}

/* A datagram of CR/LF alone: an RFC 5626 keep-alive, not a message. */
static void ctl__print_keepalive(const char *file, const struct sip_msg *m)
{
	struct ctl_json j;

	ctl_json_init(&j, stdout);
	ctl_json_begin_object(&j, NULL);
	ctl_json_cstr(&j, "file", file);
	ctl_json_cstr(&j, "type", "keepalive");
	ctl_json_u64(&j, "length", m->len);
	ctl_json_end_object(&j);
	fputc('\n', stdout);
}

static void ctl__print_msg(const char *file, const struct sip_msg *m)
{
	struct ctl_json j;

	ctl_json_init(&j, stdout);
	ctl_json_begin_object(&j, NULL);
	ctl_json_cstr(&j, "file", file);
	ctl_json_cstr(&j, "type", m->is_request ? "request" : "response");
	if (m->is_request) {
		ctl__json_sv(&j, "method", m->method);
		ctl__json_sv(&j, "request_uri", m->ruri);
		ctl__json_uri(&j, "request_uri_parsed", &m->ruri_parsed);
	} else {
		ctl_json_u64(&j, "status", m->status);
		ctl__json_sv(&j, "reason", m->reason);
	}
	ctl_json_begin_array(&j, "headers");
	for (size_t i = 0; i < m->nhdrs; i++) {
		ctl_json_begin_object(&j, NULL);
		ctl__json_sv(&j, "name", m->hdrs[i].name);
		ctl__json_unfolded(&j, "value", m->hdrs[i].value);
		ctl_json_end_object(&j);
	}
	ctl_json_end_array(&j);
	ctl__json_vias(&j, m);
	ctl__json_naddr(&j, "from", &m->from);
	ctl__json_naddr(&j, "to", &m->to);
	ctl__json_sv(&j, "call_id", m->call_id);
	ctl_json_begin_object(&j, "cseq");
	ctl_json_u64(&j, "seq", m->cseq.seq);
	ctl__json_sv(&j, "method", m->cseq.method);
	ctl_json_end_object(&j);
	ctl__json_contacts(&j, m);
	ctl__json_number(&j, "max_forwards", m, SIP_HDR_MAX_FORWARDS);
	ctl__json_delta(&j, "expires", m, SIP_HDR_EXPIRES);
	ctl__json_delta(&j, "min_expires", m, SIP_HDR_MIN_EXPIRES);
	ctl__json_delta(&j, "flow_timer", m, SIP_HDR_FLOW_TIMER);
	ctl__json_retry_after(&j, m);
	ctl_cli_json_auth(&j, m);
	ctl__json_tokens(&j, "require", m, SIP_HDR_REQUIRE);
	ctl__json_tokens(&j, "supported", m, SIP_HDR_SUPPORTED);
	ctl__json_routes(&j, "path", m, SIP_HDR_PATH);
	ctl__json_routes(&j, "service_route", m, SIP_HDR_SERVICE_ROUTE);
	ctl__json_routes(&j, "record_route", m, SIP_HDR_RECORD_ROUTE);
	ctl__json_routes(&j, "route", m, SIP_HDR_ROUTE);
	if (m->has_content_length)
		ctl_json_u64(&j, "content_length", m->content_length);
	ctl_json_u64(&j, "body_length", m->body.len);
	ctl_json_end_object(&j);
	fputc('\n', stdout);
}

/*
 * Reads all of file into a new buffer: 0 with *out and *len, or 1 with a sentence on
 * stderr. One octet more than CTL_PARSE_MAX_FILE is asked for, so that a file of exactly
 * the limit is read and only one past it is refused.
 */
static int ctl__read_file(const char *file, char **out, size_t *len)
{
	FILE *f = fopen(file, "rb");
	char *buf;
	size_t n;
	int bad = 0;

	if (!f) {
		fprintf(stderr, "%s: cannot open: %s\n", file, strerror(errno));
		return 1;
	}
	buf = malloc(CTL_PARSE_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		fprintf(stderr, "%s: out of memory\n", file);
		return 1;
	}
	n = fread(buf, 1, CTL_PARSE_MAX_FILE + 1, f);
	if (ferror(f)) {
		fprintf(stderr, "%s: read error: %s\n", file, strerror(errno));
		bad = 1;
	} else if (n > CTL_PARSE_MAX_FILE) {
		fprintf(stderr, "%s: larger than %d octets, not a datagram\n", file,
			CTL_PARSE_MAX_FILE);
		bad = 1;
	}
	fclose(f);
	if (bad) {
		free(buf);
		return 1;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* 0 accepted, 1 rejected or unreadable. */
static int ctl__parse_file(const char *file)
{
	static struct sip_header hdrs[CTL_PARSE_MAX_HDRS];
	struct sip_parse_error err = {0, ""};
	struct sip_msg m;
	char *buf;
	size_t n;
	long rc;

	if (ctl__read_file(file, &buf, &n))
		return 1;
	rc = sip_parse(buf, n, SIP_FRAMING_DATAGRAM, &m, hdrs, CTL_PARSE_MAX_HDRS, &err);
	if (rc < 0)
		fprintf(stderr, "%s: error at octet %zu: %s\n", file, err.off, err.why);
	else if (m.keepalive)
		ctl__print_keepalive(file, &m);
	else
		ctl__print_msg(file, &m);
	free(buf);
	return rc < 0;
}

static const char ctl__parse_usage[] =
	"usage: sipedge parse FILE...\n"
	"Reads each FILE as one UDP datagram and parses it as a SIP message.\n"
	"Accepted: one JSON object per line on stdout (start line, every header in order,\n"
	"the typed fields, body length; a file of CR/LF alone is type \"keepalive\").\n"
	"Rejected: 'FILE: error at octet N: reason' on stderr.\n"
	"Exit status: 0 if every file was accepted, 1 if any was rejected, 2 on bad usage.\n";

int ctl_cmd_parse(int argc, char **argv)
{
	int bad = 0;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(ctl__parse_usage, stdout);
		return 0;
	}
	if (argc < 2) {
		fputs("sipedge parse: no FILE given (see 'sipedge parse --help')\n", stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		bad |= ctl__parse_file(argv[i]);
	return bad;
}
