/*
 * SIP message parser: one pass, zero copy, no allocation (the shape of picohttpparser).
 * The caller owns the buffer and the header array; the result is a value of views into
 * that buffer. The core headers a transaction needs (Via, From, To, Call-ID, CSeq,
 * Content-Length) are checked as RFC 3261 §8.2 / §18.3 and RFC 4475 require; all other
 * headers are split and named, and their values parsed on demand with sip/hdr.h.
 */
#ifndef SIP_PARSER_H
#define SIP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/hdr.h"
#include "sip/str.h"

/* Headers the parser recognises by name (long and compact form, any case). */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,
	SIP_HDR_FROM,
	SIP_HDR_TO,
	SIP_HDR_CALL_ID,
	SIP_HDR_CSEQ,
	SIP_HDR_CONTACT,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_EXPIRES,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_AUTHENTICATION_INFO,
	SIP_HDR_RETRY_AFTER,
	SIP_HDR_FLOW_TIMER,
	SIP_HDR_REQUIRE,
	SIP_HDR_SUPPORTED,
	SIP_HDR_PATH,
	SIP_HDR_SERVICE_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_ROUTE,
	SIP_HDR_EVENT,
	SIP_HDR_SUBSCRIPTION_STATE,
	SIP_HDR_ALLOW,
	SIP_HDR_ACCEPT,
	SIP_HDR_USER_AGENT,
	SIP_HDR_SERVER,
	SIP_HDR_SUBJECT,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_TIMESTAMP,
	SIP_HDR__COUNT
};

struct sip_header {
	struct sip_str name;  /* as written */
	struct sip_str value; /* trimmed; may hold folded line ends (CRLF + WSP) */
	enum sip_hdr_id id;
};

struct sip_msg {
	bool is_request;
	bool keepalive;	       /* the buffer held only CR/LF octets: see sip_parse() */
	struct sip_str method; /* requests */
	struct sip_str ruri;   /* requests */
	struct sip_uri ruri_parsed;
	uint16_t status;       /* responses: 100..699 */
	struct sip_str reason; /* responses; may be empty */
	struct sip_header *hdrs;
	size_t nhdrs;
	uint16_t first[SIP_HDR__COUNT]; /* index + 1 of the first header with that id, 0 if none */
	/* the core headers, already checked */
	struct sip_via via; /* topmost Via value */
	struct sip_naddr from;
	struct sip_naddr to;
	struct sip_str call_id;
	struct sip_cseq cseq;
	bool has_content_length;
	uint32_t content_length;
	struct sip_str body;
	size_t len; /* octets consumed from the buffer: the return value of sip_parse() */
};

enum sip_framing {
	SIP_FRAMING_DATAGRAM, /* UDP: Content-Length wins, trailing octets are dropped */
	SIP_FRAMING_STREAM,   /* TCP/TLS: Content-Length is required, more may follow */
};

/*
 * The longest message a stream may carry, start line to end of body. Past it a stream
 * parse fails with -EMSGSIZE instead of asking for more octets forever (a Content-Length
 * of 4 GB, or a header block that never ends); the caller should close the connection.
 * Datagrams are bounded by their own length.
 */
#define SIP_STREAM_MAX 65535

struct sip_parse_error {
	size_t off;	 /* octet offset in the buffer */
	const char *why; /* a sentence, static storage */
};

/*
 * Parse one message from buf[0..len). Returns the octets consumed (> 0, also in m->len),
 * or -EAGAIN when a stream buffer holds only part of a message, or with err filled:
 * -EBADMSG, -ENOBUFS (more headers than max_hdrs; values above 65535 count as 65535) or
 * -EMSGSIZE (a stream message longer than SIP_STREAM_MAX). Never reads outside
 * buf[0..len); on an error the fields of m are not meaningful.
 *
 * CR and LF octets before a start line are not an error (RFC 3261 §7.5), and are how
 * RFC 5626 §3.5.1 keeps a connection alive: a ping is CRLF CRLF, its pong one CRLF.
 *  - A buffer of nothing but CR/LF returns its length with m->keepalive set and every
 *    other field empty: on a stream m->len tells a ping (4) from a pong (2). A stream
 *    buffer ending in a lone CR is -EAGAIN (the LF may follow).
 *  - On a stream, a CR/LF run followed by a message is returned on its own as a
 *    keep-alive, so that a pong is never lost; the next call parses the message.
 *  - In a datagram, the run is skipped and the message after it parsed; m->len and the
 *    return value count the skipped octets too.
 */
long sip_parse(const char *buf, size_t len, enum sip_framing framing, struct sip_msg *m,
	       struct sip_header *hdrs, size_t max_hdrs, struct sip_parse_error *err);

/*
 * The header with this id, the n-th of its kind (0 is the first); NULL when absent or
 * when id is not a recognised one (SIP_HDR_OTHER headers are reached through m->hdrs).
 */
const struct sip_header *sip_msg_header(const struct sip_msg *m, enum sip_hdr_id id, size_t n);

/* Header name lookup, long and compact forms (RFC 3261 §7.3.3), any case; "" is OTHER. */
enum sip_hdr_id sip_hdr_lookup(const char *name, size_t len);

/* The canonical long name of a recognised header ("Call-ID" for i, call-id, ...). */
const char *sip_hdr_name(enum sip_hdr_id id);

#endif
